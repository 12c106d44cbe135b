//! Email channel of loket: an SMTP receiver that answers `250` only after the
//! durable commit, IMAP pollers, MIME parsing into `Inbound`, threading, and an outbound
//! sender built on lettre. See docs/mail.md.
//!
//! Entry point for `loket serve`: [`spawn`] with the `[smtp]` section ([`MailConfig`]).

pub mod config;
pub mod deliver;
pub mod error;
pub mod imap;
pub mod outbound;
pub mod parse;
pub mod smtp;
pub mod thread;

pub use config::{MailConfig, RelayConfig, TlsMode};
pub use deliver::{Directory, OutboundSettings, TenantMail, keys};
pub use error::MailError;
pub use imap::{AfterProcessing, ImapMailbox};
pub use parse::{Envelope, ParsedEmail, parse_email, thread_hint};

use loket_core::TenantId;
use loket_store::Store;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// The running email channel.
pub struct MailHandles {
    smtp_addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl MailHandles {
    /// Where the SMTP receiver listens (useful with port 0 in tests).
    pub fn smtp_local_addr(&self) -> Option<SocketAddr> {
        self.smtp_addr
    }

    /// Waits until every task has stopped (after `shutdown` turned true).
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts the SMTP receiver, the IMAP pollers of every tenant's configured mailboxes (new
/// ones are picked up within `imap_poll_secs`/10 s) and the outbound sender (when a relay
/// is configured). Everything stops when `shutdown` turns true.
pub async fn spawn(
    store: Store,
    cfg: MailConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<MailHandles, MailError> {
    let directory = Arc::new(Directory::new());
    if !cfg.enabled {
        return Ok(MailHandles {
            smtp_addr: None,
            tasks: Vec::new(),
        });
    }
    if let Err(e) = directory.reload(&store).await {
        warn!(error = %e, "email channel settings could not be loaded yet");
    }
    let mut tasks = Vec::new();

    let tls = smtp::load_tls(&cfg)?;
    let listener = tokio::net::TcpListener::bind(&cfg.bind)
        .await
        .map_err(|e| MailError::Config(format!("cannot listen on {}: {e}", cfg.bind)))?;
    let smtp_addr = listener.local_addr().ok();
    info!(addr = ?smtp_addr, starttls = tls.is_some(), "SMTP receiver listening");
    let receiver = Arc::new(smtp::Receiver {
        store: store.clone(),
        cfg: cfg.clone(),
        directory: directory.clone(),
        tls,
    });
    tasks.push(tokio::spawn(smtp::serve(
        listener,
        receiver,
        shutdown.clone(),
    )));

    if let Some(relay) = cfg.relay.clone() {
        let transport = outbound::build_transport(&relay, &cfg.hostname)?;
        let sender = outbound::Sender {
            store: store.clone(),
            cfg: cfg.clone(),
            relay,
            directory: directory.clone(),
            transport,
        };
        tasks.push(tokio::spawn(sender.run(shutdown.clone())));
    } else {
        info!("no [smtp.relay] configured: email replies stay queued");
    }

    tasks.push(tokio::spawn(supervise_imap(
        store,
        directory,
        Duration::from_secs(cfg.imap_poll_secs.max(1)),
        shutdown,
    )));
    Ok(MailHandles { smtp_addr, tasks })
}

/// Starts one poller per configured mailbox and stops pollers whose mailbox was removed.
async fn supervise_imap(
    store: Store,
    directory: Arc<Directory>,
    default_poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut running: HashMap<(TenantId, String), (watch::Sender<bool>, JoinHandle<()>)> =
        HashMap::new();
    loop {
        if let Err(e) = directory.reload(&store).await {
            warn!(error = %e, "reloading email settings failed");
        }
        let mut wanted: HashMap<(TenantId, String), ImapMailbox> = HashMap::new();
        for (tenant, settings) in directory.all().await {
            for v in settings.imap_mailboxes {
                match serde_json::from_value::<ImapMailbox>(v.clone()) {
                    Ok(mb) => {
                        wanted.insert((tenant, v.to_string()), mb);
                    }
                    Err(e) => warn!(%tenant, error = %e, "invalid imap_mailboxes entry"),
                }
            }
        }
        running.retain(|k, (stop, _)| {
            let keep = wanted.contains_key(k);
            if !keep {
                let _ = stop.send(true);
            }
            keep
        });
        for (key, mb) in wanted {
            if running.contains_key(&key) {
                continue;
            }
            let (stop_tx, stop_rx) = watch::channel(false);
            let poller = imap::Poller {
                store: store.clone(),
                directory: directory.clone(),
                tenant: key.0,
                mailbox: mb,
                default_poll,
            };
            let handle = tokio::spawn(poller.run(stop_rx));
            running.insert(key, (stop_tx, handle));
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10).min(default_poll)) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            for (_, (stop, handle)) in running.drain() {
                let _ = stop.send(true);
                let _ = handle.await;
            }
            return;
        }
    }
}
