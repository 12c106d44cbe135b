//! The live relay: turns committed outbox rows into `LiveEvent`s on the bus. Live
//! events are ephemeral, so the relay starts at the current head and keeps no cursor;
//! views re-read the store on (re)connect.

use loket_core::{LiveBus, LiveEvent};
use loket_store::{OutboxKind, Store};
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
        if batch.is_empty() {
            break;
        }
        for e in batch {
            cursor = e.seq;
            publish(store, bus, &e).await;
        }
    }
    cursor
}

async fn publish(store: &Store, bus: &dyn LiveBus, e: &loket_store::OutboxEntry) {
    let (Some(conversation_id), tenant) = (e.conversation_id, e.tenant_id) else {
        return;
    };
    let event = match (e.kind, e.message_id) {
        (k, Some(message_id)) if k.is_new_message() => {
            match store.message(tenant, message_id).await {
                Ok(Some(m)) => LiveEvent::Message {
                    seq: e.seq,
                    conversation_id,
                    message_id,
                    direction: m.direction,
                    channel: m.channel,
                },
                _ => return,
            }
        }
        (OutboxKind::StatusChanged, Some(message_id)) => {
            match store.message(tenant, message_id).await {
                Ok(Some(m)) => match m.status {
                    Some(status) => LiveEvent::Status {
                        seq: e.seq,
                        conversation_id,
                        message_id,
                        status,
                    },
                    None => return,
                },
                _ => return,
            }
        }
        _ => LiveEvent::Conversation {
            seq: e.seq,
            conversation_id,
        },
    };
    bus.publish(tenant, event);
}
