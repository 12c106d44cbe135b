//! The web chat protocol against a real server on a random port and a real file-backed
//! store: bad input is refused clearly, nothing is stored half, everyone else is served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/rawws.rs"]
mod rawws;

use loket_core::{DeliveryStatus, Outbound, Principal};
use loket_store::testing::TestDb;
use loket_webchat::WebchatConfig;
use rawws::RawWs;
use serde_json::json;
use std::time::{Duration, Instant};

struct Env {
    db: TestDb,
    tenant: loket_core::Tenant,
    server: common::Running,
}

impl Env {
    async fn new(cfg: WebchatConfig) -> Env {
        Self::on(TestDb::sqlite().await.unwrap(), cfg).await
    }

    async fn on(db: TestDb, cfg: WebchatConfig) -> Env {
        let tenant = db
            .store
            .create_tenant("gemeente", "Gemeente Test")
            .await
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = common::start(listener, db.store.clone(), tenant.id, cfg).unwrap();
        Env { db, tenant, server }
    }

    async fn ws(&self) -> RawWs {
        RawWs::connect(self.server.port, "/webchat/v1/ws?tenant=gemeente").await
    }

    async fn hello(&self, secret: &str) -> (RawWs, serde_json::Value) {
        let mut ws = self.ws().await;
        ws.send_text(&json!({"type": "hello", "session": secret}).to_string())
            .await;
        let welcome = ws.json().await;
        assert_eq!(welcome["type"], "welcome");
        (ws, welcome)
    }

    async fn count(&self) -> i64 {
        self.db.store.message_count(self.tenant.id).await.unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.server.port)
    }
}

fn secret(c: char) -> String {
    std::iter::repeat_n(c, 43).collect()
}

