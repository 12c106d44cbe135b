//! Transport-independent chat operations shared by the socket and the fallback routes.

use crate::config::{TenantChatConfig, TenantChatOverride, WebchatConfig};
use crate::presence::{self, ClerkPresence};
use crate::protocol::{self, ChatMessage, Limits, MessageEvent, ProblemCode, Refusal, ServerFrame};
use crate::ratelimit::{Buckets, ConnectionCounter, ConnectionSlot, PrefixHasher, PrefixKey};
use crate::router::Router;
use loket_core::{
    Address, Channel, ConversationHint, ConversationId, DeliveryStatus, Direction, Inbound,
    LiveBus, MessageId, NewAttachment, Tenant, TenantId,
};
use loket_store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A chat session as the server knows it: only the contact address derived from the
/// secret (`session:<sha256 hex of the secret>`). The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId {
    address: String,
}

impl SessionId {
    pub fn from_secret(secret: &str) -> Result<Self, Refusal> {
        if !protocol::valid_session_secret(secret) {
            return Err(Refusal::new(
                ProblemCode::BadSession,
                "the session secret must be 32-128 characters of base64url",
            ));
        }
        let digest = Sha256::digest(secret.as_bytes());
        Ok(Self {
            address: format!("session:{}", hex::encode(digest)),
        })
    }

    /// The contact address of this session in the archive.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// Everything the web chat routes share. Cheap to clone.
#[derive(Clone)]
pub struct WebchatState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    cfg: WebchatConfig,
    presence: ClerkPresence,
    hasher: PrefixHasher,
    session_rate: Buckets<String>,
    prefix_rate: Buckets<PrefixKey>,
    connections: Arc<ConnectionCounter>,
    router: Router,
    tenants: Mutex<HashMap<String, (Tenant, Instant)>>,
    /// Per-tenant overrides from the database, with the time they were read.
    db_overrides: Mutex<Option<(Instant, Overrides)>>,
}

/// Per-tenant overrides read from the database.
type Overrides = Arc<HashMap<TenantId, TenantChatOverride>>;

/// How long a tenant looked up by slug (and the tenants' settings) is cached.
const TENANT_CACHE: Duration = Duration::from_secs(30);

impl WebchatState {
    /// `presence` is the counter the clerk inbox bumps while a clerk has it open; the
    /// caller passes the same handle to the inbox, so the "nobody online" rule sees
    /// every open inbox (there is no lookup that could come back empty).
    pub fn new(
        store: Store,
        bus: Arc<dyn LiveBus>,
        cfg: WebchatConfig,
        presence: ClerkPresence,
    ) -> Self {
        let rate = cfg.rate.clone();
        Self {
            inner: Arc::new(Inner {
                store,
                presence,
                hasher: PrefixHasher::new(),
                session_rate: Buckets::new(rate.session_per_minute, rate.session_burst),
                prefix_rate: Buckets::new(rate.prefix_per_minute, rate.prefix_burst),
                connections: Arc::new(ConnectionCounter::new(rate.prefix_max_connections)),
                router: Router::new(bus),
                tenants: Mutex::new(HashMap::new()),
                db_overrides: Mutex::new(None),
                cfg,
            }),
        }
    }

    /// The per-tenant clerk counter the inbox bumps while a clerk has it open.
    pub fn presence(&self) -> ClerkPresence {
        self.inner.presence.clone()
    }

