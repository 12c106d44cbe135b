//! In-process live bus on tokio broadcast channels, one per tenant.

use loket_core::{LiveBus, LiveEvent, LiveSubscription, TenantId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Capacity per tenant; a subscriber more than this far behind skips ahead.
const CAPACITY: usize = 1024;

#[derive(Default)]
pub struct BroadcastBus {
    channels: Mutex<HashMap<TenantId, broadcast::Sender<LiveEvent>>>,
}

impl BroadcastBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn sender(&self, tenant: TenantId) -> broadcast::Sender<LiveEvent> {
        let mut map = match self.channels.lock() {
            Ok(m) => m,
            // A panic while holding this lock cannot leave the map inconsistent.
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(tenant)
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .clone()
    }
}

impl LiveBus for BroadcastBus {
    fn publish(&self, tenant: TenantId, event: LiveEvent) {
        // No subscribers is fine: nobody is watching.
        let _ = self.sender(tenant).send(event);
    }

    fn subscribe(&self, tenant: TenantId) -> Box<dyn LiveSubscription> {
        Box::new(BroadcastSubscription {
            rx: self.sender(tenant).subscribe(),
        })
    }
}

struct BroadcastSubscription {
    rx: broadcast::Receiver<LiveEvent>,
}

impl LiveSubscription for BroadcastSubscription {
    fn recv(&mut self) -> Pin<Box<dyn Future<Output = Option<LiveEvent>> + Send + '_>> {
        Box::pin(async move {
            loop {
                match self.rx.recv().await {
                    Ok(e) => return Some(e),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}
