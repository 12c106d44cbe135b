//! Test harness: a store (file-backed SQLite or a fresh PostgreSQL schema), the mail
//! channel on port 0, real clients (Python smtplib, swaks), a real relay (aiosmtpd) and a
//! real IMAP server (Dovecot, started with its own config in a temp directory).
#![allow(dead_code)]

use loket_core::{Channel, Message, MessageId, Tenant, TenantId};
use loket_mail::{MailConfig, MailHandles, RelayConfig, TlsMode};
use loket_store::Store;
use loket_store::testing::TestDb;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub const DOMAIN: &str = "gemeente.example";
pub const INFO: &str = "info@gemeente.example";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct Mail {
    pub db: TestDb,
    pub store: Store,
    pub tenant: Tenant,
    pub handles: Option<MailHandles>,
    pub shutdown: watch::Sender<bool>,
    pub addr: SocketAddr,
    pub cfg: MailConfig,
}

impl Mail {
    pub async fn start(db: Db, relay: Option<&Relay>) -> Mail {
        Self::start_with(db, relay, |_| {}).await
    }

    pub async fn start_with(
        db: Db,
        relay: Option<&Relay>,
        tweak: impl FnOnce(&mut MailConfig),
    ) -> Mail {
        let db = match db {
            Db::Sqlite => TestDb::sqlite().await,
            Db::Postgres => TestDb::postgres().await,
        }
        .expect("test database");
        let store = db.store.clone();
        let tenant = store
            .create_tenant("gemeente-a", "Gemeente A")
            .await
            .expect("tenant");
        store
            .set_channel_setting(
                tenant.id,
                Channel::Email,
                "addresses",
                serde_json::json!([INFO]),
            )
            .await
            .expect("setting");
        store
            .set_channel_setting(
                tenant.id,
                Channel::Email,
                "domains",
                serde_json::json!([DOMAIN]),
            )
            .await
            .expect("setting");
        let mut cfg = MailConfig {
            bind: "127.0.0.1:0".into(),
            hostname: "mx.gemeente.example".into(),
            imap_poll_secs: 2,
            ..MailConfig::default()
        };
        if let Some(r) = relay {
            cfg.relay = Some(RelayConfig {
                host: "127.0.0.1".into(),
                port: r.port,
                tls: TlsMode::None,
                retry_base_secs: 1,
                max_attempts: 3,
                timeout_secs: 10,
                ..RelayConfig::default()
            });
        }
        tweak(&mut cfg);
        let (tx, rx) = watch::channel(false);
        let handles = loket_mail::spawn(store.clone(), cfg.clone(), rx)
            .await
            .expect("spawn mail");
        let addr = handles.smtp_local_addr().expect("smtp addr");
        Mail {
            db,
            store,
            tenant,
            handles: Some(handles),
            shutdown: tx,
            addr,
            cfg,
        }
    }

    pub async fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(h) = self.handles.take() {
            tokio::time::timeout(Duration::from_secs(20), h.join())
                .await
                .expect("mail stops");
        }
    }

    /// Configures the tenant's IMAP mailboxes (the channel setting `imap_mailboxes`).
    pub async fn watch_mailboxes(&self, mailboxes: serde_json::Value) {
        self.store
            .set_channel_setting(self.tenant.id, Channel::Email, "imap_mailboxes", mailboxes)
            .await
            .expect("imap_mailboxes setting");
    }

    pub async fn messages(&self) -> Vec<Message> {
        messages(&self.store, self.tenant.id).await
    }

    pub async fn raw(&self, id: MessageId) -> Vec<u8> {
        self.store
            .raw_original(self.tenant.id, id)
            .await
            .expect("raw")
            .expect("raw exists")
    }

    /// Sends files with Python smtplib on one connection; one JSON result per file.
    pub async fn send_files(
        &self,
        from: &str,
        rcpts: &[&str],
        files: &[PathBuf],
    ) -> Vec<serde_json::Value> {
        send_files(self.addr, from, rcpts, files, false).await
    }

    pub async fn send_bytes(&self, from: &str, rcpts: &[&str], data: &[u8]) -> serde_json::Value {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("m.eml");
        std::fs::write(&p, data).expect("write");
        let mut r = self.send_files(from, rcpts, &[p]).await;
        assert_eq!(r.len(), 1, "{r:?}");
        r.remove(0)
    }
}

pub async fn messages(store: &Store, tenant: TenantId) -> Vec<Message> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let ids = store
            .message_ids_page(tenant, after, 500)
            .await
            .expect("ids");
        if ids.is_empty() {
            break;
        }
        after = ids.last().copied();
        for id in ids {
            out.push(
                store
                    .message(tenant, id)
                    .await
                    .expect("message")
                    .expect("exists"),
            );
        }
    }
    out
}

