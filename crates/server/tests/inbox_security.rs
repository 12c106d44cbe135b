//! The inbox's security properties against a running server: tenant isolation, internal
//! notes never reach the citizen, the read audit, login without user enumeration and
//! with lock-out, CSRF on forms, escaping and the Content-Security-Policy, logout.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod inbox_common;

use inbox_common::*;
use loket_core::*;
use loket_store::testing::TestDb;
use serde_json::{Value, json};

async fn text(resp: reqwest::Response) -> (u16, String) {
    let s = resp.status().as_u16();
    (s, resp.text().await.expect("body"))
}

/// Tenant B's clerk guesses tenant A's conversation and message ids: 404 everywhere,
/// and nothing of A's content in any answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_tenant_cannot_open_by_guessing_the_id() {
    for db in TestDb::each().await.expect("dbs") {
        let app = spawn(db).await;
        let b = &app.other_clerk;
        for path in [
            format!("/inbox/c/{}", app.conversation),
            format!("/inbox/c/{}?partial=messages", app.conversation),
            format!("/api/v1/conversations/{}", app.conversation),
            format!("/api/v1/messages/{}", app.message),
            format!("/api/v1/messages/{}/attachments/0", app.message),
        ] {
            let (status, body) = text(
                app.http
                    .get(format!("{}{path}", app.base))
                    .headers(session_headers(b, false))
                    .send()
                    .await
                    .expect("send"),
            )
            .await;
            assert_eq!(status, 404, "{path}");
            assert!(!body.contains("paspoort"), "{path} leaked content");
        }
        // B's list does not show A's conversation.
        let list: Value = app
            .http
            .get(format!("{}/api/v1/conversations", app.base))
            .headers(session_headers(b, false))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
        // And B cannot change it.
        let resp = app
            .http
            .put(format!(
                "{}/api/v1/conversations/{}/status",
                app.base, app.conversation
            ))
            .headers(session_headers(b, true))
            .json(&json!({"status": "closed"}))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status().as_u16(), 404);
        let conv = app
            .db
            .store
            .conversation(app.tenant_a, app.conversation)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(conv.status, ConversationStatus::Open);
    }
}