fn msg(id: &str, text: &str) -> String {
    json!({"type": "message", "id": id, "text": text}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_is_stored_once_after_commit_with_its_exact_frame() {
    for db in TestDb::each().await.unwrap() {
        let env = Env::on(db, WebchatConfig::default()).await;
        let (mut ws, welcome) = env.hello(&secret('a')).await;
        assert_eq!(welcome["conversation_id"], serde_json::Value::Null);
        assert_eq!(welcome["limits"]["max_text_chars"], 4000);
        let frame = msg("c-1", "Mijn container is niet geleegd");
        ws.send_text(&frame).await;
        let stored = ws.json().await;
        assert_eq!(stored["type"], "stored");
        assert_eq!(stored["id"], "c-1");
        assert_eq!(stored["duplicate"], false);
        // The ack came after the commit: the message is there, with the frame as original.
        let id = stored["message_id"].as_str().unwrap().parse().unwrap();
        let m = env
            .db
            .store
            .message(env.tenant.id, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.text, "Mijn container is niet geleegd");
        assert_eq!(m.channel, loket_core::Channel::Webchat);
        assert!(m.from.address.starts_with("session:"));
        assert!(
            !m.from.address.contains(&secret('a')),
            "the secret is never stored"
        );
        let raw = env
            .db
            .store
            .raw_original(env.tenant.id, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw, frame.as_bytes());
        assert_eq!(m.raw_content_type, "application/json");
        // A resend (after a reconnect) is the same message.
        drop(ws);
        let (mut ws, welcome) = env.hello(&secret('a')).await;
        assert_eq!(welcome["conversation_id"], stored["conversation_id"]);
        assert_eq!(welcome["messages"][0]["client_id"], "c-1");
        ws.send_text(&frame).await;
        let again = ws.json().await;
        assert_eq!(again["duplicate"], true);
        assert_eq!(again["message_id"], stored["message_id"]);
        assert_eq!(env.count().await, 1);
        // Another session with the same client id is another message, never the first one.
        let (mut other, _) = env.hello(&secret('b')).await;
        other.send_text(&frame).await;
        let third = other.json().await;
        assert_eq!(third["duplicate"], false);
        assert_ne!(third["message_id"], stored["message_id"]);
        assert_ne!(third["conversation_id"], stored["conversation_id"]);
        assert_eq!(env.count().await, 2);
        env.server.handle.stop(false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_oversized_and_malformed_messages_are_refused_and_nothing_is_stored() {
    let env = Env::new(WebchatConfig::default()).await;
    let (mut ws, _) = env.hello(&secret('c')).await;
    let cases = [
        (msg("e-1", "   \n "), "empty"),
        (msg("e-2", &"é".repeat(4001)), "too_long"),
        (msg("bad id!", "hallo"), "bad_id"),
        ("{not json".to_owned(), "bad_frame"),
        (json!({"type": "launch_missiles"}).to_string(), "bad_frame"),
        (
            json!({"type": "message", "id": "e-3", "text": "hoi", "reply_to": "bel me"})
                .to_string(),
            "bad_reply_to",
        ),
    ];
    for (frame, code) in cases {
        ws.send_text(&frame).await;
        let r = ws.json().await;
        assert_eq!(r["type"], "refused", "{frame}");
        assert_eq!(r["code"], code, "{frame}");
        assert!(!r["detail"].as_str().unwrap().is_empty());
    }
    // Exactly at the limit is fine (characters, not bytes).
    ws.send_text(&msg("e-4", &"é".repeat(4000))).await;
    assert_eq!(ws.json().await["type"], "stored");
    assert_eq!(env.count().await, 1);
    // A message before hello is refused too.
    let mut fresh = env.ws().await;
    fresh.send_text(&msg("e-5", "hallo")).await;
    assert_eq!(fresh.json().await["code"], "no_session");
    assert_eq!(env.count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_binary_and_oversized_frames_close_the_socket() {
    let env = Env::new(WebchatConfig::default()).await;
    let (mut ws, _) = env.hello(&secret('d')).await;
    ws.send_frame(
        0x1,
        b"{\"type\":\"message\",\"id\":\"u\",\"text\":\"\xff\xfe\"}",
    )
    .await;
    assert_eq!(ws.close_code().await, Some(1007));

    let (mut ws, _) = env.hello(&secret('d')).await;
    ws.send_frame(0x2, b"\x00\x01").await;
    assert_eq!(ws.close_code().await, Some(1003));

    let (mut ws, _) = env.hello(&secret('d')).await;
    ws.send_text(&msg("big", &"x".repeat(70 * 1024))).await;
    assert_eq!(ws.close_code().await, Some(1009));

    let mut ws = env.ws().await;
    ws.send_text(&json!({"type": "hello", "session": "short"}).to_string())
        .await;
    assert_eq!(ws.close_code().await, Some(4400));
    assert_eq!(env.count().await, 0);

    // The server keeps serving everyone else.
    let (mut ok, _) = env.hello(&secret('e')).await;
    ok.send_text(&msg("fine", "nog steeds bereikbaar")).await;
    assert_eq!(ok.json().await["type"], "stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tenant_is_refused_on_socket_and_routes() {
    let env = Env::new(WebchatConfig::default()).await;
    let mut ws = RawWs::connect(env.server.port, "/webchat/v1/ws?tenant=bestaat-niet").await;
    assert_eq!(ws.close_code().await, Some(4404));
    let mut ws = RawWs::connect(env.server.port, "/webchat/v1/ws").await;
    assert_eq!(ws.close_code().await, Some(4404));
    let client = reqwest::Client::new();
    let r = client
        .get(env.url("/webchat/v1/info?tenant=bestaat-niet"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unknown_tenant");
    assert_eq!(body["type"], "https://loket.dev/problems/unknown-tenant");
    let r = client
        .post(env.url("/webchat/v1/messages?tenant=bestaat-niet"))
        .header("x-loket-session", secret('f'))
        .body(msg("t-1", "hallo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(env.count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_are_rate_limited_per_session_then_closed() {
    let mut cfg = WebchatConfig::default();
    cfg.rate.session_burst = 5;
    cfg.rate.session_per_minute = 6;
    cfg.rate.max_refusals_in_a_row = 3;
    let env = Env::new(cfg).await;
    let (mut ws, _) = env.hello(&secret('g')).await;
    for i in 0..5 {
        ws.send_text(&msg(&format!("f-{i}"), "spam")).await;
        assert_eq!(ws.json().await["type"], "stored");
    }
    for i in 5..8 {
        ws.send_text(&msg(&format!("f-{i}"), "spam")).await;
        let r = ws.json().await;
        assert_eq!(r["code"], "rate_limited");
        assert!(r["retry_after_ms"].as_u64().unwrap() > 0);
    }
    ws.send_text(&msg("f-8", "spam")).await;
    assert_eq!(ws.close_code().await, Some(1008));
    assert_eq!(env.count().await, 5);
    // Another session (same network) is still served.
    let (mut other, _) = env.hello(&secret('h')).await;
    other.send_text(&msg("o-1", "ik wil ook iets vragen")).await;
    assert_eq!(other.json().await["type"], "stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_prefix_limit_covers_many_sessions_of_one_network() {
    let mut cfg = WebchatConfig::default();
    cfg.rate.prefix_burst = 3;
    cfg.rate.prefix_per_minute = 1;
    let env = Env::new(cfg).await;
    let client = reqwest::Client::new();
    let mut codes = Vec::new();
    for (i, c) in ['i', 'j', 'k', 'l', 'm'].into_iter().enumerate() {
        let r = client
            .post(env.url("/webchat/v1/messages?tenant=gemeente"))
            .header("x-loket-session", secret(c))
            .body(msg(&format!("p-{i}"), "hallo"))
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["code"], "rate_limited");
        }
    }
    assert_eq!(codes, [201, 201, 201, 429, 429]);
    assert_eq!(env.count().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_type_is_checked_from_the_content_not_the_name() {
    let cfg = WebchatConfig {
        max_attachment_bytes: 2048,
        ..Default::default()
    };
    let env = Env::new(cfg).await;
    let client = reqwest::Client::new();
    let post = |id: &str, name: &str, body: Vec<u8>| {
        client
            .post(env.url(&format!(
                "/webchat/v1/attachments?tenant=gemeente&id={id}&name={name}"
            )))
            .header("x-loket-session", secret('n'))
            .header("content-type", "application/pdf")
            .body(body)
            .send()
    };
    let r = post("a-1", "paspoort.pdf", b"MZ\x90\x00 an executable".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unsupported_type");
    let r = post(
        "a-2",
        "groot.png",
        [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 3000]].concat(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(env.count().await, 0);

    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 100]].concat();
    let r = post("a-3", "foto.jpg", png.clone()).await.unwrap();
    assert_eq!(r.status(), 201);
    let stored: serde_json::Value = r.json().await.unwrap();
    let id = stored["message_id"].as_str().unwrap().parse().unwrap();
    let m = env
        .db
        .store
        .message(env.tenant.id, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].content_type, "image/png");
    assert_eq!(m.attachments[0].filename.as_deref(), Some("foto.jpg"));
    let blob = env
        .db
        .store
        .blob(env.tenant.id, &m.attachments[0].sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(blob, png);
    // Idempotent like text messages.
    let r = post("a-3", "foto.jpg", png).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(env.count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_reply_is_pushed_within_a_second_and_the_ack_marks_it_delivered() {
    let env = Env::new(WebchatConfig::default()).await;
    let (mut ws, _) = env.hello(&secret('o')).await;
    ws.send_text(&msg("q-1", "Hoe laat gaat het stadhuis open?"))
        .await;
    let stored = ws.json().await;
    let conv = stored["conversation_id"].as_str().unwrap().parse().unwrap();
    let clerk = Principal::system(env.tenant.id, "test-clerk");
    let t0 = Instant::now();
    let reply = env
        .db
        .store
        .queue_outbound(&clerk, conv, Outbound::text("Om 8.30 uur."))
        .await
        .unwrap();
    let pushed = ws.json().await;
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(pushed["type"], "message");
    assert_eq!(pushed["message"]["direction"], "out");
    assert_eq!(pushed["message"]["text"], "Om 8.30 uur.");
    // An internal note is never shown.
    let mut note = Outbound::text("Interne notitie");
    note.internal_note = true;
    env.db
        .store
        .queue_outbound(&clerk, conv, note)
        .await
        .unwrap();
    ws.send_text(&json!({"type": "received", "ids": [reply.message_id.to_string()]}).to_string())
        .await;
    ws.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(ws.json().await["type"], "pong");
    let m = env
        .db
        .store
        .message(env.tenant.id, reply.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status, Some(DeliveryStatus::Delivered));
    // Acknowledging a message of another conversation is refused.
    let (mut other, _) = env.hello(&secret('p')).await;
    other
        .send_text(&json!({"type": "received", "ids": [reply.message_id.to_string()]}).to_string())
        .await;
    assert_eq!(other.json().await["code"], "unknown_message");
    // On reconnect the history has both messages, not the note.
    let (_ws, welcome) = env.hello(&secret('o')).await;
    let texts: Vec<_> = welcome["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["Hoe laat gaat het stadhuis open?", "Om 8.30 uur."]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_online_message_keeps_the_reply_address_in_the_conversation() {
    let mut cfg = WebchatConfig::default();
    cfg.defaults.online_rule = loket_webchat::OnlineRule::Never;
    let env = Env::new(cfg).await;
    let (mut ws, welcome) = env.hello(&secret('q')).await;
    assert_eq!(welcome["online"], false);
    let frame = json!({"type": "message", "id": "n-1", "text": "Bel mij terug a.u.b.", "reply_to": "jan@example.nl"}).to_string();
    ws.send_text(&frame).await;
    let stored = ws.json().await;
    let id = stored["message_id"].as_str().unwrap().parse().unwrap();
    let m = env
        .db
        .store
        .message(env.tenant.id, id)
        .await
        .unwrap()
        .unwrap();
    assert!(m.text.starts_with("Bel mij terug a.u.b."));
    assert!(m.text.contains("jan@example.nl"));
    let raw = env
        .db
        .store
        .raw_original(env.tenant.id, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw, frame.as_bytes());
    let client = reqwest::Client::new();
    let info: serde_json::Value = client
        .get(env.url("/webchat/v1/info?tenant=gemeente"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["online"], false);
    assert!(
        info["offline"]["nl"]
            .as_str()
            .unwrap()
            .contains("niemand online")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_presence_switches_online_for_the_presence_rule() {
    let mut cfg = WebchatConfig::default();
    cfg.defaults.online_rule = loket_webchat::OnlineRule::ClerkPresent;
    let env = Env::new(cfg).await;
    let (mut ws, welcome) = env.hello(&secret('r')).await;
    assert_eq!(welcome["online"], false);
    let guard = env.server.state.presence().clerk_connected(env.tenant.id);
    let p = ws.json().await;
    assert_eq!(p, json!({"type": "presence", "online": true}));
    drop(guard);
    assert_eq!(
        ws.json().await,
        json!({"type": "presence", "online": false})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_fallback_needs_a_session_and_streams_events() {
    let env = Env::new(WebchatConfig::default()).await;
    let client = reqwest::Client::new();
    let r = client
        .post(env.url("/webchat/v1/messages?tenant=gemeente"))
        .body(msg("r-1", "zonder sessie"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .request(reqwest::Method::OPTIONS, env.url("/webchat/v1/messages"))
        .header("origin", "https://www.gemeente.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        r.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-loket-session")
    );
    let r = client
        .post(env.url("/webchat/v1/messages?tenant=gemeente"))
        .header("x-loket-session", secret('s'))
        .body(msg("r-2", "via de terugval"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let stored: serde_json::Value = r.json().await.unwrap();
    let conv = stored["conversation_id"].as_str().unwrap().parse().unwrap();
    let mut events = client
        .get(env.url("/webchat/v1/events?tenant=gemeente"))
        .header("x-loket-session", secret('s'))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = String::from_utf8(events.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.starts_with("event: welcome\ndata: "), "{first}");
    assert!(first.contains("via de terugval"));
    let clerk = Principal::system(env.tenant.id, "test-clerk");
    env.db
        .store
        .queue_outbound(&clerk, conv, Outbound::text("Antwoord over SSE"))
        .await
        .unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !seen.contains("Antwoord over SSE") && Instant::now() < deadline {
        if let Ok(Ok(Some(c))) = tokio::time::timeout(Duration::from_secs(5), events.chunk()).await
        {
            seen.push_str(&String::from_utf8_lossy(&c));
        }
    }
    assert!(seen.contains("event: message"), "{seen}");
    assert!(seen.contains("Antwoord over SSE"), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_notice_and_rule_come_from_the_database_settings() {
    let env = Env::new(WebchatConfig::default()).await;
    let store = &env.db.store;
    let t = env.tenant.id;
    let ch = loket_core::Channel::Webchat;
    store
        .set_channel_setting(
            t,
            ch,
            "notice_nl",
            json!("Berichten worden bewaard (gemeente Test)."),
        )
        .await
        .unwrap();
    store
        .set_channel_setting(
            t,
            ch,
            "privacy_url",
            json!("https://www.gemeente.example/privacy"),
        )
        .await
        .unwrap();
    store
        .set_channel_setting(t, ch, "online_rule", json!("never"))
        .await
        .unwrap();
    let info: serde_json::Value = reqwest::get(env.url("/webchat/v1/info?tenant=gemeente"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["notice"]["nl"],
        "Berichten worden bewaard (gemeente Test)."
    );
    assert_eq!(info["privacy_url"], "https://www.gemeente.example/privacy");
    assert_eq!(info["online"], false);
    // The English notice keeps the default.
    assert!(info["notice"]["en"].as_str().unwrap().contains("Woo"));
}
