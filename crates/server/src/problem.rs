//! RFC 9457 problem details for every error the API returns.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use loket_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extra members (e.g. `errors` of an import with line numbers).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub extra: Option<serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Self {
            type_: format!("https://loket.dev/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            extra: None,
        }
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    pub fn extra(mut self, v: serde_json::Value) -> Self {
        self.extra = Some(v);
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
        )
        .detail("Send an API token as `Authorization: Bearer lkt_…`.")
    }

    pub fn forbidden(what: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").detail(what.to_owned())
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail(what.to_owned())
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request").detail(detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
        )
        .detail(detail)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.title)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("application/problem+json")
            .json(self)
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
            StoreError::Conflict(d) => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Conflict").detail(d)
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                )
            }
        }
    }
}

/// Maps actix's body/JSON errors (413, 400) to problem details.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let p = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => too_large(),
        J::ContentType => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
        )
        .detail("Send `Content-Type: application/json`."),
        other => Problem::bad_request(format!("The JSON body is invalid: {other}")),
    };
    p.into()
}

pub fn payload_error(err: actix_web::error::PayloadError) -> Problem {
    match err {
        actix_web::error::PayloadError::Overflow => too_large(),
        other => Problem::bad_request(format!("cannot read the body: {other}")),
    }
}

pub fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "Request body too large",
    )
    .detail("The body exceeds `http.max_body_bytes` (LOKET_HTTP__MAX_BODY_BYTES).")
}
