use crate::AppState;
use actix_web::ResponseError;
use actix_web::{HttpResponse, web};

/// The process is up.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

/// The database answers and every migration is applied.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let check = tokio::time::timeout(std::time::Duration::from_secs(5), state.store.ready()).await;
    match check {
        Ok(Ok(true)) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Ok(Ok(false)) => {
            crate::problem::Problem::unavailable("database migrations are pending").error_response()
        }
        Ok(Err(e)) => {
            crate::problem::Problem::unavailable(format!("database: {e}")).error_response()
        }
        Err(_) => crate::problem::Problem::unavailable("database did not answer within 5 s")
            .error_response(),
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let head = *state.store.outbox_watch().borrow();
    let indexed = state.search.as_ref().map(|s| s.indexed_seq());
    state.metrics.set_progress(head, indexed);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
