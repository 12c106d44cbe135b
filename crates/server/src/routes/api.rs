//! `/api/v1`: the JSON API (NL API Design Rules: version in the URI, `API-Version`
//! header, problem details, OpenAPI 3 published unauthenticated).

use crate::AppState;
use crate::auth::Auth;
use crate::problem::{Problem, ProblemCode, payload_error};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use futures_util::StreamExt;
use loket_core::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub address: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A message handed in by an integration (provider webhook relay, load test, …).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageBody {
    /// `webchat`, `email` or `sms`.
    pub channel: String,
    pub from: AddressBody,
    #[serde(default)]
    pub to: Vec<AddressBody>,
    #[serde(default)]
    pub subject: Option<String>,
    pub text: String,
    /// The provider's message id (also the idempotency key unless the header is given).
    #[serde(default)]
    pub provider_message_id: Option<String>,
    /// Base64 of the byte-exact original; when absent the request body itself is the
    /// original.
    #[serde(default)]
    pub raw_base64: Option<String>,
    #[serde(default)]
    pub raw_content_type: Option<String>,
    /// Join this conversation (must belong to the caller's tenant).
    #[serde(default)]
    pub conversation_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub conversation_id: String,
    pub direction: String,
    pub channel: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
    pub subject: Option<String>,
    pub text: String,
    pub received_at: String,
    pub raw_sha256: String,
    pub flags: Vec<String>,
    pub parse_warnings: Vec<String>,
    pub status: Option<String>,
    pub attachments: serde_json::Value,
    pub duplicate: bool,
}

impl MessageView {
    pub fn of(m: &Message, duplicate: bool) -> Self {
        Self {
            id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            direction: m.direction.as_str().to_owned(),
            channel: m.channel.as_str().to_owned(),
            from: serde_json::to_value(&m.from).unwrap_or_default(),
            to: serde_json::to_value(&m.to).unwrap_or_default(),
            subject: m.subject.clone(),
            text: m.text.clone(),
            received_at: m
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            raw_sha256: m.raw_sha256.clone(),
            flags: m.flags.iter().map(|f| f.as_str().to_owned()).collect(),
            parse_warnings: m.parse_warnings.clone(),
            status: m.status.map(|s| s.as_str().to_owned()),
            attachments: serde_json::to_value(&m.attachments).unwrap_or_default(),
            duplicate,
        }
    }
}

