//! Every value an inbox template renders comes out HTML-escaped, on every inbox page.
//!
//! Each field that can carry text from a citizen, a clerk or a request (subject, message
//! text, contact name and address, parse warning, attachment name and type, clerk display
//! name, label, list filters and search query echoed back, FOI hits and snippets, audit
//! details and filters, the login form's echo) gets its own payload
//! `"><script>alert(1)</script><tag>`. On every page the test checks that no raw
//! `<script>` is in the HTML (an attribute broken out of would show one too) and that the escaped form of
//! each field shown there is. A template that wrote such a field with `|safe` (or any
//! unescaped path) fails both checks.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod inbox_common;

use inbox_common::*;
use loket_core::*;
use loket_store::accounts::LoginPolicy;
use loket_store::testing::TestDb;

/// The payload of one field: breaks out of an attribute and opens a script.
fn payload(tag: &str) -> String {
    format!("\"><script>alert(1)</script>{tag}")
}

/// How the payload's script part looks once escaped (in text and in attributes).
fn escaped(tag: &str) -> String {
    format!("&lt;script&gt;alert(1)&lt;/script&gt;{tag}")
}

/// Checks one page: no raw payload anywhere, the escaped form of every `tags` field.
fn check(page: &str, html: &str, tags: &[&str]) {
    assert!(!html.contains("<script>"), "{page}: raw <script>:\n{html}");
    assert!(
        !html.contains("alert(1)</script>"),
        "{page}: raw payload:\n{html}"
    );
    // Our own script is still there, as an external file.
    if !page.contains("partial") {
        assert!(
            html.contains("<script src=\"/inbox/static/inbox.js\" defer></script>"),
            "{page}: page frame"
        );
    }
    for tag in tags {
        assert!(
            html.contains(&escaped(tag)),
            "{page}: field `{tag}` is not shown escaped:\n{html}"
        );
    }
}

async fn get(app: &Inbox, base: &str, who: &Person, path: &str) -> String {
    let resp = app
        .http
        .get(format!("{base}{path}"))
        .headers(session_headers(who, false))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    resp.text().await.expect("body")
}