/// An internal note is archived but has no delivery status (nothing queues it for a
/// channel) and the citizen's widget never shows it; a reply does get `queued`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_note_never_reaches_the_citizen() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let c = app.conversation;
    // From the inbox form…
    let resp = app
        .http
        .post(format!("{}/inbox/c/{c}/reply", app.base))
        .headers(session_headers(&app.clerk, false))
        .form(&[
            ("csrf", app.clerk.csrf.as_str()),
            ("kind", "note"),
            ("text", "Intern: burger belt morgen terug."),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 303);
    // …and from the API.
    let note: Value = app
        .http
        .post(format!("{}/api/v1/conversations/{c}/notes", app.base))
        .headers(session_headers(&app.clerk, true))
        .json(&json!({"text": "Intern: dossier 42 erbij pakken."}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(note["status"], Value::Null);
    let reply = app
        .http
        .post(format!("{}/api/v1/conversations/{c}/replies", app.base))
        .headers(session_headers(&app.clerk, true))
        .json(&json!({"text": "Uw afspraak staat op dinsdag."}))
        .send()
        .await
        .expect("send");
    assert_eq!(reply.status().as_u16(), 201);
    let messages = app
        .db
        .store
        .conversation_messages(app.tenant_a, c)
        .await
        .expect("messages");
    let notes: Vec<&Message> = messages
        .iter()
        .filter(|m| m.has_flag(MessageFlag::InternalNote))
        .collect();
    assert_eq!(notes.len(), 2);
    for n in &notes {
        assert_eq!(n.status, None, "a note has no delivery status");
        assert!(
            loket_webchat::protocol::chat_message(n).is_none(),
            "the widget must not show a note"
        );
        let events = app
            .db
            .store
            .message_events(app.tenant_a, n.id)
            .await
            .expect("events");
        assert!(
            events.is_empty(),
            "no channel may report on a note: {events:?}"
        );
    }
    let sent: Vec<&Message> = messages
        .iter()
        .filter(|m| m.direction == Direction::Outbound && !m.has_flag(MessageFlag::InternalNote))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, Some(DeliveryStatus::Queued));
    assert!(loket_webchat::protocol::chat_message(sent[0]).is_some());
}

/// Opening a conversation, downloading an attachment and searching are audit events
/// naming the person; the auditor lists them (who saw what, when). List views are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_audit_records_views_downloads_and_searches() {
    for db in TestDb::each().await.expect("dbs") {
        let app = spawn(db).await;
        let c = app.conversation;
        let get = |path: String, who: &Person| {
            app.http
                .get(format!("{}{path}", app.base))
                .headers(session_headers(who, false))
                .send()
        };
        assert_eq!(
            get("/inbox".into(), &app.clerk)
                .await
                .expect("list")
                .status()
                .as_u16(),
            200
        );
        assert_eq!(
            get(format!("/inbox/c/{c}"), &app.clerk)
                .await
                .expect("view")
                .status()
                .as_u16(),
            200
        );
        assert_eq!(
            get(
                format!("/api/v1/messages/{}/attachments/0", app.message),
                &app.foi
            )
            .await
            .expect("att")
            .status()
            .as_u16(),
            200
        );
        assert_eq!(
            get("/inbox?q=burger".into(), &app.clerk)
                .await
                .expect("search")
                .status()
                .as_u16(),
            200
        );
        assert_eq!(
            get("/api/v1/conversations?q=burger".into(), &app.foi)
                .await
                .expect("search")
                .status()
                .as_u16(),
            200
        );

        let events: Vec<Value> = get("/api/v1/audit-events?limit=1000".into(), &app.auditor)
            .await
            .expect("audit")
            .json()
            .await
            .expect("json");
        let find = |action: &str, actor: &str| {
            events
                .iter()
                .filter(|e| e["action"] == action && e["actor"] == format!("user:{actor}"))
                .cloned()
                .collect::<Vec<_>>()
        };
        let views = find("conversation_viewed", &app.clerk.user_id);
        assert_eq!(views.len(), 1, "one view by the clerk: {events:?}");
        assert_eq!(views[0]["subject_id"], c.to_string());
        assert_eq!(views[0]["actor_name"], "kees (kees)");
        assert!(views[0]["at"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(find("attachment_downloaded", &app.foi.user_id).len(), 1);
        assert_eq!(find("searched", &app.clerk.user_id).len(), 1);
        assert_eq!(find("searched", &app.foi.user_id).len(), 1);
        // The list view itself was not recorded as a read.
        assert_eq!(
            events.iter().filter(|e| e["action"] == "searched").count(),
            2
        );
        // The auditor's page shows the view with the person's name.
        let (status, page) = text(
            get("/inbox/audit".into(), &app.auditor)
                .await
                .expect("page"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(page.contains("kees (kees)") && page.contains(&c.to_string()));
        // The chain still verifies.
        let report = app.db.store.verify().await.expect("verify");
        assert!(report.faults.is_empty(), "{:?}", report.faults);
    }
}

async fn login(
    app: &Inbox,
    tenant: &str,
    user: &str,
    password: &str,
) -> (u16, String, Option<String>) {
    let resp = app
        .http
        .post(format!("{}/inbox/login", app.base))
        .header("Cookie", "loket_login_csrf=abc123")
        .form(&[
            ("csrf", "abc123"),
            ("tenant", tenant),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("loket_session="))
        .map(str::to_owned);
    (status, resp.text().await.expect("body"), cookie)
}

/// Wrong password and unknown user get the same generic answer; five failures lock the
/// username (even the right password is refused), for existing and unknown users alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_generic_rate_limited_and_does_not_enumerate_users() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let (ok_status, _, cookie) = login(&app, "amersfoort", "kees", PASSWORD).await;
    assert_eq!(ok_status, 303);
    let cookie = cookie.expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let (s1, wrong_pw, c1) = login(&app, "amersfoort", "kees", "wrong password!!").await;
    let (s2, unknown, c2) = login(&app, "amersfoort", "nobody-here", "wrong password!!").await;
    let (s3, bad_tenant, _) = login(&app, "no-such-town", "kees", "wrong password!!").await;
    assert_eq!((s1, s2, s3), (401, 401, 401));
    assert!(c1.is_none() && c2.is_none());
    assert_eq!(wrong_pw.replace("kees", "nobody-here"), unknown);
    assert_eq!(bad_tenant.replace("no-such-town", "amersfoort"), wrong_pw);
    assert!(wrong_pw.contains("Inloggen is niet gelukt"));

    // Four more failures (five in all) lock kees out; the right password no longer works.
    for _ in 0..4 {
        assert_eq!(
            login(&app, "amersfoort", "kees", "still wrong!!").await.0,
            401
        );
    }
    let (locked, locked_body, c) = login(&app, "amersfoort", "kees", PASSWORD).await;
    assert_eq!(locked, 401);
    assert!(c.is_none());
    assert_eq!(
        locked_body, wrong_pw,
        "a locked account looks like a wrong password"
    );
    // The unknown name is locked the same way after five failures.
    for _ in 0..4 {
        login(&app, "amersfoort", "nobody-here", "still wrong!!").await;
    }
    let failed = app
        .db
        .store
        .audit_events(
            app.tenant_a,
            loket_store::audit::AuditQuery {
                action: Some("login_failed".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(failed.len(), 11);
    assert!(
        failed
            .iter()
            .any(|e| e.subject_id == "nobody-here" && e.detail.contains("\"locked\":true"))
    );
    // Another user is not affected.
    assert_eq!(login(&app, "amersfoort", "anna", PASSWORD).await.0, 303);

    // The login form itself needs its CSRF token (double submit).
    let resp = app
        .http
        .post(format!("{}/inbox/login", app.base))
        .form(&[
            ("tenant", "amersfoort"),
            ("username", "anna"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 403);
}

/// Markup in message bodies and file names is shown as text, never run; every inbox
/// page has a CSP without inline script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_is_escaped_and_csp_forbids_inline_script() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    for path in [
        format!("/inbox/c/{}", app.conversation),
        "/inbox".to_owned(),
        "/inbox/login".to_owned(),
    ] {
        let mut req = app.http.get(format!("{}{path}", app.base));
        if path != "/inbox/login" {
            req = req.headers(session_headers(&app.clerk, false));
        }
        let resp = req.send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let csp = resp
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        let body = resp.text().await.expect("body");
        assert!(!body.contains("<script>"), "{path}: raw script tag");
        assert!(!body.contains("<img"), "{path}: raw img");
        // Our own script is external.
        assert!(body.contains("<script src=\"/inbox/static/inbox.js\" defer></script>"));
    }
    let page = app
        .http
        .get(format!("{}/inbox/c/{}", app.base, app.conversation))
        .headers(session_headers(&app.clerk, false))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains(
            "&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        )
    );
    assert!(page.contains("&lt;b&gt;x&lt;/b&gt;.html"));
    // An attachment is always a download, sandboxed.
    let att = app
        .http
        .get(format!(
            "{}/api/v1/messages/{}/attachments/0",
            app.base, app.message
        ))
        .headers(session_headers(&app.clerk, false))
        .send()
        .await
        .expect("send");
    assert_eq!(att.headers()["content-type"], "application/octet-stream");
    assert!(
        att.headers()["content-disposition"]
            .to_str()
            .expect("h")
            .starts_with("attachment")
    );
    assert!(
        att.headers()["content-security-policy"]
            .to_str()
            .expect("h")
            .contains("sandbox")
    );
}

/// The tone check warns before sending; the clerk may send anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone_check_warns_and_allows_sending_anyway() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let c = app.conversation;
    let text = "Volgens mij klopt dat NIET!! 😀";
    let resp = app
        .http
        .post(format!("{}/inbox/c/{c}/reply", app.base))
        .headers(session_headers(&app.clerk, false))
        .form(&[
            ("csrf", app.clerk.csrf.as_str()),
            ("kind", "reply"),
            ("text", text),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let page = resp.text().await.expect("body");
    assert!(page.contains("role=\"alert\" id=\"tone\""));
    for w in [
        "persoonlijke mening",
        "woorden in hoofdletters",
        "meerdere uitroeptekens",
        "emoji",
        "Woo",
    ] {
        assert!(page.contains(w), "missing {w}");
    }
    assert!(page.contains("name=\"confirm\" value=\"1\""));
    let before = app
        .db
        .store
        .conversation_messages(app.tenant_a, c)
        .await
        .expect("m")
        .len();
    assert_eq!(before, 1, "nothing sent before confirmation");
    let resp = app
        .http
        .post(format!("{}/inbox/c/{c}/reply", app.base))
        .headers(session_headers(&app.clerk, false))
        .form(&[
            ("csrf", app.clerk.csrf.as_str()),
            ("kind", "reply"),
            ("text", text),
            ("confirm", "1"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 303);
    let after = app
        .db
        .store
        .conversation_messages(app.tenant_a, c)
        .await
        .expect("m");
    assert_eq!(after.len(), 2);
    assert_eq!(after[1].text, text);
}

/// Logout ends the session in the database: the old cookie no longer works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let resp = app
        .http
        .post(format!("{}/inbox/logout", app.base))
        .headers(session_headers(&app.clerk, false))
        .form(&[("csrf", app.clerk.csrf.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 303);
    let resp = app
        .http
        .get(format!("{}/api/v1/conversations", app.base))
        .headers(session_headers(&app.clerk, false))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    assert!(
        app.db
            .store
            .session(app.clerk.cookie.trim_start_matches("loket_session="))
            .await
            .expect("read")
            .is_none()
    );
}

/// Assignment, status and labels through the forms show up in the list (filters too),
/// and each is an audit event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assign_status_labels_and_filters() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let c = app.conversation;
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let mut f = fields;
        f.push(("csrf", app.clerk.csrf.clone()));
        app.http
            .post(format!("{}{path}", app.base))
            .headers(session_headers(&app.clerk, false))
            .form(&f)
            .send()
    };
    assert_eq!(
        post(
            format!("/inbox/c/{c}/assign"),
            vec![("user", app.clerk.user_id.clone())]
        )
        .await
        .expect("s")
        .status()
        .as_u16(),
        303
    );
    assert_eq!(
        post(
            format!("/inbox/c/{c}/status"),
            vec![("status", "waiting".into())]
        )
        .await
        .expect("s")
        .status()
        .as_u16(),
        303
    );
    assert_eq!(
        post(
            format!("/inbox/c/{c}/labels"),
            vec![("add", "paspoort".into())]
        )
        .await
        .expect("s")
        .status()
        .as_u16(),
        303
    );
    let (_, other) = inbound(&app.db, app.tenant_a, "chat:burger-2", "Vraag over afval").await;
    let _ = other;
    let list = |q: &'static str| {
        app.http
            .get(format!("{}/api/v1/conversations?{q}", app.base))
            .headers(session_headers(&app.clerk, false))
            .send()
    };
    let all: Value = list("").await.expect("l").json().await.expect("j");
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
    for q in [
        "assignee=me",
        "status=waiting",
        "label=paspoort",
        "q=burger-1",
    ] {
        let v: Value = list(q).await.expect("l").json().await.expect("j");
        let items = v["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "{q}: {v}");
        assert_eq!(items[0]["id"], c.to_string());
        assert_eq!(items[0]["labels"], json!(["paspoort"]));
        assert_eq!(items[0]["assignee_name"], "kees");
        assert!(
            items[0]["last_text"]
                .as_str()
                .is_some_and(|t| t.ends_with("Mijn paspoort is verlopen."))
        );
    }
    let none: Value = list("assignee=none")
        .await
        .expect("l")
        .json()
        .await
        .expect("j");
    assert_eq!(none["items"].as_array().map(Vec::len), Some(1));
    assert_ne!(none["items"][0]["id"], c.to_string());
    // Paging: one per page, two pages, no repeats.
    let p1: Value = list("limit=1").await.expect("l").json().await.expect("j");
    let next = p1["next"].as_str().expect("cursor").to_owned();
    let p2: Value = app
        .http
        .get(format!(
            "{}/api/v1/conversations?limit=1&after={}",
            app.base, next
        ))
        .headers(session_headers(&app.clerk, false))
        .send()
        .await
        .expect("l")
        .json()
        .await
        .expect("j");
    assert_ne!(p1["items"][0]["id"], p2["items"][0]["id"]);
    // Unread: the clerk has opened neither yet (assignment is not a view).
    assert_eq!(all["items"][0]["unread"], true);
    app.http
        .get(format!("{}/inbox/c/{c}", app.base))
        .headers(session_headers(&app.clerk, false))
        .send()
        .await
        .expect("view");
    let v: Value = list("label=paspoort")
        .await
        .expect("l")
        .json()
        .await
        .expect("j");
    assert_eq!(v["items"][0]["unread"], false);
    let changes = app
        .db
        .store
        .audit_events(
            app.tenant_a,
            loket_store::audit::AuditQuery {
                action: Some("conversation_changed".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert_eq!(changes.len(), 3);
}

/// A session past its lifetime no longer authenticates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_refused() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let policy = loket_store::accounts::LoginPolicy {
        session_ttl: chrono::Duration::seconds(-1),
        ..Default::default()
    };
    let s = app
        .db
        .store
        .login("amersfoort", "kees", PASSWORD, policy)
        .await
        .expect("login")
        .expect("accepted");
    assert!(
        app.db
            .store
            .session(&s.secret)
            .await
            .expect("read")
            .is_none()
    );
    let resp = app
        .http
        .get(format!("{}/inbox", app.base))
        .header("Cookie", format!("loket_session={}", s.secret))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/inbox/login");
}

/// Dutch by default, English by Accept-Language or the language switch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dutch_default_english_available() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let get = |lang: Option<&'static str>, cookie: Option<&'static str>| {
        let mut r = app.http.get(format!("{}/inbox/login", app.base));
        if let Some(l) = lang {
            r = r.header("Accept-Language", l);
        }
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        r.send()
    };
    let nl = get(None, None).await.expect("s").text().await.expect("b");
    assert!(nl.contains("<html lang=\"nl\"") && nl.contains("Inloggen bij loket"));
    let en = get(Some("en-GB,en;q=0.9"), None)
        .await
        .expect("s")
        .text()
        .await
        .expect("b");
    assert!(en.contains("<html lang=\"en\"") && en.contains("Log in to loket"));
    let switched = app
        .http
        .get(format!("{}/inbox/lang/en?back=/inbox/login", app.base))
        .send()
        .await
        .expect("s");
    assert_eq!(switched.status().as_u16(), 303);
    assert!(
        switched.headers()["set-cookie"]
            .to_str()
            .expect("h")
            .starts_with("loket_lang=en")
    );
    let en = get(Some("nl"), Some("loket_lang=en"))
        .await
        .expect("s")
        .text()
        .await
        .expect("b");
    assert!(en.contains("Log in to loket"));
    // The switch never redirects off-site.
    let evil = app
        .http
        .get(format!("{}/inbox/lang/en?back=//evil.example/", app.base))
        .send()
        .await
        .expect("s");
    assert_eq!(evil.headers()["location"], "/inbox");
}

/// The OpenAPI document describes the inbox's API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_the_inbox_api() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let doc: Value = app
        .http
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/replies",
        "/api/v1/conversations/{id}/notes",
        "/api/v1/conversations/{id}/assignee",
        "/api/v1/conversations/{id}/status",
        "/api/v1/conversations/{id}/labels",
        "/api/v1/conversations/{id}/labels/{label}",
        "/api/v1/messages/{id}/attachments/{ordinal}",
        "/api/v1/audit-events",
        "/api/v1/users",
        "/api/v1/tone-check",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
}

/// A clerk with the inbox open (its live stream) makes the widget show the municipality
/// as online under the `clerk_present` rule; closing it makes it offline again. An
/// auditor's or FOI officer's stream does not count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_inbox_marks_clerks_present_for_the_widget() {
    let app = spawn_with(TestDb::sqlite().await.expect("sqlite"), |s| {
        s.webchat.defaults.online_rule = loket_webchat::OnlineRule::ClerkPresent;
    })
    .await;
    let online = || async {
        let v: Value = app
            .http
            .get(format!("{}/webchat/v1/info?tenant=amersfoort", app.base))
            .send()
            .await
            .expect("s")
            .json()
            .await
            .expect("json");
        v["online"].as_bool().expect("online flag")
    };
    assert!(!online().await);
    let foi_stream = app
        .http
        .get(format!("{}/inbox/events", app.base))
        .headers(session_headers(&app.foi, false))
        .send()
        .await
        .expect("s");
    assert_eq!(foi_stream.status().as_u16(), 200);
    assert!(
        !online().await,
        "an FOI officer is not a clerk answering chats"
    );
    let stream = app
        .http
        .get(format!("{}/inbox/events", app.base))
        .headers(session_headers(&app.clerk, false))
        .send()
        .await
        .expect("s");
    assert_eq!(stream.status().as_u16(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert!(online().await);
    drop(stream);
    let mut offline = false;
    // The server notices the closed connection at its next keep-alive (every 5 s).
    for _ in 0..200 {
        if !online().await {
            offline = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(offline, "presence ends with the stream");
    drop(foi_stream);
}