const WRITERS: &[Role] = &[Role::Admin, Role::Clerk];
const READERS: &[Role] = &[Role::Admin, Role::Clerk, Role::FoiOfficer];

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, Problem> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(payload_error)?;
        if body.len() + chunk.len() > limit {
            return Err(crate::problem::too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Ingest one message. `201` on first ingest, `200` with the same message on a repeat.
#[utoipa::path(post, path = "/api/v1/messages", request_body = NewMessageBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "dedup key; defaults to provider_message_id, for email to the SHA-256 of the original")),
    responses((status = 201, body = MessageView), (status = 200, body = MessageView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn post_message(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let principal = auth.require(WRITERS)?.clone();
    let body = read_body(payload, state.settings.http.max_body_bytes).await?;
    let parsed: NewMessageBody = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("The JSON body is invalid: {e}")))?;
    let channel: Channel = parsed
        .channel
        .parse()
        .map_err(|e: UnknownValue| Problem::bad_request(e.to_string()))?;
    if parsed.text.chars().count() > 1_000_000 {
        return Err(Problem::bad_request(
            "text is longer than 1,000,000 characters",
        ));
    }
    let raw = match &parsed.raw_base64 {
        Some(b) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| Problem::bad_request(format!("raw_base64 is not valid base64: {e}")))?,
        None => body.clone(),
    };
    let header_key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inbound = Inbound::new(
        channel,
        Address {
            address: parsed.from.address,
            name: parsed.from.name,
        },
        parsed.text,
        raw,
    );
    inbound.idempotency_key = header_key.or_else(|| parsed.provider_message_id.clone());
    inbound.provider_message_id = parsed.provider_message_id;
    inbound.to = parsed
        .to
        .into_iter()
        .map(|a| Address {
            address: a.address,
            name: a.name,
        })
        .collect();
    inbound.subject = parsed.subject;
    inbound.raw_content_type = parsed.raw_content_type.unwrap_or_else(|| {
        if channel == Channel::Email {
            "message/rfc822".into()
        } else {
            "application/json".into()
        }
    });
    inbound.conversation = match parsed.conversation_id {
        Some(c) => ConversationHint::Conversation(
            c.parse()
                .map_err(|_| Problem::bad_request("conversation_id is not a UUID"))?,
        ),
        // Threaded as over SMTP: the marks of the original, by the store's one rule.
        // (MIME parsing off the async workers, as the mail channel does.)
        None if channel == Channel::Email => {
            let recipients: Vec<String> = inbound.to.iter().map(|a| a.address.clone()).collect();
            let original = parsed.raw_base64.is_some().then(|| inbound.raw.clone());
            let subject = inbound.subject.clone();
            let (hint, rfc_message_id) = web::block(move || {
                loket_mail::thread_hint(original.as_deref(), subject.as_deref(), &recipients)
            })
            .await
            .map_err(|e| Problem::unavailable(format!("threading task failed: {e}")))?;
            inbound.rfc_message_id = rfc_message_id;
            hint
        }
        None => ConversationHint::LatestOpenOfContact,
    };
    let (ingested, message) = state
        .store
        .ingest_returning_message(principal.tenant, inbound)
        .await?;
    state.metrics.ingested(channel, ingested.duplicate);
    let status = if ingested.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(HttpResponse::build(status)
        .insert_header(("Location", format!("/api/v1/messages/{}", message.id)))
        .json(MessageView::of(&message, ingested.duplicate)))
}

/// One message of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/messages/{id}", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_message(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(READERS)?;
    let id: MessageId = id.parse().map_err(|_| Problem::not_found("message"))?;
    let m = state
        .store
        .message(p.tenant, id)
        .await?
        .ok_or_else(|| Problem::not_found("message"))?;
    Ok(HttpResponse::Ok().json(MessageView::of(&m, false)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    pub id: String,
    pub token: String,
    pub channel: String,
    pub status: String,
    pub subject: Option<String>,
    pub messages: Vec<MessageView>,
}

/// A conversation with every message, in order. Reading it is an audited read.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ConversationView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_conversation(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(READERS)?.clone();
    let id: ConversationId = id.parse().map_err(|_| Problem::not_found("conversation"))?;
    let conv = state
        .store
        .conversation(p.tenant, id)
        .await?
        .ok_or_else(|| Problem::not_found("conversation"))?;
    let messages = state.store.conversation_messages(p.tenant, id).await?;
    state
        .store
        .audit(
            &p,
            AuditAction::ConversationViewed,
            AuditSubject::new("conversation", id),
            serde_json::json!({"messages": messages.len()}),
        )
        .await?;
    Ok(HttpResponse::Ok().json(ConversationView {
        id: conv.id.to_string(),
        token: conv.token,
        channel: conv.channel.as_str().to_owned(),
        status: conv.status.as_str().to_owned(),
        subject: conv.subject,
        messages: messages.iter().map(|m| MessageView::of(m, false)).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    /// Send through another channel than the conversation's last inbound one.
    #[serde(default)]
    pub channel: Option<String>,
    /// A note for colleagues: archived, never sent.
    #[serde(default)]
    pub internal_note: bool,
}

/// Queue a reply (stored first as `queued`; the channel's sender delivers it).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/replies", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header)), request_body = ReplyBody,
    responses((status = 201, body = MessageView), (status = 200, body = MessageView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn post_reply(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<ReplyBody>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(WRITERS)?.clone();
    let id: ConversationId = id.parse().map_err(|_| Problem::not_found("conversation"))?;
    let body = body.into_inner();
    let channel = body
        .channel
        .as_deref()
        .map(|c| c.parse::<Channel>())
        .transpose()
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let out = Outbound {
        channel,
        to: None,
        subject: body.subject,
        text: body.text,
        html: body.html,
        attachments: vec![],
        internal_note: body.internal_note,
        idempotency_key: req
            .headers()
            .get("Idempotency-Key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let r = state.store.queue_outbound(&p, id, out).await?;
    let m = state
        .store
        .message(p.tenant, r.message_id)
        .await?
        .ok_or_else(|| Problem::not_found("message"))?;
    let status = if r.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(HttpResponse::build(status).json(MessageView::of(&m, r.duplicate)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub lines: usize,
    pub imported: usize,
    pub already_present: usize,
}

/// Import the interchange format (JSONL, docs/jsonl-format.md) into the caller's tenant.
/// A file with any bad line is rejected whole (422, every bad line with its number).
#[utoipa::path(post, path = "/api/v1/imports", request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, body = ImportResult), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn post_import(
    state: web::Data<AppState>,
    auth: Auth,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(&[Role::Admin])?.clone();
    let body = read_body(payload, state.settings.http.max_body_bytes).await?;
    let tenant = state.store.require_tenant(p.tenant).await?;
    let opts = loket_store::jsonl::ImportOptions {
        only_tenant: Some(tenant),
        create_tenants: false,
        ..Default::default()
    };
    match state
        .store
        .import_jsonl_bytes(std::sync::Arc::new(body), opts)
        .await?
    {
        Ok(report) => Ok(HttpResponse::Ok().json(ImportResult {
            lines: report.lines,
            imported: report.imported,
            already_present: report.already_present,
        })),
        Err(errors) => {
            let unknown_tenant = errors.iter().all(|e| e.message.contains("not found"));
            let code = if unknown_tenant {
                ProblemCode::UnknownTenant
            } else {
                ProblemCode::InvalidImport
            };
            Err(Problem::new(code)
                .detail(format!(
                    "{} line(s) rejected; nothing was imported",
                    errors.len()
                ))
                .extra(serde_json::json!({"errors": errors})))
        }
    }
}

/// Unknown routes under /api answer with problem details too.
pub async fn not_found() -> Result<HttpResponse, Problem> {
    Err(Problem::not_found("no such route"))
}
