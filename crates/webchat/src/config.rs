//! The `[webchat]` configuration section. Every limit is configurable; defaults are
//! compiled in so `loket serve` runs without any file.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Process-wide web chat settings, with per-tenant overrides under `tenants.<slug>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebchatConfig {
    /// Longest accepted message text, in Unicode scalar values (characters).
    pub max_text_chars: usize,
    /// Largest accepted attachment, in bytes (default 10 MB).
    pub max_attachment_bytes: usize,
    /// Largest accepted WebSocket frame / JSON body, in bytes. Must hold `max_text_chars`
    /// characters of 4 bytes each plus the JSON around them.
    pub max_frame_bytes: usize,
    /// Rate limits (token buckets) per chat session and per client address prefix.
    pub rate: RateLimits,
    /// Seconds after which a silent WebSocket is closed (the widget pings every 25 s).
    pub idle_timeout_secs: u64,
    /// Seconds an SSE fallback stream stays open before the server ends it (the widget
    /// reconnects at once); keeps buffering proxies from holding events forever.
    pub sse_max_secs: u64,
    /// Seconds between re-reads of the conversation by an open socket, to recover events
    /// a lagging live-bus subscription skipped. 0 turns it off.
    pub resync_secs: u64,
    /// Trust the first address of `X-Forwarded-For` as the client address (only behind
    /// a reverse proxy that sets it). The address is only used, hashed, for rate limits.
    pub trust_forwarded_for: bool,
    /// Defaults for every tenant.
    pub defaults: TenantChatConfig,
    /// Per-tenant overrides, keyed by tenant slug. Fields left out use `defaults`.
    pub tenants: BTreeMap<String, TenantChatOverride>,
}

impl Default for WebchatConfig {
    fn default() -> Self {
        Self {
            max_text_chars: 4000,
            max_attachment_bytes: 10 * 1024 * 1024,
            max_frame_bytes: 64 * 1024,
            rate: RateLimits::default(),
            idle_timeout_secs: 90,
            sse_max_secs: 55,
            resync_secs: 60,
            trust_forwarded_for: false,
            defaults: TenantChatConfig::default(),
            tenants: BTreeMap::new(),
        }
    }
}

impl WebchatConfig {
    /// The effective settings of one tenant from this file: `defaults` with the
    /// `tenants.<slug>` override on top.
    pub fn tenant(&self, slug: &str) -> TenantChatConfig {
        let mut cfg = self.defaults.clone();
        if let Some(o) = self.tenants.get(slug) {
            o.apply_to(&mut cfg);
        }
        cfg
    }
}

/// Token-bucket limits. `*_per_minute` is the sustained rate, `*_burst` the bucket size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub session_per_minute: u32,
    pub session_burst: u32,
    /// Per client address prefix (IPv4 /24, IPv6 /48): all sessions behind one network.
    pub prefix_per_minute: u32,
    pub prefix_burst: u32,
    /// Concurrent sockets and SSE streams per address prefix.
    pub prefix_max_connections: u32,
    /// A socket that keeps sending after this many refusals in a row is closed (1008).
    pub max_refusals_in_a_row: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            session_per_minute: 30,
            session_burst: 10,
            prefix_per_minute: 600,
            prefix_burst: 120,
            prefix_max_connections: 200,
            max_refusals_in_a_row: 20,
        }
    }
}

/// When the widget says "somebody is online".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineRule {
    /// Within office hours (the default until the clerk inbox reports presence).
    OfficeHours,
    /// At least one clerk has the inbox open (see `ClerkPresence`).
    ClerkPresent,
    /// Within office hours and at least one clerk present.
    OfficeHoursAndClerk,
    /// Never online: every conversation is a left message.
    Never,
    /// Always online (tests, 24/7 service desks).
    Always,
}

/// Office hours in the Europe/Amsterdam time zone (CET/CEST by the EU summer-time rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfficeHours {
    /// Per weekday (`mon` … `sun`) a list of `HH:MM-HH:MM` ranges; a missing day is closed.
    pub days: BTreeMap<String, Vec<String>>,
    /// Dates (`YYYY-MM-DD`) on which the office is closed (public holidays).
    pub closed_dates: Vec<String>,
}

impl Default for OfficeHours {
    fn default() -> Self {
        let day = || vec!["08:30-17:00".to_owned()];
        let mut days = BTreeMap::new();
        for d in ["mon", "tue", "wed", "thu", "fri"] {
            days.insert(d.to_owned(), day());
        }
        Self {
            days,
            closed_dates: Vec::new(),
        }
    }
}

/// The chat settings of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantChatConfig {
    /// Shown before the first message (Dutch).
    pub notice_nl: String,
    pub notice_en: String,
    /// Shown when nobody is online (Dutch).
    pub offline_nl: String,
    pub offline_en: String,
    /// The municipality's privacy statement, linked from the notice. Empty: the widget
    /// uses the `data-privacy-url` attribute of its script tag.
    pub privacy_url: String,
    pub online_rule: OnlineRule,
    pub office_hours: OfficeHours,
}

