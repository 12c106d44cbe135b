//! RFC 9457 problem details for every error the API returns. The document, its builder
//! and the error codes are the web chat's ([`loket_webchat::problem`]), so the API, the
//! inbox and the web chat share one type-URI scheme (`https://loket.dev/problems/<slug>`).

pub use loket_webchat::problem::{Problem, ProblemCode};

/// 401 for a request without a valid API token or session.
pub fn unauthorized() -> Problem {
    Problem::new(ProblemCode::Unauthorized)
        .detail("Send an API token as `Authorization: Bearer lkt_…`.")
}

/// Maps actix's body/JSON errors (413, 400) to problem details.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let p = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => too_large(),
        J::ContentType => Problem::new(ProblemCode::UnsupportedMediaType)
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
    Problem::new(ProblemCode::TooLarge)
        .detail("The body exceeds `http.max_body_bytes` (LOKET_HTTP__MAX_BODY_BYTES).")
}
