//! What the chat routes read off a request, shared by the HTTP fallback (`http.rs`) and the
//! WebSocket route (`ws.rs`): the tenant query parameter and the client's address.

use actix_web::HttpRequest;
use serde::Deserialize;
use std::net::IpAddr;

/// `?tenant=` on every chat route; absent means the default tenant.
#[derive(Debug, Deserialize)]
pub(crate) struct TenantQuery {
    pub tenant: Option<String>,
}

/// The client's address, used only to derive a keyed prefix hash for rate limits.
pub(crate) fn client_addr(req: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        && let Ok(ip) = first.trim().parse()
    {
        return Some(ip);
    }
    req.peer_addr().map(|a| a.ip())
}
