//! Routes live events to open widget connections.
//!
//! One subscription to the [`LiveBus`] per tenant (not one per socket): a dispatcher task
//! hands each event only to the connections of its conversation, so 2,000 open widgets
//! cost one bus subscriber, not 2,000.

use loket_core::{ConversationId, LiveBus, LiveEvent, TenantId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::mpsc;

pub(crate) type EventSender = mpsc::UnboundedSender<LiveEvent>;

pub(crate) struct Router {
    bus: Arc<dyn LiveBus>,
    tenants: Mutex<HashMap<TenantId, Arc<TenantRoutes>>>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct TenantRoutes {
    subs: Mutex<HashMap<ConversationId, Vec<(u64, EventSender)>>>,
    /// False once the dispatcher task ended (its runtime stopped); the next
    /// registration starts a new one.
    alive: AtomicBool,
}

impl TenantRoutes {
    fn dispatch(&self, ev: &LiveEvent) {
        let conv = match ev {
            LiveEvent::Message {
                conversation_id, ..
            }
            | LiveEvent::Status {
                conversation_id, ..
            }
            | LiveEvent::Conversation {
                conversation_id, ..
            } => *conversation_id,
        };
        let mut subs = self.subs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = subs.get_mut(&conv) {
            list.retain(|(_, tx)| tx.send(ev.clone()).is_ok());
            if list.is_empty() {
                subs.remove(&conv);
            }
        }
    }
}

/// Marks the dispatcher dead when its task ends or is dropped with its runtime.
struct AliveGuard(Arc<TenantRoutes>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::SeqCst);
    }
}

/// Keeps a connection registered for one conversation; unregisters on drop.
pub(crate) struct Registration {
    routes: Arc<TenantRoutes>,
    conv: ConversationId,
    id: u64,
}

impl Registration {
    pub(crate) fn conversation(&self) -> ConversationId {
        self.conv
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut subs = self
            .routes
            .subs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = subs.get_mut(&self.conv) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                subs.remove(&self.conv);
            }
        }
    }
}

impl Router {
    pub(crate) fn new(bus: Arc<dyn LiveBus>) -> Self {
        Self {
            bus,
            tenants: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// Registers `tx` for the events of one conversation. Must run inside a tokio runtime.
    pub(crate) fn register(
        &self,
        tenant: TenantId,
        conv: ConversationId,
        tx: EventSender,
    ) -> Registration {
        let routes = {
            let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
            let routes = tenants.entry(tenant).or_default().clone();
            if !routes.alive.swap(true, Ordering::SeqCst) {
                // Subscribe before returning, so no event published after this call is
                // missed by the new registration.
                let mut sub = self.bus.subscribe(tenant);
                let guard = AliveGuard(routes.clone());
                tokio::spawn(async move {
                    let guard = guard;
                    while let Some(ev) = sub.recv().await {
                        guard.0.dispatch(&ev);
                    }
                });
            }
            routes
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        routes
            .subs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(conv)
            .or_default()
            .push((id, tx));
        Registration { routes, conv, id }
    }
}
