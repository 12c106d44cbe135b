//! From raw bytes to committed messages: the tenant directory (who owns which address),
//! and the call to `Store::ingest` (which threads the message). Shared by SMTP and IMAP.

use crate::error::MailError;
use crate::parse::{Envelope, parse_email};
use crate::thread;
use loket_core::{Channel, TenantId};
use loket_store::{Ingested, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// Settings keys of the email channel (`Store::set_channel_setting(tenant, Channel::Email, key, value)`).
pub mod keys {
    /// `["info@gemeente.example", …]`: the tenant's own addresses (plus-tags allowed).
    pub const ADDRESSES: &str = "addresses";
    /// `["gemeente.example", …]`: every address on these domains is the tenant's.
    pub const DOMAINS: &str = "domains";
    /// `[{"host": …, "port": 993, …}, …]`: see [`crate::imap::ImapMailbox`].
    pub const IMAP_MAILBOXES: &str = "imap_mailboxes";
    /// `{"from": "info@gemeente.example", "name": "Gemeente Voorbeeld"}`.
    pub const OUTBOUND: &str = "outbound";
}

/// Per-tenant outbound settings (key `outbound`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundSettings {
    /// From address of replies; default: the first of `addresses`.
    pub from: Option<String>,
    /// Display name in From.
    pub name: Option<String>,
    /// Domain of outbound Message-IDs; default: the From address's domain.
    pub message_id_domain: Option<String>,
}

/// One tenant's email settings.
#[derive(Debug, Clone, Default)]
pub struct TenantMail {
    pub addresses: Vec<String>,
    pub domains: Vec<String>,
    pub outbound: OutboundSettings,
    pub imap_mailboxes: Vec<serde_json::Value>,
}

impl TenantMail {
    /// The address replies are sent from.
    pub fn from_address(&self) -> Option<String> {
        self.outbound
            .from
            .clone()
            .or_else(|| self.addresses.first().cloned())
            .or_else(|| self.domains.first().map(|d| format!("info@{d}")))
    }

    /// `true` for the tenant's own addresses and domains: never a reply target.
    pub fn is_own(&self, address: &str) -> bool {
        let base = thread::base_address(address);
        if self
            .addresses
            .iter()
            .any(|a| thread::base_address(a) == base)
        {
            return true;
        }
        if let Some(from) = &self.outbound.from
            && thread::base_address(from) == base
        {
            return true;
        }
        thread::domain_of(address)
            .is_some_and(|d| self.domains.iter().any(|x| x.eq_ignore_ascii_case(&d)))
    }
}

#[derive(Default)]
struct DirState {
    addresses: HashMap<String, TenantId>,
    domains: HashMap<String, TenantId>,
    tenants: HashMap<TenantId, TenantMail>,
    loaded: Option<Instant>,
}

/// Which tenant owns which address, from the channel settings in the database. Reloaded
/// every few seconds, and at once (rate-limited) when a recipient is not found.
#[derive(Default)]
pub struct Directory {
    state: RwLock<DirState>,
}

const MAX_AGE: Duration = Duration::from_secs(5);
const MISS_RELOAD: Duration = Duration::from_millis(200);

impl Directory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the settings now.
    pub async fn reload(&self, store: &Store) -> Result<(), MailError> {
        let rows = store
            .channel_settings(Channel::Email)
            .await
            .map_err(MailError::store)?;
        let mut tenants: HashMap<TenantId, TenantMail> = HashMap::new();
        for (tenant, key, value) in rows {
            let t = tenants.entry(tenant).or_default();
            match key.as_str() {
                keys::ADDRESSES => t.addresses = strings(&value),
                keys::DOMAINS => t.domains = strings(&value),
                keys::OUTBOUND => {
                    t.outbound = serde_json::from_value(value).unwrap_or_default();
                }
                keys::IMAP_MAILBOXES => {
                    t.imap_mailboxes = value.as_array().cloned().unwrap_or_default();
                }
                _ => {}
            }
        }
        let mut addresses = HashMap::new();
        let mut domains = HashMap::new();
        for (id, t) in &tenants {
            for a in &t.addresses {
                addresses.insert(thread::base_address(a), *id);
            }
            for d in &t.domains {
                domains.insert(d.trim().to_lowercase(), *id);
            }
        }
        let mut st = self.state.write().await;
        *st = DirState {
            addresses,
            domains,
            tenants,
            loaded: Some(Instant::now()),
        };
        Ok(())
    }

    async fn lookup(&self, address: &str) -> (Option<TenantId>, Option<Instant>) {
        let st = self.state.read().await;
        let base = thread::base_address(address);
        let t = st
            .addresses
            .get(&base)
            .copied()
            .or_else(|| thread::domain_of(address).and_then(|d| st.domains.get(&d).copied()));
        (t, st.loaded)
    }

    /// The tenant a recipient address belongs to, if any.
    pub async fn tenant_for(
        &self,
        store: &Store,
        address: &str,
    ) -> Result<Option<TenantId>, MailError> {
        let (found, loaded) = self.lookup(address).await;
        let age = loaded.map(|l| l.elapsed());
        let stale = age.is_none_or(|a| a > MAX_AGE);
        let retry_miss = found.is_none() && age.is_none_or(|a| a > MISS_RELOAD);
        if stale || retry_miss {
            self.reload(store).await?;
            return Ok(self.lookup(address).await.0);
        }
        Ok(found)
    }

    /// One tenant's settings (reloading when stale).
    pub async fn tenant(&self, store: &Store, tenant: TenantId) -> Result<TenantMail, MailError> {
        let stale = {
            let st = self.state.read().await;
            st.loaded.is_none_or(|l| l.elapsed() > MAX_AGE)
        };
        if stale {
            self.reload(store).await?;
        }
        Ok(self
            .state
            .read()
            .await
            .tenants
            .get(&tenant)
            .cloned()
            .unwrap_or_default())
    }

    /// All tenants' settings as last loaded.
    pub async fn all(&self) -> Vec<(TenantId, TenantMail)> {
        let st = self.state.read().await;
        st.tenants.iter().map(|(k, v)| (*k, v.clone())).collect()
    }
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(|s| s.trim().to_owned()))
            .filter(|s| !s.is_empty())
            .collect(),
        serde_json::Value::String(s) => vec![s.trim().to_owned()],
        _ => Vec::new(),
    }
}

/// Parses `raw` (off the async threads) and ingests one copy per tenant. Returns after
/// every copy is committed.
pub async fn deliver(
    store: &Store,
    _directory: &Directory,
    raw: Vec<u8>,
    envelope: Envelope,
    tenants: &[TenantId],
) -> Result<Vec<Ingested>, MailError> {
    let parsed = tokio::task::spawn_blocking(move || parse_email(raw, &envelope))
        .await
        .map_err(|e| MailError::Store(format!("parser task failed: {e}")))?;
    let mut out = Vec::with_capacity(tenants.len());
    // The store threads each copy by the one threading rule (`loket_core::thread`), from
    // the marks the parser put in the conversation hint.
    for tenant in tenants {
        out.push(
            store
                .ingest(*tenant, parsed.inbound.clone())
                .await
                .map_err(MailError::store)?,
        );
    }
    Ok(out)
}
