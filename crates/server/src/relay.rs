//! The live relay: turns committed outbox rows into `LiveEvent`s on the bus. Live
//! events are ephemeral, so the relay starts at the current head and keeps no cursor;
//! views re-read the store on (re)connect.

use loket_core::{LiveBus, LiveEvent, Message, MessageId, TenantId};
use loket_store::{OutboxEntry, OutboxKind, Store};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;

pub fn spawn(
    store: Store,
    bus: Arc<dyn LiveBus>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut head = store.outbox_watch();
        let mut cursor = *head.borrow_and_update();
        loop {
            cursor = drain_from(&store, bus.as_ref(), cursor).await;
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => return,
                // Writes by other nodes do not wake this watch: look now and then.
                _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {}
            }
        }
    })
}

async fn drain_from(store: &Store, bus: &dyn LiveBus, mut cursor: i64) -> i64 {
    while let Ok(batch) = store.read_outbox(cursor, 500).await {
        let Some(last) = batch.last().map(|e| e.seq) else {
            break;
        };
        // The messages the events name, read once per tenant for the whole batch (one
        // read per message cost three queries each, per message ingested).
        let mut wanted: HashMap<TenantId, Vec<MessageId>> = HashMap::new();
        for e in &batch {
            if let (Some(id), Some(_)) = (e.message_id, e.conversation_id) {
                wanted.entry(e.tenant_id).or_default().push(id);
            }
        }
        let mut messages: HashMap<MessageId, Message> = HashMap::new();
        for (tenant, ids) in wanted {
            if let Ok(found) = store.messages_by_ids(tenant, ids).await {
                messages.extend(found.into_iter().map(|m| (m.id, m)));
            }
        }
        for e in &batch {
            if let Some(event) = event_of(e, &messages) {
                bus.publish(e.tenant_id, event);
            }
        }
        cursor = last;
    }
    cursor
}

fn event_of(e: &OutboxEntry, messages: &HashMap<MessageId, Message>) -> Option<LiveEvent> {
    let conversation_id = e.conversation_id?;
    let message = e.message_id.and_then(|id| messages.get(&id));
    Some(match (e.kind, message) {
        (k, Some(m)) if k.is_new_message() => LiveEvent::Message {
            seq: e.seq,
            conversation_id,
            message_id: m.id,
            direction: m.direction,
            channel: m.channel,
        },
        (OutboxKind::StatusChanged, Some(m)) => LiveEvent::Status {
            seq: e.seq,
            conversation_id,
            message_id: m.id,
            status: m.status?,
        },
        // A message event whose message cannot be read: nothing to show.
        (k, None)
            if e.message_id.is_some() && (k.is_new_message() || k == OutboxKind::StatusChanged) =>
        {
            return None;
        }
        _ => LiveEvent::Conversation {
            seq: e.seq,
            conversation_id,
        },
    })
}
