//! Outbound sender: consumes the outbox (`OutboundQueued` rows on the email channel),
//! builds the MIME with lettre, sends it through the configured relay and appends the
//! delivery status, archiving the exact bytes that were sent.
//!
//! Crash safety: the cursor `mail-sender` is the low-water mark — every outbox row at or
//! before it is final (sent, failed or not ours). Messages ahead of it that are waiting for
//! a retry are held in memory; after a restart they are read again and their latest status
//! decides whether they still need sending (at-least-once: a crash between the relay's
//! `250` and our `sent` event sends once more).

use crate::config::{MailConfig, RelayConfig, TlsMode};
use crate::deliver::Directory;
use crate::error::MailError;
use crate::thread;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use loket_core::{Channel, DeliveryStatus, Direction, Message, MessageFlag, MessageId, TenantId};
use loket_store::{Batch, Handled, OutboxConsumer, OutboxKind, Pace, Store};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

pub const CURSOR: &str = "mail-sender";

type Transport = AsyncSmtpTransport<Tokio1Executor>;

pub(crate) fn build_transport(relay: &RelayConfig, hostname: &str) -> Result<Transport, MailError> {
    let tls_parameters = || -> Result<TlsParameters, MailError> {
        let err = |e: lettre::transport::smtp::Error| MailError::Tls(e.to_string());
        let mut b = TlsParameters::builder(relay.host.clone());
        if let Some(ca) = &relay.tls_ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                MailError::Config(format!("relay tls_ca_file {}: {e}", ca.display()))
            })?;
            b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(err)?);
        }
        b.build_rustls().map_err(err)
    };
    let builder = Transport::builder_dangerous(relay.host.clone());
    let builder = match relay.tls {
        TlsMode::None => builder,
        TlsMode::Starttls => builder.tls(Tls::Required(tls_parameters()?)),
        TlsMode::Implicit => builder.tls(Tls::Wrapper(tls_parameters()?)),
    };
    let mut builder = builder
        .port(relay.port)
        .timeout(Some(Duration::from_secs(relay.timeout_secs.max(1))))
        .hello_name(ClientId::Domain(hostname.to_owned()));
    if let Some(user) = &relay.username {
        let password = match &relay.password_file {
            Some(p) => std::fs::read_to_string(p)
                .map_err(|e| {
                    MailError::Config(format!("relay password_file {}: {e}", p.display()))
                })?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            None => String::new(),
        };
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

struct Pending {
    tenant: TenantId,
    message: MessageId,
    attempts: u32,
    due: Instant,
}

/// What one attempt ended in.
enum Attempt {
    Sent,
    NotOurs,
    Permanent(String),
    Transient(String),
}

pub(crate) struct Sender {
    pub store: Store,
    pub cfg: MailConfig,
    pub relay: RelayConfig,
    pub directory: Arc<Directory>,
    pub transport: Transport,
}

impl Sender {
    /// Sends queued replies until `shutdown`: an outbox consumer with the saved cursor
    /// [`CURSOR`] as its low-water mark.
    pub(crate) async fn run(self, shutdown: watch::Receiver<bool>) {
        let store = self.store.clone();
        let mut outgoing = Outgoing {
            sender: self,
            pending: BTreeMap::new(),
        };
        // Infallible: delivery trouble is retried per message, store trouble by the loop.
        let _ = loket_store::run_consumer(&store, &mut outgoing, shutdown).await;
    }
}

/// The sender as an outbox consumer, with the replies that wait for a retry.
struct Outgoing {
    sender: Sender,
    /// By outbox seq: the low-water mark stays before the first of them.
    pending: BTreeMap<i64, Pending>,
}

impl OutboxConsumer for Outgoing {
    type Error = Infallible;

    fn name(&self) -> &str {
        CURSOR
    }

    fn pace(&self) -> Pace {
        Pace {
            batch: 200,
            poll: Duration::from_secs(30),
            retry_first: Duration::from_secs(2),
            ..Pace::default()
        }
    }

    async fn handle(&mut self, batch: Batch<'_>) -> Result<Handled, Infallible> {
        for row in batch.entries {
            if row.kind == OutboxKind::OutboundQueued
                && let Some(m) = row.message_id
            {
                self.pending.insert(
                    row.seq,
                    Pending {
                        tenant: row.tenant_id,
                        message: m,
                        attempts: 0,
                        due: Instant::now(),
                    },
                );
            }
        }
        self.send_due().await;
        Ok(match self.pending.keys().next() {
            Some(first) => Handled::Through(first - 1),
            None => Handled::All,
        })
    }

    /// The next retry that falls due.
    async fn wake(&mut self) {
        match self.pending.values().map(|p| p.due).min() {
            Some(due) => tokio::time::sleep_until(due).await,
            None => std::future::pending().await,
        }
    }
}

impl Outgoing {
    /// One attempt for every reply that is due; the ones that may succeed later stay.
    async fn send_due(&mut self) {
        let sender = &self.sender;
        let now = Instant::now();
        let due: Vec<i64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(s, _)| *s)
            .collect();
        for seq in due {
            let Some(p) = self.pending.get_mut(&seq) else {
                continue;
            };
            p.attempts += 1;
            let (tenant, message, attempts) = (p.tenant, p.message, p.attempts);
            let result = sender.attempt(tenant, message, attempts).await;
            let done = match result {
                Ok(Attempt::Sent) | Ok(Attempt::NotOurs) => true,
                Ok(Attempt::Permanent(why)) => {
                    sender
                        .status(tenant, message, DeliveryStatus::Failed, Some(why))
                        .await;
                    true
                }
                Ok(Attempt::Transient(why)) | Err(MailError::Outbound(why)) => {
                    if attempts >= sender.relay.max_attempts.max(1) {
                        let why = format!("gave up after {attempts} attempts: {why}");
                        sender
                            .status(tenant, message, DeliveryStatus::Failed, Some(why))
                            .await;
                        true
                    } else {
                        sender
                            .status(tenant, message, DeliveryStatus::Retrying, Some(why))
                            .await;
                        let delay = backoff(sender.relay.retry_base_secs, attempts);
                        if let Some(p) = self.pending.get_mut(&seq) {
                            p.due = Instant::now() + delay;
                        }
                        false
                    }
                }
                Err(e) => {
                    // Store trouble: try again soon without counting it as an attempt.
                    warn!(error = %e, "mail sender: store error");
                    if let Some(p) = self.pending.get_mut(&seq) {
                        p.attempts = p.attempts.saturating_sub(1);
                        p.due = Instant::now() + Duration::from_secs(2);
                    }
                    false
                }
            };
            if done {
                self.pending.remove(&seq);
            }
        }
    }
}