pub fn support(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// A python3 that has aiosmtpd (pyenv's on developer machines, Debian's in CI).
pub fn python() -> String {
    for p in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(p)
            .args(["-c", "import aiosmtpd, smtplib"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return p.to_owned();
        }
    }
    panic!("no python3 with aiosmtpd: run ops/ci/install-mail.sh");
}

pub async fn send_files(
    addr: SocketAddr,
    from: &str,
    rcpts: &[&str],
    files: &[PathBuf],
    starttls: bool,
) -> Vec<serde_json::Value> {
    let mut cmd = Command::new(python());
    cmd.arg(support("send.py"))
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .arg(from)
        .arg(rcpts.join(","));
    for f in files {
        cmd.arg(f);
    }
    if starttls {
        cmd.arg("--starttls");
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run send.py");
    assert!(
        out.status.success(),
        "send.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// Runs swaks; returns (exit status success, full transcript).
pub async fn swaks(addr: SocketAddr, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("swaks");
    cmd.args([
        "--server",
        &addr.ip().to_string(),
        "--port",
        &addr.port().to_string(),
    ]);
    cmd.args(["--timeout", "60"]);
    cmd.args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run swaks (ops/ci/install-mail.sh)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// aiosmtpd as the outbound relay.
pub struct Relay {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Relay {
    pub fn start() -> Relay {
        Self::start_args(&[])
    }

    /// A relay that requires STARTTLS (with `cert`/`key`) and AUTH as `user`/`password`.
    pub fn start_secure(cert: &Path, key: &Path, user: &str, password: &str) -> Relay {
        Self::start_args(&[
            cert.display().to_string(),
            key.display().to_string(),
            user.to_owned(),
            password.to_owned(),
        ])
    }

    /// Like `start_secure`, but TLS from the first byte (SMTPS, as on port 465).
    pub fn start_implicit_tls(cert: &Path, key: &Path, user: &str, password: &str) -> Relay {
        Self::start_args(&[
            cert.display().to_string(),
            key.display().to_string(),
            user.to_owned(),
            password.to_owned(),
            "implicit".to_owned(),
        ])
    }

    fn start_args(extra: &[String]) -> Relay {
        let dir = tempfile::tempdir().expect("tmp");
        let mut child = Command::new(python())
            .arg(support("relay.py"))
            .arg(dir.path())
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start relay.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("relay port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .expect("PORT line")
            .parse()
            .expect("port");
        Relay { child, dir, port }
    }

    /// (raw bytes as received, envelope) in arrival order.
    pub fn received(&self) -> Vec<(Vec<u8>, serde_json::Value)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let raw = std::fs::read(&p).expect("eml");
                let env = std::fs::read_to_string(p.with_extension("json")).expect("json");
                (raw, serde_json::from_str(&env).expect("envelope"))
            })
            .collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA and a server certificate for 127.0.0.1 it signed (openssl CLI):
/// (dir, ca.pem, cert.pem, key.pem).
pub fn test_certificates() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let run = |args: &[&str]| {
        let st = Command::new("openssl")
            .args(args)
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(st.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=loket test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "req.csr",
    ]);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let (ca, cert, key) = (d.join("ca.pem"), d.join("cert.pem"), d.join("key.pem"));
    (dir, ca, cert, key)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Dovecot with its own configuration in a temp directory, run by the test itself.
pub struct Dovecot {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    pub password: String,
}

impl Dovecot {
    pub fn start() -> Dovecot {
        Self::start_with("")
    }

    /// A Dovecot that does not offer IDLE (the poller falls back to interval polling).
    pub fn start_without_idle() -> Dovecot {
        Self::start_with("imap_capability = IMAP4rev1 SASL-IR LITERAL+ UIDPLUS MOVE\n")
    }

    fn start_with(extra: &str) -> Dovecot {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("loket-dovecot")
            .tempdir()
            .expect("tmp");
        let d = dir.path();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        let status = Command::new("chown")
            .args(["mail:mail"])
            .arg(d.join("home"))
            .status()
            .expect("chown");
        assert!(status.success());
        let port = free_port();
        let user = INFO.to_owned();
        let password = "geheim".to_owned();
        std::fs::write(d.join("passwd"), format!("{user}:{{PLAIN}}{password}\n")).expect("passwd");
        std::fs::set_permissions(d.join("passwd"), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let conf = format!(
            r#"base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/home/%u/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
{extra}"#,
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).expect("conf");
        let mut dc = Dovecot {
            child: None,
            dir,
            port,
            user,
            password,
        };
        dc.run();
        dc
    }

    fn run(&mut self) {
        let child = Command::new("/usr/sbin/dovecot")
            .arg("-F")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dovecot (ops/ci/install-mail.sh)");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "dovecot did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGTERM, like a service restart) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "dovecot did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    pub fn mailbox_setting(&self) -> serde_json::Value {
        serde_json::json!({
            "host": "127.0.0.1",
            "port": self.port,
            "tls": "none",
            "username": self.user,
            "password": self.password,
            "mailbox": "INBOX",
            "after": "seen",
            "poll_secs": 2
        })
    }

    /// APPENDs a message over IMAP (Python imaplib: a normal client).
    pub fn append(&self, raw: &[u8]) {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("m.eml");
        std::fs::write(&p, raw).expect("write");
        let script = format!(
            "import imaplib,sys\nm=imaplib.IMAP4('127.0.0.1',{})\nm.login('{}','{}')\n\
             t,d=m.append('INBOX',None,None,open(sys.argv[1],'rb').read())\nassert t=='OK',d\nm.logout()\n",
            self.port, self.user, self.password
        );
        let st = Command::new(python())
            .arg("-c")
            .arg(script)
            .arg(&p)
            .status()
            .expect("python");
        assert!(st.success(), "IMAP append failed");
    }
}

impl Dovecot {
    /// APPENDs many messages over one IMAP connection, as fast as the server takes them
    /// (a burst, as when a mail server delivers a queue).
    pub fn append_many(&self, raws: &[Vec<u8>]) {
        self.append_stream(raws, 0.0);
    }

    /// APPENDs messages over one IMAP connection, one every `interval_secs` (a steady
    /// stream, as in the IMAP benchmark).
    pub fn append_stream(&self, raws: &[Vec<u8>], interval_secs: f64) {
        let dir = tempfile::tempdir().expect("tmp");
        let mut paths = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            let p = dir.path().join(format!("m{i}.eml"));
            std::fs::write(&p, raw).expect("write");
            paths.push(p);
        }
        let script = format!(
            "import imaplib,sys\nm=imaplib.IMAP4('127.0.0.1',{})\nm.login('{}','{}')\n\
             import time\nfor p in sys.argv[1:]:\n    t,d=m.append('INBOX',None,None,open(p,'rb').read())\n    assert t=='OK',d\n    time.sleep({})\nm.logout()\n",
            self.port, self.user, self.password, interval_secs
        );
        let st = Command::new(python())
            .arg("-c")
            .arg(script)
            .args(&paths)
            .status()
            .expect("python");
        assert!(st.success(), "IMAP append failed");
    }

    /// Number of messages in INBOX.
    pub fn count(&self) -> usize {
        self.search("ALL")
    }

    /// Number of messages without the Seen flag in INBOX.
    pub fn unseen(&self) -> usize {
        self.search("UNSEEN")
    }

    fn search(&self, what: &str) -> usize {
        let script = format!(
            "import imaplib\nm=imaplib.IMAP4('127.0.0.1',{})\nm.login('{}','{}')\nm.select('INBOX')\n\
             t,d=m.search(None,'{}')\nprint(len(d[0].split()))\nm.logout()\n",
            self.port, self.user, self.password, what
        );
        let out = Command::new(python())
            .arg("-c")
            .arg(script)
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("count")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }
}

/// A tiny raw SMTP client for protocol-level tests (timing, disconnects, bare bytes).
pub struct Raw {
    pub s: tokio::io::BufReader<tokio::net::TcpStream>,
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> Raw {
        let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut r = Raw {
            s: tokio::io::BufReader::new(s),
        };
        let g = r.reply().await;
        assert!(g.starts_with("220"), "{g}");
        r
    }

    /// Reads one (possibly multi-line) reply.
    pub async fn reply(&mut self) -> String {
        use tokio::io::AsyncBufReadExt;
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(60), self.s.read_line(&mut line))
                .await
                .expect("reply in time")
                .expect("read");
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return all;
            }
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.s.get_mut().write_all(bytes).await.expect("write");
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// EHLO, MAIL, RCPT..., DATA; returns after the 354.
    pub async fn begin(&mut self, from: &str, rcpts: &[&str]) {
        let r = self.cmd("EHLO client.example").await;
        assert!(r.starts_with("250"), "{r}");
        let r = self.cmd(&format!("MAIL FROM:<{from}>")).await;
        assert!(r.starts_with("250"), "{r}");
        for to in rcpts {
            let r = self.cmd(&format!("RCPT TO:<{to}>")).await;
            assert!(r.starts_with("250"), "{r}");
        }
        let r = self.cmd("DATA").await;
        assert!(r.starts_with("354"), "{r}");
    }
}

/// What an SMTP client puts on the wire for `raw`: dot-stuffed, then `.CRLF`.
pub fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    let mut at_line_start = true;
    let mut prev_cr = false;
    for &b in raw {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n' && prev_cr;
        prev_cr = b == b'\r';
    }
    if !raw.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
