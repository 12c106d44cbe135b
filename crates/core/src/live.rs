//! Live events for open inboxes and widgets. The trait lives here so channel crates and
//! the server can share one bus without depending on its implementation (tokio broadcast
//! now, NATS in the scale-out deployment).

use crate::{ConversationId, MessageId, TenantId};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A message was stored (inbound or outbound). `seq` is its outbox sequence.
    Message {
        seq: i64,
        conversation_id: ConversationId,
        message_id: MessageId,
        direction: crate::Direction,
        channel: crate::Channel,
    },
    /// An outbound message changed delivery status.
    Status {
        seq: i64,
        conversation_id: ConversationId,
        message_id: MessageId,
        status: crate::DeliveryStatus,
    },
    /// Assignment, status or labels of a conversation changed.
    Conversation {
        seq: i64,
        conversation_id: ConversationId,
    },
}

/// Publish/subscribe per tenant. Subscribers that fall behind lose events and must
/// re-read from the store (the events only say *what* changed, the store says how).
pub trait LiveBus: Send + Sync + 'static {
    fn publish(&self, tenant: TenantId, event: LiveEvent);
    fn subscribe(&self, tenant: TenantId) -> Box<dyn LiveSubscription>;
}

/// A subscription to one tenant's events.
pub trait LiveSubscription: Send {
    /// The next event; `None` when the bus is gone. A subscriber that fell behind the
    /// bus's buffer is not told so: it continues with the oldest events still buffered.
    fn recv(&mut self) -> Pin<Box<dyn Future<Output = Option<LiveEvent>> + Send + '_>>;
}
