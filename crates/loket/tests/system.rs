#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Black-box tests of the `loket` binary: crash safety (kill -9), graceful shutdown,
//! a database that is down at start or goes away later, `verify`, OTLP export.

use loket_store::testing::{TempDir, create_postgres_schema, drop_postgres_schema};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_loket");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

struct Server {
    child: Child,
    base: String,
    data: std::path::PathBuf,
    env: Vec<(String, String)>,
}

fn loket(data: &std::path::Path, env: &[(String, String)]) -> Command {
    let mut c = Command::new(BIN);
    // Port 0: several servers run at once, each with its own SMTP receiver.
    c.env("LOKET_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .env("LOKET_SMTP__BIND", "127.0.0.1:0");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

impl Server {
    fn start(data: &std::path::Path, env: Vec<(String, String)>) -> Server {
        let port = free_port();
        let mut env = env;
        env.retain(|(k, _)| k != "LOKET_HTTP__BIND");
        env.push(("LOKET_HTTP__BIND".into(), format!("127.0.0.1:{port}")));
        let child = loket(data, &env)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn loket");
        let s = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
            env,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(200) = reqwest::blocking_get(&format!("{}/health/ready", self.base)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("loket did not become ready");
    }

    fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("demo-admin-token")).expect("demo token")
    }

    fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }

    fn sigterm(&self) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success();
        assert!(ok);
    }

    fn verify(&self) -> (bool, String) {
        let out = loket(&self.data, &self.env)
            .arg("verify")
            .output()
            .expect("verify");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Minimal blocking HTTP for the load loops (reqwest's blocking client is not enabled).
mod reqwest {
    pub fn blocking_get(url: &str) -> std::io::Result<u16> {
        super::http("GET", url, None, &[]).map(|(s, _)| s)
    }
}

fn http(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn message(i: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({"channel": "webchat", "from": {"address": format!("session:{}", i % 50)}, "text": format!("bericht {i}"), "provider_message_id": format!("crash-{i}")})).expect("json")
}

/// Streams messages from 8 clients, kills the server with SIGKILL mid-way, restarts it,
/// and checks that every acknowledged message is there exactly once.
fn crash_test(env: Vec<(String, String)>) {
    let tmp = TempDir::new("loket-crash").expect("tmp");
    let mut server = Server::start(tmp.path(), env.clone());
    let token = server.token();
    let acked: Arc<Mutex<HashMap<usize, String>>> = Arc::new(Mutex::new(HashMap::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (acked, stop, next, base, token) = (
            acked.clone(),
            stop.clone(),
            next.clone(),
            server.base.clone(),
            token.clone(),
        );
        clients.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= 20_000 {
                    break;
                }
                match http(
                    "POST",
                    &format!("{base}/api/v1/messages"),
                    Some(&token),
                    &message(i),
                ) {
                    Ok((201, body)) | Ok((200, body)) => {
                        let v: Value = serde_json::from_str(&body).expect("json");
                        acked
                            .lock()
                            .expect("lock")
                            .insert(i, v["id"].as_str().expect("id").to_owned());
                    }
                    _ => {} // not acknowledged: the client may not assume it was stored
                }
            }
        }));
    }
    // Let some hundreds of messages through, then crash.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().expect("lock").len() < 300 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 300,
        "only {} acknowledged before the crash",
        acked.len()
    );

    let restarted = Server::start(tmp.path(), env);
    for (i, id) in &acked {
        let (status, body) = http(
            "GET",
            &format!("{}/api/v1/messages/{id}", restarted.base),
            Some(&token),
            b"",
        )
        .expect("get");
        assert_eq!(
            status, 200,
            "acknowledged message {i} ({id}) lost after kill -9"
        );
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["text"], format!("bericht {i}"));
        // Re-sending an acknowledged message must not create a second one.
        let (status, body) = http(
            "POST",
            &format!("{}/api/v1/messages", restarted.base),
            Some(&token),
            &message(*i),
        )
        .expect("post");
        assert_eq!(status, 200, "message {i} stored twice");
        let again: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(again["id"].as_str(), Some(id.as_str()));
    }
    let (ok, out) = restarted.verify();
    assert!(ok, "verify after crash failed:\n{out}");

    // The indexer resumes from its commit payload: once it has caught up, the index holds
    // exactly the archived messages — nothing missed, nothing doubled.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = 0;
    while Instant::now() < deadline {
        if let Ok((200, body)) = http(
            "GET",
            &format!("{}/api/v1/search?q=bericht&limit=1", restarted.base),
            Some(&token),
            b"",
        ) {
            let v: Value = serde_json::from_str(&body).expect("json");
            last = v["total_messages"].as_u64().unwrap_or(0);
            if last as usize >= acked.len() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        last as usize >= acked.len(),
        "index has {last} of {} acknowledged messages",
        acked.len()
    );
    let mut restarted = restarted;
    restarted.sigterm();
    let _ = restarted.child.wait();
    let out = loket(&restarted.data, &restarted.env)
        .args(["verify", "--index"])
        .output()
        .expect("verify --index");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify --index after kill -9:\n{text}"
    );
    assert!(text.contains("0 missing, 0 extra"), "{text}");
}

