//! What an adapter needs to send an SMS, and the HTTP request it makes of it. The HTTP
//! client lives in the outbox consumer; adapters only build requests, so the stand-in
//! tests see exactly what a provider would.

/// One outbound SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// E.164.
    pub to: String,
    pub text: String,
    /// loket's stable key of this message: the same on every retry and on failover.
    pub idempotency_key: String,
    /// Where the provider posts delivery reports, when it takes one per message.
    pub status_callback_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    pub url: String,
    /// (name, value); may hold credentials: never log them.
    pub headers: Vec<(String, String)>,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// `Basic base64(user:password)`.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

pub fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}
