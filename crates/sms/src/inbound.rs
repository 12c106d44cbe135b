//! From a verified provider payload to `Store::ingest`: E.164 numbers, the provider's id
//! as the idempotency key, the original bytes as the raw, MMS media as attachments, and
//! the conversation rule (`docs/sms.md`): the contact's most recent conversation that is
//! not closed, else a new one.

use crate::ProviderKind;
use crate::http::SmsState;
use crate::phone::normalise_sender;
use crate::webhook::{InboundSms, MediaRef, SmsProvider, StatusReport};
use loket_core::{Address, Channel, ConversationHint, Inbound, NewAttachment, TenantId};
use loket_webchat::problem::Problem;
use tracing::{info, warn};

/// Largest MMS media item fetched.
const MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;

pub(crate) async fn receive(
    state: &SmsState,
    adapter: &dyn SmsProvider,
    tenant: TenantId,
    slug: &str,
    sms: InboundSms,
    raw: Vec<u8>,
    raw_content_type: String,
) -> Result<serde_json::Value, Problem> {
    let kind = adapter.kind();
    let (sms, raw, raw_content_type) = if sms.concat.is_some() {
        match state.concat.add(slug, sms, raw) {
            Some(whole) => (
                whole.sms,
                whole.raw,
                format!("{raw_content_type}; x-loket-parts=lines"),
            ),
            None => return Ok(serde_json::json!({"stored": false, "part": true})),
        }
    } else {
        (sms, raw, raw_content_type)
    };
    let from = normalise_sender(&sms.from);
    let mut inbound = Inbound::new(Channel::Sms, Address::new(from), sms.text.clone(), raw);
    inbound.idempotency_key = Some(format!("sms:{}:{}", kind.as_str(), sms.provider_message_id));
    inbound.provider_message_id = Some(sms.provider_message_id.clone());
    if !sms.to.is_empty() {
        inbound.to = vec![Address::new(normalise_sender(&sms.to))];
    }
    inbound.sent_at = sms.sent_at;
    inbound.raw_content_type = raw_content_type;
    inbound.conversation = ConversationHint::LatestOpenOfContact;
    for media in &sms.media {
        match fetch_media(state, adapter, media).await {
            Ok(att) => inbound.attachments.push(att),
            Err(why) => {
                warn!(
                    provider = kind.as_str(),
                    tenant = slug,
                    why,
                    "MMS media not fetched"
                );
                inbound
                    .parse_warnings
                    .push(format!("MMS media {} not fetched: {why}", media.url));
                inbound.flags.push(loket_core::MessageFlag::ParseWarning);
            }
        }
    }
    inbound.flags.dedup();
    let ingested = state.store.ingest(tenant, inbound).await?;
    info!(
        provider = kind.as_str(),
        tenant = slug,
        message = %ingested.message_id,
        duplicate = ingested.duplicate,
        "SMS stored"
    );
    Ok(serde_json::json!({
        "stored": true,
        "duplicate": ingested.duplicate,
        "message_id": ingested.message_id,
        "conversation_id": ingested.conversation_id,
    }))
}

async fn fetch_media(
    state: &SmsState,
    adapter: &dyn SmsProvider,
    media: &MediaRef,
) -> Result<NewAttachment, String> {
    let mut req = state.http.get(&media.url);
    if let Some(auth) = adapter.media_authorization() {
        req = req.header("Authorization", auth);
    }
    let resp = req.send().await.map_err(|e| e.without_url().to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let content_type = media
        .content_type
        .clone()
        .or_else(|| {
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    if resp
        .content_length()
        .is_some_and(|n| n as usize > MAX_MEDIA_BYTES)
    {
        return Err("larger than 5 MiB".into());
    }
    let data = resp
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if data.len() > MAX_MEDIA_BYTES {
        return Err("larger than 5 MiB".into());
    }
    Ok(NewAttachment {
        filename: media
            .url
            .rsplit('/')
            .next()
            .map(str::to_owned)
            .filter(|s| !s.is_empty()),
        content_type,
        content_id: None,
        data: data.to_vec(),
    })
}

pub(crate) async fn status(
    _state: &SmsState,
    _tenant: TenantId,
    kind: ProviderKind,
    report: StatusReport,
) -> Result<serde_json::Value, Problem> {
    info!(
        provider = kind.as_str(),
        id = report.provider_message_id,
        status = report.status.as_str(),
        "SMS delivery report for an unknown message"
    );
    Ok(serde_json::json!({"stored": false, "status": report.status.as_str()}))
}