impl Sender {
    async fn status(
        &self,
        tenant: TenantId,
        message: MessageId,
        status: DeliveryStatus,
        detail: Option<String>,
    ) {
        if let Err(e) = self
            .store
            .append_message_status(tenant, message, status, detail, None)
            .await
        {
            warn!(error = %e, %message, "mail sender: recording a status failed");
        }
    }

    async fn attempt(
        &self,
        tenant: TenantId,
        id: MessageId,
        attempt: u32,
    ) -> Result<Attempt, MailError> {
        let Some(msg) = self
            .store
            .message(tenant, id)
            .await
            .map_err(MailError::store)?
        else {
            return Ok(Attempt::NotOurs);
        };
        if msg.channel != Channel::Email
            || msg.direction != Direction::Outbound
            || msg.has_flag(MessageFlag::InternalNote)
        {
            return Ok(Attempt::NotOurs);
        }
        if matches!(
            msg.status,
            Some(
                DeliveryStatus::Sent
                    | DeliveryStatus::Failed
                    | DeliveryStatus::Delivered
                    | DeliveryStatus::Read
            )
        ) {
            return Ok(Attempt::NotOurs);
        }
        let settings = self.directory.tenant(&self.store, tenant).await?;
        let Some(to) = msg.to.first().cloned() else {
            return Ok(Attempt::Permanent("the reply has no recipient".into()));
        };
        if settings.is_own(&to.address) {
            return Ok(Attempt::Permanent(format!(
                "refusing to send to the tenant's own address {}",
                to.address
            )));
        }
        let local = to
            .address
            .split('@')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if to.address.trim().is_empty() || matches!(local.as_str(), "mailer-daemon" | "postmaster")
        {
            return Ok(Attempt::Permanent(format!(
                "refusing to send to an automatic address {}",
                to.address
            )));
        }
        let Some(from) = settings.from_address() else {
            return Ok(Attempt::Permanent(
                "the tenant has no email address configured (channel setting `addresses` or `outbound.from`)".into(),
            ));
        };
        let history = self
            .store
            .conversation_messages(tenant, msg.conversation_id)
            .await
            .map_err(MailError::store)?;
        let conversation = self
            .store
            .conversation(tenant, msg.conversation_id)
            .await
            .map_err(MailError::store)?;
        let token = conversation
            .as_ref()
            .map(|c| c.token.clone())
            .unwrap_or_default();
        let domain = settings
            .outbound
            .message_id_domain
            .clone()
            .or_else(|| thread::domain_of(&from))
            .unwrap_or_else(|| self.cfg.hostname.clone());
        let mut attachments = Vec::new();
        for a in &msg.attachments {
            let data = self
                .store
                .blob(tenant, &a.sha256)
                .await
                .map_err(MailError::store)?
                .unwrap_or_default();
            attachments.push((a.filename.clone(), a.content_type.clone(), data));
        }
        let built = build_message(&BuildInput {
            msg: &msg,
            history: &history,
            from: &from,
            from_name: settings.outbound.name.as_deref(),
            to: &to,
            token: &token,
            conversation_subject: conversation.as_ref().and_then(|c| c.subject.as_deref()),
            domain: &domain,
            attachments,
        });
        let (envelope, bytes) = match built {
            Ok(b) => b,
            Err(e) => return Ok(Attempt::Permanent(e.to_string())),
        };
        if attempt == 1 {
            self.status(tenant, id, DeliveryStatus::Sending, None).await;
        }
        match self.transport.send_raw(&envelope, &bytes).await {
            Ok(resp) => {
                // lettre ends DATA with `CRLF.CRLF` after the bytes it was given, so the
                // DATA content the relay stores (our byte-exact definition: up to and
                // including the CRLF before the final dot) is `bytes` + CRLF.
                let mut bytes = bytes;
                bytes.extend_from_slice(b"\r\n");
                let detail = resp.message().collect::<Vec<_>>().join(" ");
                self.store
                    .append_message_status(
                        tenant,
                        id,
                        DeliveryStatus::Sent,
                        Some(format!("{} {}", resp.code(), detail)),
                        Some(bytes),
                    )
                    .await
                    .map_err(MailError::store)?;
                info!(message = %id, "reply sent");
                Ok(Attempt::Sent)
            }
            Err(e) if e.is_permanent() => Ok(Attempt::Permanent(e.to_string())),
            Err(e) => Ok(Attempt::Transient(e.to_string())),
        }
    }
}

