//! SMTP receiver: smtp-proto parses the commands, this module owns the tokio loop, so the
//! `250` after DATA is written only once every tenant's copy is committed by the store.
//!
//! Never an open relay: a recipient is accepted only when its address or domain belongs to
//! a tenant (channel settings `addresses` / `domains`); everything else gets `550`.

use crate::config::MailConfig;
use crate::deliver::{Directory, deliver};
use crate::error::MailError;
use crate::parse::Envelope;
use loket_core::TenantId;
use loket_store::Store;
use smtp_proto::request::receiver::RequestReceiver;
use smtp_proto::{Error as ProtoError, Request};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

/// Shared state of all SMTP sessions.
pub(crate) struct Receiver {
    pub store: Store,
    pub cfg: MailConfig,
    pub directory: Arc<Directory>,
    pub tls: Option<TlsAcceptor>,
}

/// Loads the STARTTLS certificate and key (PEM).
pub(crate) fn load_tls(cfg: &MailConfig) -> Result<Option<TlsAcceptor>, MailError> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = match (&cfg.tls_cert_file, &cfg.tls_key_file) {
        (Some(c), Some(k)) => (c, k),
        (None, None) => return Ok(None),
        _ => {
            return Err(MailError::Config(
                "tls_cert_file and tls_key_file must be set together".into(),
            ));
        }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| MailError::Tls(format!("{}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| MailError::Tls(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| MailError::Tls(format!("{}: {e}", key.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| MailError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| MailError::Tls(e.to_string()))?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// Accept loop; returns when `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    rx: Arc<Receiver>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limit = Arc::new(Semaphore::new(rx.cfg.max_connections.max(1)));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; } else { continue; }
            }
        };
        let (mut stream, _peer) = match accepted {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "smtp accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            let _ = stream
                .write_all(b"421 4.3.2 Too many connections, try again later\r\n")
                .await;
            continue;
        };
        let rx = rx.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            // No peer address is logged or stored (ARCHITECTURE.md, invariant 7).
            if let Err(e) = run_connection(stream, rx, shutdown).await {
                debug!(error = %e, "smtp session ended with an error");
            }
            drop(permit);
        });
    }
    info!("smtp receiver stopped");
}

async fn run_connection(
    stream: tokio::net::TcpStream,
    rx: Arc<Receiver>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), MailError> {
    let mut stream = stream;
    write(
        &mut stream,
        &format!("220 {} ESMTP loket\r\n", rx.cfg.hostname),
    )
    .await?;
    let mut session = Session::new(&rx, false);
    match session.run(&mut stream, &rx, shutdown.clone()).await? {
        Outcome::Closed => Ok(()),
        Outcome::StartTls => {
            let Some(acceptor) = rx.tls.clone() else {
                return Ok(());
            };
            let mut tls = acceptor.accept(stream).await?;
            let mut session = Session::new(&rx, true);
            session.run(&mut tls, &rx, shutdown).await?;
            let _ = tls.shutdown().await;
            Ok(())
        }
    }
}

enum Outcome {
    Closed,
    StartTls,
}

#[derive(PartialEq, Eq)]
enum Mode {
    Command,
    Data,
}

struct Session {
    hostname: String,
    max_bytes: usize,
    max_rcpt: usize,
    timeout: Duration,
    tls_active: bool,
    tls_offered: bool,
    helo: bool,
    mail_from: Option<String>,
    /// Accepted recipients with their tenant.
    rcpts: Vec<(String, TenantId)>,
    data: DataReader,
    mode: Mode,
}

