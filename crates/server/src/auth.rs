//! Who is calling: `Principal` from a bearer API token or a login session cookie.
//!
//! A session caller must send the session's CSRF token in the `X-CSRF-Token` header on
//! every state-changing request (anything but GET/HEAD/OPTIONS); API tokens are exempt
//! (a browser never attaches them on its own). HTML forms carry the token in a hidden
//! field, checked by the inbox's handlers.

use crate::AppState;
use crate::problem::{self, Problem};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use loket_core::{Principal, Role};

/// An authenticated caller.
pub struct Auth(pub Principal);

impl Auth {
    /// Refuses with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, Problem> {
        if roles.contains(&self.0.role) {
            Ok(&self.0)
        } else {
            Err(Problem::forbidden(&format!(
                "the role `{}` may not do this",
                self.0.role
            )))
        }
    }
}

impl FromRequest for Auth {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let cookie = session_cookie(req);
        let unsafe_method = !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
        let csrf = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| Problem::unavailable("not configured"))?;
            if let (None, Some(secret)) = (&header, cookie) {
                let session = state
                    .store
                    .session(&secret)
                    .await?
                    .ok_or_else(|| problem::unauthorized().detail("The session has ended."))?;
                if unsafe_method
                    && !csrf
                        .as_deref()
                        .is_some_and(|t| same_token(t, &session.csrf_token))
                {
                    return Err(Problem::forbidden("a request without a valid CSRF token")
                        .detail("Send the session's CSRF token in the X-CSRF-Token header."));
                }
                return Ok(Auth(session.principal));
            }
            let token = header
                .as_deref()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(problem::unauthorized)?;
            match state.store.principal_for_token(token).await? {
                Some(p) => Ok(Auth(p)),
                None => Err(problem::unauthorized().detail("The API token is unknown or revoked.")),
            }
        })
    }
}

/// The name of the login session cookie.
pub const SESSION_COOKIE: &str = "loket_session";
/// The header that carries the session's CSRF token on state-changing API calls.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The session cookie's value, if the request has one.
pub fn session_cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
