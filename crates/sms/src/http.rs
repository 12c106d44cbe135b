//! `/api/v1/webhooks/sms/{provider}/{tenant}`: bounded body, signature check, then the
//! message is stored (or the delivery report appended) before the provider gets its
//! 2xx. Every refusal is a problem document and one log line with the reason, never a
//! secret; nothing is stored for a refused call.

use crate::concat::ConcatBuffer;
use crate::inbound;
use crate::webhook::{Refusal, Webhook, WebhookRequest};
use crate::{ProviderKind, SmsConfig, provider};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use loket_store::Store;
use loket_webchat::problem::{Problem, ProblemCode};
use std::sync::Arc;
use tracing::{info, warn};

pub const WEBHOOK_PATH: &str = "/api/v1/webhooks/sms/{provider}/{tenant}";

/// What the webhook route needs; cheap to clone.
#[derive(Clone)]
pub struct SmsState {
    pub store: Store,
    pub config: Arc<SmsConfig>,
    /// Base URL the providers call when `[sms] public_url` is empty (`http.public_url`).
    pub fallback_public_url: String,
    pub concat: Arc<ConcatBuffer>,
    pub http: reqwest::Client,
}

impl SmsState {
    pub fn new(store: Store, config: SmsConfig, fallback_public_url: String) -> Self {
        Self {
            store,
            config: Arc::new(config),
            fallback_public_url,
            concat: Arc::new(ConcatBuffer::default()),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    fn public_base(&self, req: &HttpRequest) -> String {
        let configured = if self.config.public_url.is_empty() {
            &self.fallback_public_url
        } else {
            &self.config.public_url
        };
        if configured.is_empty() {
            let ci = req.connection_info();
            format!("{}://{}", ci.scheme(), ci.host())
        } else {
            configured.trim_end_matches('/').to_owned()
        }
    }
}

/// Registers the webhook route (before the API's catch-all).
pub fn configure(cfg: &mut web::ServiceConfig, state: SmsState) {
    cfg.app_data(web::Data::new(state))
        .route(WEBHOOK_PATH, web::post().to(webhook))
        .route(WEBHOOK_PATH, web::get().to(webhook));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(webhook),
    components(schemas(crate::encoding::Segments, crate::encoding::Encoding))
)]
pub struct SmsApiDoc;

fn refuse(provider: &str, tenant: &str, problem: Problem, reason: &str) -> Problem {
    warn!(
        provider,
        tenant,
        status = problem.status,
        reason,
        "SMS webhook refused"
    );
    problem
}

/// Receives an SMS or a delivery report from a provider.
///
/// Authenticated by the provider's own scheme: `X-Twilio-Signature` (Twilio),
/// `messagebird-signature` or `MessageBird-Signature-JWT` (Bird), `sig` or a bearer JWT
/// (Vonage), the `key` query parameter (CM.com). A message already stored under the
/// provider's id is acknowledged again without a second copy.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/sms/{provider}/{tenant}",
    params(
        ("provider" = String, Path, description = "twilio, bird (or messagebird), vonage, cm"),
        ("tenant" = String, Path, description = "The tenant's slug"),
    ),
    request_body(content = String, description = "The provider's payload (form, JSON or a GET query)", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Stored (or a duplicate, or a part of a longer SMS held for the rest)"),
        (status = 400, description = "Verified but missing fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No signature, expired token or a replayed timestamp", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong signature or source address", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown provider or tenant, or the provider is not configured for the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than `[sms] max_body_bytes`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The archive cannot be reached; the provider retries", body = Problem, content_type = "application/problem+json"),
    ),
    tag = "sms"
)]
pub async fn webhook(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    mut payload: web::Payload,
    state: web::Data<SmsState>,
) -> Result<HttpResponse, Problem> {
    let (provider_name, slug) = path.into_inner();
    let Some(kind) = ProviderKind::parse(&provider_name) else {
        return Err(refuse(
            &provider_name,
            &slug,
            Problem::not_found("SMS provider"),
            "unknown provider",
        ));
    };
    let tenant = state.store.tenant_by_slug(&slug).await?;
    let (Some(tenant), Some(tenant_cfg)) = (tenant, state.config.tenants.get(&slug)) else {
        return Err(refuse(
            kind.as_str(),
            &slug,
            Problem::not_found("tenant"),
            "unknown tenant or no SMS configuration",
        ));
    };
    let Some(adapter) = provider(kind, tenant_cfg) else {
        return Err(refuse(
            kind.as_str(),
            &slug,
            Problem::not_found("SMS provider of this tenant"),
            "provider not configured for the tenant",
        ));
    };
    let limit = state.config.max_body_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Problem::bad_request(format!("unreadable body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(refuse(
                kind.as_str(),
                &slug,
                Problem::new(ProblemCode::TooLarge)
                    .detail(format!("the body is larger than {limit} bytes")),
                "body too large",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let query = req.query_string().to_owned();
    let url = format!(
        "{}{}{}{}",
        state.public_base(&req),
        req.uri().path(),
        if query.is_empty() { "" } else { "?" },
        query
    );
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let headers = |name: &str| -> Option<String> {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let wreq = WebhookRequest {
        url: &url,
        query: &query,
        headers: &headers,
        body: &body,
        content_type: &content_type,
        peer: req.peer_addr().map(|a| a.ip()),
        now: chrono::Utc::now().timestamp(),
        replay_window_secs: state.config.replay_window_secs,
    };
    let parsed = adapter.verify(&wreq).and_then(|()| adapter.parse(&wreq));
    let parsed = match parsed {
        Ok(p) => p,
        Err(refusal) => {
            let reason = refusal.to_string();
            return Err(refuse(
                kind.as_str(),
                &slug,
                refusal_problem(&refusal),
                &reason,
            ));
        }
    };
    let raw_content_type = if body.is_empty() {
        "application/x-www-form-urlencoded".to_owned()
    } else if content_type.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        content_type.clone()
    };
    let outcome = match parsed {
        Webhook::Inbound(sms) => {
            inbound::receive(
                &state,
                adapter.as_ref(),
                tenant.id,
                &slug,
                sms,
                wreq.original(),
                raw_content_type,
            )
            .await?
        }
        Webhook::Status(report) => inbound::status(&state, tenant.id, kind, report).await?,
        Webhook::Ignored(what) => {
            info!(provider = kind.as_str(), tenant = %slug, what, "SMS webhook ignored");
            serde_json::json!({"ignored": what})
        }
    };
    Ok(match kind {
        // Twilio reads the answer as TwiML: an empty response sends nothing back.
        ProviderKind::Twilio => HttpResponse::Ok()
            .content_type("text/xml")
            .body("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"),
        _ => HttpResponse::Ok().json(outcome),
    })
}

fn refusal_problem(r: &Refusal) -> Problem {
    r.problem()
}
