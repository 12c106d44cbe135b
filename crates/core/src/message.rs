//! Messages as channel adapters hand them to the store, and as the store gives them back.

use crate::{AttachmentId, ContactId, ConversationId, MessageId, TenantId, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The way a message reached (or leaves) the municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Webchat,
    Email,
    Sms,
    /// Imported later from a WhatsApp export; kept here so old archives parse.
    WhatsappImport,
    SmsImport,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Webchat,
        Channel::Email,
        Channel::Sms,
        Channel::WhatsappImport,
        Channel::SmsImport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webchat => "webchat",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::WhatsappImport => "whatsapp_import",
            Channel::SmsImport => "sms_import",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

impl FromStr for Channel {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue {
                kind: "channel",
                value: s.to_owned(),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

impl FromStr for Direction {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inbound" => Ok(Direction::Inbound),
            "outbound" => Ok(Direction::Outbound),
            _ => Err(UnknownValue {
                kind: "direction",
                value: s.to_owned(),
            }),
        }
    }
}

/// A sender or recipient as the channel knows it: an email address, an E.164 phone
/// number, or a chat session id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Address {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Address {
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            name: None,
        }
    }

    pub fn named(address: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            name: Some(name.into()),
        }
    }
}

/// Facts about a message that clerks and consumers must see. Stored as strings so new
/// flags never need a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageFlag {
    /// The original could not be parsed fully; see `parse_warnings`.
    ParseWarning,
    /// Out-of-office or other automatic reply: archived, never auto-answered.
    AutoReply,
    /// Bounce or delivery status notification.
    Bounce,
    /// The idempotency key was seen before with different bytes.
    KeyConflict,
    /// Sent to a mailing list / bulk precedence.
    Bulk,
    /// Internal note by a clerk: part of the record, never sent to the citizen.
    InternalNote,
}

impl MessageFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageFlag::ParseWarning => "parse_warning",
            MessageFlag::AutoReply => "auto_reply",
            MessageFlag::Bounce => "bounce",
            MessageFlag::KeyConflict => "key_conflict",
            MessageFlag::Bulk => "bulk",
            MessageFlag::InternalNote => "internal_note",
        }
    }
}

/// Delivery state of an outbound message. Each change is an appended event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    /// Temporary failure; the sender retries with backoff.
    Retrying,
    /// Permanent failure, visible on the message.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            DeliveryStatus::Queued,
            DeliveryStatus::Sending,
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read,
            DeliveryStatus::Retrying,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
        .ok_or_else(|| UnknownValue {
            kind: "delivery status",
            value: s.to_owned(),
        })
    }
}

/// How the store should find the conversation for an inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ConversationHint {
    /// The adapter already knows it (webchat session, resolved email thread).
    Conversation(ConversationId),
    /// Email threading: Message-IDs from In-Reply-To/References (most specific last),
    /// then a conversation token from the subject or plus-address. Falls back to a new
    /// conversation: a new email without thread marks is a new topic.
    Thread {
        references: Vec<String>,
        token: Option<String>,
    },
    /// Join the contact's most recent open conversation on this channel, else start one
    /// (SMS, chat without a session conversation).
    #[default]
    LatestOpenOfContact,
    /// Always start a new conversation.
    New,
}

/// An attachment as a channel adapter hands it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAttachment {
    pub filename: Option<String>,
    pub content_type: String,
    /// Inline parts (e.g. images referenced by `cid:`) carry their Content-ID.
    pub content_id: Option<String>,
    pub data: Vec<u8>,
}

/// An attachment as stored: content-addressed by SHA-256 within the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub message_id: MessageId,
    pub filename: Option<String>,
    pub content_type: String,
    pub content_id: Option<String>,
    pub sha256: String,
    pub size: i64,
}

/// One inbound message exactly as a channel adapter hands it to `store::ingest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub channel: Channel,
    /// Dedup key: the provider's or client's message id for webhooks and
    /// chat. `None` means "key on the SHA-256 of `raw`" (email).
    pub idempotency_key: Option<String>,
    /// The provider's own id, kept for reference even when it is not the key.
    pub provider_message_id: Option<String>,
    /// RFC 5322 Message-ID (email): a threading hint, never a dedup key.
    pub rfc_message_id: Option<String>,
    pub from: Address,
    pub to: Vec<Address>,
    pub subject: Option<String>,
    /// Readable text: what the clerk reads and the index searches.
    pub text: String,
    /// Sanitised HTML for display, when the original had HTML.
    pub html: Option<String>,
    /// When the sender says it was sent (Date header, provider timestamp).
    pub sent_at: Option<Timestamp>,
    /// When loket received it; `None` means now.
    pub received_at: Option<Timestamp>,
    /// The byte-exact original (MIME, provider payload, chat event).
    pub raw: Vec<u8>,
    /// Media type of `raw`: `message/rfc822`, `application/json`, …
    pub raw_content_type: String,
    pub attachments: Vec<NewAttachment>,
    pub flags: Vec<MessageFlag>,
    pub parse_warnings: Vec<String>,
    pub conversation: ConversationHint,
}

