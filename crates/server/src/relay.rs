//! The live relay: turns committed outbox rows into `LiveEvent`s on the bus. Live
//! events are ephemeral, so the relay starts at the current head and keeps no cursor;
//! views re-read the store on (re)connect. It is an outbox consumer (`run_consumer`).

use loket_core::{LiveBus, LiveEvent, Message, MessageId, TenantId};
use loket_store::{Batch, Handled, OutboxConsumer, OutboxEntry, OutboxKind, Pace, Resume, Store};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub fn spawn(
    store: Store,
    bus: Arc<dyn LiveBus>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut relay = LiveRelay {
            store: store.clone(),
            bus,
        };
        // Infallible: nothing to report.
        let _ = loket_store::run_consumer(&store, &mut relay, shutdown).await;
    })
}

struct LiveRelay {
    store: Store,
    bus: Arc<dyn LiveBus>,
}

impl OutboxConsumer for LiveRelay {
    type Error = Infallible;

    fn name(&self) -> &str {
        "live-relay"
    }

    fn pace(&self) -> Pace {
        Pace {
            batch: 500,
            // Writes by other nodes do not wake the head watch: look now and then.
            poll: Duration::from_millis(250),
            ..Pace::default()
        }
    }

    async fn start(&mut self, _store: &Store) -> Result<Resume, Infallible> {
        Ok(Resume::Head)
    }

    async fn handle(&mut self, batch: Batch<'_>) -> Result<Handled, Infallible> {
        // The messages the events name, read once per tenant for the whole batch (one
        // read per message cost three queries each, per message ingested).
        let mut wanted: HashMap<TenantId, Vec<MessageId>> = HashMap::new();
        for e in batch.entries {
            if let (Some(id), Some(_)) = (e.message_id, e.conversation_id) {
                wanted.entry(e.tenant_id).or_default().push(id);
            }
        }
        let mut messages: HashMap<MessageId, Message> = HashMap::new();
        for (tenant, ids) in wanted {
            // A failed read shows nothing for those messages; views re-read on reconnect.
            if let Ok(found) = self.store.messages_by_ids(tenant, ids).await {
                messages.extend(found.into_iter().map(|m| (m.id, m)));
            }
        }
        for e in batch.entries {
            if let Some(event) = event_of(e, &messages) {
                self.bus.publish(e.tenant_id, event);
            }
        }
        Ok(Handled::All)
    }
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