    pub fn config(&self) -> &WebchatConfig {
        &self.inner.cfg
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn router(&self) -> &Router {
        &self.inner.router
    }

    pub(crate) fn prefix_key(&self, addr: Option<IpAddr>) -> PrefixKey {
        self.inner.hasher.key_of(addr)
    }

    pub(crate) fn enter_connection(&self, key: PrefixKey) -> Option<ConnectionSlot> {
        self.inner.connections.enter(key)
    }

    /// The tenant for a slug from the widget tag; `unknown_tenant` when there is none.
    pub(crate) async fn tenant(&self, slug: Option<&str>) -> Result<Tenant, Refusal> {
        let unknown = || Refusal::new(ProblemCode::UnknownTenant, "no such tenant");
        let slug = slug.ok_or_else(unknown)?;
        if !loket_core::is_valid_slug(slug) {
            return Err(unknown());
        }
        {
            let cache = self
                .inner
                .tenants
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((t, at)) = cache.get(slug)
                && at.elapsed() < TENANT_CACHE
            {
                return Ok(t.clone());
            }
        }
        let t = self
            .inner
            .store
            .tenant_by_slug(slug)
            .await
            .map_err(unavailable)?
            .ok_or_else(unknown)?;
        let mut cache = self
            .inner
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(slug.to_owned(), (t.clone(), Instant::now()));
        Ok(t)
    }

    /// The tenant's effective chat settings: config defaults, the config file's
    /// override for its slug, then its `webchat` channel settings from the database.
    pub(crate) async fn tenant_config(&self, tenant: &Tenant) -> TenantChatConfig {
        let mut cfg = self.inner.cfg.tenant(&tenant.slug);
        if let Some(o) = self.db_overrides().await.get(&tenant.id) {
            o.apply_to(&mut cfg);
        }
        cfg
    }

    async fn db_overrides(&self) -> Overrides {
        {
            let cached = self
                .inner
                .db_overrides
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((at, map)) = cached.as_ref()
                && at.elapsed() < TENANT_CACHE
            {
                return map.clone();
            }
        }
        let map = match self.inner.store.channel_settings(Channel::Webchat).await {
            Ok(rows) => {
                let mut per: HashMap<TenantId, Vec<(String, serde_json::Value)>> = HashMap::new();
                for (t, k, v) in rows {
                    per.entry(t).or_default().push((k, v));
                }
                per.into_iter()
                    .map(|(t, kv)| {
                        let o = TenantChatOverride::from_settings(
                            kv.iter().map(|(k, v)| (k.as_str(), v)),
                        );
                        (t, o)
                    })
                    .collect()
            }
            Err(e) => {
                tracing::warn!(error = %e, "webchat: cannot read tenant settings");
                HashMap::new()
            }
        };
        let map = Arc::new(map);
        *self
            .inner
            .db_overrides
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), map.clone()));
        map
    }

    pub(crate) fn online(&self, tenant: &Tenant, tcfg: &TenantChatConfig) -> bool {
        presence::is_online(
            tcfg,
            self.inner.presence.count(tenant.id),
            chrono::Utc::now(),
        )
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_text_chars: self.inner.cfg.max_text_chars,
            max_attachment_bytes: self.inner.cfg.max_attachment_bytes,
            attachment_types: ["application/pdf", "image/jpeg", "image/png"],
        }
    }

    /// The session's current conversation and its messages as the widget shows them.
    pub(crate) async fn history(
        &self,
        tenant: &Tenant,
        session: &SessionId,
    ) -> Result<(Option<ConversationId>, Vec<(MessageId, ChatMessage)>), Refusal> {
        let store = &self.inner.store;
        let conv = store
            .conversation_for_contact(tenant.id, Channel::Webchat, session.address())
            .await
            .map_err(unavailable)?;
        let Some(conv) = conv else {
            return Ok((None, Vec::new()));
        };
        let messages = store
            .conversation_messages(tenant.id, conv.id)
            .await
            .map_err(unavailable)?;
        let shown = messages
            .iter()
            .filter_map(|m| protocol::chat_message(m).map(|c| (m.id, c)))
            .collect();
        Ok((Some(conv.id), shown))
    }

    pub(crate) async fn welcome(
        &self,
        tenant: &Tenant,
        session: &SessionId,
        online: bool,
    ) -> Result<(ServerFrame, Option<ConversationId>, Vec<MessageId>), Refusal> {
        let (conv, messages) = self.history(tenant, session).await?;
        let ids = messages.iter().map(|(id, _)| *id).collect();
        let frame = ServerFrame::Welcome {
            conversation_id: conv.map(|c| c.to_string()),
            online,
            messages: messages.into_iter().map(|(_, m)| m).collect(),
            limits: self.limits(),
        };
        Ok((frame, conv, ids))
    }

    fn check_rate(&self, session: &SessionId, prefix: PrefixKey) -> Result<(), Refusal> {
        let limited = |wait: Duration| {
            let mut r = Refusal::new(
                ProblemCode::RateLimited,
                "too many messages; wait a moment before sending again",
            );
            r.retry_after = Some(wait);
            r
        };
        self.inner
            .session_rate
            .take(&session.address)
            .map_err(limited)?;
        if let Err(wait) = self.inner.prefix_rate.take(&prefix) {
            self.inner.session_rate.refund(&session.address);
            return Err(limited(wait));
        }
        Ok(())
    }

    /// Validates, rate-limits and durably stores one citizen message. `raw` is the exact
    /// frame or request body the event was parsed from; it becomes the original.
    pub(crate) async fn accept_message(
        &self,
        tenant: &Tenant,
        session: &SessionId,
        prefix: PrefixKey,
        raw: &[u8],
        event: &MessageEvent,
    ) -> Result<ServerFrame, Refusal> {
        let id = Some(event.id.as_str());
        if !protocol::valid_client_id(&event.id) {
            return Err(Refusal::new(
                ProblemCode::BadId,
                "the message id must be 1-64 characters of A-Z, a-z, 0-9, - and _",
            ));
        }
        if event.text.trim().is_empty() {
            return Err(Refusal::new(ProblemCode::Empty, "the message is empty").with_id(id));
        }
        let chars = event.text.chars().count();
        let max = self.inner.cfg.max_text_chars;
        if chars > max {
            return Err(Refusal::new(
                ProblemCode::TooLong,
                format!("the message has {chars} characters; at most {max} are allowed"),
            )
            .with_id(id));
        }
        let reply_to = match event.reply_to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) if protocol::valid_reply_to(r) => Some(r.to_owned()),
            Some(_) => {
                return Err(Refusal::new(
                    ProblemCode::BadReplyTo,
                    "give an email address or a phone number, or leave the field empty",
                )
                .with_id(id));
            }
        };
        self.check_rate(session, prefix)
            .map_err(|r| r.with_id(id))?;

        let mut text = event.text.clone();
        if let Some(r) = &reply_to {
            // The reply address is part of the original (raw) and, so the clerk sees it in
            // the inbox and the index finds it, of the readable text as well.
            text.push_str("\n\n— Antwoord graag ook via / Please also reply via: ");
            text.push_str(r);
        }
        let mut inbound = Inbound::new(
            Channel::Webchat,
            Address::new(session.address()),
            text,
            raw.to_vec(),
        );
        inbound.idempotency_key = Some(protocol::idempotency_key(session.address(), &event.id));
        inbound.provider_message_id = Some(event.id.clone());
        inbound.raw_content_type = "application/json".into();
        inbound.conversation = ConversationHint::LatestOpenOfContact;
        let stored = self
            .inner
            .store
            .ingest(tenant.id, inbound)
            .await
            .map_err(|e| unavailable(e).with_id(id))?;
        Ok(ServerFrame::Stored {
            id: event.id.clone(),
            message_id: stored.message_id.to_string(),
            conversation_id: stored.conversation_id.to_string(),
            duplicate: stored.duplicate,
        })
    }

    /// Stores an attachment sent by the citizen as a message of its own.
    pub(crate) async fn accept_attachment(
        &self,
        tenant: &Tenant,
        session: &SessionId,
        prefix: PrefixKey,
        client_id: &str,
        filename: Option<&str>,
        data: Vec<u8>,
    ) -> Result<ServerFrame, Refusal> {
        let id = Some(client_id);
        if !protocol::valid_client_id(client_id) {
            return Err(Refusal::new(
                ProblemCode::BadId,
                "the message id must be 1-64 characters of A-Z, a-z, 0-9, - and _",
            ));
        }
        if data.is_empty() {
            return Err(Refusal::new(ProblemCode::Empty, "the file is empty").with_id(id));
        }
        let max = self.inner.cfg.max_attachment_bytes;
        if data.len() > max {
            return Err(too_large(max).with_id(id));
        }
        let Some(content_type) = protocol::sniff_attachment_type(&data) else {
            return Err(Refusal::new(
                ProblemCode::UnsupportedType,
                "only PDF, JPEG and PNG files can be sent (checked from the content)",
            )
            .with_id(id));
        };
        self.check_rate(session, prefix)
            .map_err(|r| r.with_id(id))?;
        let filename = filename.map(clean_filename).filter(|f| !f.is_empty());
        let text = filename.clone().unwrap_or_else(|| "bijlage".to_owned());
        let mut inbound = Inbound::new(
            Channel::Webchat,
            Address::new(session.address()),
            text,
            data.clone(),
        );
        inbound.idempotency_key = Some(protocol::idempotency_key(session.address(), client_id));
        inbound.provider_message_id = Some(client_id.to_owned());
        inbound.raw_content_type = content_type.to_owned();
        inbound.conversation = ConversationHint::LatestOpenOfContact;
        inbound.attachments.push(NewAttachment {
            filename,
            content_type: content_type.to_owned(),
            content_id: None,
            data,
        });
        let stored = self
            .inner
            .store
            .ingest(tenant.id, inbound)
            .await
            .map_err(|e| unavailable(e).with_id(id))?;
        Ok(ServerFrame::Stored {
            id: client_id.to_owned(),
            message_id: stored.message_id.to_string(),
            conversation_id: stored.conversation_id.to_string(),
            duplicate: stored.duplicate,
        })
    }

    /// The widget has shown these outbound messages: mark them delivered (once).
    pub(crate) async fn received(
        &self,
        tenant: &Tenant,
        session: &SessionId,
        ids: &[String],
    ) -> Result<usize, Refusal> {
        if ids.len() > 500 {
            return Err(Refusal::new(
                ProblemCode::BadFrame,
                "at most 500 ids at once",
            ));
        }
        let store = &self.inner.store;
        let conv = store
            .conversation_for_contact(tenant.id, Channel::Webchat, session.address())
            .await
            .map_err(unavailable)?;
        let mut marked = 0;
        for id in ids {
            let Ok(mid) = id.parse::<MessageId>() else {
                return Err(Refusal::new(
                    ProblemCode::UnknownMessage,
                    "not a message id",
                ));
            };
            let msg = store.message(tenant.id, mid).await.map_err(unavailable)?;
            // A message of another conversation is treated as unknown: the session must
            // not learn that it exists.
            let Some(msg) = msg.filter(|m| {
                m.direction == Direction::Outbound
                    && conv.as_ref().is_some_and(|c| c.id == m.conversation_id)
            }) else {
                return Err(Refusal::new(ProblemCode::UnknownMessage, "no such message"));
            };
            if matches!(
                msg.status,
                Some(DeliveryStatus::Delivered | DeliveryStatus::Read)
            ) {
                continue;
            }
            store
                .append_message_status(tenant.id, mid, DeliveryStatus::Delivered, None, None)
                .await
                .map_err(unavailable)?;
            marked += 1;
        }
        Ok(marked)
    }

    /// One message for the widget, if it belongs to `conv` and the citizen may see it.
    pub(crate) async fn shown_message(
        &self,
        tenant: &Tenant,
        conv: ConversationId,
        id: MessageId,
    ) -> Result<Option<ChatMessage>, Refusal> {
        let msg = self
            .inner
            .store
            .message(tenant.id, id)
            .await
            .map_err(unavailable)?;
        Ok(msg
            .filter(|m| m.conversation_id == conv)
            .and_then(|m| protocol::chat_message(&m)))
    }
}

pub(crate) fn unavailable(e: StoreError) -> Refusal {
    // The error text may contain database details; log it, tell the client only that
    // it should retry.
    tracing::warn!(error = %e, "webchat: store call failed");
    Refusal::new(
        ProblemCode::Unavailable,
        "the message could not be stored right now; it will be retried",
    )
}

pub(crate) fn too_large(max: usize) -> Refusal {
    Refusal::new(
        ProblemCode::TooLarge,
        format!("the file is larger than the limit of {max} bytes"),
    )
}

/// The last path component of a file name, without control characters, at most 200
/// characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn session_address_is_a_hash_of_the_secret() {
        let secret = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let s = SessionId::from_secret(secret).unwrap();
        assert!(s.address().starts_with("session:"));
        assert_eq!(s.address().len(), "session:".len() + 64);
        assert!(!s.address().contains(secret));
        assert!(SessionId::from_secret("x").is_err());
    }

    #[test]
    fn filenames_are_cleaned() {
        assert_eq!(
            clean_filename("C:\\Users\\jan\\paspoort.pdf"),
            "paspoort.pdf"
        );
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\u{0}b.png"), "ab.png");
    }
}
