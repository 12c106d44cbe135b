//! Live updates for an open inbox page over server-sent events.

use crate::AppState;
use crate::inbox::{READERS, WRITERS};
use crate::problem::Problem;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use loket_core::LiveEvent;

/// Server-sent events for an open inbox: one event per live-bus event of the tenant,
/// and a comment every 5 s: it keeps proxies from closing the stream and lets the
/// server notice a closed connection (so clerk presence ends within about 5 s). While a clerk or
/// admin has it open, the webchat widget shows the municipality as online.
pub async fn events(
    state: web::Data<AppState>,
    auth: crate::auth::Auth,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(READERS)?.clone();
    let guard = if WRITERS.contains(&p.role) {
        Some(state.presence.clerk_connected(p.tenant))
    } else {
        None
    };
    let sub = state.bus.subscribe(p.tenant);
    let first = Bytes::from_static(b"retry: 2000\n: connected\n\n");
    let stream = futures_util::stream::unfold(
        (sub, guard, Some(first)),
        |(mut sub, guard, first)| async move {
            if let Some(f) = first {
                return Some((Ok::<_, actix_web::Error>(f), (sub, guard, None)));
            }
            match tokio::time::timeout(std::time::Duration::from_secs(5), sub.recv()).await {
                Err(_) => Some((
                    Ok(Bytes::from_static(b": keep-alive\n\n")),
                    (sub, guard, None),
                )),
                Ok(None) => None,
                Ok(Some(ev)) => {
                    let kind = match &ev {
                        LiveEvent::Message { .. } => "message",
                        LiveEvent::Status { .. } => "status",
                        LiveEvent::Conversation { .. } => "conversation",
                    };
                    let data = serde_json::to_string(&ev).unwrap_or_else(|_| "{}".into());
                    Some((
                        Ok(Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))),
                        (sub, guard, None),
                    ))
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
