//! The SMS webhook route over HTTP: signed calls stored once, tampered or unsigned ones
//! refused with problem details and nothing stored, Vonage parts made one message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use loket_core::TenantId;
use loket_server::testing::{TestApp, TestDb, settings_for, spawn_app};
use loket_sms::config::VonageSigAlgorithm;
use loket_store::on_both;
use serde_json::{Value, json};

const PUBLIC: &str = "https://loket.example";
const TWILIO_TOKEN: &str = "twilio-token-123";
const BIRD_KEY: &str = "bird-signing-key";
const VONAGE_SECRET: &str = "vonage-signature-secret";
const CM_KEY: &str = "cm-url-key-0123456789";

pub struct App {
    app: TestApp,
    db: TestDb,
    tenant: TenantId,
}

pub fn sms_config(max_body: usize) -> loket_sms::SmsConfig {
    serde_json::from_value(json!({
        "public_url": PUBLIC,
        "max_body_bytes": max_body,
        "tenants": {"gemeente": {
            "twilio": {"account_sid": "ACtest", "auth_token": TWILIO_TOKEN, "from": "+3197010000000"},
            "bird": {"signing_key": BIRD_KEY},
            "vonage": {"api_key": "vk", "signature_secret": VONAGE_SECRET, "signature_method": "md5hash"},
            "cm": {"webhook_key": CM_KEY}
        }}
    }))
    .expect("sms config")
}

async fn app(db: TestDb) -> App {
    let tenant = db
        .store
        .create_tenant("gemeente", "Gemeente")
        .await
        .expect("tenant")
        .id;
    let mut settings = settings_for(&db).expect("settings");
    settings.sms = sms_config(4096);
    let app = spawn_app(&db, settings, false).await.expect("app");
    App { app, db, tenant }
}

fn path(provider: &str) -> String {
    format!("/api/v1/webhooks/sms/{provider}/gemeente")
}

async fn post(
    app: &App,
    path_and_query: &str,
    ct: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(format!("{}{path_and_query}", app.app.base))
        .header("content-type", ct)
        .body(body);
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.send().await.expect("send")
}

async fn count(app: &App) -> i64 {
    app.db.store.message_count(app.tenant).await.expect("count")
}

async fn assert_problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    r.json().await.expect("problem json")
}

fn twilio_sig(url: &str, body: &[u8]) -> String {
    let params = loket_sms::webhook::form(body);
    loket_sms::twilio::signature(
        TWILIO_TOKEN.as_bytes(),
        &loket_sms::twilio::signing_string(url, &params),
    )
}

on_both!(twilio_webhook_is_stored_once_and_a_changed_byte_is_refused, app => |app: App| async move {
    let body = b"MessageSid=SM0001&From=0612345678&To=%2B3197010000000&Body=Mijn+paspoort+is+kwijt&NumMedia=0".to_vec();
    let sig = twilio_sig(&format!("{PUBLIC}{}", path("twilio")), &body);
    let form = "application/x-www-form-urlencoded";
    let r1 = post(&app, &path("twilio"), form, &[("X-Twilio-Signature", sig.clone())], body.clone()).await;
    assert_eq!(r1.status().as_u16(), 200);
    let r2 = post(&app, &path("twilio"), form, &[("X-Twilio-Signature", sig.clone())], body.clone()).await;
    assert_eq!(r2.status().as_u16(), 200);
    assert_eq!(count(&app).await, 1);
    let ids = app.db.store.message_ids_page(app.tenant, None, 10).await.expect("ids");
    let m = app.db.store.message(app.tenant, ids[0]).await.expect("read").expect("message");
    assert_eq!(m.from.address, "+31612345678");
    assert_eq!(m.text, "Mijn paspoort is kwijt");
    assert_eq!(app.db.store.raw_original(app.tenant, m.id).await.expect("raw").as_deref(), Some(&body[..]));
    let mut changed = body.clone();
    let last = changed.len() - 1;
    changed[last] = b'1';
    let r = post(&app, &path("twilio"), form, &[("X-Twilio-Signature", sig.clone())], changed).await;
    assert_problem(r, 403).await;
    // The same body signed for another URL (one byte of the URL differs).
    let r = post(&app, &format!("{}?x=1", path("twilio")), form, &[("X-Twilio-Signature", sig)], body.clone()).await;
    assert_problem(r, 403).await;
    let r = post(&app, &path("twilio"), form, &[], body.clone()).await;
    assert_problem(r, 401).await;
    assert_eq!(count(&app).await, 1);
});

