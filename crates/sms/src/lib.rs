//! SMS for loket: one [`SmsProvider`] trait with adapters for Twilio, Bird (MessageBird),
//! Vonage and CM.com; the verified webhook route `/api/v1/webhooks/sms/{provider}/{tenant}`
//! that stores inbound SMS through `Store::ingest`; GSM-7/UCS-2 segment counting.
//! Configuration and the conversation rule: `docs/sms.md`.

pub mod bird;
pub mod cm;
pub mod concat;
pub mod config;
pub mod encoding;
pub mod http;
mod inbound;
pub mod phone;
pub mod secret;
pub mod send;
pub mod twilio;
pub mod vonage;
pub mod webhook;

pub use config::{ProviderKind, SmsConfig, TenantSms};
pub use encoding::{Encoding, Segments, segments};
pub use http::{SmsApiDoc, SmsState};
pub use webhook::{Refusal, SmsProvider, Webhook, WebhookRequest};

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error(transparent)]
    Store(#[from] loket_store::StoreError),
    #[error("SMS configuration: {0}")]
    Config(String),
}

/// The adapter of `kind` for a tenant, when the tenant configured that provider.
pub fn provider(kind: ProviderKind, cfg: &TenantSms) -> Option<Box<dyn SmsProvider>> {
    Some(match kind {
        ProviderKind::Twilio => Box::new(twilio::Twilio {
            cfg: cfg.twilio.clone()?,
        }),
        ProviderKind::Bird => Box::new(bird::Bird {
            cfg: cfg.bird.clone()?,
        }),
        ProviderKind::Vonage => Box::new(vonage::Vonage {
            cfg: cfg.vonage.clone()?,
        }),
        ProviderKind::Cm => Box::new(cm::Cm {
            cfg: cfg.cm.clone()?,
        }),
    })
}
