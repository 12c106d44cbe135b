//! The FOI search page and the search API (issue 8, point 5) against a running server
//! with a real index: counts, hits with their conversation, syntax errors, the search
//! log in the audit chain, and who may search.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use loket_core::*;
use loket_server::{Services, Settings, open_search, start_with};
use loket_store::accounts::LoginPolicy;
use loket_store::testing::TestDb;

async fn session(db: &TestDb, tenant: TenantId, slug: &str, user: &str, role: Role) -> String {
    db.store
        .create_user(tenant, user, user, role, "correct horse battery staple")
        .await
        .expect("user");
    let s = db
        .store
        .login(
            slug,
            user,
            "correct horse battery staple",
            LoginPolicy::default(),
        )
        .await
        .expect("login")
        .expect("accepted");
    format!("loket_session={}", s.secret)
}

async fn run(db: TestDb) {
    let mut settings = Settings::load_from(None, vec![]).expect("settings");
    settings.data_dir = db.dir.clone();
    let a = db
        .store
        .create_tenant("ede", "Gemeente Ede")
        .await
        .expect("t");
    let b = db
        .store
        .create_tenant("epe", "Gemeente Epe")
        .await
        .expect("t");
    for (i, text) in [
        "Mijn vergunningen voor het café",
        "Vraag over de <b>vergunning</b>",
        "Afval",
    ]
    .iter()
    .enumerate()
    {
        let mut m = Inbound::new(
            Channel::Webchat,
            Address::new(format!("session:{i}")),
            *text,
            text.as_bytes().to_vec(),
        );
        m.idempotency_key = Some(format!("k{i}"));
        db.store.ingest(a.id, m).await.expect("ingest");
    }
    let mut other = Inbound::new(
        Channel::Webchat,
        Address::new("session:b"),
        "vergunning van Epe",
        b"x".to_vec(),
    );
    other.idempotency_key = Some("kb".into());
    db.store.ingest(b.id, other).await.expect("ingest");

    let foi = session(&db, a.id, "ede", "wim", Role::FoiOfficer).await;
    let clerk = session(&db, a.id, "ede", "kees", Role::Clerk).await;
    let search = open_search(&db.store, &settings).await.expect("search");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let running = start_with(
        db.store.clone(),
        settings,
        listener,
        Services {
            search: Some(search.clone()),
        },
    )
    .expect("start");
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // Wait (generously) until the indexer has caught up with the four messages.
    let head = *db.store.outbox_watch().borrow();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        search.wait_indexed(head),
    )
    .await
    .expect("indexed in time")
    .expect("indexed");

    let page = http
        .get(format!("{base}/inbox/search?q=vergunning"))
        .header("Cookie", &foi)
        .send()
        .await
        .expect("send");
    assert_eq!(page.status().as_u16(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let html = page.text().await.expect("text");
    assert!(
        html.contains("<strong>2</strong> berichten"),
        "exact count, stemmed, tenant-scoped: {html}"
    );
    assert!(html.contains("<strong>2</strong> gesprekken"));
    assert!(
        html.contains("<mark>vergunningen</mark>"),
        "snippet with highlight"
    );
    assert!(html.contains("&lt;b&gt;"), "message markup is escaped");
    assert!(!html.contains("Epe"), "tenant B's message never shows");
    assert!(
        html.contains("/inbox/c/"),
        "hits link to their conversation"
    );
    if let Some(csp) = csp {
        assert!(!csp.contains("unsafe-inline") || !csp.contains("script-src 'unsafe-inline'"));
    }

    let bad = http
        .get(format!("{base}/inbox/search?q=%28vergunning"))
        .header("Cookie", &foi)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        bad.contains("role=\"alert\"") && bad.contains("De zoekvraag klopt niet"),
        "{bad}"
    );

    let refused = http
        .get(format!("{base}/inbox/search?q=x"))
        .header("Cookie", &clerk)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status().as_u16(), 403);
    let anon = http
        .get(format!("{base}/inbox/search?q=x"))
        .send()
        .await
        .expect("send");
    assert_eq!(anon.status().as_u16(), 303);

    // The search log: who, when, query, count.
    let log = db
        .store
        .audit_events(
            a.id,
            loket_store::audit::AuditQuery {
                action: Some("searched".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert!(
        log.iter()
            .any(|e| e.detail.contains("vergunning") && e.actor.starts_with("user:")),
        "{log:?}"
    );
    assert!(db.store.verify().await.expect("verify").ok());
    running.server.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foi_search_page_sqlite() {
    run(TestDb::sqlite().await.expect("db")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foi_search_page_postgres() {
    run(TestDb::postgres().await.expect("db")).await;
}
