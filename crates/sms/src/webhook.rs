//! What a provider adapter gets from an HTTP webhook, what it makes of it, and why it
//! refuses one. Adapters are pure over [`WebhookRequest`]: the HTTP layer reads the body
//! (bounded), builds the public URL and hands both in, so each scheme is unit-tested
//! without a server.

use loket_core::{DeliveryStatus, Timestamp};
use loket_webchat::problem::{Problem, ProblemCode};
use std::net::IpAddr;

/// One webhook call as received.
pub struct WebhookRequest<'a> {
    /// The URL the provider called, as it knows it: the public base URL, the path and
    /// the query string exactly as received.
    pub url: &'a str,
    /// The query string as received (without `?`).
    pub query: &'a str,
    /// Header lookup by lower-case name.
    pub headers: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
    /// The media type without parameters, lower case.
    pub content_type: &'a str,
    pub peer: Option<IpAddr>,
    /// Seconds since the Unix epoch, for replay checks.
    pub now: i64,
    pub replay_window_secs: i64,
}

impl WebhookRequest<'_> {
    pub fn header(&self, name: &str) -> Option<String> {
        (self.headers)(name)
    }

    pub fn is_form(&self) -> bool {
        self.content_type == "application/x-www-form-urlencoded"
    }

    pub fn is_json(&self) -> bool {
        self.content_type == "application/json" || self.content_type.ends_with("+json")
    }

    /// The form fields of the body, or of the query string when the body is empty (GET).
    pub fn params(&self) -> Vec<(String, String)> {
        if self.body.is_empty() {
            form(self.query.as_bytes())
        } else {
            form(self.body)
        }
    }

    /// The bytes archived as the original: the body, or the query string of a GET.
    pub fn original(&self) -> Vec<u8> {
        if self.body.is_empty() {
            self.query.as_bytes().to_vec()
        } else {
            self.body.to_vec()
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` (also query strings), in order.
pub fn form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// One part of a concatenated SMS (Vonage sends each part as its own webhook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcatPart {
    pub reference: String,
    pub total: u32,
    pub part: u32,
}

/// Media of an MMS: where the provider keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub url: String,
    pub content_type: Option<String>,
}

/// An inbound SMS as the provider described it, numbers still as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    pub provider_message_id: String,
    pub from: String,
    pub to: String,
    pub text: String,
    pub sent_at: Option<Timestamp>,
    pub media: Vec<MediaRef>,
    pub concat: Option<ConcatPart>,
}

/// A delivery report about a message loket sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub provider_message_id: String,
    pub status: DeliveryStatus,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Webhook {
    Inbound(InboundSms),
    Status(StatusReport),
    /// A call that carries nothing to store (a provider's test ping, an unknown event);
    /// answered 200 so the provider stops retrying.
    Ignored(String),
}

/// Why a webhook was refused. The reason goes to the log and the problem detail; it
/// never contains a secret or an expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No credentials at all: 401.
    #[error("missing {0}")]
    Missing(&'static str),
    /// Expired token or an old timestamp (a replay): 401.
    #[error("{0}")]
    Stale(String),
    /// Credentials present but wrong: 403.
    #[error("{0}")]
    BadSignature(String),
    /// Not from an allowed source address: 403.
    #[error("source address {0} is not allowed")]
    Source(String),
    /// Verified but unusable: 400.
    #[error("{0}")]
    Malformed(String),
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Missing(_) | Refusal::Stale(_) => 401,
            Refusal::BadSignature(_) | Refusal::Source(_) => 403,
            Refusal::Malformed(_) => 400,
        }
    }

    pub fn problem(&self) -> Problem {
        let code = match self {
            Refusal::Missing(_) | Refusal::Stale(_) => ProblemCode::Unauthorized,
            Refusal::BadSignature(_) | Refusal::Source(_) => ProblemCode::Forbidden,
            Refusal::Malformed(_) => ProblemCode::BadRequest,
        };
        Problem::new(code).detail(self.to_string())
    }

    pub fn malformed(what: impl Into<String>) -> Self {
        Refusal::Malformed(what.into())
    }
}

/// One provider: checks that a webhook is really its own and says what it means.
pub trait SmsProvider: Send + Sync {
    fn kind(&self) -> crate::ProviderKind;

    /// Verifies the signature (or the URL secret) of the request; nothing is parsed
    /// before this passed.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), Refusal>;

    /// What the verified request says.
    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Webhook, Refusal>;

    /// The HTTP request that sends `sms` through this provider's REST API.
    fn send_request(&self, sms: &crate::send::OutgoingSms) -> crate::send::SendRequest;

    /// The provider's id of a sent message, read from its answer to `send_request`.
    fn sent_id(&self, response_body: &[u8]) -> Option<String>;

    /// `Authorization` for fetching MMS media from the provider, when it wants one.
    fn media_authorization(&self) -> Option<String> {
        None
    }
}

/// `sha256` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A Unix timestamp in seconds from a provider's field (`1700000000`, RFC 3339 or
/// `yyyy-MM-dd HH:mm:ss` in UTC).
pub fn parse_time(value: &str) -> Option<Timestamp> {
    if let Ok(secs) = value.parse::<i64>() {
        return chrono::DateTime::from_timestamp(secs, 0);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
        .map(|n| n.and_utc())
}
