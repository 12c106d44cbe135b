//! Test support shared by the integration tests and the `webchat_test_server` example:
//! an outbox → live-bus relay (the server crate runs the real one) and an HTTP server.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use actix_web::{App, HttpResponse, HttpServer, web};
use loket_core::{LiveBus, LiveEvent, Outbound, Principal, TenantId};
use loket_store::Store;
use loket_webchat::{WebchatConfig, WebchatState};
use std::net::TcpListener;
use std::sync::Arc;

/// Publishes every new outbox row as a live event, like the server's relay.
pub async fn relay(store: Store, bus: Arc<dyn LiveBus>) {
    let mut watch = store.outbox_watch();
    let mut after = *watch.borrow_and_update();
    loop {
        let rows = match store.read_outbox(after, 500).await {
            Ok(r) => r,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        if rows.is_empty() {
            if watch.changed().await.is_err() {
                return;
            }
            continue;
        }
        for r in rows {
            after = r.seq;
            let (Some(mid), Some(conv)) = (r.message_id, r.conversation_id) else {
                continue;
            };
            let Ok(Some(m)) = store.message(r.tenant_id, mid).await else {
                continue;
            };
            let ev = if r.kind.is_new_message() {
                LiveEvent::Message {
                    seq: r.seq,
                    conversation_id: conv,
                    message_id: mid,
                    direction: m.direction,
                    channel: m.channel,
                }
            } else if let Some(status) = m.status {
                LiveEvent::Status {
                    seq: r.seq,
                    conversation_id: conv,
                    message_id: mid,
                    status,
                }
            } else {
                continue;
            };
            bus.publish(r.tenant_id, ev);
        }
    }
}

/// Test-only routes standing in for the server's API (clerk replies, message counts).
pub fn test_routes(cfg: &mut web::ServiceConfig, store: Store, tenant: TenantId) {
    cfg.app_data(web::Data::new((store, tenant)))
        .route("/test/reply/{conv}", web::post().to(reply))
        .route("/test/messages", web::get().to(messages))
        // The subset of the server's API the browser tests use, same shapes, no auth.
        .route("/api/v1/messages/{id}", web::get().to(api_message))
        .route(
            "/api/v1/conversations/{id}",
            web::get().to(api_conversation),
        )
        .route(
            "/api/v1/conversations/{id}/replies",
            web::post().to(api_reply),
        );
}

fn view(m: &loket_core::Message) -> serde_json::Value {
    serde_json::json!({
        "id": m.id.to_string(),
        "conversation_id": m.conversation_id.to_string(),
        "direction": m.direction.as_str(),
        "channel": m.channel.as_str(),
        "from": m.from,
        "text": m.text,
        "status": m.status.map(|s| s.as_str()),
        "attachments": m.attachments,
    })
}

async fn api_message(data: web::Data<(Store, TenantId)>, id: web::Path<String>) -> HttpResponse {
    let (store, tenant) = data.get_ref();
    let Ok(id) = id.parse() else {
        return HttpResponse::NotFound().finish();
    };
    match store.message(*tenant, id).await {
        Ok(Some(m)) => HttpResponse::Ok().json(view(&m)),
        _ => HttpResponse::NotFound().finish(),
    }
}

async fn api_conversation(
    data: web::Data<(Store, TenantId)>,
    id: web::Path<String>,
) -> HttpResponse {
    let (store, tenant) = data.get_ref();
    let Ok(id) = id.parse() else {
        return HttpResponse::NotFound().finish();
    };
    match store.conversation_messages(*tenant, id).await {
        Ok(ms) => HttpResponse::Ok().json(serde_json::json!({
            "id": id.to_string(),
            "messages": ms.iter().map(view).collect::<Vec<_>>(),
        })),
        Err(_) => HttpResponse::NotFound().finish(),
    }
}

#[derive(serde::Deserialize)]
struct ReplyBody {
    text: String,
}

async fn api_reply(
    data: web::Data<(Store, TenantId)>,
    id: web::Path<String>,
    body: web::Json<ReplyBody>,
) -> HttpResponse {
    let (store, tenant) = data.get_ref();
    let Ok(conv) = id.parse() else {
        return HttpResponse::NotFound().finish();
    };
    let p = Principal::system(*tenant, "test-clerk");
    match store
        .queue_outbound(&p, conv, Outbound::text(body.into_inner().text))
        .await
    {
        Ok(i) => match store.message(*tenant, i.message_id).await {
            Ok(Some(m)) => HttpResponse::Created().json(view(&m)),
            _ => HttpResponse::InternalServerError().finish(),
        },
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

async fn reply(
    data: web::Data<(Store, TenantId)>,
    conv: web::Path<String>,
    body: String,
) -> HttpResponse {
    let (store, tenant) = data.get_ref();
    let Ok(conv) = conv.parse() else {
        return HttpResponse::BadRequest().finish();
    };
    let p = Principal::system(*tenant, "test-clerk");
    match store.queue_outbound(&p, conv, Outbound::text(body)).await {
        Ok(i) => HttpResponse::Created()
            .json(serde_json::json!({"message_id": i.message_id.to_string()})),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

/// Every message of the tenant's webchat conversations: id, conversation, direction,
/// text, status, idempotency key, raw (as text).
async fn messages(data: web::Data<(Store, TenantId)>) -> HttpResponse {
    let (store, tenant) = data.get_ref();
    let mut out = Vec::new();
    let mut after: Option<loket_core::MessageId> = None;
    loop {
        let page = match store.message_ids_page(*tenant, after, 1000).await {
            Ok(p) => p,
            Err(e) => return HttpResponse::InternalServerError().body(e.to_string()),
        };
        if page.is_empty() {
            break;
        }
        after = page.last().copied();
        for id in page {
            let Ok(Some(m)) = store.message(*tenant, id).await else {
                continue;
            };
            let raw = store
                .raw_original(*tenant, id)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            out.push(serde_json::json!({
                "id": m.id.to_string(),
                "conversation_id": m.conversation_id.to_string(),
                "direction": m.direction.as_str(),
                "text": m.text,
                "status": m.status.map(|s| s.as_str()),
                "idempotency_key": m.idempotency_key,
                "from": m.from.address,
                "raw": String::from_utf8_lossy(&raw),
                "attachments": m.attachments.len(),
            }));
        }
    }
    HttpResponse::Ok().json(out)
}

pub struct Running {
    pub port: u16,
    pub handle: actix_web::dev::ServerHandle,
    pub state: WebchatState,
}

/// Starts an actix server with the web chat on `listener` and the given store.
pub fn start(
    listener: TcpListener,
    store: Store,
    tenant: TenantId,
    cfg: WebchatConfig,
) -> std::io::Result<Running> {
    let port = listener.local_addr()?.port();
    let bus: Arc<dyn LiveBus> = Arc::new(loket_store::live::BroadcastBus::new());
    tokio::spawn(relay(store.clone(), bus.clone()));
    let state = WebchatState::new(store.clone(), bus, cfg, loket_webchat::ClerkPresence::new());
    let st = state.clone();
    let server = HttpServer::new(move || {
        let st = st.clone();
        let store = store.clone();
        App::new()
            .configure(|c| loket_webchat::configure(c, st))
            .configure(|c| test_routes(c, store, tenant))
    })
    .workers(2)
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(Running {
        port,
        handle,
        state,
    })
}