fn backoff(base_secs: u64, attempt: u32) -> Duration {
    let secs = base_secs
        .max(1)
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    Duration::from_secs(secs.min(15 * 60))
}

pub(crate) struct BuildInput<'a> {
    pub msg: &'a Message,
    pub history: &'a [Message],
    pub from: &'a str,
    pub from_name: Option<&'a str>,
    pub to: &'a loket_core::Address,
    pub token: &'a str,
    pub conversation_subject: Option<&'a str>,
    pub domain: &'a str,
    /// (filename, content type, bytes)
    pub attachments: Vec<(Option<String>, String, Vec<u8>)>,
}

/// The rfc Message-ID of a stored message as other mail clients know it.
fn rfc_id_of(m: &Message, domain: &str) -> Option<String> {
    match m.direction {
        Direction::Inbound => m.rfc_message_id.clone().filter(|s| !s.is_empty()),
        Direction::Outbound
            if m.channel == Channel::Email && !m.has_flag(MessageFlag::InternalNote) =>
        {
            Some(thread::outbound_message_id(m.id, domain))
        }
        Direction::Outbound => None,
    }
}

/// Builds the outbound MIME: text + HTML alternatives, attachments, threading headers.
pub(crate) fn build_message(
    input: &BuildInput<'_>,
) -> Result<(lettre::address::Envelope, Vec<u8>), MailError> {
    let msg = input.msg;
    let bad = |e: &dyn std::fmt::Display| MailError::Build(e.to_string());
    let from_addr: lettre::Address = input.from.parse().map_err(|e| bad(&e))?;
    let to_addr: lettre::Address = input.to.address.parse().map_err(|e| bad(&e))?;
    let from = Mailbox::new(input.from_name.map(str::to_owned), from_addr);
    let to = Mailbox::new(input.to.name.clone(), to_addr);

    // Threading: every earlier message with an id, oldest first; In-Reply-To is the
    // latest inbound one (what the clerk answers), else the latest with an id.
    let earlier: Vec<&Message> = input
        .history
        .iter()
        .filter(|m| m.id != msg.id && (m.received_at, m.id) <= (msg.received_at, msg.id))
        .collect();
    let mut refs: Vec<String> = Vec::new();
    for m in &earlier {
        if let Some(id) = rfc_id_of(m, input.domain)
            && !refs.contains(&id)
        {
            refs.push(id);
        }
    }
    if refs.len() > 20 {
        let keep_first = refs[0].clone();
        let tail = refs.split_off(refs.len() - 19);
        refs = std::iter::once(keep_first).chain(tail).collect();
    }
    let in_reply_to = earlier
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound && m.rfc_message_id.is_some())
        .and_then(|m| rfc_id_of(m, input.domain))
        .or_else(|| refs.last().cloned());
    let last_inbound_subject = earlier
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound)
        .and_then(|m| m.subject.clone());
    let answered = last_inbound_subject
        .as_deref()
        .or(input.conversation_subject);
    let subject = match &msg.subject {
        // The same subject as the mail being answered: a reply (`Re: … [#TOKEN]`).
        Some(s)
            if !s.trim().is_empty()
                && answered.is_none_or(|a| {
                    thread::normalize_subject(a) != thread::normalize_subject(s)
                }) =>
        {
            if input.token.is_empty() || thread::token_in_subject(s).is_some() {
                s.clone()
            } else {
                format!("{s} [#{}]", input.token)
            }
        }
        Some(s) if !s.trim().is_empty() => thread::reply_subject(Some(s), input.token),
        _ => thread::reply_subject(answered, input.token),
    };

    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!(
            "<{}>",
            thread::outbound_message_id(msg.id, input.domain)
        )))
        .date(std::time::SystemTime::from(msg.received_at));
    if let Some(irt) = in_reply_to {
        b = b.in_reply_to(format!("<{irt}>"));
    }
    if !refs.is_empty() {
        let joined = refs
            .iter()
            .map(|r| format!("<{r}>"))
            .collect::<Vec<_>>()
            .join(" ");
        b = b.references(joined);
    }
    let html = match &msg.html {
        Some(h) => h.clone(),
        None => text_to_html(&msg.text),
    };
    let alternative = MultiPart::alternative_plain_html(msg.text.clone(), html);
    let email = if input.attachments.is_empty() {
        b.multipart(alternative)
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for (name, ct, data) in &input.attachments {
            let ct = ContentType::parse(ct)
                .or_else(|_| ContentType::parse("application/octet-stream"))
                .map_err(|e| bad(&e))?;
            let part: SinglePart =
                Attachment::new(name.clone().unwrap_or_else(|| "bijlage".into()))
                    .body(data.clone(), ct);
            mixed = mixed.singlepart(part);
        }
        b.multipart(mixed)
    }
    .map_err(|e| bad(&e))?;
    let envelope = email.envelope().clone();
    Ok((envelope, email.formatted()))
}

/// Plain text → minimal HTML (escaped, paragraphs and line breaks kept).
pub fn text_to_html(text: &str) -> String {
    let esc = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let paras: Vec<String> = esc
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.trim_end().replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{}\n</body></html>\n",
        paras.join("\n")
    )
}