async fn run(db: TestDb) {
    let app = spawn_with_search(db).await;
    let store = app.db.store.clone();
    let tenant = app.tenant_a;

    // A clerk-facing admin whose display name is a payload (nav, assignee, user lists,
    // audit actor names).
    let mallory = store
        .create_user(tenant, "mallory", &payload("clerk"), Role::Admin, PASSWORD)
        .await
        .expect("user");
    let s = store
        .login("amersfoort", "mallory", PASSWORD, LoginPolicy::default())
        .await
        .expect("login")
        .expect("accepted");
    let me = Person {
        user_id: mallory.id.clone(),
        cookie: format!("loket_session={}", s.secret),
        csrf: s.session.csrf_token,
    };

    // An email with a payload in every field the store keeps as text.
    let mut from = Address::new(payload("caddr"));
    from.name = Some(payload("cname"));
    let text = format!("{} rijbewijs\nTweede regel.", payload("text"));
    let mut m = Inbound::new(Channel::Email, from, text.clone(), text.into_bytes());
    m.subject = Some(payload("subject"));
    m.parse_warnings = vec![payload("warning")];
    m.attachments = vec![NewAttachment {
        filename: Some(payload("file")),
        content_type: payload("ctype"),
        content_id: None,
        data: b"x".to_vec(),
    }];
    let conv = store
        .ingest(tenant, m)
        .await
        .expect("ingest")
        .conversation_id;
    let admin = mallory.principal();
    store
        .set_label(&admin, conv, &payload("label"), true)
        .await
        .expect("label");
    store
        .assign_conversation(&admin, conv, Some(mallory.id.clone()))
        .await
        .expect("assign");

    // The FOI page searches the index: wait until it holds the email above.
    app.wait_indexed().await;

    let base = app.base.clone();
    // A contact with a name is shown by it; its address is in the conversation's
    // contact details only.
    let row = ["cname", "subject", "text", "label", "clerk"];

    // The list, its live rows, and the filters echoed back.
    check("list", &get(&app, &base, &me, "/inbox").await, &row);
    check(
        "list partial",
        &get(&app, &base, &me, "/inbox?partial=rows").await,
        &["cname", "subject", "text", "label"],
    );
    let filtered = format!(
        "/inbox?q={}&label={}",
        enc(&payload("query")),
        enc(&payload("lfilter"))
    );
    check(
        "list filtered",
        &get(&app, &base, &me, &filtered).await,
        &["query", "lfilter", "clerk"],
    );

    // The conversation: as a clerk who can answer, its live messages, as the FOI
    // officer (read only), and again after a tone warning (the draft is shown again).
    let c = format!("/inbox/c/{conv}");
    let conv_fields = [
        "cname", "caddr", "subject", "text", "warning", "file", "ctype", "label", "clerk",
    ];
    check(
        "conversation",
        &get(&app, &base, &me, &c).await,
        &conv_fields,
    );
    check(
        "conversation partial",
        &get(&app, &base, &me, &format!("{c}?partial=messages")).await,
        &["cname", "subject", "text", "warning", "file", "ctype"],
    );
    check(
        "conversation (FOI officer)",
        &get(&app, &base, &app.foi, &c).await,
        &[
            "cname", "caddr", "subject", "text", "file", "label", "clerk",
        ],
    );
    let draft = format!("{} Wat een belachelijke vraag!!!", payload("draft"));
    let resp = app
        .http
        .post(format!("{base}{c}/reply"))
        .headers(session_headers(&me, false))
        .form(&[
            ("csrf", me.csrf.as_str()),
            ("text", draft.as_str()),
            ("kind", "reply"),
            ("channel", "email"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200, "tone warning page");
    let warned = resp.text().await.expect("body");
    assert!(warned.contains("id=\"tone\""), "the tone warning is shown");
    check(
        "conversation with tone warning",
        &warned,
        &["draft", "clerk"],
    );

    // The FOI search page: hits (sender, subject, snippet), the query echoed back, and a
    // query with a syntax error.
    check(
        "FOI search",
        &get(&app, &base, &me, "/inbox/search?q=rijbewijs").await,
        &["cname", "subject", "text", "clerk"],
    );
    let echo = format!("/inbox/search?q={}", enc(&payload("fquery")));
    check(
        "FOI search echo",
        &get(&app, &base, &me, &echo).await,
        &["fquery", "clerk"],
    );
    // A query that parses (no quote), so that it is logged with its text.
    let logged = format!(
        "/inbox/search?q={}",
        enc(&format!("rijbewijs OR {}", &payload("foi")[2..]))
    );
    check(
        "FOI search logged",
        &get(&app, &base, &me, &logged).await,
        &["foi", "clerk"],
    );
    let broken = format!(
        "/inbox/search?q={}",
        enc(&format!("({}", payload("ferror")))
    );
    check(
        "FOI search error",
        &get(&app, &base, &me, &broken).await,
        &["ferror", "clerk"],
    );

    // The audit page: actor names and details (the searches above were logged with their
    // query), and the subject filter echoed back.
    check(
        "audit",
        &get(&app, &base, &me, "/inbox/audit?action=all").await,
        &["clerk", "query", "foi"],
    );
    let subject = format!("/inbox/audit?subject={}", enc(&payload("asubject")));
    check(
        "audit filtered",
        &get(&app, &base, &me, &subject).await,
        &["asubject", "clerk"],
    );

    // The login page echoes the tenant and username of a refused login.
    let resp = app
        .http
        .post(format!("{base}/inbox/login"))
        .header("Cookie", "loket_login_csrf=abc123")
        .form(&[
            ("csrf", "abc123"),
            ("tenant", payload("tenant").as_str()),
            ("username", payload("user").as_str()),
            ("password", "wrong"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    check(
        "login refused",
        &resp.text().await.expect("body"),
        &["tenant", "user"],
    );
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rendered_field_is_escaped_on_every_page_sqlite() {
    run(TestDb::sqlite().await.expect("sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rendered_field_is_escaped_on_every_page_postgres() {
    run(TestDb::postgres().await.expect("postgres")).await;
}
