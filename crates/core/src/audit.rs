//! The tamper-evident audit trail: one hash chain per tenant.
//!
//! Each event's hash covers its own fields and the previous event's hash, so changing,
//! inserting or removing an event breaks every hash after it. Removing the *tail* is
//! caught by the checkpoint the store keeps outside the chain (see `store::audit`).

use crate::{AuditEventId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev_hash` of a tenant's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    TenantCreated,
    TokenCreated,
    TokenRevoked,
    UserCreated,
    LoginSucceeded,
    LoginFailed,
    MessageIngested,
    MessageImported,
    ReplyQueued,
    NoteAdded,
    MessageStatusChanged,
    ConversationViewed,
    ConversationChanged,
    /// A clerk named a contact.
    ContactChanged,
    AttachmentDownloaded,
    Searched,
    Exported,
    WooCaseChanged,
    LegalHoldChanged,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::TenantCreated => "tenant_created",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::UserCreated => "user_created",
            AuditAction::LoginSucceeded => "login_succeeded",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::MessageIngested => "message_ingested",
            AuditAction::MessageImported => "message_imported",
            AuditAction::ReplyQueued => "reply_queued",
            AuditAction::NoteAdded => "note_added",
            AuditAction::MessageStatusChanged => "message_status_changed",
            AuditAction::ConversationViewed => "conversation_viewed",
            AuditAction::ConversationChanged => "conversation_changed",
            AuditAction::ContactChanged => "contact_changed",
            AuditAction::AttachmentDownloaded => "attachment_downloaded",
            AuditAction::Searched => "searched",
            AuditAction::Exported => "exported",
            AuditAction::WooCaseChanged => "woo_case_changed",
            AuditAction::LegalHoldChanged => "legal_hold_changed",
        }
    }

    /// Reads by a person; list views are not reads.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            AuditAction::ConversationViewed
                | AuditAction::AttachmentDownloaded
                | AuditAction::Searched
                | AuditAction::Exported
        )
    }
}

/// The thing an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSubject {
    pub kind: String,
    pub id: String,
}

impl AuditSubject {
    pub fn new(kind: &str, id: impl ToString) -> Self {
        Self {
            kind: kind.into(),
            id: id.to_string(),
        }
    }
}

/// One link of the chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub tenant_id: TenantId,
    /// 1, 2, 3, … per tenant, without gaps.
    pub seq: i64,
    pub at: Timestamp,
    /// `Actor::reference()` of who did it.
    pub actor: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    /// Compact JSON with details (the message's SHA-256 for ingest, the query for search).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The hash of an event with these fields. Fields are length-prefixed so no two
    /// different events can produce the same hashed bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn compute_hash(
        id: AuditEventId,
        tenant_id: TenantId,
        seq: i64,
        at: Timestamp,
        actor: &str,
        action: &str,
        subject_kind: &str,
        subject_id: &str,
        detail: &str,
        prev_hash: &str,
    ) -> String {
        let mut h = Sha256::new();
        let at = at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let seq = seq.to_string();
        let id = id.to_string();
        let tenant = tenant_id.to_string();
        for field in [
            id.as_str(),
            tenant.as_str(),
            seq.as_str(),
            at.as_str(),
            actor,
            action,
            subject_kind,
            subject_id,
            detail,
            prev_hash,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }

    pub fn expected_hash(&self) -> String {
        Self::compute_hash(
            self.id,
            self.tenant_id,
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.subject_kind,
            &self.subject_id,
            &self.detail,
            &self.prev_hash,
        )
    }
}

/// A break found while walking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// The stored hash does not match the event's fields.
    HashMismatch { seq: i64, id: AuditEventId },
    /// `prev_hash` does not match the previous event's hash (event inserted or removed).
    BrokenLink { seq: i64, id: AuditEventId },
    /// Sequence numbers are not 1, 2, 3, …
    Gap { expected: i64, found: i64 },
}

/// Walks events in `seq` order and reports every fault. Pure, so `verify` and tests share it.
pub fn check_chain<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> Vec<ChainFault> {
    let mut faults = Vec::new();
    let mut prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1;
    for e in events {
        if e.seq != expected_seq {
            faults.push(ChainFault::Gap {
                expected: expected_seq,
                found: e.seq,
            });
        }
        if e.prev_hash != prev {
            faults.push(ChainFault::BrokenLink {
                seq: e.seq,
                id: e.id,
            });
        }
        if e.expected_hash() != e.hash {
            faults.push(ChainFault::HashMismatch {
                seq: e.seq,
                id: e.id,
            });
        }
        prev = e.hash.clone();
        expected_seq = e.seq + 1;
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let tenant = TenantId::new();
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let id = AuditEventId::new();
                let at = crate::now();
                let hash = AuditEvent::compute_hash(
                    id,
                    tenant,
                    seq,
                    at,
                    "system:test",
                    "searched",
                    "query",
                    "x",
                    "{}",
                    &prev,
                );
                let e = AuditEvent {
                    id,
                    tenant_id: tenant,
                    seq,
                    at,
                    actor: "system:test".into(),
                    action: "searched".into(),
                    subject_kind: "query".into(),
                    subject_id: "x".into(),
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_has_no_faults() {
        assert!(check_chain(&chain(5)).is_empty());
    }

    #[test]
    fn edited_detail_is_found() {
        let mut c = chain(5);
        c[2].detail = r#"{"q":"other"}"#.into();
        assert_eq!(
            check_chain(&c),
            vec![ChainFault::HashMismatch {
                seq: 3,
                id: c[2].id
            }]
        );
    }

    #[test]
    fn removed_event_is_found() {
        let mut c = chain(5);
        c.remove(1);
        let faults = check_chain(&c);
        assert!(faults.contains(&ChainFault::Gap {
            expected: 2,
            found: 3
        }));
        assert!(matches!(faults[1], ChainFault::BrokenLink { seq: 3, .. }));
    }
}