#[test]
fn kill9_during_ingest_loses_nothing_acknowledged_sqlite() {
    crash_test(vec![]);
}

#[test]
fn kill9_during_ingest_loses_nothing_acknowledged_postgres() {
    let (schema, url) = create_postgres_schema().expect("schema");
    crash_test(vec![("LOKET_DATABASE__URL".into(), url)]);
    drop_postgres_schema(&schema);
}

#[test]
fn sigterm_finishes_in_flight_requests() {
    let tmp = TempDir::new("loket-term").expect("tmp");
    let mut server = Server::start(tmp.path(), vec![]);
    let token = server.token();
    let host = server.base.trim_start_matches("http://").to_owned();
    let body = message(1);
    let mut s = std::net::TcpStream::connect(&host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(s, "POST /api/v1/messages HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).expect("write");
    s.write_all(&body[..10]).expect("write");
    std::thread::sleep(Duration::from_millis(300));
    server.sigterm();
    std::thread::sleep(Duration::from_millis(500));
    s.write_all(&body[10..])
        .expect("the connection stays open for the in-flight request");
    let mut resp = [0u8; 12];
    s.read_exact(&mut resp).expect("response");
    assert_eq!(&resp[9..12], b"201", "the in-flight request must complete");
    let status = server.child.wait().expect("wait");
    assert!(
        status.success(),
        "loket must exit cleanly on SIGTERM: {status:?}"
    );
}

#[test]
fn database_down_at_start_exits_non_zero_with_a_clear_message() {
    let tmp = TempDir::new("loket-nodb").expect("tmp");
    let port = free_port();
    let out = loket(
        tmp.path(),
        &[
            (
                "LOKET_DATABASE__URL".into(),
                format!("postgres://postgres@127.0.0.1:{port}/loket"),
            ),
            (
                "LOKET_HTTP__BIND".into(),
                format!("127.0.0.1:{}", free_port()),
            ),
        ],
    )
    .arg("serve")
    .output()
    .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open the database"), "{err}");
}

/// A TCP proxy to PostgreSQL that the test can cut and restore.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let (up2, conns2) = (up.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(upstream) = std::net::TcpStream::connect("127.0.0.1:5432") else {
                    continue;
                };
                for s in [&client, &upstream] {
                    if let Ok(c) = s.try_clone() {
                        conns2.lock().expect("lock").push(c);
                    }
                }
                let (mut a, mut b) = (
                    client.try_clone().expect("clone"),
                    upstream.try_clone().expect("clone"),
                );
                let (mut c, mut d) = (upstream, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut a, &mut c);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut b, &mut d);
                });
            }
        });
        Proxy { port, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[test]
fn database_lost_later_fails_ready_and_refuses_with_503() {
    let proxy = Proxy::start();
    let (schema, _) = create_postgres_schema().expect("schema");
    let url = loket_store::testing::postgres_url_with_schema(
        &format!("postgres://postgres@127.0.0.1:{}/test", proxy.port),
        &schema,
    );
    let tmp = TempDir::new("loket-lost").expect("tmp");
    let server = Server::start(tmp.path(), vec![("LOKET_DATABASE__URL".into(), url)]);
    let token = server.token();
    let (s, body) = http(
        "POST",
        &format!("{}/api/v1/messages", server.base),
        Some(&token),
        &message(1),
    )
    .expect("post");
    assert_eq!(s, 201, "{body}");
    let acked: Value = serde_json::from_str(&body).expect("json");

    proxy.cut();
    let (ready, _) =
        http("GET", &format!("{}/health/ready", server.base), None, b"").expect("ready");
    assert_eq!(ready, 503);
    let (s, body) = http(
        "POST",
        &format!("{}/api/v1/messages", server.base),
        Some(&token),
        &message(2),
    )
    .expect("post");
    assert_eq!(s, 503, "{body}");
    assert!(body.contains("problems/unavailable"));

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ok = false;
    while Instant::now() < deadline {
        if let Ok((200, _)) = http("GET", &format!("{}/health/ready", server.base), None, b"") {
            let (s, _) = http(
                "POST",
                &format!("{}/api/v1/messages", server.base),
                Some(&token),
                &message(2),
            )
            .expect("post");
            if s == 201 {
                ok = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(ok, "loket must recover when the database is back");
    let (s, _) = http(
        "GET",
        &format!(
            "{}/api/v1/messages/{}",
            server.base,
            acked["id"].as_str().expect("id")
        ),
        Some(&token),
        b"",
    )
    .expect("get");
    assert_eq!(
        s, 200,
        "the message acknowledged before the outage is still there"
    );
    drop(server);
    drop_postgres_schema(&schema);
}

/// Requests the fake OTLP collector received: (request line, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

#[test]
fn spans_are_exported_over_otlp_when_configured() {
    let collector = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", collector.local_addr().expect("addr"));
    let received: Received = Arc::new(Mutex::new(Vec::new()));
    let r2 = received.clone();
    std::thread::spawn(move || {
        for conn in collector.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
            // Read headers, then Content-Length bytes.
            loop {
                let n = conn.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        let n = conn.read(&mut chunk).unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let first = head.lines().next().unwrap_or_default().to_owned();
                    r2.lock()
                        .expect("lock")
                        .push((first, buf[end + 4..].to_vec()));
                    let _ = conn.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    break;
                }
            }
        }
    });
    let tmp = TempDir::new("loket-otlp").expect("tmp");
    let server = Server::start(
        tmp.path(),
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint),
            ("RUST_LOG".into(), "info".into()),
        ],
    );
    let token = server.token();
    let (s, _) = http(
        "POST",
        &format!("{}/api/v1/messages", server.base),
        Some(&token),
        &message(1),
    )
    .expect("post");
    assert_eq!(s, 201);
    server.sigterm();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && received.lock().expect("lock").is_empty() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = received.lock().expect("lock").clone();
    assert!(!got.is_empty(), "no OTLP export arrived");
    assert!(
        got.iter()
            .any(|(line, _)| line.starts_with("post /v1/traces")),
        "{:?}",
        got.iter().map(|g| &g.0).collect::<Vec<_>>()
    );
    let all: Vec<u8> = got.iter().flat_map(|(_, b)| b.clone()).collect();
    let text = String::from_utf8_lossy(&all);
    assert!(
        text.contains("/api/v1/messages"),
        "the request span is exported"
    );
    assert!(
        !text.contains("client_ip") && !text.contains("client.address"),
        "no client address in spans"
    );
}