impl Default for TenantChatConfig {
    fn default() -> Self {
        Self {
            notice_nl: "Uw berichten worden bewaard door de gemeente. Ze kunnen openbaar \
                        worden gemaakt op grond van de Wet open overheid (Woo); uw \
                        persoonsgegevens worden dan weggelakt."
                .into(),
            notice_en: "Your messages are kept by the municipality. They may be disclosed \
                        under the Dutch Open Government Act (Woo), with your personal data \
                        removed."
                .into(),
            offline_nl: "Er is op dit moment niemand online. Laat uw bericht achter; wij \
                         antwoorden zo snel mogelijk. Wilt u het antwoord ook per e-mail of \
                         sms? Vul dan uw e-mailadres of telefoonnummer in."
                .into(),
            offline_en: "Nobody is online right now. Leave your message and we will answer \
                         as soon as we can. Want the answer by email or text message as well? \
                         Fill in your email address or phone number."
                .into(),
            privacy_url: String::new(),
            online_rule: OnlineRule::OfficeHours,
            office_hours: OfficeHours::default(),
        }
    }
}

/// Per-tenant overrides: every field optional. They come from the config file
/// (`[webchat.tenants.<slug>]`) and, on top of that, from the tenant's `webchat` channel
/// settings in the database (`Store::set_channel_setting(tenant, Channel::Webchat, key,
/// value)` with a key named like a field below), so an admin can change them without a
/// restart (read again every 30 s).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantChatOverride {
    pub notice_nl: Option<String>,
    pub notice_en: Option<String>,
    pub offline_nl: Option<String>,
    pub offline_en: Option<String>,
    pub privacy_url: Option<String>,
    pub online_rule: Option<OnlineRule>,
    pub office_hours: Option<OfficeHours>,
}

impl TenantChatOverride {
    /// The setting keys a tenant may store for the `webchat` channel.
    pub const KEYS: [&'static str; 7] = [
        "notice_nl",
        "notice_en",
        "offline_nl",
        "offline_en",
        "privacy_url",
        "online_rule",
        "office_hours",
    ];

    /// Builds an override from stored `(key, value)` settings; unknown keys and values
    /// that do not parse are skipped (and logged), never fatal.
    pub fn from_settings<'a>(
        settings: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
    ) -> Self {
        let mut out = Self::default();
        for (key, value) in settings {
            if !Self::KEYS.contains(&key) {
                continue;
            }
            let one = serde_json::json!({ key: value });
            match serde_json::from_value::<TenantChatOverride>(one) {
                Ok(o) => o.apply_over(&mut out),
                Err(e) => tracing::warn!(key, error = %e, "webchat: ignoring a bad tenant setting"),
            }
        }
        out
    }

    fn apply_over(self, other: &mut TenantChatOverride) {
        macro_rules! take {
            ($($f:ident),*) => { $( if self.$f.is_some() { other.$f = self.$f; } )* };
        }
        take!(
            notice_nl,
            notice_en,
            offline_nl,
            offline_en,
            privacy_url,
            online_rule,
            office_hours
        );
    }

    /// Applies the fields that are set.
    pub fn apply_to(&self, cfg: &mut TenantChatConfig) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { cfg.$f = v.clone(); } )* };
        }
        set!(
            notice_nl,
            notice_en,
            offline_nl,
            offline_en,
            privacy_url,
            online_rule,
            office_hours
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_per_tenant() {
        let cfg: WebchatConfig = serde_json::from_value(serde_json::json!({
            "max_text_chars": 10,
            "tenants": { "den-haag": { "online_rule": "always", "notice_nl": "Hallo" } }
        }))
        .unwrap();
        assert_eq!(cfg.max_text_chars, 10);
        assert_eq!(cfg.max_attachment_bytes, 10 * 1024 * 1024);
        let t = cfg.tenant("den-haag");
        assert_eq!(t.online_rule, OnlineRule::Always);
        assert_eq!(t.notice_nl, "Hallo");
        assert_eq!(t.notice_en, TenantChatConfig::default().notice_en);
        assert_eq!(cfg.tenant("other").online_rule, OnlineRule::OfficeHours);
    }

    #[test]
    fn database_settings_become_an_override() {
        let notice = serde_json::json!("Eigen tekst");
        let rule = serde_json::json!("never");
        let bad = serde_json::json!(42);
        let o = TenantChatOverride::from_settings([
            ("notice_nl", &notice),
            ("online_rule", &rule),
            ("privacy_url", &bad),
            ("unknown", &notice),
        ]);
        let mut cfg = TenantChatConfig::default();
        o.apply_to(&mut cfg);
        assert_eq!(cfg.notice_nl, "Eigen tekst");
        assert_eq!(cfg.online_rule, OnlineRule::Never);
        assert_eq!(cfg.privacy_url, "");
    }
}