impl Inbound {
    /// A minimal inbound message with `raw` as its original; adapters fill in the rest.
    pub fn new(channel: Channel, from: Address, text: impl Into<String>, raw: Vec<u8>) -> Self {
        Self {
            channel,
            idempotency_key: None,
            provider_message_id: None,
            rfc_message_id: None,
            from,
            to: Vec::new(),
            subject: None,
            text: text.into(),
            html: None,
            sent_at: None,
            received_at: None,
            raw,
            raw_content_type: "application/octet-stream".into(),
            attachments: Vec::new(),
            flags: Vec::new(),
            parse_warnings: Vec::new(),
            conversation: ConversationHint::default(),
        }
    }

    /// The key this message is deduplicated on: the adapter's key, or for email the
    /// SHA-256 of the raw bytes.
    pub fn effective_idempotency_key(&self) -> String {
        match &self.idempotency_key {
            Some(k) => k.clone(),
            None => format!("sha256:{}", crate::sha256_hex(&self.raw)),
        }
    }
}

/// A reply by a clerk (or system), stored `queued` before any channel sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbound {
    /// `None`: the channel of the conversation's last inbound message.
    pub channel: Option<Channel>,
    /// Send to this address instead of the contact's address on that channel.
    pub to: Option<Address>,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<NewAttachment>,
    /// Internal notes are stored like messages but never handed to a channel.
    pub internal_note: bool,
    /// Client-chosen key: a retried reply request yields the same message.
    pub idempotency_key: Option<String>,
}

impl Outbound {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            channel: None,
            to: None,
            subject: None,
            text: text.into(),
            html: None,
            attachments: Vec::new(),
            internal_note: false,
            idempotency_key: None,
        }
    }
}

/// A stored message as consumers and the API see it (without the raw bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub conversation_id: ConversationId,
    pub contact_id: ContactId,
    pub direction: Direction,
    pub channel: Channel,
    pub idempotency_key: String,
    pub provider_message_id: Option<String>,
    pub rfc_message_id: Option<String>,
    pub from: Address,
    pub to: Vec<Address>,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub received_at: Timestamp,
    pub raw_sha256: String,
    pub raw_size: i64,
    pub raw_content_type: String,
    pub flags: Vec<MessageFlag>,
    pub parse_warnings: Vec<String>,
    /// Who wrote an outbound message: `user:<id>` or `token:<id>`; `None` for inbound.
    pub author: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Latest delivery status (outbound), derived from the appended events.
    pub status: Option<DeliveryStatus>,
}

impl Message {
    pub fn has_flag(&self, flag: MessageFlag) -> bool {
        self.flags.contains(&flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_round_trips() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        assert!("fax".parse::<Channel>().is_err());
    }

    #[test]
    fn email_key_is_hash_of_raw() {
        let a = Inbound::new(Channel::Email, Address::new("a@b"), "x", b"abc".to_vec());
        assert_eq!(
            a.effective_idempotency_key(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut b = a.clone();
        b.idempotency_key = Some("provider-1".into());
        assert_eq!(b.effective_idempotency_key(), "provider-1");
    }
}

/// Where a conversation stands in the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Open,
    /// Waiting for the citizen.
    Waiting,
    Closed,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Waiting => "waiting",
            ConversationStatus::Closed => "closed",
        }
    }
}

impl FromStr for ConversationStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "waiting" => Ok(Self::Waiting),
            "closed" => Ok(Self::Closed),
            _ => Err(UnknownValue {
                kind: "conversation status",
                value: s.to_owned(),
            }),
        }
    }
}

/// A citizen as known by one channel address. Contacts are per tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub address: String,
    pub name: Option<String>,
    pub created_at: Timestamp,
}

/// An ordered thread of messages with one contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub tenant_id: TenantId,
    pub contact_id: ContactId,
    pub channel: Channel,
    /// Short code for subjects (`[#K7Q2]`) and plus-addresses (`info+K7Q2@`).
    pub token: String,
    pub subject: Option<String>,
    pub created_at: Timestamp,
    pub last_message_at: Timestamp,
    pub status: ConversationStatus,
}

/// Alphabet of conversation tokens: no 0/O/1/I/L, so a token survives being read aloud.
pub const TOKEN_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Derives a conversation token from an id: 6 characters from the id's random bits.
pub fn conversation_token(id: ConversationId) -> String {
    let bytes = id.0.as_bytes();
    // The last 8 bytes of a UUIDv7 are random; use them so tokens do not share prefixes.
    let mut n = u64::from_be_bytes([
        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15],
    ]);
    let base = TOKEN_ALPHABET.len() as u64;
    (0..6)
        .map(|_| {
            let c = TOKEN_ALPHABET[(n % base) as usize] as char;
            n /= base;
            c
        })
        .collect()
}
