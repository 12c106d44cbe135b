//! RFC 9457 problem details for every HTTP error loket answers: the web chat's fallback
//! routes here and, reused by `loket-server`, the API and the inbox. One error-code enum,
//! one builder, one type-URI scheme: `https://loket.dev/problems/<slug>`.
//!
//! It lives in this crate because this is the lowest crate with actix-web that the server
//! already depends on (the server may not be a dependency of the web chat, and
//! `loket-core` knows no HTTP); see ARCHITECTURE.md.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use loket_store::StoreError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The start of every problem type URI; the code's [`ProblemCode::slug`] follows.
pub const TYPE_BASE: &str = "https://loket.dev/problems/";

/// Every error code loket answers with. The web chat protocol's codes travel in
/// `refused` frames and in a problem's `code` member in snake case (`too_large`,
/// `rate_limited`, …; `docs/webchat-protocol.md`); the type URI spells a code in kebab
/// case ([`ProblemCode::slug`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    // The web chat protocol (the widget has a text for each).
    BadFrame,
    NoSession,
    BadSession,
    BadId,
    Empty,
    TooLong,
    BadReplyTo,
    RateLimited,
    UnsupportedType,
    /// A body or file over its limit (HTTP 413), in the web chat and the API.
    TooLarge,
    UnknownTenant,
    UnknownMessage,
    /// The database (or the search index) cannot be reached; retry later (HTTP 503).
    Unavailable,
    // The API and the inbox.
    Unauthorized,
    Forbidden,
    NotFound,
    BadRequest,
    Conflict,
    UnsupportedMediaType,
    InvalidQuery,
    InvalidCursor,
    InvalidImport,
    Internal,
}

impl ProblemCode {
    /// The last segment of the type URI.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemCode::BadFrame => "bad-frame",
            ProblemCode::NoSession => "no-session",
            ProblemCode::BadSession => "bad-session",
            ProblemCode::BadId => "bad-id",
            ProblemCode::Empty => "empty",
            ProblemCode::TooLong => "too-long",
            ProblemCode::BadReplyTo => "bad-reply-to",
            ProblemCode::RateLimited => "rate-limited",
            ProblemCode::UnsupportedType => "unsupported-type",
            ProblemCode::TooLarge => "payload-too-large",
            ProblemCode::UnknownTenant => "unknown-tenant",
            ProblemCode::UnknownMessage => "unknown-message",
            ProblemCode::Unavailable => "unavailable",
            ProblemCode::Unauthorized => "unauthorized",
            ProblemCode::Forbidden => "forbidden",
            ProblemCode::NotFound => "not-found",
            ProblemCode::BadRequest => "bad-request",
            ProblemCode::Conflict => "conflict",
            ProblemCode::UnsupportedMediaType => "unsupported-media-type",
            ProblemCode::InvalidQuery => "invalid-query",
            ProblemCode::InvalidCursor => "invalid-cursor",
            ProblemCode::InvalidImport => "invalid-import",
            ProblemCode::Internal => "internal",
        }
    }

    /// `https://loket.dev/problems/<slug>`.
    pub fn type_uri(self) -> String {
        format!("{TYPE_BASE}{}", self.slug())
    }

    /// The HTTP status a problem of this code is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ProblemCode::BadFrame
            | ProblemCode::BadId
            | ProblemCode::BadSession
            | ProblemCode::BadReplyTo
            | ProblemCode::BadRequest
            | ProblemCode::InvalidQuery
            | ProblemCode::InvalidCursor => StatusCode::BAD_REQUEST,
            ProblemCode::NoSession | ProblemCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ProblemCode::Forbidden => StatusCode::FORBIDDEN,
            ProblemCode::UnknownTenant | ProblemCode::UnknownMessage | ProblemCode::NotFound => {
                StatusCode::NOT_FOUND
            }
            ProblemCode::Conflict => StatusCode::CONFLICT,
            ProblemCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::UnsupportedType | ProblemCode::UnsupportedMediaType => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ProblemCode::Empty | ProblemCode::TooLong | ProblemCode::InvalidImport => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ProblemCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short human-readable summary of the problem type (RFC 9457 `title`).
    pub fn title(self) -> &'static str {
        match self {
            ProblemCode::BadFrame => "Malformed request",
            ProblemCode::NoSession => "Session required",
            ProblemCode::BadSession => "Invalid session",
            ProblemCode::BadId => "Invalid message id",
            ProblemCode::Empty => "Empty message",
            ProblemCode::TooLong => "Message too long",
            ProblemCode::BadReplyTo => "Invalid reply reference",
            ProblemCode::RateLimited => "Too many requests",
            ProblemCode::UnsupportedType => "Unsupported file type",
            ProblemCode::TooLarge => "Request body too large",
            ProblemCode::UnknownTenant => "Unknown tenant",
            ProblemCode::UnknownMessage => "Unknown message",
            ProblemCode::Unavailable => "Service unavailable",
            ProblemCode::Unauthorized => "Authentication required",
            ProblemCode::Forbidden => "Not allowed",
            ProblemCode::NotFound => "Not found",
            ProblemCode::BadRequest => "Bad request",
            ProblemCode::Conflict => "Conflict",
            ProblemCode::UnsupportedMediaType => "Unsupported media type",
            ProblemCode::InvalidQuery => "The search query is not valid",
            ProblemCode::InvalidCursor => "Invalid cursor",
            ProblemCode::InvalidImport => "Invalid import file",
            ProblemCode::Internal => "Internal error",
        }
    }
}

