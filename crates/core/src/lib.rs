//! Domain model of loket. Pure types and rules only: this crate performs no I/O,
//! so every adapter (store, channels, server) can depend on it and it on none of them.

pub mod audit;
pub mod hash;
pub mod ids;
pub mod live;
pub mod message;
pub mod principal;
pub mod tenant;
pub mod thread;
pub mod tone;
pub mod woo;

pub use audit::{AuditAction, AuditEvent, AuditSubject, ChainFault, GENESIS_HASH, check_chain};
pub use hash::sha256_hex;
pub use ids::{
    AttachmentId, AuditEventId, ContactId, ConversationId, LegalHoldId, MessageId, TenantId,
    WooCaseId,
};
pub use live::{LiveBus, LiveEvent, LiveSubscription};
pub use message::{
    Address, Attachment, Channel, Contact, Conversation, ConversationHint, ConversationStatus,
    DeliveryStatus, Direction, Inbound, Message, MessageFlag, NewAttachment, Outbound,
    UnknownValue, conversation_token,
};
pub use principal::{Actor, Principal, Role};
pub use tenant::{Tenant, is_valid_slug};

/// Timestamps are UTC with microsecond precision on both backends.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Truncates a timestamp to microseconds, the precision both databases keep, so a value
/// read back equals the value written.
pub fn to_micros(t: Timestamp) -> Timestamp {
    use chrono::{SubsecRound, Timelike};
    let t = t.trunc_subsecs(6);
    debug_assert!(t.nanosecond().is_multiple_of(1000));
    t
}

/// The current time at the precision the store keeps.
pub fn now() -> Timestamp {
    to_micros(chrono::Utc::now())
}
