//! Who is calling: `Principal` from a bearer API token (and, from issue 6, a session).

use crate::AppState;
use crate::problem::Problem;
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
        Box::pin(async move {
            let state = state.ok_or_else(|| Problem::unavailable("not configured"))?;
            let token = header
                .as_deref()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(Problem::unauthorized)?;
            match state.store.principal_for_token(token).await? {
                Some(p) => Ok(Auth(p)),
                None => Err(Problem::unauthorized().detail("The API token is unknown or revoked.")),
            }
        })
    }
}
