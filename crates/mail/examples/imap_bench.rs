//! IMAP latency benchmark (ops/bench/mail/imap.sh): a steady stream of
//! messages APPENDed to a real Dovecot, and for each the time from the end of its APPEND
//! to the moment it is archived in loket. The mailbox polls with the production interval
//! (`poll_secs`, default 60 s), so a message missed by IDLE shows as a wait of a minute.
//!
//! Scenarios: `steady` (the stream alone), `dovecot-restart` (the server restarts in the
//! middle), `loket-restart` (the mail channel stops and starts in the middle),
//! `uidvalidity` (the mailbox is deleted and recreated in the middle).
//!
//! `cargo run --release -p loket-mail --example imap_bench -- [--messages 223]
//!   [--seconds 6] [--poll-secs 60] [--scenario steady|dovecot-restart|loket-restart|uidvalidity]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use loket_core::Channel;
use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "common/args.rs"]
mod args;
use args::arg;

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// Appends `n` messages over `seconds` with Python's imaplib (reconnecting when the
/// server goes away) and prints `index unix-time` after each APPEND completes.
const APPENDER: &str = r#"
import imaplib, sys, time
port, user, pw, n, secs = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
def connect():
    while True:
        try:
            m = imaplib.IMAP4('127.0.0.1', port); m.login(user, pw); return m
        except OSError:
            time.sleep(0.05)
m = connect()
start = time.time()
for i in range(n):
    due = start + i * secs / n
    if due > time.time(): time.sleep(due - time.time())
    raw = ("From: Burger <burger@burger.example>\r\nTo: info@gemeente.example\r\n"
           "Subject: Latentie %d\r\nMessage-ID: <lat-%d-%f@burger.example>\r\n\r\nBericht %d.\r\n" % (i, i, start, i)).encode()
    while True:
        try:
            t, d = m.append('INBOX', None, None, raw); assert t == 'OK', d; break
        except (imaplib.IMAP4.abort, OSError, imaplib.IMAP4.error):
            m = connect()
    print(i, time.time(), flush=True)
m.logout()
"#;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = arg("--messages", "223").parse().expect("--messages");
    let seconds: f64 = arg("--seconds", "6").parse().expect("--seconds");
    let poll: u64 = arg("--poll-secs", "60").parse().expect("--poll-secs");
    let scenario = arg("--scenario", "steady");

    let mut dovecot = Dovecot::start();
    let mut m = Mail::start_with(Db::Sqlite, None, |c| c.imap_poll_secs = poll).await;
    let mut setting = dovecot.mailbox_setting();
    setting["poll_secs"] = serde_json::json!(poll);
    m.store
        .set_channel_setting(
            m.tenant.id,
            Channel::Email,
            "imap_mailboxes",
            serde_json::json!([setting]),
        )
        .await
        .unwrap();
    // Warm up: the poller is connected and idle once this one is archived.
    dovecot.append(b"Subject: warm-up\r\n\r\nwarm-up\r\n");
    let warm = Instant::now();
    while m.messages().await.is_empty() {
        assert!(
            warm.elapsed() < Duration::from_secs(30),
            "poller did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let appended: Arc<Mutex<HashMap<usize, f64>>> = Arc::default();
    let mut child = Command::new(python())
        .arg("-c")
        .arg(APPENDER)
        .args([
            dovecot.port.to_string(),
            dovecot.user.clone(),
            dovecot.password.clone(),
            n.to_string(),
            seconds.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python appender");
    let stdout = child.stdout.take().expect("stdout");
    let log = appended.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.expect("line");
            let mut parts = line.split_whitespace();
            let i: usize = parts.next().and_then(|s| s.parse().ok()).expect("index");
            let t: f64 = parts.next().and_then(|s| s.parse().ok()).expect("time");
            log.lock().expect("lock").insert(i, t);
        }
    });

    let mut archived: HashMap<usize, f64> = HashMap::new();
    let mut disturbed = false;
    let deadline = Instant::now() + Duration::from_secs(seconds as u64 + poll * 2 + 60);
    while archived.len() < n && Instant::now() < deadline {
        if !disturbed && appended.lock().expect("lock").len() >= n / 2 {
            disturbed = true;
            match scenario.as_str() {
                "dovecot-restart" => dovecot.restart(),
                "loket-restart" => {
                    m.stop().await;
                    let (tx, rx) = tokio::sync::watch::channel(false);
                    m.shutdown = tx;
                    m.handles = Some(
                        loket_mail::spawn(m.store.clone(), m.cfg.clone(), rx)
                            .await
                            .expect("restart mail"),
                    );
                }
                "uidvalidity" => {
                    let maildir = dovecot.dir.path().join("home").join(&dovecot.user);
                    dovecot.stop();
                    let _ = std::fs::remove_dir_all(&maildir);
                    std::fs::create_dir_all(&maildir).expect("mkdir");
                    let _ = Command::new("chown")
                        .arg("mail:mail")
                        .arg(&maildir)
                        .status();
                    dovecot.restart();
                }
                _ => {}
            }
        }
        for msg in m.messages().await {
            let Some(i) = msg
                .subject
                .as_deref()
                .and_then(|s| s.strip_prefix("Latentie "))
                .and_then(|s| s.parse::<usize>().ok())
            else {
                continue;
            };
            archived.entry(i).or_insert_with(now);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.wait();
    let sent = appended.lock().expect("lock").clone();
    let mut lat: Vec<f64> = archived
        .iter()
        .filter_map(|(i, at)| sent.get(i).map(|s| (at - s).max(0.0)))
        .collect();
    lat.sort_by(f64::total_cmp);
    if lat.is_empty() {
        println!("imap {scenario}: nothing archived");
        return;
    }
    println!(
        "imap {scenario}: {} of {n} archived (poll {poll} s); APPEND -> archived p50 {:.2} s, p99 {:.2} s, max {:.2} s",
        archived.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat[lat.len() - 1],
    );
    m.stop().await;
}
