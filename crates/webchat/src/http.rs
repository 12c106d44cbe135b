//! The REST/SSE fallback for networks that block WebSockets, and `/webchat/v1/info`.
//!
//! The session secret travels in the `X-Loket-Session` header (never in a URL, so it
//! does not end up in access logs); the widget reads the SSE stream with `fetch`.

use crate::chat::{SessionId, WebchatState, too_large};
use crate::protocol::{ClientFrame, ProblemCode, Refusal, ServerFrame};
use crate::request::{TenantQuery, client_addr};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use loket_core::{ConversationId, LiveEvent, Tenant};
use serde::Deserialize;
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::mpsc;

pub(crate) const SESSION_HEADER: &str = "x-loket-session";

/// An RFC 9457 problem document carrying the protocol's refusal code.
pub(crate) fn problem(r: &Refusal) -> HttpResponse {
    let mut resp = r.problem().error_response();
    let (name, value) = cors();
    resp.headers_mut().insert(name, value);
    resp
}

fn cors() -> (header::HeaderName, HeaderValue) {
    // The widget runs on the municipality's own site (another origin). No cookies or
    // credentials are used, so any origin may call the chat routes.
    (
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    )
}

fn json(status: StatusCode, frame: &ServerFrame) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(cors())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(frame.to_json())
}

/// CORS preflight for the fallback routes.
pub(crate) async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(cors())
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "content-type, x-loket-session",
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
        .finish()
}

fn session_of(req: &HttpRequest) -> Result<SessionId, Refusal> {
    let secret = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Refusal::new(
                ProblemCode::NoSession,
                "the X-Loket-Session header is missing",
            )
        })?;
    SessionId::from_secret(secret)
}

async fn tenant_and_session(
    state: &WebchatState,
    req: &HttpRequest,
    q: &TenantQuery,
) -> Result<(Tenant, SessionId), Refusal> {
    let tenant = state.tenant(q.tenant.as_deref()).await?;
    let session = session_of(req)?;
    Ok((tenant, session))
}

