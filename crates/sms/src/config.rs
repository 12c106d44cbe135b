//! `[sms]` settings: per tenant (by slug) the providers it has, their secrets, which one
//! sends first and which takes over, and the monthly budget.
//!
//! ```toml
//! [sms.tenants.utrecht]
//! primary = "twilio"
//! failover = "vonage"
//! monthly_segment_budget = 20000
//! [sms.tenants.utrecht.twilio]
//! account_sid = "AC…"
//! auth_token = { file = "/run/secrets/twilio" }
//! from = "+3197010000000"
//! ```

use crate::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The providers loket speaks; the `{provider}` segment of the webhook URL.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Twilio,
    Bird,
    Vonage,
    Cm,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Twilio,
        ProviderKind::Bird,
        ProviderKind::Vonage,
        ProviderKind::Cm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Twilio => "twilio",
            ProviderKind::Bird => "bird",
            ProviderKind::Vonage => "vonage",
            ProviderKind::Cm => "cm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        // `messagebird` is Bird's old name; operators still know it by it.
        match s {
            "messagebird" => Some(ProviderKind::Bird),
            _ => Self::ALL.into_iter().find(|p| p.as_str() == s),
        }
    }
}

fn default_max_body() -> usize {
    64 * 1024
}

fn default_replay_window() -> i64 {
    300
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmsConfig {
    /// Public base URL the providers call (`https://loket.gemeente.nl`): the URL that
    /// Twilio and Bird sign. Empty: the server's `http.public_url`.
    #[serde(default)]
    pub public_url: String,
    /// Largest webhook body accepted; larger ones get 413.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Oldest signed timestamp (seconds) accepted; older ones are replays.
    #[serde(default = "default_replay_window")]
    pub replay_window_secs: i64,
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantSms>,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            public_url: String::new(),
            max_body_bytes: default_max_body(),
            replay_window_secs: default_replay_window(),
            tenants: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TenantSms {
    /// The provider that sends; default: the only one configured.
    pub primary: Option<ProviderKind>,
    /// Takes over when the primary answers 5xx or times out.
    pub failover: Option<ProviderKind>,
    /// Most segments sent per calendar month (UTC); none: no cap.
    pub monthly_segment_budget: Option<u64>,
    pub twilio: Option<TwilioConfig>,
    pub bird: Option<BirdConfig>,
    pub vonage: Option<VonageConfig>,
    pub cm: Option<CmConfig>,
}

impl TenantSms {
    pub fn has(&self, kind: ProviderKind) -> bool {
        match kind {
            ProviderKind::Twilio => self.twilio.is_some(),
            ProviderKind::Bird => self.bird.is_some(),
            ProviderKind::Vonage => self.vonage.is_some(),
            ProviderKind::Cm => self.cm.is_some(),
        }
    }

    /// The sending provider: `primary`, else the first configured one.
    pub fn sending_provider(&self) -> Option<ProviderKind> {
        self.primary
            .filter(|p| self.has(*p))
            .or_else(|| ProviderKind::ALL.into_iter().find(|p| self.has(*p)))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    /// The sending number or messaging service sender.
    #[serde(default)]
    pub from: String,
    #[serde(default = "twilio_api")]
    pub api_base: String,
}

fn twilio_api() -> String {
    "https://api.twilio.com".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct BirdConfig {
    /// The webhook signing key (both the HMAC and the legacy JWT scheme use it).
    pub signing_key: Secret,
    /// REST access key for sending (`Authorization: AccessKey …`).
    pub access_key: Option<Secret>,
    #[serde(default)]
    pub from: String,
    #[serde(default = "bird_api")]
    pub api_base: String,
}

fn bird_api() -> String {
    "https://rest.messagebird.com".into()
}

/// Vonage's `sig` algorithms, as its dashboard names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VonageSigAlgorithm {
    #[default]
    Md5hash,
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VonageConfig {
    pub api_key: String,
    pub api_secret: Option<Secret>,
    /// Signs the inbound `sig` and the JWT of signed webhooks.
    pub signature_secret: Secret,
    #[serde(default)]
    pub signature_method: VonageSigAlgorithm,
    #[serde(default)]
    pub from: String,
    #[serde(default = "vonage_api")]
    pub api_base: String,
}

fn vonage_api() -> String {
    "https://rest.nexmo.com".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct CmConfig {
    /// CM.com signs nothing: this secret is part of the webhook URL (`?key=`).
    pub webhook_key: Secret,
    /// When set, only these source addresses may post.
    #[serde(default)]
    pub allowed_sources: Vec<IpAddr>,
    /// Product token for sending.
    pub product_token: Option<Secret>,
    #[serde(default)]
    pub from: String,
    #[serde(default = "cm_api")]
    pub api_base: String,
}

fn cm_api() -> String {
    "https://gw.messaging.cm.com".into()
}
