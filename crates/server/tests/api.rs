#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The HTTP API in-process (Zero To Production's `spawn_app` on port 0), on SQLite and
//! PostgreSQL.

use loket_core::Role;
use loket_server::testing::{TestDb, settings_for, spawn_app};
use loket_store::on_both;
use serde_json::{Value, json};

struct App {
    base: String,
    admin: String,
    clerk: String,
    auditor: String,
    other_admin: String,
    db: TestDb,
    _running: loket_server::Running,
}

/// The app with two tenants and a token of each role, bodies up to 1 MiB.
async fn app(db: TestDb) -> App {
    let mut settings = settings_for(&db).expect("settings");
    settings.http.max_body_bytes = 1 << 20;
    let store = db.store.clone();
    let t = store
        .create_tenant("utrecht", "Gemeente Utrecht")
        .await
        .expect("tenant");
    let o = store
        .create_tenant("zeist", "Gemeente Zeist")
        .await
        .expect("tenant");
    let admin = store
        .create_token(t.id, "admin", Role::Admin)
        .await
        .expect("token")
        .secret;
    let clerk = store
        .create_token(t.id, "clerk", Role::Clerk)
        .await
        .expect("token")
        .secret;
    let auditor = store
        .create_token(t.id, "aud", Role::Auditor)
        .await
        .expect("token")
        .secret;
    let other_admin = store
        .create_token(o.id, "admin", Role::Admin)
        .await
        .expect("token")
        .secret;
    let running = spawn_app(&db, settings, false).await.expect("start");
    App {
        base: running.base.clone(),
        admin,
        clerk,
        auditor,
        other_admin,
        db,
        _running: running.running,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post_message(app: &App, token: &str, body: Value, key: Option<&str>) -> reqwest::Response {
    let mut r = client()
        .post(format!("{}/api/v1/messages", app.base))
        .bearer_auth(token)
        .json(&body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.expect("send")
}

fn sms(id: &str, text: &str) -> Value {
    json!({"channel": "sms", "from": {"address": "+31612345678"}, "text": text, "provider_message_id": id})
}

async fn assert_problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(
        r.headers().get("api-version").and_then(|v| v.to_str().ok()),
        Some("1.0.0")
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().is_some() && body["title"].as_str().is_some());
    body
}

on_both!(ingest_201_then_200_same_message, app => |app: App| async move {
    let r1 = post_message(&app, &app.clerk, sms("p-1", "Hallo"), None).await;
    assert_eq!(r1.status().as_u16(), 201);
    assert_eq!(
        r1.headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok()),
        Some("1.0.0")
    );
    let m1: Value = r1.json().await.expect("json");
    let r2 = post_message(&app, &app.clerk, sms("p-1", "Hallo"), None).await;
    assert_eq!(r2.status().as_u16(), 200);
    let m2: Value = r2.json().await.expect("json");
    assert_eq!(m1["id"], m2["id"]);
    // The Idempotency-Key header wins over the provider id.
    let r3 = post_message(&app, &app.clerk, sms("p-2", "x"), Some("k-1")).await;
    let r4 = post_message(&app, &app.clerk, sms("p-3", "x"), Some("k-1")).await;
    assert_eq!(r3.status().as_u16(), 201);
    assert_eq!(
        r4.status().as_u16(),
        201,
        "same key, other bytes: new message flagged key_conflict"
    );
    let m4: Value = r4.json().await.expect("json");
    assert_eq!(m4["flags"], json!(["key_conflict"]));
});

on_both!(errors_are_problem_details, app => |app: App| async move {
    let r = post_message(&app, "lkt_wrong", sms("p", "x"), None).await;
    assert_problem(r, 401).await;
    let r = client()
        .post(format!("{}/api/v1/messages", app.base))
        .json(&sms("p", "x"))
        .send()
        .await
        .expect("send");
    assert_problem(r, 401).await;
    let r = post_message(&app, &app.auditor, sms("p", "x"), None).await;
    assert_problem(r, 403).await;
    let r = post_message(
        &app,
        &app.clerk,
        json!({"channel": "fax", "from": {"address": "x"}, "text": "x"}),
        None,
    )
    .await;
    let p = assert_problem(r, 400).await;
    assert!(p["detail"].as_str().unwrap_or_default().contains("fax"));
    let big = "x".repeat(2 << 20);
    let r = post_message(&app, &app.clerk, sms("big", &big), None).await;
    assert_problem(r, 413).await;
    let r = client()
        .get(format!("{}/api/v1/nothing", app.base))
        .send()
        .await
        .expect("send");
    assert_problem(r, 404).await;
    let count = app
        .db
        .store
        .message_count(
            app.db
                .store
                .tenant_by_slug("utrecht")
                .await
                .expect("t")
                .expect("t")
                .id,
        )
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing is stored on refusal");
});

on_both!(tenants_are_isolated_over_http, app => |app: App| async move {
    let m: Value = post_message(&app, &app.clerk, sms("p-1", "geheim"), None)
        .await
        .json()
        .await
        .expect("json");
    let id = m["id"].as_str().expect("id");
    let conv = m["conversation_id"].as_str().expect("conv");
    let r = client()
        .get(format!("{}/api/v1/messages/{id}", app.base))
        .bearer_auth(&app.other_admin)
        .send()
        .await
        .expect("send");
    assert_problem(r, 404).await;
    let r = client()
        .get(format!("{}/api/v1/conversations/{conv}", app.base))
        .bearer_auth(&app.other_admin)
        .send()
        .await
        .expect("send");
    assert_problem(r, 404).await;
    let r = client()
        .post(format!("{}/api/v1/conversations/{conv}/replies", app.base))
        .bearer_auth(&app.other_admin)
        .json(&json!({"text": "hoi"}))
        .send()
        .await
        .expect("send");
    assert_problem(r, 404).await;
    let r = client()
        .get(format!("{}/api/v1/conversations/{conv}", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
});

on_both!(
    replies_are_queued_in_the_conversation,
    app => |app: App| async move {
        let m: Value = post_message(&app, &app.clerk, sms("p-1", "Vraag"), None)
            .await
            .json()
            .await
            .expect("json");
        let conv = m["conversation_id"].as_str().expect("conv");
        let r = client()
            .post(format!("{}/api/v1/conversations/{conv}/replies", app.base))
            .bearer_auth(&app.clerk)
            .json(&json!({"text": "Antwoord"}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 201);
        let reply: Value = r.json().await.expect("json");
        assert_eq!(reply["status"], "queued");
        assert_eq!(reply["direction"], "outbound");
        assert_eq!(reply["channel"], "sms");
        let c: Value = client()
            .get(format!("{}/api/v1/conversations/{conv}", app.base))
            .bearer_auth(&app.clerk)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(c["messages"].as_array().map(|a| a.len()), Some(2));
    }
);

on_both!(
    http_import_requires_admin_and_own_tenant,
    app => |app: App| async move {
        // Build a valid line by exporting a message from the tenant.
        post_message(&app, &app.clerk, sms("p-1", "x"), None).await;
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("l").extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        app.db
            .store
            .export_jsonl(None, Box::new(W(buf.clone())))
            .await
            .expect("export");
        let line = String::from_utf8(buf.lock().expect("l").clone()).expect("utf8");
        let parsed: Value = serde_json::from_str(line.trim()).expect("json");
        let fresh = line
            .replace(
                parsed["id"].as_str().expect("id"),
                &loket_core::MessageId::new().to_string(),
            )
            .replace(
                parsed["idempotency_key"].as_str().expect("key"),
                "imported-key-1",
            );
        let post = |token: String, body: String| {
            let base = app.base.clone();
            async move {
                client()
                    .post(format!("{base}/api/v1/imports"))
                    .bearer_auth(token)
                    .body(body)
                    .send()
                    .await
                    .expect("send")
            }
        };
        assert_problem(post(app.clerk.clone(), fresh.clone()).await, 403).await;
        assert_problem(post("nope".into(), fresh.clone()).await, 401).await;
        assert_problem(post(app.other_admin.clone(), fresh.clone()).await, 404).await;
        let bad = format!("{fresh}{{broken\n");
        let p = assert_problem(post(app.admin.clone(), bad).await, 422).await;
        assert_eq!(p["errors"][0]["line"], 2);
        let r = post(app.admin.clone(), fresh.clone()).await;
        assert_eq!(r.status().as_u16(), 200);
        let rep: Value = r.json().await.expect("json");
        assert_eq!(rep["imported"], 1);
        let again: Value = post(app.admin.clone(), fresh)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(again["already_present"], 1);
    }
);

on_both!(health_metrics_openapi, app => |app: App| async move {
    let r = client()
        .get(format!("{}/health/live", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let r = client()
        .get(format!("{}/health/ready", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    post_message(&app, &app.clerk, sms("p-1", "x"), None).await;
    let metrics = client()
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("loket_messages_ingested_total{channel=\"sms\",duplicate=\"false\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("loket_http_requests_total"));
    let doc: Value = client()
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    for p in [
        "/api/v1/messages",
        "/api/v1/conversations/{id}/replies",
        "/api/v1/imports",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing in OpenAPI");
    }
});
