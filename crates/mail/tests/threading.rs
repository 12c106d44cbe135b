//! Threading and outbound: citizen → clerk reply through loket (lettre → aiosmtpd relay)
//! → citizen reply quoting it, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use loket_core::{DeliveryStatus, Direction, Message, MessageFlag, Outbound, Principal};
use std::time::Duration;

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next()?;
    let mut lines = head.split("\r\n").peekable();
    while let Some(l) = lines.next() {
        if let Some((n, v)) = l.split_once(':')
            && n.eq_ignore_ascii_case(name)
        {
            // Unfolded value is enough for our single-line headers.
            let mut v = v.trim().to_owned();
            while let Some(next) = lines.peek() {
                if next.starts_with(' ') || next.starts_with('\t') {
                    v.push(' ');
                    v.push_str(next.trim());
                    lines.next();
                } else {
                    break;
                }
            }
            return Some(Box::leak(v.into_boxed_str()));
        }
    }
    None
}

async fn wait_status(m: &Mail, id: loket_core::MessageId, want: DeliveryStatus) -> Message {
    let start = std::time::Instant::now();
    loop {
        let msg = m.store.message(m.tenant.id, id).await.unwrap().unwrap();
        if msg.status == Some(want) {
            return msg;
        }
        let failed = msg.status == Some(DeliveryStatus::Failed) && want != DeliveryStatus::Failed;
        if failed || start.elapsed() > Duration::from_secs(30) {
            let events = m.store.message_events(m.tenant.id, id).await.unwrap();
            panic!("status {want:?} not reached: {:?} {events:?}", msg.status);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn three_mail_thread(db: Db) {
    let relay = Relay::start();
    let m = Mail::start(db, Some(&relay)).await;

    // 1. The citizen writes.
    let first =
        b"From: Jan Jansen <jan@burger.example>\r\nTo: Gemeente <info@gemeente.example>\r\n\
Subject: Vraag over mijn paspoort\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <vraag-1@burger.example>\r\n\r\nWanneer kan ik mijn paspoort ophalen?\r\n";
    let r = m.send_bytes("jan@burger.example", &[INFO], first).await;
    assert_eq!(r["code"], 250, "{r}");
    let msgs = m.messages().await;
    assert_eq!(msgs.len(), 1);
    let conversation = msgs[0].conversation_id;

    // 2. The clerk replies through loket; the sender delivers it to the relay.
    let principal = Principal::system(m.tenant.id, "test-clerk");
    let reply = m
        .store
        .queue_outbound(
            &principal,
            conversation,
            Outbound::text("Beste Jan,\n\nU kunt het vanaf donderdag ophalen.\n\nGemeente A"),
        )
        .await
        .unwrap();
    let sent = wait_status(&m, reply.message_id, DeliveryStatus::Sent).await;
    let received = relay.received();
    assert_eq!(received.len(), 1);
    let (wire, envelope) = &received[0];
    assert_eq!(envelope["rcpt_tos"][0], "jan@burger.example");
    assert_eq!(envelope["mail_from"], INFO);
    let wire_text = String::from_utf8_lossy(wire).to_string();
    // Threading headers.
    let our_id = format!("<loket.{}@gemeente.example>", reply.message_id);
    assert_eq!(
        header(&wire_text, "Message-ID"),
        Some(our_id.as_str()),
        "{wire_text}"
    );
    assert_eq!(
        header(&wire_text, "In-Reply-To"),
        Some("<vraag-1@burger.example>")
    );
    assert_eq!(
        header(&wire_text, "References"),
        Some("<vraag-1@burger.example>")
    );
    let conv = m
        .store
        .conversation(m.tenant.id, conversation)
        .await
        .unwrap()
        .unwrap();
    let subject = header(&wire_text, "Subject").unwrap();
    assert!(subject.contains(&format!("[#{}]", conv.token)), "{subject}");
    assert!(
        subject.starts_with("Re: Vraag over mijn paspoort"),
        "{subject}"
    );
    assert!(
        wire_text.contains("multipart/alternative"),
        "text + HTML alternatives"
    );
    assert!(wire_text.contains("text/plain") && wire_text.contains("text/html"));
    // The archived outbound original equals what the relay received.
    let events = m
        .store
        .message_events(m.tenant.id, reply.message_id)
        .await
        .unwrap();
    let sent_event = events
        .iter()
        .find(|e| e.0 == DeliveryStatus::Sent)
        .expect("sent event");
    let sha = sent_event
        .2
        .clone()
        .expect("original archived with the sent event");
    assert_eq!(sha, loket_core::sha256_hex(wire));
    let archived = m.store.blob(m.tenant.id, &sha).await.unwrap().unwrap();
    assert_eq!(
        &archived, wire,
        "archived original == bytes the relay received"
    );
    assert_eq!(sent.direction, Direction::Outbound);

    // 3. The citizen answers from a normal client, quoting the reply (Subject has Re:).
    let third = format!(
        "From: Jan Jansen <jan@burger.example>\r\nTo: info@gemeente.example\r\nSubject: Re: {subject}\r\n\
Date: Tue, 24 Nov 2026 12:00:00 +0100\r\nMessage-ID: <vraag-2@burger.example>\r\n\
In-Reply-To: {our_id}\r\nReferences: <vraag-1@burger.example> {our_id}\r\n\r\n\
Dank u, dan kom ik donderdag.\r\n\r\nOp 24 nov 2026 schreef Gemeente A <info@gemeente.example>:\r\n> Beste Jan,\r\n> U kunt het vanaf donderdag ophalen.\r\n"
    );
    let r = m
        .send_bytes("jan@burger.example", &[INFO], third.as_bytes())
        .await;
    assert_eq!(r["code"], 250, "{r}");

    // 4. A new topic from the same citizen: a fresh mail …
    let new_topic = b"From: Jan Jansen <jan@burger.example>\r\nTo: info@gemeente.example\r\n\
Subject: Lantaarnpaal kapot in de Dorpsstraat\r\nDate: Wed, 25 Nov 2026 09:00:00 +0100\r\n\
Message-ID: <melding-1@burger.example>\r\n\r\nDe lantaarnpaal voor nummer 12 doet het niet.\r\n";
    let r = m.send_bytes("jan@burger.example", &[INFO], new_topic).await;
    assert_eq!(r["code"], 250, "{r}");
    // … and one written with the reply button but a new subject and nothing quoted.
    let reply_button_new_topic = format!(
        "From: Jan Jansen <jan@burger.example>\r\nTo: info@gemeente.example\r\n\
Subject: Parkeervergunning aanvragen\r\nDate: Wed, 25 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <vergunning-1@burger.example>\r\nIn-Reply-To: {our_id}\r\nReferences: {our_id}\r\n\r\n\
Hoe vraag ik een parkeervergunning aan?\r\n"
    );
    let r = m
        .send_bytes(
            "jan@burger.example",
            &[INFO],
            reply_button_new_topic.as_bytes(),
        )
        .await;
    assert_eq!(r["code"], 250, "{r}");

    let all = m.messages().await;
    assert_eq!(all.len(), 5);
    let in_thread: Vec<&Message> = all
        .iter()
        .filter(|x| x.conversation_id == conversation)
        .collect();
    assert_eq!(
        in_thread.len(),
        3,
        "citizen → clerk → citizen in one conversation"
    );
    let lantern = all
        .iter()
        .find(|x| x.rfc_message_id.as_deref() == Some("melding-1@burger.example"))
        .unwrap();
    let permit = all
        .iter()
        .find(|x| x.rfc_message_id.as_deref() == Some("vergunning-1@burger.example"))
        .unwrap();
    assert_ne!(
        lantern.conversation_id, conversation,
        "a new topic starts a new conversation"
    );
    assert_ne!(
        permit.conversation_id, conversation,
        "new subject, nothing quoted: new conversation"
    );
    assert_ne!(permit.conversation_id, lantern.conversation_id);
    // Only the one reply went out.
    assert_eq!(relay.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_mail_thread_one_conversation_new_topic_another_sqlite() {
    three_mail_thread(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_mail_thread_one_conversation_new_topic_another_postgres() {
    three_mail_thread(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_in_subject_or_plus_address_threads_without_headers() {
    let relay = Relay::start();
    let m = Mail::start(Db::Sqlite, Some(&relay)).await;
    let r = m
        .send_bytes("jan@burger.example", &[INFO], b"From: jan@burger.example\r\nSubject: Afval\r\nMessage-ID: <a1@b.example>\r\n\r\nWanneer wordt het opgehaald?\r\n")
        .await;
    assert_eq!(r["code"], 250);
    let conv = m.messages().await[0].conversation_id;
    let token = m
        .store
        .conversation(m.tenant.id, conv)
        .await
        .unwrap()
        .unwrap()
        .token;
    // A forwarded copy without In-Reply-To but with the token in the subject.
    let raw = format!(
        "From: jan@burger.example\r\nSubject: Fwd: Afval [#{token}]\r\n\r\nnog een vraag\r\n"
    );
    assert_eq!(
        m.send_bytes("jan@burger.example", &[INFO], raw.as_bytes())
            .await["code"],
        250
    );
    // Sent to the plus-address.
    let plus = format!("info+{token}@gemeente.example");
    assert_eq!(
        m.send_bytes(
            "jan@burger.example",
            &[&plus],
            b"From: jan@burger.example\r\nSubject: iets anders\r\n\r\nderde\r\n"
        )
        .await["code"],
        250
    );
    let all = m.messages().await;
    assert_eq!(all.len(), 3);
    assert!(
        all.iter().all(|x| x.conversation_id == conv),
        "token threads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_office_reply_archived_flagged_never_answered() {
    let relay = Relay::start();
    let m = Mail::start(Db::Sqlite, Some(&relay)).await;
    // swaks sends an Exchange-style out-of-office reply.
    let (ok, transcript) = swaks(
        m.addr,
        &[
            "--from",
            "<>",
            "--to",
            INFO,
            "--header",
            "From: Piet <piet@burger.example>",
            "--header",
            "Subject: Automatisch antwoord: Uw aanvraag",
            "--header",
            "Auto-Submitted: auto-replied",
            "--header",
            "X-Auto-Response-Suppress: All",
            "--body",
            "Ik ben tot 1 december afwezig.",
        ],
    )
    .await;
    assert!(ok, "{transcript}");
    // A DSN (bounce) as well.
    let dsn = b"From: MAILER-DAEMON@mx.burger.example\r\nTo: info@gemeente.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.burger.example\r\n\r\nFinal-Recipient: rfc822; x@burger.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n";
    assert_eq!(m.send_bytes("", &[INFO], dsn).await["code"], 250);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = m.messages().await;
    assert_eq!(all.len(), 2);
    let ooo = all
        .iter()
        .find(|x| x.from.address == "piet@burger.example")
        .unwrap();
    assert!(ooo.has_flag(MessageFlag::AutoReply), "{:?}", ooo.flags);
    assert!(!m.raw(ooo.id).await.is_empty(), "archived");
    let bounce = all
        .iter()
        .find(|x| x.from.address.starts_with("MAILER-DAEMON"))
        .unwrap();
    assert!(bounce.has_flag(MessageFlag::Bounce), "{:?}", bounce.flags);
    // Nothing was answered: no outbound message, nothing at the relay.
    assert!(all.iter().all(|x| x.direction == Direction::Inbound));
    assert!(relay.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_failures_visible_and_never_to_own_address() {
    let relay = Relay::start();
    let m = Mail::start(Db::Sqlite, Some(&relay)).await;
    let principal = Principal::system(m.tenant.id, "test-clerk");
    let r = m
        .send_bytes(
            "jan@burger.example",
            &[INFO],
            b"From: jan@burger.example\r\nSubject: x\r\n\r\nvraag\r\n",
        )
        .await;
    assert_eq!(r["code"], 250);
    let conv = m.messages().await[0].conversation_id;
    // Permanent failure at the relay (550): failed, visible with the reason.
    let mut out = Outbound::text("antwoord");
    out.to = Some(loket_core::Address::new("fail-perm@burger.example"));
    let q = m.store.queue_outbound(&principal, conv, out).await.unwrap();
    let msg = wait_status(&m, q.message_id, DeliveryStatus::Failed).await;
    assert_eq!(msg.status, Some(DeliveryStatus::Failed));
    let events = m
        .store
        .message_events(m.tenant.id, q.message_id)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.0 == DeliveryStatus::Failed && e.1.as_deref().unwrap_or("").contains("550")),
        "{events:?}"
    );
    // Temporary failures: retried with backoff, then failed.
    let mut out = Outbound::text("antwoord");
    out.to = Some(loket_core::Address::new("fail-temp@burger.example"));
    let q = m.store.queue_outbound(&principal, conv, out).await.unwrap();
    wait_status(&m, q.message_id, DeliveryStatus::Failed).await;
    let events = m
        .store
        .message_events(m.tenant.id, q.message_id)
        .await
        .unwrap();
    let retries = events
        .iter()
        .filter(|e| e.0 == DeliveryStatus::Retrying)
        .count();
    assert_eq!(retries, 2, "{events:?}");
    // Never to the tenant's own address (mail loop).
    let mut out = Outbound::text("antwoord");
    out.to = Some(loket_core::Address::new("info+X@gemeente.example"));
    let q = m.store.queue_outbound(&principal, conv, out).await.unwrap();
    wait_status(&m, q.message_id, DeliveryStatus::Failed).await;
    assert!(relay.received().is_empty(), "nothing reached the relay");
    // Internal notes are never sent.
    let mut note = Outbound::text("interne notitie");
    note.internal_note = true;
    let n = m
        .store
        .queue_outbound(&principal, conv, note)
        .await
        .unwrap();
    let ok = m
        .store
        .queue_outbound(&principal, conv, Outbound::text("echt antwoord"))
        .await
        .unwrap();
    wait_status(&m, ok.message_id, DeliveryStatus::Sent).await;
    assert_eq!(relay.received().len(), 1);
    let note_msg = m
        .store
        .message(m.tenant.id, n.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(note_msg.status, Some(DeliveryStatus::Sent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_survives_restart_without_resending() {
    let relay = Relay::start();
    let mut m = Mail::start(Db::Sqlite, Some(&relay)).await;
    let principal = Principal::system(m.tenant.id, "test-clerk");
    let r = m
        .send_bytes(
            "jan@burger.example",
            &[INFO],
            b"From: jan@burger.example\r\nSubject: x\r\n\r\nvraag\r\n",
        )
        .await;
    assert_eq!(r["code"], 250);
    let conv = m.messages().await[0].conversation_id;
    let a = m
        .store
        .queue_outbound(&principal, conv, Outbound::text("een"))
        .await
        .unwrap();
    wait_status(&m, a.message_id, DeliveryStatus::Sent).await;
    m.stop().await;
    // Queued while the sender is down; sent after the restart, the first one not again.
    let b = m
        .store
        .queue_outbound(&principal, conv, Outbound::text("twee"))
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handles = loket_mail::spawn(m.store.clone(), m.cfg.clone(), rx)
        .await
        .unwrap();
    wait_status(&m, b.message_id, DeliveryStatus::Sent).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(relay.received().len(), 2);
    let _ = tx.send(true);
    handles.join().await;
}

/// A loket whose relay is `relay` (AUTH as loket / relay-geheim, `tls` towards it), with
/// one inbound mail from jan@burger.example; returns it and that mail's conversation.
async fn mail_with_secure_relay(
    relay: &Relay,
    tls: loket_mail::TlsMode,
    certdir: &tempfile::TempDir,
    ca: std::path::PathBuf,
) -> (Mail, loket_core::ConversationId) {
    let pw = certdir.path().join("relay-password");
    std::fs::write(&pw, "relay-geheim\n").unwrap();
    let port = relay.port;
    let m = Mail::start_with(Db::Sqlite, None, move |cfg| {
        cfg.relay = Some(loket_mail::RelayConfig {
            host: "127.0.0.1".into(),
            port,
            tls,
            username: Some("loket".into()),
            password_file: Some(pw),
            tls_ca_file: Some(ca),
            retry_base_secs: 1,
            max_attempts: 2,
            ..loket_mail::RelayConfig::default()
        });
    })
    .await;
    let r = m
        .send_bytes(
            "jan@burger.example",
            &[INFO],
            b"From: jan@burger.example\r\nSubject: Vraag\r\n\r\nvraag\r\n",
        )
        .await;
    assert_eq!(r["code"], 250);
    let conv = m.messages().await[0].conversation_id;
    (m, conv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_through_relay_with_starttls_and_auth() {
    let (certdir, ca_pem, cert, key) = test_certificates();
    let relay = Relay::start_secure(&cert, &key, "loket", "relay-geheim");
    let (m, conv) =
        mail_with_secure_relay(&relay, loket_mail::TlsMode::Starttls, &certdir, ca_pem).await;
    let principal = Principal::system(m.tenant.id, "test-clerk");
    let mut out = Outbound::text("antwoord, met de brief als bijlage");
    out.attachments.push(loket_core::NewAttachment {
        filename: Some("besluit.pdf".into()),
        content_type: "application/pdf".into(),
        content_id: None,
        data: b"%PDF-1.4\n% besluit\n".to_vec(),
    });
    let q = m.store.queue_outbound(&principal, conv, out).await.unwrap();
    wait_status(&m, q.message_id, DeliveryStatus::Sent).await;
    let received = relay.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1["rcpt_tos"][0], "jan@burger.example");
    // The attachment travelled with the reply.
    let parsed = loket_mail::parse_email(received[0].0.clone(), &loket_mail::Envelope::default());
    let att = &parsed.inbound.attachments;
    assert_eq!(att.len(), 1, "{att:?}");
    assert_eq!(att[0].filename.as_deref(), Some("besluit.pdf"));
    assert_eq!(att[0].data, b"%PDF-1.4\n% besluit\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_through_relay_with_implicit_tls_and_auth() {
    let (certdir, ca_pem, cert, key) = test_certificates();
    let relay = Relay::start_implicit_tls(&cert, &key, "loket", "relay-geheim");
    let (m, conv) =
        mail_with_secure_relay(&relay, loket_mail::TlsMode::Implicit, &certdir, ca_pem).await;
    let principal = Principal::system(m.tenant.id, "test-clerk");
    let q = m
        .store
        .queue_outbound(&principal, conv, Outbound::text("antwoord over TLS"))
        .await
        .unwrap();
    wait_status(&m, q.message_id, DeliveryStatus::Sent).await;
    let received = relay.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1["rcpt_tos"][0], "jan@burger.example");
    let text = String::from_utf8_lossy(&received[0].0).into_owned();
    assert!(text.contains("antwoord over TLS"), "{text}");
}