impl Session {
    fn new(rx: &Receiver, tls_active: bool) -> Self {
        Session {
            hostname: rx.cfg.hostname.clone(),
            max_bytes: rx.cfg.max_message_bytes,
            max_rcpt: rx.cfg.max_recipients.max(1),
            timeout: Duration::from_secs(rx.cfg.command_timeout_secs.max(1)),
            tls_active,
            tls_offered: rx.tls.is_some() && !tls_active,
            helo: false,
            mail_from: None,
            rcpts: Vec::new(),
            data: DataReader::new(rx.cfg.max_message_bytes),
            mode: Mode::Command,
        }
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
        self.data = DataReader::new(self.max_bytes);
        self.mode = Mode::Command;
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        s: &mut S,
        rx: &Receiver,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<Outcome, MailError> {
        let mut pending: Vec<u8> = Vec::new();
        let mut requests = RequestReceiver::default();
        let mut readbuf = vec![0u8; 64 * 1024];
        loop {
            if self.mode == Mode::Data {
                if !pending.is_empty() {
                    match self.data.feed(&pending) {
                        Some(n) => {
                            pending.drain(..n);
                            let reply = self.finish_data(rx).await;
                            self.reset();
                            write(s, &reply).await?;
                            continue;
                        }
                        None => pending.clear(),
                    }
                }
            } else if !pending.is_empty() {
                let (result, consumed) = {
                    let mut it = pending.iter();
                    let r = requests.ingest(&mut it).map(Request::into_owned);
                    (r, pending.len() - it.as_slice().len())
                };
                pending.drain(..consumed);
                match result {
                    Ok(req) => match self.command(req, s, rx).await? {
                        Some(outcome) => return Ok(outcome),
                        None => continue,
                    },
                    Err(ProtoError::NeedsMoreData { .. }) => {}
                    Err(e) => {
                        if consumed == 0 {
                            // Skip the offending line so the session stays in sync.
                            match memchr::memchr(b'\n', &pending) {
                                Some(p) => {
                                    pending.drain(..=p);
                                }
                                None => pending.clear(),
                            }
                        }
                        write(s, proto_error_reply(&e)).await?;
                        continue;
                    }
                }
            }
            // Read more input.
            let read = if self.mode == Mode::Command {
                tokio::select! {
                    r = tokio::time::timeout(self.timeout, s.read(&mut readbuf)) => r,
                    _ = shutdown.changed() => {
                        if *shutdown.borrow() {
                            let _ = write(s, "421 4.3.2 Service shutting down\r\n").await;
                            return Ok(Outcome::Closed);
                        }
                        continue;
                    }
                }
            } else {
                tokio::time::timeout(self.timeout, s.read(&mut readbuf)).await
            };
            match read {
                Err(_) => {
                    let _ = write(s, "421 4.4.2 Idle timeout, closing connection\r\n").await;
                    return Ok(Outcome::Closed);
                }
                // Disconnect: whatever DATA was in flight is dropped, nothing is stored.
                Ok(Ok(0)) => return Ok(Outcome::Closed),
                Ok(Ok(n)) => pending.extend_from_slice(&readbuf[..n]),
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Handles one command; `Some` ends this session loop.
    async fn command<S: AsyncWrite + Unpin>(
        &mut self,
        req: Request<String>,
        s: &mut S,
        rx: &Receiver,
    ) -> Result<Option<Outcome>, MailError> {
        match req {
            Request::Ehlo { host: _ } => {
                self.reset();
                self.helo = true;
                let mut lines = vec![
                    self.hostname.clone(),
                    "PIPELINING".to_owned(),
                    format!("SIZE {}", self.max_bytes),
                    "8BITMIME".to_owned(),
                    "SMTPUTF8".to_owned(),
                    "ENHANCEDSTATUSCODES".to_owned(),
                ];
                if self.tls_offered {
                    lines.push("STARTTLS".to_owned());
                }
                let mut out = String::new();
                for (i, l) in lines.iter().enumerate() {
                    let sep = if i + 1 == lines.len() { ' ' } else { '-' };
                    out.push_str(&format!("250{sep}{l}\r\n"));
                }
                write(s, &out).await?;
            }
            Request::Helo { host: _ } | Request::Lhlo { host: _ } => {
                self.reset();
                self.helo = true;
                write(s, &format!("250 {}\r\n", self.hostname)).await?;
            }
            Request::StartTls => {
                if self.tls_active {
                    write(s, "503 5.5.1 TLS already active\r\n").await?;
                } else if !self.tls_offered {
                    write(s, "502 5.5.1 STARTTLS not available\r\n").await?;
                } else {
                    write(s, "220 2.0.0 Ready to start TLS\r\n").await?;
                    return Ok(Some(Outcome::StartTls));
                }
            }
            Request::Mail { from } => {
                if !self.helo {
                    write(s, "503 5.5.1 Say EHLO first\r\n").await?;
                } else if self.mail_from.is_some() {
                    write(s, "503 5.5.1 Nested MAIL command\r\n").await?;
                } else if from.size > self.max_bytes {
                    write(
                        s,
                        "552 5.3.4 Message size exceeds fixed maximum message size\r\n",
                    )
                    .await?;
                } else {
                    self.mail_from = Some(from.address);
                    write(s, "250 2.1.0 OK\r\n").await?;
                }
            }
            Request::Rcpt { to } => {
                if self.mail_from.is_none() {
                    write(s, "503 5.5.1 Need MAIL before RCPT\r\n").await?;
                } else if self.rcpts.len() >= self.max_rcpt {
                    write(s, "452 4.5.3 Too many recipients\r\n").await?;
                } else {
                    match rx.directory.tenant_for(&rx.store, &to.address).await {
                        Ok(Some(tenant)) => {
                            self.rcpts.push((to.address, tenant));
                            write(s, "250 2.1.5 OK\r\n").await?;
                        }
                        Ok(None) => {
                            write(s, "550 5.7.1 Relaying denied: not a local recipient\r\n")
                                .await?;
                        }
                        Err(e) => {
                            warn!(error = %e, "recipient lookup failed");
                            write(s, "451 4.3.0 Temporary lookup failure\r\n").await?;
                        }
                    }
                }
            }
            Request::Data => {
                if self.mail_from.is_none() {
                    write(s, "503 5.5.1 Need MAIL command\r\n").await?;
                } else if self.rcpts.is_empty() {
                    write(s, "554 5.5.1 No valid recipients\r\n").await?;
                } else {
                    self.data = DataReader::new(self.max_bytes);
                    self.mode = Mode::Data;
                    write(s, "354 Start mail input; end with <CRLF>.<CRLF>\r\n").await?;
                }
            }
            Request::Bdat { .. } => {
                write(s, "502 5.5.1 CHUNKING not supported\r\n").await?;
            }
            Request::Rset => {
                self.reset();
                write(s, "250 2.0.0 OK\r\n").await?;
            }
            Request::Noop { .. } => write(s, "250 2.0.0 OK\r\n").await?,
            Request::Quit => {
                write(s, "221 2.0.0 Bye\r\n").await?;
                let _ = s.flush().await;
                return Ok(Some(Outcome::Closed));
            }
            Request::Vrfy { .. } => {
                write(s, "252 2.1.5 Cannot verify, send some mail\r\n").await?;
            }
            Request::Expn { .. } => write(s, "502 5.5.1 EXPN not supported\r\n").await?,
            Request::Help { .. } => write(s, "214 2.0.0 See RFC 5321\r\n").await?,
            Request::Auth { .. } => {
                write(s, "502 5.5.1 AUTH not supported on this port\r\n").await?;
            }
            Request::Etrn { .. } | Request::Atrn { .. } | Request::Burl { .. } => {
                write(s, "502 5.5.1 Command not implemented\r\n").await?;
            }
        }
        Ok(None)
    }

    /// End of DATA: commit, then answer. The reply is written by the caller only after
    /// this returns, so `250` always follows the durable commit.
    async fn finish_data(&mut self, rx: &Receiver) -> String {
        if self.data.overflow {
            return "552 5.3.4 Message size exceeds fixed maximum message size\r\n".to_owned();
        }
        let raw = std::mem::take(&mut self.data.buf);
        let envelope = Envelope {
            mail_from: self.mail_from.clone(),
            rcpt_to: self.rcpts.iter().map(|(a, _)| a.clone()).collect(),
        };
        let mut tenants: Vec<TenantId> = self.rcpts.iter().map(|(_, t)| *t).collect();
        tenants.sort();
        tenants.dedup();
        let started = Instant::now();
        match deliver(&rx.store, &rx.directory, raw, envelope, &tenants).await {
            Ok(results) => {
                let ids: Vec<String> = results.iter().map(|r| r.message_id.to_string()).collect();
                debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "smtp message committed"
                );
                format!("250 2.0.0 OK queued as {}\r\n", ids.join(","))
            }
            Err(e) => {
                warn!(error = %e, "storing an SMTP message failed");
                "451 4.3.0 Temporary failure storing the message, try again later\r\n".to_owned()
            }
        }
    }
}

async fn write<S: AsyncWrite + Unpin>(s: &mut S, reply: &str) -> Result<(), MailError> {
    s.write_all(reply.as_bytes()).await?;
    s.flush().await?;
    Ok(())
}

fn proto_error_reply(e: &ProtoError) -> &'static str {
    match e {
        ProtoError::UnknownCommand => "500 5.5.2 Command not recognized\r\n",
        ProtoError::InvalidSenderAddress => "501 5.1.7 Bad sender address syntax\r\n",
        ProtoError::InvalidRecipientAddress => "501 5.1.3 Bad recipient address syntax\r\n",
        ProtoError::ResponseTooLong => "500 5.5.6 Line too long\r\n",
        ProtoError::UnsupportedParameter { .. } => "555 5.5.4 Unsupported parameter\r\n",
        _ => "501 5.5.4 Syntax error\r\n",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DState {
    /// After CRLF (or at the start): a `.` here is stuffing or the terminator.
    LineStart,
    Dot,
    DotCr,
    Normal,
}

/// DATA content after dot-unstuffing, including the CRLF that ends its last line and
/// excluding the terminating `.CRLF`. Only CRLF ends a line; bare LF is content.
pub(crate) struct DataReader {
    state: DState,
    prev_cr: bool,
    pub buf: Vec<u8>,
    size: usize,
    max: usize,
    pub overflow: bool,
}

impl DataReader {
    pub fn new(max: usize) -> Self {
        DataReader {
            state: DState::LineStart,
            prev_cr: false,
            buf: Vec::new(),
            size: 0,
            max,
            overflow: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.size += bytes.len();
        if self.size > self.max {
            if !self.overflow {
                self.overflow = true;
                self.buf = Vec::new();
            }
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Feeds input; returns the number of bytes consumed when the terminator was seen.
    pub fn feed(&mut self, input: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                DState::LineStart => {
                    if input[i] == b'.' {
                        self.state = DState::Dot;
                        i += 1;
                    } else {
                        self.state = DState::Normal;
                        self.prev_cr = false;
                    }
                }
                DState::Dot => {
                    if input[i] == b'\r' {
                        self.state = DState::DotCr;
                        i += 1;
                    } else {
                        // The dot was stuffing: drop it.
                        self.state = DState::Normal;
                        self.prev_cr = false;
                    }
                }
                DState::DotCr => {
                    if input[i] == b'\n' {
                        return Some(i + 1);
                    }
                    self.push(b"\r");
                    self.state = DState::Normal;
                    self.prev_cr = true;
                }
                DState::Normal => match memchr::memchr(b'\n', &input[i..]) {
                    Some(p) => {
                        let end = i + p + 1;
                        let crlf = if p > 0 {
                            input[i + p - 1] == b'\r'
                        } else {
                            self.prev_cr
                        };
                        self.push(&input[i..end]);
                        i = end;
                        self.prev_cr = false;
                        if crlf {
                            self.state = DState::LineStart;
                        }
                    }
                    None => {
                        self.push(&input[i..]);
                        self.prev_cr = input.last() == Some(&b'\r');
                        i = input.len();
                    }
                },
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::DataReader;

    fn run(chunks: &[&[u8]]) -> (Vec<u8>, Option<usize>) {
        let mut r = DataReader::new(1 << 20);
        for c in chunks {
            if let Some(n) = r.feed(c) {
                return (r.buf, Some(n));
            }
        }
        (r.buf, None)
    }

    #[test]
    fn unstuffs_and_terminates() {
        let (buf, n) = run(&[b"a\r\n..b\r\n.\r\nNEXT"]);
        assert_eq!(buf, b"a\r\n.b\r\n");
        assert_eq!(n, Some(11));
        let (buf, n) = run(&[b".\r\n"]);
        assert_eq!(buf, b"");
        assert_eq!(n, Some(3));
        let (buf, _) = run(&[b"..x\r\n.\r\n"]);
        assert_eq!(buf, b".x\r\n");
    }

    #[test]
    fn split_across_reads() {
        let input = b"line1\r\n..dot\r\nbare\nlf\n.not-end\r\n.\r\n";
        for split in 0..input.len() {
            let (a, b) = input.split_at(split);
            let mut r = DataReader::new(1 << 20);
            let done = r.feed(a).or_else(|| r.feed(b).map(|n| n + a.len()));
            assert_eq!(done, Some(input.len()), "split {split}");
            assert_eq!(
                r.buf, b"line1\r\n.dot\r\nbare\nlf\n.not-end\r\n",
                "split {split}"
            );
        }
    }

    #[test]
    fn bare_lf_dot_is_not_a_terminator() {
        let (buf, n) = run(&[b"a\n.\nb\r\n.\r\n"]);
        assert_eq!(buf, b"a\n.\nb\r\n");
        assert!(n.is_some());
    }

    #[test]
    fn overflow_keeps_scanning() {
        let mut r = DataReader::new(10);
        assert_eq!(r.feed(b"0123456789abcdef\r\n"), None);
        assert!(r.overflow);
        assert!(r.buf.is_empty());
        assert_eq!(r.feed(b".\r\n"), Some(3));
    }
}