on_both!(unknown_tenant_provider_and_oversized_bodies_are_problems, app => |app: App| async move {
    let form = "application/x-www-form-urlencoded";
    let r = post(&app, "/api/v1/webhooks/sms/telegram/gemeente", form, &[], b"a=b".to_vec()).await;
    assert_problem(r, 404).await;
    let r = post(&app, "/api/v1/webhooks/sms/twilio/elders", form, &[], b"a=b".to_vec()).await;
    assert_problem(r, 404).await;
    let r = post(&app, &path("twilio"), form, &[], vec![b'a'; 5000]).await;
    assert_problem(r, 413).await;
    // Signed but without From: 400.
    let body = b"MessageSid=SM9&Body=x".to_vec();
    let sig = twilio_sig(&format!("{PUBLIC}{}", path("twilio")), &body);
    let r = post(&app, &path("twilio"), form, &[("X-Twilio-Signature", sig)], body).await;
    let p = assert_problem(r, 400).await;
    assert!(p["detail"].as_str().unwrap_or_default().contains("From"));
    assert_eq!(count(&app).await, 0);
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.app.base)).await.expect("doc").json().await.expect("json");
    assert!(doc["paths"]["/api/v1/webhooks/sms/{provider}/{tenant}"]["post"].is_object());
});

fn vonage_part(n: u32, text: &str) -> Vec<u8> {
    let mut p: Vec<(String, String)> = vec![
        ("msisdn", "31612345678"),
        ("to", "3197010000000"),
        ("type", "text"),
        ("concat", "true"),
        ("concat-ref", "42"),
        ("concat-total", "3"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    p.push(("messageId".into(), format!("0A000000{n}")));
    p.push(("concat-part".into(), n.to_string()));
    p.push(("text".into(), text.into()));
    p.push((
        "timestamp".into(),
        chrono::Utc::now().timestamp().to_string(),
    ));
    let sig = loket_sms::vonage::sig(VonageSigAlgorithm::Md5hash, VONAGE_SECRET.as_bytes(), &p);
    p.push(("sig".into(), sig));
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &p {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

on_both!(vonage_three_parts_are_one_message, app => |app: App| async move {
    let form = "application/x-www-form-urlencoded";
    for (n, text) in [(2, "is mijn "), (1, "Dit "), (3, "bericht")] {
        let r = post(&app, &path("vonage"), form, &[], vonage_part(n, text)).await;
        assert_eq!(r.status().as_u16(), 200);
    }
    assert_eq!(count(&app).await, 1);
    let ids = app.db.store.message_ids_page(app.tenant, None, 10).await.expect("ids");
    let m = app.db.store.message(app.tenant, ids[0]).await.expect("read").expect("message");
    assert_eq!(m.text, "Dit is mijn bericht");
    let mut tampered = vonage_part(1, "Dit ");
    let at = tampered.len() - 40;
    tampered[at] ^= 1;
    let r = post(&app, &path("vonage"), form, &[], tampered).await;
    assert!(matches!(r.status().as_u16(), 400 | 403), "{}", r.status());
});

on_both!(bird_and_cm_webhooks_are_verified_and_deduplicated, app => |app: App| async move {
    let body = br#"{"id":"b-1","originator":"31612345678","recipient":"3197010000000","body":"Hoi Bird"}"#.to_vec();
    let ts = chrono::Utc::now().timestamp().to_string();
    let url = format!("{PUBLIC}{}", path("bird"));
    let sig = base64::engine::general_purpose::STANDARD
        .encode(loket_sms::bird::hmac_signature(BIRD_KEY.as_bytes(), &ts, &url, &body));
    let h = [("messagebird-signature", sig), ("messagebird-request-timestamp", ts)];
    for _ in 0..2 {
        let r = post(&app, &path("bird"), "application/json", &h, body.clone()).await;
        assert_eq!(r.status().as_u16(), 200);
    }
    let old = (chrono::Utc::now().timestamp() - 3600).to_string();
    let old_sig = base64::engine::general_purpose::STANDARD
        .encode(loket_sms::bird::hmac_signature(BIRD_KEY.as_bytes(), &old, &url, &body));
    let r = post(&app, &path("bird"), "application/json", &[("messagebird-signature", old_sig), ("messagebird-request-timestamp", old)], body.clone()).await;
    assert_problem(r, 401).await;
    let cm = br#"{"from":{"number":"0031612345678"},"to":{"number":"0031970100000"},"message":{"text":"Hoi CM"},"reference":"cm-ref-1","timeUtc":"2026-12-03T10:00:00"}"#.to_vec();
    for _ in 0..2 {
        let r = post(&app, &format!("{}?key={CM_KEY}", path("cm")), "application/json", &[], cm.clone()).await;
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = post(&app, &format!("{}?key=wrong", path("cm")), "application/json", &[], cm.clone()).await;
    assert_problem(r, 403).await;
    let r = post(&app, &path("cm"), "application/json", &[], cm).await;
    assert_problem(r, 401).await;
    assert_eq!(count(&app).await, 2);
});