#[test]
fn cli_tenant_token_import_export_round_trip() {
    let tmp = TempDir::new("loket-cli").expect("tmp");
    let run = |args: &[&str]| {
        let out = loket(tmp.path(), &[]).args(args).output().expect("run");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&[
        "tenant",
        "add",
        "den-bosch",
        "--name",
        "Gemeente 's-Hertogenbosch",
    ]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = run(&["tenant", "add", "Den Bosch", "--name", "x"]);
    assert!(!ok && err.contains("slug"), "{err}");
    let (ok, token, _) = run(&[
        "token",
        "create",
        "--tenant",
        "den-bosch",
        "--role",
        "clerk",
    ]);
    assert!(ok && token.trim().starts_with("lkt_"));
    let (ok, _, err) = run(&["token", "create", "--tenant", "nergens"]);
    assert!(!ok && err.contains("tenant add"), "{err}");
    let (ok, _, err) = run(&["token", "create", "--tenant", "den-bosch", "--role", "boss"]);
    assert!(
        !ok && err.contains("admin, clerk, foi_officer, auditor"),
        "{err}"
    );
    // A file with a bad line is rejected whole, naming the line.
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"v\":1}\n").expect("write");
    let (ok, _, err) = run(&["import", bad.to_str().expect("p")]);
    assert!(!ok && err.contains("bad.jsonl:1:"), "{err}");
    let (ok, out, _) = run(&["verify"]);
    assert!(ok && out.contains("verify: OK"), "{out}");
    let (ok, out, _) = run(&["migrate"]);
    assert!(ok && out.contains("up to date"), "{out}");
}