/// A problem document (`application/problem+json`), built from its code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extension members (e.g. `errors` of an import with line numbers, the web chat's
    /// `code`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    code: ProblemCode,
    /// Sent as `Retry-After` (whole seconds, at least 1).
    #[serde(skip)]
    retry_after: Option<Duration>,
}

impl Problem {
    pub fn new(code: ProblemCode) -> Self {
        Self {
            type_: code.type_uri(),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            detail: None,
            extra: serde_json::Map::new(),
            code,
            retry_after: None,
        }
    }

    pub fn code(&self) -> ProblemCode {
        self.code
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    /// Adds the members of a JSON object (anything else is ignored).
    pub fn extra(mut self, v: serde_json::Value) -> Self {
        if let serde_json::Value::Object(members) = v {
            self.extra.extend(members);
        }
        self
    }

    /// Adds one extension member.
    pub fn member(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// Answers with a `Retry-After` header.
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    pub fn forbidden(what: &str) -> Self {
        Self::new(ProblemCode::Forbidden).detail(what.to_owned())
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ProblemCode::NotFound).detail(what.to_owned())
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::BadRequest).detail(detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::Unavailable).detail(detail)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.title)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        if let Some(wait) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, wait.as_secs().max(1).to_string()));
        }
        resp.content_type("application/problem+json").json(self)
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            return Problem::unavailable(
                "The archive database cannot be reached; nothing was stored. Retry later.",
            );
        }
        match e {
            StoreError::NotFound { kind, .. } => Problem::not_found(&format!("{kind} not found")),
            StoreError::Invalid(d) => Problem::bad_request(d),
            // Names the field at fault, so a form can point at it; nothing was changed.
            StoreError::InvalidField { field, message } => {
                Problem::bad_request(message).member("field", field)
            }
            StoreError::Held(what) => Problem::new(ProblemCode::Conflict).detail(format!(
                "{what} is under legal hold and cannot be destroyed"
            )),
            StoreError::Conflict(d) => Problem::new(ProblemCode::Conflict).detail(d),
            other => {
                tracing::error!(error = %other, "internal error");
                Problem::new(ProblemCode::Internal)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_names_the_field() {
        let p = Problem::from(StoreError::InvalidField {
            field: "motivation",
            message: "a refusal needs a motivation".into(),
        });
        assert_eq!(p.status, 400);
        assert_eq!(p.extra.get("field"), Some(&serde_json::json!("motivation")));
        let held = Problem::from(StoreError::Held("conversation x".into()));
        assert_eq!(held.status, 409);
    }

    #[test]
    fn one_type_uri_scheme_and_the_code_decides_the_status() {
        let p = Problem::new(ProblemCode::RateLimited)
            .detail("slow down")
            .member(
                "code",
                serde_json::to_value(ProblemCode::RateLimited).unwrap(),
            );
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["type"], "https://loket.dev/problems/rate-limited");
        assert_eq!(v["status"], 429);
        assert_eq!(v["code"], "rate_limited");
        assert_eq!(v["detail"], "slow down");
        assert_eq!(p.status_code(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            ProblemCode::TooLarge.type_uri(),
            "https://loket.dev/problems/payload-too-large"
        );
        let bare = serde_json::to_value(Problem::new(ProblemCode::Internal)).unwrap();
        assert_eq!(
            bare,
            serde_json::json!({
                "type": "https://loket.dev/problems/internal",
                "title": "Internal error",
                "status": 500,
            })
        );
    }
}