/// `GET /webchat/v1/info?tenant=SLUG`: what the panel shows before the first message.
pub(crate) async fn info(
    state: web::Data<WebchatState>,
    q: web::Query<TenantQuery>,
) -> HttpResponse {
    let tenant = match state.tenant(q.tenant.as_deref()).await {
        Ok(t) => t,
        Err(r) => return problem(&r),
    };
    let tcfg = state.tenant_config(&tenant).await;
    let online = state.online(&tenant, &tcfg);
    let body = serde_json::json!({
        "tenant": { "slug": tenant.slug, "name": tenant.name },
        "online": online,
        "notice": { "nl": tcfg.notice_nl, "en": tcfg.notice_en },
        "offline": { "nl": tcfg.offline_nl, "en": tcfg.offline_en },
        "privacy_url": tcfg.privacy_url,
        "limits": state.limits(),
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(cors())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// `POST /webchat/v1/messages?tenant=SLUG`: the `message` frame as the body.
pub(crate) async fn post_message(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<WebchatState>,
    q: web::Query<TenantQuery>,
) -> HttpResponse {
    let (tenant, session) = match tenant_and_session(&state, &req, &q).await {
        Ok(x) => x,
        Err(r) => return problem(&r),
    };
    let Ok(ClientFrame::Message(event)) = serde_json::from_slice::<ClientFrame>(&body) else {
        return problem(&Refusal::new(
            ProblemCode::BadFrame,
            "the body must be a `message` frame of the web chat protocol in UTF-8 JSON",
        ));
    };
    let prefix = state.prefix_key(client_addr(&req, state.config().trust_forwarded_for));
    match state
        .accept_message(&tenant, &session, prefix, &body, &event)
        .await
    {
        Ok(frame) => stored_response(&frame),
        Err(r) => problem(&r),
    }
}

#[derive(Deserialize)]
struct ReceivedBody {
    ids: Vec<String>,
}

/// `POST /webchat/v1/received?tenant=SLUG` with `{"ids": [...]}`.
pub(crate) async fn post_received(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<WebchatState>,
    q: web::Query<TenantQuery>,
) -> HttpResponse {
    let (tenant, session) = match tenant_and_session(&state, &req, &q).await {
        Ok(x) => x,
        Err(r) => return problem(&r),
    };
    let Ok(b) = serde_json::from_slice::<ReceivedBody>(&body) else {
        return problem(&Refusal::new(
            ProblemCode::BadFrame,
            "expected {\"ids\": [...]}",
        ));
    };
    match state.received(&tenant, &session, &b.ids).await {
        Ok(_) => HttpResponse::NoContent().insert_header(cors()).finish(),
        Err(r) => problem(&r),
    }
}

/// `GET /webchat/v1/history?tenant=SLUG`: the `welcome` frame.
pub(crate) async fn history(
    req: HttpRequest,
    state: web::Data<WebchatState>,
    q: web::Query<TenantQuery>,
) -> HttpResponse {
    let (tenant, session) = match tenant_and_session(&state, &req, &q).await {
        Ok(x) => x,
        Err(r) => return problem(&r),
    };
    let tcfg = state.tenant_config(&tenant).await;
    let online = state.online(&tenant, &tcfg);
    match state.welcome(&tenant, &session, online).await {
        Ok((frame, _, _)) => json(StatusCode::OK, &frame),
        Err(r) => problem(&r),
    }
}

#[derive(Deserialize)]
pub(crate) struct AttachmentQuery {
    tenant: Option<String>,
    id: String,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /webchat/v1/attachments?tenant=SLUG&id=CLIENT_ID&name=FILE`, the file as body.
pub(crate) async fn post_attachment(
    req: HttpRequest,
    mut body: web::Payload,
    state: web::Data<WebchatState>,
    q: web::Query<AttachmentQuery>,
) -> HttpResponse {
    let tq = TenantQuery {
        tenant: q.tenant.clone(),
    };
    let (tenant, session) = match tenant_and_session(&state, &req, &tq).await {
        Ok(x) => x,
        Err(r) => return problem(&r),
    };
    let max = state.config().max_attachment_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return problem(&too_large(max).with_id(Some(&q.id)));
    }
    let mut data = Vec::with_capacity(declared.unwrap_or(0).min(max));
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return problem(&Refusal::new(ProblemCode::BadFrame, "the upload broke off"));
        };
        if data.len() + chunk.len() > max {
            return problem(&too_large(max).with_id(Some(&q.id)));
        }
        data.extend_from_slice(&chunk);
    }
    let prefix = state.prefix_key(client_addr(&req, state.config().trust_forwarded_for));
    match state
        .accept_attachment(&tenant, &session, prefix, &q.id, q.name.as_deref(), data)
        .await
    {
        Ok(frame) => stored_response(&frame),
        Err(r) => problem(&r),
    }
}

/// `201 Created` for a newly stored message or attachment, `200` for a duplicate (the
/// client resent a frame it had sent before) and for any other answer frame.
fn stored_response(frame: &ServerFrame) -> HttpResponse {
    let status = match frame {
        ServerFrame::Stored {
            duplicate: false, ..
        } => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    json(status, frame)
}

fn sse(event: &str, data: &str) -> web::Bytes {
    web::Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// `GET /webchat/v1/events?tenant=SLUG`: a `text/event-stream` of the protocol's server
/// frames (`welcome` first), ended by the server after `sse_max_secs`.
pub(crate) async fn events(
    req: HttpRequest,
    state: web::Data<WebchatState>,
    q: web::Query<TenantQuery>,
) -> HttpResponse {
    let (tenant, session) = match tenant_and_session(&state, &req, &q).await {
        Ok(x) => x,
        Err(r) => return problem(&r),
    };
    let prefix = state.prefix_key(client_addr(&req, state.config().trust_forwarded_for));
    let Some(slot) = state.enter_connection(prefix) else {
        return problem(&Refusal::new(
            ProblemCode::RateLimited,
            "too many connections from your network",
        ));
    };
    let state = state.get_ref().clone();
    let tcfg = state.tenant_config(&tenant).await;
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<LiveEvent>();
    let known = match state
        .store()
        .conversation_for_contact(tenant.id, loket_core::Channel::Webchat, session.address())
        .await
    {
        Ok(c) => c.map(|c| c.id),
        Err(e) => return problem(&crate::chat::unavailable(e)),
    };
    let mut registration = known.map(|c| state.router().register(tenant.id, c, ev_tx.clone()));
    let online = state.online(&tenant, &tcfg);
    let (welcome, _, ids) = match state.welcome(&tenant, &session, online).await {
        Ok(w) => w,
        Err(r) => return problem(&r),
    };
    let (out_tx, out_rx) = mpsc::channel::<web::Bytes>(64);
    let max = Duration::from_secs(state.config().sse_max_secs.max(5));
    actix_web::rt::spawn(async move {
        let _slot = slot;
        let mut shown: HashSet<_> = ids.into_iter().collect();
        let mut online = online;
        if out_tx
            .send(sse("welcome", &welcome.to_json()))
            .await
            .is_err()
        {
            return;
        }
        let deadline = tokio::time::sleep(max);
        tokio::pin!(deadline);
        let mut keepalive = tokio::time::interval(Duration::from_secs(15));
        let mut presence = state.presence().watch();
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = keepalive.tick() => {
                    let now = state.online(&tenant, &tcfg);
                    let frame = if now != online {
                        online = now;
                        sse("presence", &ServerFrame::Presence { online }.to_json())
                    } else {
                        web::Bytes::from_static(b": keep-alive\n\n")
                    };
                    if out_tx.send(frame).await.is_err() {
                        break;
                    }
                }
                changed = presence.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    let now = state.online(&tenant, &tcfg);
                    if now != online {
                        online = now;
                        let f = sse("presence", &ServerFrame::Presence { online }.to_json());
                        if out_tx.send(f).await.is_err() {
                            break;
                        }
                    }
                }
                Some(ev) = ev_rx.recv() => {
                    let LiveEvent::Message { conversation_id, message_id, .. } = ev else {
                        continue;
                    };
                    if shown.contains(&message_id) {
                        continue;
                    }
                    if let Ok(Some(message)) =
                        state.shown_message(&tenant, conversation_id, message_id).await
                    {
                        shown.insert(message_id);
                        let f = sse("message", &ServerFrame::Message { message }.to_json());
                        if out_tx.send(f).await.is_err() {
                            break;
                        }
                    }
                }
                // A session without a conversation yet: look for one now and then (its
                // first message goes through POST /messages on another request).
                _ = tokio::time::sleep(Duration::from_secs(2)), if registration.is_none() => {
                    if let Ok(Some(c)) = state
                        .store()
                        .conversation_for_contact(tenant.id, loket_core::Channel::Webchat, session.address())
                        .await
                    {
                        let conv: ConversationId = c.id;
                        registration = Some(state.router().register(tenant.id, conv, ev_tx.clone()));
                        // Show what was stored before the registration (e.g. a quick reply).
                        if let Ok((_, messages)) = state.history(&tenant, &session).await {
                            for (id, message) in messages {
                                if shown.insert(id) {
                                    let f = sse("message", &ServerFrame::Message { message }.to_json());
                                    if out_tx.send(f).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(out_rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(cors())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream)
}
