//! SMTP receiver against real clients (Python smtplib, swaks, a raw socket) and a real
//! store (file-backed SQLite and PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use loket_core::{Channel, MessageFlag};
use std::time::{Duration, Instant};

const SIMPLE: &[u8] = b"From: Jan Jansen <jan@burger.example>\r\nTo: info@gemeente.example\r\n\
Subject: Vraag over mijn paspoort\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <vraag-1@burger.example>\r\n\r\nGoedemorgen,\r\n\r\nWanneer kan ik mijn paspoort ophalen?\r\n..\r\nJan\r\n";

async fn accepts_and_archives_byte_exact(db: Db) {
    let m = Mail::start(db, None).await;
    let r = m.send_bytes("jan@burger.example", &[INFO], SIMPLE).await;
    assert_eq!(r["code"], 250, "{r}");
    // The 250 came after the commit: the message is readable at once.
    let msgs = m.messages().await;
    assert_eq!(msgs.len(), 1);
    let msg = &msgs[0];
    assert_eq!(msg.channel, Channel::Email);
    assert_eq!(msg.from.address, "jan@burger.example");
    assert_eq!(msg.subject.as_deref(), Some("Vraag over mijn paspoort"));
    assert!(msg.text.contains("Wanneer kan ik mijn paspoort ophalen?"));
    assert_eq!(msg.raw_content_type, "message/rfc822");
    assert_eq!(m.raw(msg.id).await, SIMPLE, "raw archived byte-exact");
    assert_eq!(msg.raw_sha256, loket_core::sha256_hex(SIMPLE));
    assert!(r["reply"].as_str().unwrap().contains(&msg.id.to_string()));
    // The same bytes again: acknowledged, not stored twice (key = SHA-256 of raw).
    let r = m.send_bytes("jan@burger.example", &[INFO], SIMPLE).await;
    assert_eq!(r["code"], 250, "{r}");
    assert_eq!(m.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_accepts_and_archives_byte_exact_sqlite() {
    accepts_and_archives_byte_exact(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_accepts_and_archives_byte_exact_postgres() {
    accepts_and_archives_byte_exact(Db::Postgres).await;
}

/// `250` only after the durable commit: while another session holds a lock on the
/// messages table, the client waits; the moment the lock goes, the 250 comes and the
/// message is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_250_only_after_commit_postgres() {
    let m = Mail::start(Db::Postgres, None).await;
    let url = m.db.url.clone();
    // Hold an exclusive lock for 2 s in a separate psql process.
    let mut locker = std::process::Command::new("psql")
        .arg(&url)
        .args(["-v", "ON_ERROR_STOP=1", "-c"])
        .arg("BEGIN; LOCK TABLE messages IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT;")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    // Wait until the lock is really held.
    let start = Instant::now();
    loop {
        let out = std::process::Command::new("psql")
            .arg(&url)
            .args(["-tAc", "SELECT count(*) FROM pg_locks WHERE relation = 'messages'::regclass AND mode = 'AccessExclusiveLock' AND granted"])
            .output()
            .expect("psql");
        if String::from_utf8_lossy(&out.stdout).trim() == "1" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "lock not taken");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut c = Raw::connect(m.addr).await;
    c.begin("jan@burger.example", &[INFO]).await;
    let started = Instant::now();
    c.send(&dot_stuff(SIMPLE)).await;
    let reply = c.reply().await;
    let waited = started.elapsed();
    let st = tokio::task::spawn_blocking(move || locker.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(st.success(), "psql lock holder failed");
    assert!(reply.starts_with("250"), "{reply}");
    assert!(
        waited >= Duration::from_millis(1000),
        "250 came before the commit could happen: {waited:?}"
    );
    assert_eq!(m.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_foreign_recipient_550_nothing_stored() {
    let m = Mail::start(Db::Sqlite, None).await;
    // swaks as the client: relaying to another domain is refused.
    let (ok, transcript) = swaks(
        m.addr,
        &[
            "--from",
            "spam@spammer.example",
            "--to",
            "victim@other.example",
        ],
    )
    .await;
    assert!(!ok, "{transcript}");
    assert!(transcript.contains("550"), "{transcript}");
    // Even with our own domain as sender.
    let (ok, transcript) = swaks(m.addr, &["--from", INFO, "--to", "someone@other.example"]).await;
    assert!(!ok);
    assert!(transcript.contains("550 5.7.1"), "{transcript}");
    // Look-alike domains are not ours either.
    let r = m
        .send_bytes(
            "a@b.example",
            &["info@gemeente.example.evil.example"],
            SIMPLE,
        )
        .await;
    assert_eq!(r["code"], 550, "{r}");
    assert_eq!(r["stage"], "rcpt");
    assert!(m.messages().await.is_empty(), "nothing stored");
    // The server keeps serving.
    let (ok, transcript) = swaks(m.addr, &["--from", "jan@burger.example", "--to", INFO]).await;
    assert!(ok, "{transcript}");
    assert_eq!(m.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_several_recipients_one_tenant_one_message() {
    let m = Mail::start(Db::Sqlite, None).await;
    let second = m
        .store
        .create_tenant("gemeente-b", "Gemeente B")
        .await
        .unwrap();
    m.store
        .set_channel_setting(
            second.id,
            Channel::Email,
            "addresses",
            serde_json::json!(["post@andere-gemeente.example"]),
        )
        .await
        .unwrap();
    let r = m
        .send_bytes(
            "jan@burger.example",
            &[
                INFO,
                "info+ABCDEF@gemeente.example",
                "wmo@gemeente.example",
                "post@andere-gemeente.example",
            ],
            SIMPLE,
        )
        .await;
    assert_eq!(r["code"], 250, "{r}");
    assert_eq!(
        m.messages().await.len(),
        1,
        "three recipients of tenant A: one message"
    );
    let b = messages(&m.store, second.id).await;
    assert_eq!(b.len(), 1, "tenant B gets its own copy");
    assert_eq!(
        m.store
            .raw_original(second.id, b[0].id)
            .await
            .unwrap()
            .unwrap(),
        SIMPLE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_size_limit_552_and_keeps_serving() {
    let m = Mail::start(Db::Sqlite, None).await;
    // Advertised.
    let mut c = Raw::connect(m.addr).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(
        ehlo.contains(&format!("SIZE {}", 25 * 1024 * 1024)),
        "{ehlo}"
    );
    // Declared too large: refused at MAIL.
    let r = c.cmd("MAIL FROM:<jan@burger.example> SIZE=31457280").await;
    assert!(r.starts_with("552"), "{r}");
    drop(c);
    // Not declared: a 30 MB mail is read to its end and refused with 552.
    let mut big = Vec::with_capacity(31 * 1024 * 1024);
    big.extend_from_slice(
        b"From: jan@burger.example\r\nTo: info@gemeente.example\r\nSubject: groot\r\n\r\n",
    );
    let line = [b'x'; 998];
    while big.len() < 30 * 1024 * 1024 {
        big.extend_from_slice(&line);
        big.extend_from_slice(b"\r\n");
    }
    let r = m.send_bytes("jan@burger.example", &[INFO], &big).await;
    assert_eq!(r["code"], 552, "{r}");
    assert!(m.messages().await.is_empty());
    let r = m.send_bytes("jan@burger.example", &[INFO], SIMPLE).await;
    assert_eq!(r["code"], 250, "{r}");
    assert_eq!(m.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_disconnect_mid_data_stores_nothing() {
    let m = Mail::start(Db::Sqlite, None).await;
    let mut c = Raw::connect(m.addr).await;
    c.begin("jan@burger.example", &[INFO]).await;
    c.send(b"From: jan@burger.example\r\nSubject: afgebroken\r\n\r\nhalf")
        .await;
    drop(c);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(m.messages().await.is_empty(), "nothing half-stored");
    // A dropped connection does not hurt the next one.
    let r = m.send_bytes("jan@burger.example", &[INFO], SIMPLE).await;
    assert_eq!(r["code"], 250, "{r}");
    assert_eq!(m.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_bad_input_archived_byte_exact() {
    let m = Mail::start(Db::Sqlite, None).await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bare LF", b"From: jan@burger.example\nSubject: unix\n\nregel 1\nregel 2\r\nslot\n.\n".to_vec()),
        (
            "8-bit headers",
            b"From: J\xe9r\xf4me <jerome@burger.example>\r\nSubject: caf\xe9 \xff\r\n\r\nbody\r\n".to_vec(),
        ),
        ("missing headers", b"alleen tekst, geen kopregels\r\n".to_vec()),
        (
            "broken MIME",
            b"From: jan@burger.example\r\nContent-Type: multipart/mixed; boundary=\"nooit\"\r\n\
              Content-Transfer-Encoding: base64\r\n\r\n--anders\r\nContent-Type: text/plain\r\n\r\n!!!niet base64!!!\r\n"
                .to_vec(),
        ),
        ("binary junk", (0u8..=255).chain(b"\r\n".iter().copied()).collect()),
        ("empty", Vec::new()),
    ];
    for (name, raw) in &cases {
        let mut c = Raw::connect(m.addr).await;
        c.begin("jan@burger.example", &[INFO]).await;
        c.send(&dot_stuff(raw)).await;
        let r = c.reply().await;
        assert!(r.starts_with("250"), "{name}: {r}");
        let _ = c.cmd("QUIT").await;
    }
    let msgs = m.messages().await;
    assert_eq!(msgs.len(), cases.len());
    for (name, raw) in &cases {
        let mut expected = raw.clone();
        if !expected.ends_with(b"\r\n") {
            expected.extend_from_slice(b"\r\n");
        }
        let sha = loket_core::sha256_hex(&expected);
        let msg = msgs
            .iter()
            .find(|x| x.raw_sha256 == sha)
            .unwrap_or_else(|| panic!("{name} archived byte-exact"));
        assert_eq!(m.raw(msg.id).await, expected, "{name}");
        assert!(!msg.from.address.is_empty(), "{name}: sender");
        assert!(!msg.text.is_empty(), "{name}: text");
    }
    let by = |name: &str| {
        let (_, raw) = cases.iter().find(|(n, _)| *n == name).unwrap();
        let mut e = raw.clone();
        if !e.ends_with(b"\r\n") {
            e.extend_from_slice(b"\r\n");
        }
        let sha = loket_core::sha256_hex(&e);
        msgs.iter().find(|x| x.raw_sha256 == sha).unwrap().clone()
    };
    assert!(by("8-bit headers").has_flag(MessageFlag::ParseWarning));
    assert_eq!(by("8-bit headers").from.address, "jerome@burger.example");
    assert!(by("missing headers").has_flag(MessageFlag::ParseWarning));
    assert_eq!(
        by("missing headers").from.address,
        "jan@burger.example",
        "envelope sender"
    );
    assert!(by("binary junk").has_flag(MessageFlag::ParseWarning));
    assert!(by("bare LF").text.contains("regel 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_protocol_state_machine() {
    let m = Mail::start(Db::Sqlite, None).await;
    let mut c = Raw::connect(m.addr).await;
    assert!(
        c.cmd("MAIL FROM:<a@b.example>").await.starts_with("503"),
        "EHLO first"
    );
    assert!(c.cmd("HELO client.example").await.starts_with("250"));
    assert!(
        c.cmd("RCPT TO:<info@gemeente.example>")
            .await
            .starts_with("503"),
        "MAIL first"
    );
    assert!(c.cmd("DATA").await.starts_with("503"));
    assert!(c.cmd("MAIL FROM:<a@b.example>").await.starts_with("250"));
    assert!(
        c.cmd("MAIL FROM:<a@b.example>").await.starts_with("503"),
        "nested MAIL"
    );
    assert!(c.cmd("DATA").await.starts_with("554"), "no recipients");
    assert!(c.cmd("RSET").await.starts_with("250"));
    assert!(c.cmd("NOOP").await.starts_with("250"));
    assert!(c.cmd("BLAH").await.starts_with("500"));
    assert!(
        c.cmd("STARTTLS").await.starts_with("502"),
        "no certificate configured"
    );
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("STARTTLS"));
    assert!(ehlo.contains("PIPELINING") && ehlo.contains("8BITMIME"));
    // Pipelined transaction.
    c.send(b"MAIL FROM:<jan@burger.example>\r\nRCPT TO:<info@gemeente.example>\r\nDATA\r\n")
        .await;
    assert!(c.reply().await.starts_with("250"));
    assert!(c.reply().await.starts_with("250"));
    assert!(c.reply().await.starts_with("354"));
    c.send(&dot_stuff(SIMPLE)).await;
    assert!(c.reply().await.starts_with("250"));
    assert!(c.cmd("QUIT").await.starts_with("221"));
    assert_eq!(m.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_starttls_with_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let st = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=mx.gemeente.example",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(st.success());
    let (c2, k2) = (cert.clone(), key.clone());
    let m = Mail::start_with(Db::Sqlite, None, move |cfg| {
        cfg.tls_cert_file = Some(c2);
        cfg.tls_key_file = Some(k2);
    })
    .await;
    let mut raw = Raw::connect(m.addr).await;
    assert!(raw.cmd("EHLO x").await.contains("STARTTLS"));
    drop(raw);
    let dir2 = tempfile::tempdir().unwrap();
    let p = dir2.path().join("m.eml");
    std::fs::write(&p, SIMPLE).unwrap();
    let r = send_files(m.addr, "jan@burger.example", &[INFO], &[p], true).await;
    assert_eq!(r[0]["code"], 250, "{r:?}");
    let msgs = m.messages().await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(m.raw(msgs[0].id).await, SIMPLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_attachments_and_inline_images_stored_content_addressed() {
    let m = Mail::start(Db::Sqlite, None).await;
    let raw = b"From: jan@burger.example\r\nTo: info@gemeente.example\r\nSubject: foto en brief\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\
Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>Zie de foto van het gat in de stoep =E9 <img src=3D\"cid:foto1\"></p>\r\n\
--r\r\nContent-Type: image/png\r\nContent-ID: <foto1>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n\
--m\r\nContent-Type: application/pdf; name=\"brief.pdf\"\r\nContent-Disposition: attachment; filename=\"brief.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--m--\r\n";
    assert_eq!(
        m.send_bytes("jan@burger.example", &[INFO], raw).await["code"],
        250
    );
    let msgs = m.messages().await;
    assert_eq!(msgs.len(), 1);
    let msg = &msgs[0];
    assert!(
        msg.text.contains("Zie de foto van het gat in de stoep é"),
        "{}",
        msg.text
    );
    assert!(msg.html.as_deref().unwrap_or("").contains("cid:foto1"));
    assert_eq!(msg.attachments.len(), 2, "{:?}", msg.attachments);
    let img = msg
        .attachments
        .iter()
        .find(|a| a.content_type == "image/png")
        .unwrap();
    assert_eq!(img.content_id.as_deref(), Some("foto1"));
    let png = b"\x89PNG\r\n\x1a\n";
    assert_eq!(img.sha256, loket_core::sha256_hex(png));
    assert_eq!(
        m.store
            .blob(m.tenant.id, &img.sha256)
            .await
            .unwrap()
            .unwrap(),
        png
    );
    let pdf = msg
        .attachments
        .iter()
        .find(|a| a.content_type == "application/pdf")
        .unwrap();
    assert_eq!(pdf.filename.as_deref(), Some("brief.pdf"));
    assert_eq!(
        m.store
            .blob(m.tenant.id, &pdf.sha256)
            .await
            .unwrap()
            .unwrap(),
        b"%PDF-1.4\n"
    );
}
