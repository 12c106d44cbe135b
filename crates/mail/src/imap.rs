//! IMAP poller (async-imap): one task per configured mailbox.
//!
//! State lives in the store's consumer cursors: `imap:<tenant>:<mailbox id>:uidvalidity`
//! and `…:uid` (the highest UID committed). A message is ingested first and the cursor
//! saved after, so a crash in between fetches it again and the store recognises the same
//! bytes (SHA-256 key): nothing is lost, nothing duplicated. A changed UIDVALIDITY starts
//! over from UID 1, again absorbed by the same dedup.

use crate::config::TlsMode;
use crate::deliver::{Directory, deliver};
use crate::error::MailError;
use crate::parse::Envelope;
use futures_util::TryStreamExt;
use loket_core::TenantId;
use loket_store::Store;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// One mailbox to poll (an element of the channel setting `imap_mailboxes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapMailbox {
    /// Stable name for the cursors; default `<username>@<host>/<mailbox>`.
    #[serde(default)]
    pub id: Option<String>,
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    pub username: String,
    /// Password in a file readable by loket (preferred) …
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// … or inline (tests, demos).
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// After a message is committed: `none` (leave it), `seen` (set \Seen, default),
    /// `move` (to `move_to`) or `delete` (flag \Deleted and expunge).
    #[serde(default)]
    pub after: AfterProcessing,
    #[serde(default)]
    pub move_to: Option<String>,
    /// Seconds between polls without IDLE, and the longest IDLE; default from config.
    #[serde(default)]
    pub poll_secs: Option<u64>,
}

fn default_port() -> u16 {
    993
}
fn default_tls() -> TlsMode {
    TlsMode::Implicit
}
fn default_mailbox() -> String {
    "INBOX".to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AfterProcessing {
    None,
    #[default]
    Seen,
    Move,
    Delete,
}

impl ImapMailbox {
    pub fn cursor_id(&self) -> String {
        self.id.clone().unwrap_or_else(|| {
            format!(
                "{}@{}:{}/{}",
                self.username, self.host, self.port, self.mailbox
            )
        })
    }

    fn password(&self) -> Result<String, MailError> {
        match (&self.password_file, &self.password) {
            (Some(p), _) => Ok(std::fs::read_to_string(p)
                .map_err(|e| MailError::Config(format!("IMAP password_file {}: {e}", p.display())))?
                .trim_end_matches(['\r', '\n'])
                .to_owned()),
            (None, Some(p)) => Ok(p.clone()),
            (None, None) => Err(MailError::Config("IMAP mailbox without password".into())),
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Io for T {}
type Stream = Box<dyn Io>;
type Session = async_imap::Session<Stream>;

fn tls_connector() -> Result<tokio_rustls::TlsConnector, MailError> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| MailError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

async fn connect(mb: &ImapMailbox) -> Result<Session, MailError> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(30),
        TcpStream::connect((mb.host.as_str(), mb.port)),
    )
    .await
    .map_err(|_| MailError::Imap("connect timed out".into()))??;
    let _ = tcp.set_nodelay(true);
    let stream: Stream = match mb.tls {
        TlsMode::None => Box::new(tcp),
        TlsMode::Implicit => {
            let name = server_name(&mb.host)?;
            Box::new(tls_connector()?.connect(name, tcp).await?)
        }
        TlsMode::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            read_greeting(&mut client).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(imap_err)?;
            let tcp = client.into_inner();
            let name = server_name(&mb.host)?;
            let tls = tls_connector()?.connect(name, tcp).await?;
            // The greeting came before STARTTLS; the session goes on over TLS.
            return login(async_imap::Client::new(Box::new(tls) as Stream), mb).await;
        }
    };
    let mut client = async_imap::Client::new(stream);
    read_greeting(&mut client).await?;
    login(client, mb).await
}

fn server_name(
    host: &str,
) -> Result<tokio_rustls::rustls::pki_types::ServerName<'static>, MailError> {
    tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| MailError::Imap(e.to_string()))
}

async fn read_greeting<T>(client: &mut async_imap::Client<T>) -> Result<(), MailError>
where
    T: Io,
{
    client
        .read_response()
        .await?
        .ok_or_else(|| MailError::Imap("no greeting".into()))?;
    Ok(())
}

async fn login(client: async_imap::Client<Stream>, mb: &ImapMailbox) -> Result<Session, MailError> {
    client
        .login(&mb.username, mb.password()?)
        .await
        .map_err(|(e, _)| imap_err(e))
}

pub(crate) struct Poller {
    pub store: Store,
    pub directory: Arc<Directory>,
    pub tenant: TenantId,
    pub mailbox: ImapMailbox,
    pub default_poll: Duration,
}

impl Poller {
    fn cursor_name(&self, what: &str) -> String {
        format!("imap:{}:{}:{}", self.tenant, self.mailbox.cursor_id(), what)
    }

