#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! One threading rule for every path an email arrives by: the same mails, handed in over
//! the HTTP API (`POST /api/v1/messages` with the original) and over SMTP (the real
//! listener), fall into the same conversations — In-Reply-To/References, loket's own
//! outbound Message-IDs, the token in the subject or plus-address, and the new-topic split.

use base64::Engine;
use loket_core::thread::outbound_message_id;
use loket_core::{Channel, ConversationId, Outbound, Principal, Role, TenantId};
use loket_server::testing::{TestDb, settings_for, spawn_app};
use loket_store::{Store, on_both};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

const HTTP_DOMAIN: &str = "http.example";
const SMTP_DOMAIN: &str = "smtp.example";
const CITIZEN: &str = "jan@burger.example";

struct Paths {
    store: Store,
    base: String,
    token: String,
    http_tenant: TenantId,
    smtp_tenant: TenantId,
    smtp: SocketAddr,
    _running: loket_server::Running,
    _mail: loket_mail::MailHandles,
    _shutdown: watch::Sender<bool>,
    /// Kept to the end: dropping it drops the test database.
    _db: TestDb,
}

/// The app (HTTP) and the mail channel (SMTP) over one store; one tenant per path.
async fn paths(db: TestDb) -> Paths {
    let store = db.store.clone();
    let http = store.create_tenant("over-http", "Over HTTP").await.unwrap();
    let smtp = store.create_tenant("over-smtp", "Over SMTP").await.unwrap();
    for (key, value) in [
        ("addresses", json!([format!("info@{SMTP_DOMAIN}")])),
        ("domains", json!([SMTP_DOMAIN])),
    ] {
        store
            .set_channel_setting(smtp.id, Channel::Email, key, value)
            .await
            .unwrap();
    }
    let token = store
        .create_token(http.id, "relay", Role::Clerk)
        .await
        .unwrap()
        .secret;
    let running = spawn_app(&db, settings_for(&db).unwrap(), false)
        .await
        .unwrap();
    let (shutdown, rx) = watch::channel(false);
    let cfg = loket_mail::MailConfig {
        bind: "127.0.0.1:0".into(),
        hostname: "mx.smtp.example".into(),
        ..loket_mail::MailConfig::default()
    };
    let mail = loket_mail::spawn(store.clone(), cfg, rx).await.unwrap();
    Paths {
        base: running.base.clone(),
        smtp: mail.smtp_local_addr().unwrap(),
        store,
        token,
        http_tenant: http.id,
        smtp_tenant: smtp.id,
        _running: running.running,
        _mail: mail,
        _shutdown: shutdown,
        _db: db,
    }
}

/// One email, as its headers and text.
struct Mail {
    to: String,
    subject: String,
    headers: String,
    text: String,
}

impl Mail {
    fn raw(&self) -> Vec<u8> {
        format!(
            "From: Jan <{CITIZEN}>\r\nTo: {}\r\nSubject: {}\r\n{}\r\n{}\r\n",
            self.to, self.subject, self.headers, self.text
        )
        .into_bytes()
    }
}

fn mail(to: &str, subject: &str, headers: &[&str], text: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        headers: headers.iter().map(|h| format!("{h}\r\n")).collect(),
        text: text.replace('\n', "\r\n"),
    }
}

async fn over_http(p: &Paths, m: &Mail) -> ConversationId {
    let body = json!({
        "channel": "email",
        "from": {"address": CITIZEN, "name": "Jan"},
        "to": [{"address": m.to}],
        "subject": m.subject,
        "text": m.text,
        "raw_base64": base64::engine::general_purpose::STANDARD.encode(m.raw()),
        "raw_content_type": "message/rfc822",
    });
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/messages", p.base))
        .bearer_auth(&p.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["conversation_id"].as_str().unwrap().parse().unwrap()
}

/// Answer lines of one SMTP reply (`250-…` continues, `250 …` ends it).
async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return line;
        }
    }
}

async fn over_smtp(p: &Paths, m: &Mail) -> ConversationId {
    let (read, mut write) = TcpStream::connect(p.smtp).await.unwrap().into_split();
    let mut read = BufReader::new(read);
    assert!(reply(&mut read).await.starts_with("220"));
    let data = m.raw();
    for (cmd, want) in [
        ("EHLO burger.example\r\n".to_owned(), "250"),
        (format!("MAIL FROM:<{CITIZEN}>\r\n"), "250"),
        (format!("RCPT TO:<{}>\r\n", m.to), "250"),
        ("DATA\r\n".to_owned(), "354"),
    ] {
        write.write_all(cmd.as_bytes()).await.unwrap();
        let answer = reply(&mut read).await;
        assert!(answer.starts_with(want), "{cmd} → {answer}");
    }
    write.write_all(&data).await.unwrap();
    write.write_all(b".\r\n").await.unwrap();
    let answer = reply(&mut read).await;
    assert!(answer.starts_with("250"), "{answer}");
    write.write_all(b"QUIT\r\n").await.unwrap();
    // 250 comes after the commit: the newest message is this one.
    let ids = p
        .store
        .message_ids_page(p.smtp_tenant, None, 1000)
        .await
        .unwrap();
    let newest = p
        .store
        .message(p.smtp_tenant, *ids.last().unwrap())
        .await
        .unwrap()
        .unwrap();
    newest.conversation_id
}