    /// Runs until shutdown, reconnecting with backoff after any error. The backoff starts
    /// over once a session got as far as selecting the mailbox, so a server that drops the
    /// connection now and then is reconnected within a second, not after the 30 s cap.
    pub(crate) async fn run(self, mut shutdown: watch::Receiver<bool>) {
        const FIRST_BACKOFF: Duration = Duration::from_millis(500);
        let mut backoff = FIRST_BACKOFF;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let mut selected = false;
            match self.session(&mut shutdown, &mut selected).await {
                Ok(()) => return,
                Err(e) => {
                    warn!(mailbox = %self.mailbox.cursor_id(), error = %e, "IMAP session failed; reconnecting");
                }
            }
            if selected {
                backoff = FIRST_BACKOFF;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    /// One connection: select, catch up, then wait (IDLE or interval) and catch up again.
    ///
    /// Catching up fetches until a search finds nothing above the cursor: mail that arrives
    /// while a burst is being fetched is announced in the middle of our own FETCH/STORE
    /// responses, and IDLE would not announce it a second time, so going into IDLE after a
    /// single search left it waiting for the next poll interval.
    async fn session(
        &self,
        shutdown: &mut watch::Receiver<bool>,
        selected: &mut bool,
    ) -> Result<(), MailError> {
        let mut session = connect(&self.mailbox).await?;
        let caps = session.capabilities().await.map_err(imap_err)?;
        let idle = caps.has_str("IDLE");
        let poll = self
            .mailbox
            .poll_secs
            .map(Duration::from_secs)
            .unwrap_or(self.default_poll)
            .max(Duration::from_secs(1));
        info!(mailbox = %self.mailbox.cursor_id(), idle, "IMAP connected");
        let mut reconciled = false;
        loop {
            let mbox = session
                .select(&self.mailbox.mailbox)
                .await
                .map_err(imap_err)?;
            *selected = true;
            let mut last_uid = self
                .check_uidvalidity(i64::from(mbox.uid_validity.unwrap_or(0)))
                .await?;
            if !reconciled {
                self.reconcile_after(&mut session, last_uid).await?;
                reconciled = true;
            }
            loop {
                // What the server announced so far is covered by the search below.
                while session.unsolicited_responses.try_recv().is_ok() {}
                let fetched = self.fetch_above(&mut session, last_uid).await?;
                match fetched {
                    Some(uid) => last_uid = uid,
                    None => break,
                }
            }
            // Wait for news.
            if idle {
                // async-imap hands untagged responses that come before the server's `+ idling`
                // to this channel, not to the IDLE wait: an EXISTS sent there (mail that came
                // after the last search) would otherwise wait for the next poll.
                let announced = session.unsolicited_responses.clone();
                let mut handle = session.idle();
                handle.init().await.map_err(imap_err)?;
                let mut new_mail = false;
                while let Ok(r) = announced.try_recv() {
                    new_mail |= announces_mail(&r);
                }
                if new_mail {
                    session = handle.done().await.map_err(imap_err)?;
                    continue;
                }
                let (fut, stop) = handle.wait_with_timeout(poll);
                let stopped_by_shutdown = tokio::select! {
                    r = fut => { r.map_err(imap_err)?; false }
                    _ = shutdown.changed() => true,
                };
                drop(stop);
                session = handle.done().await.map_err(imap_err)?;
                if stopped_by_shutdown && *shutdown.borrow() {
                    let _ = session.logout().await;
                    return Ok(());
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
                if *shutdown.borrow() {
                    let _ = session.logout().await;
                    return Ok(());
                }
                session.noop().await.map_err(imap_err)?;
            }
        }
    }

    /// Compares the mailbox's UIDVALIDITY with the stored one and returns the UID cursor;
    /// a changed UIDVALIDITY starts over from 0 (the store recognises what it already has).
    async fn check_uidvalidity(&self, validity: i64) -> Result<i64, MailError> {
        let v_name = self.cursor_name("uidvalidity");
        let u_name = self.cursor_name("uid");
        let stored_validity = self.store.cursor(&v_name).await.map_err(MailError::store)?;
        let last_uid = self.store.cursor(&u_name).await.map_err(MailError::store)?;
        if stored_validity == validity {
            return Ok(last_uid);
        }
        if stored_validity != 0 {
            warn!(mailbox = %self.mailbox.cursor_id(), "UIDVALIDITY changed; reading the mailbox again (duplicates are recognised)");
        }
        self.store
            .save_cursor(&u_name, 0)
            .await
            .map_err(MailError::store)?;
        self.store
            .save_cursor(&v_name, validity)
            .await
            .map_err(MailError::store)?;
        Ok(0)
    }

    /// Fetches, archives and post-processes every message above `last_uid`, in UID order,
    /// one at a time. Returns the highest UID committed, or `None` when there was nothing.
    async fn fetch_above(
        &self,
        session: &mut Session,
        last_uid: i64,
    ) -> Result<Option<i64>, MailError> {
        let u_name = self.cursor_name("uid");
        let mut uids: Vec<u32> = session
            .uid_search(format!("UID {}:*", last_uid + 1))
            .await
            .map_err(imap_err)?
            .into_iter()
            .filter(|u| i64::from(*u) > last_uid)
            .collect();
        uids.sort_unstable();
        let Some(&highest) = uids.last() else {
            return Ok(None);
        };
        for &uid in &uids {
            let raw = {
                let fetches: Vec<_> = session
                    .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
                    .await
                    .map_err(imap_err)?
                    .try_collect()
                    .await
                    .map_err(imap_err)?;
                fetches
                    .iter()
                    .find(|f| f.uid == Some(uid))
                    .and_then(|f| f.body().map(<[u8]>::to_vec))
            };
            let Some(raw) = raw else {
                debug!(uid, "message vanished before it was fetched");
                continue;
            };
            let envelope = Envelope {
                mail_from: None,
                rcpt_to: vec![self.mailbox.username.clone()],
            };
            deliver(&self.store, &self.directory, raw, envelope, &[self.tenant]).await?;
            self.store
                .save_cursor(&u_name, i64::from(uid))
                .await
                .map_err(MailError::store)?;
            self.apply_after(session, &uid.to_string()).await?;
        }
        self.expunge_if_deleting(session).await?;
        Ok(Some(i64::from(highest)))
    }

    /// Applies `after` (seen / move / delete) to a UID set of archived messages.
    async fn apply_after(&self, session: &mut Session, uid_set: &str) -> Result<(), MailError> {
        let flag = match self.mailbox.after {
            AfterProcessing::None => return Ok(()),
            AfterProcessing::Move => {
                let target = self.mailbox.move_to.as_deref().unwrap_or("Archive");
                return session.uid_mv(uid_set, target).await.map_err(imap_err);
            }
            AfterProcessing::Seen => "+FLAGS.SILENT (\\Seen)",
            AfterProcessing::Delete => "+FLAGS.SILENT (\\Deleted)",
        };
        let _: Vec<_> = session
            .uid_store(uid_set, flag)
            .await
            .map_err(imap_err)?
            .try_collect()
            .await
            .map_err(imap_err)?;
        Ok(())
    }

    async fn expunge_if_deleting(&self, session: &mut Session) -> Result<(), MailError> {
        if self.mailbox.after != AfterProcessing::Delete {
            return Ok(());
        }
        let _: Vec<_> = session
            .expunge()
            .await
            .map_err(imap_err)?
            .try_collect()
            .await
            .map_err(imap_err)?;
        Ok(())
    }

    /// After a (re)connect: every message at or below the cursor is archived, but the
    /// connection (or the process) may have died between the commit and the flag, so
    /// `after` is applied again to each archived UID that does not show it yet.
    async fn reconcile_after(&self, session: &mut Session, last_uid: i64) -> Result<(), MailError> {
        if last_uid <= 0 {
            return Ok(());
        }
        let pending = match self.mailbox.after {
            AfterProcessing::None => return Ok(()),
            AfterProcessing::Seen => "UNSEEN",
            AfterProcessing::Delete => "UNDELETED",
            AfterProcessing::Move => "ALL",
        };
        let mut uids: Vec<u32> = session
            .uid_search(format!("UID 1:{last_uid} {pending}"))
            .await
            .map_err(imap_err)?
            .into_iter()
            .filter(|u| i64::from(*u) <= last_uid)
            .collect();
        if uids.is_empty() {
            // Still expunge: a \Deleted flag may have been set without the expunge.
            return self.expunge_if_deleting(session).await;
        }
        uids.sort_unstable();
        info!(mailbox = %self.mailbox.cursor_id(), count = uids.len(), "applying `after` to archived messages that missed it");
        self.apply_after(session, &uid_set(&uids)).await?;
        self.expunge_if_deleting(session).await
    }
}

/// Whether an untagged response says that mail arrived.
fn announces_mail(r: &async_imap::types::UnsolicitedResponse) -> bool {
    use async_imap::types::UnsolicitedResponse;
    matches!(
        r,
        UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
    )
}

fn imap_err(e: async_imap::error::Error) -> MailError {
    MailError::Imap(e.to_string())
}

/// A sorted list of UIDs as an IMAP sequence set of ranges (`1:4,7,9:10`), so that a
/// reconciliation of thousands of messages stays one short command line.
fn uid_set(sorted: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end.saturating_add(1) {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_are_written_as_ranges() {
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[1, 2, 3, 4, 7, 9, 10]), "1:4,7,9:10");
        assert_eq!(uid_set(&[1, 3, 5]), "1,3,5");
    }
}