/// The same story on one path; returns the conversation of every mail, in order.
async fn story(p: &Paths, tenant: TenantId, domain: &str, http: bool) -> Vec<ConversationId> {
    let info = format!("info@{domain}");
    let send = |m: Mail| async move {
        if http {
            over_http(p, &m).await
        } else {
            over_smtp(p, &m).await
        }
    };
    let mut out = Vec::new();
    // 1. A question: a new conversation (A).
    out.push(
        send(mail(
            &info,
            "Vraag over mijn paspoort",
            &["Message-ID: <q1@burger.example>"],
            "Wanneer kan ik het ophalen?",
        ))
        .await,
    );
    let a = out[0];
    // 2. A reply quoting it: A.
    out.push(
        send(mail(
            &info,
            "Re: Vraag over mijn paspoort",
            &[
                "Message-ID: <q2@burger.example>",
                "In-Reply-To: <q1@burger.example>",
                "References: <q1@burger.example>",
            ],
            "> Wanneer kan ik het ophalen?\nEn mag mijn zoon het halen?",
        ))
        .await,
    );
    // 3. The reply button, a new subject, nothing quoted: a new topic (B).
    out.push(
        send(mail(
            &info,
            "Parkeervergunning",
            &[
                "Message-ID: <q3@burger.example>",
                "In-Reply-To: <q2@burger.example>",
            ],
            "Ik wil een parkeervergunning aanvragen.",
        ))
        .await,
    );
    let b = out[2];
    // 4. The same subject without a prefix: A.
    out.push(
        send(mail(
            &info,
            "vraag over mijn paspoort",
            &["In-Reply-To: <q1@burger.example>"],
            "Nog een detail.",
        ))
        .await,
    );
    let token = |c: ConversationId| {
        let store = p.store.clone();
        async move { store.conversation(tenant, c).await.unwrap().unwrap().token }
    };
    let (token_a, token_b) = (token(a).await, token(b).await);
    // 5. Only the token in the subject: A.
    out.push(
        send(mail(
            &info,
            &format!("Fwd: nog een vraag [#{token_a}]"),
            &[],
            "Doorgestuurd.",
        ))
        .await,
    );
    // 6. Headers name B, the token A, a fresh subject: the headers' conversation, and the
    //    token keeps it from being split off.
    out.push(
        send(mail(
            &info,
            &format!("Iets heel anders [#{token_a}]"),
            &["In-Reply-To: <q3@burger.example>"],
            "Zonder citaat.",
        ))
        .await,
    );
    // 7. A reply to the clerk's outbound mail (loket's own Message-ID): A; and 8. the same
    //    header with a fresh subject and nothing quoted: a new topic (C).
    let reply = p
        .store
        .queue_outbound(
            &Principal::system(tenant, "test-clerk"),
            a,
            Outbound::text("U kunt het donderdag ophalen."),
        )
        .await
        .unwrap();
    let loket_id = format!(
        "In-Reply-To: <{}>",
        outbound_message_id(reply.message_id, domain)
    );
    out.push(
        send(mail(
            &info,
            "Re: Vraag over mijn paspoort",
            &[&loket_id],
            "Dank u.",
        ))
        .await,
    );
    out.push(
        send(mail(
            &info,
            "Afval ophalen",
            &[&loket_id],
            "Wanneer komt de wagen?",
        ))
        .await,
    );
    // 9. References to nothing of the tenant: a new conversation (D).
    out.push(
        send(mail(
            &info,
            "Re: iets",
            &["References: <onbekend@elders.example>"],
            "Hallo.",
        ))
        .await,
    );
    // 10. The token in the plus-address only: B.
    out.push(
        send(mail(
            &format!("info+{token_b}@{domain}"),
            "zonder kenmerk",
            &[],
            "Via het plus-adres.",
        ))
        .await,
    );
    out
}

/// Conversations as letters in order of first appearance: [A, A, B, …].
fn shape(conversations: &[ConversationId]) -> Vec<char> {
    let mut names: HashMap<ConversationId, char> = HashMap::new();
    conversations
        .iter()
        .map(|c| {
            let next = (b'A' + names.len() as u8) as char;
            *names.entry(*c).or_insert(next)
        })
        .collect()
}

on_both!(the_same_email_threads_the_same_over_http_and_smtp, paths => |p: Paths| async move {
    let http = story(&p, p.http_tenant, HTTP_DOMAIN, true).await;
    let smtp = story(&p, p.smtp_tenant, SMTP_DOMAIN, false).await;
    let expected: Vec<char> = "AABAABACDB".chars().collect();
    assert_eq!(shape(&smtp), expected, "over SMTP");
    assert_eq!(shape(&http), expected, "over HTTP");
});
