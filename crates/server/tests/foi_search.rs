//! The FOI search page and the search API against a running server
//! with a real index: counts, hits with their conversation, syntax errors, the search
//! log in the audit chain, and who may search.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod inbox_common;

use inbox_common::*;
use loket_core::*;
use loket_store::testing::TestDb;

async fn run(db: TestDb) {
    let app = spawn_with_search(db).await;
    let (a, b) = (app.tenant_a, app.tenant_b);
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
        app.db.store.ingest(a, m).await.expect("ingest");
    }
    let mut other = Inbound::new(
        Channel::Webchat,
        Address::new("session:b"),
        "vergunning van Epe",
        b"x".to_vec(),
    );
    other.idempotency_key = Some("kb".into());
    app.db.store.ingest(b, other).await.expect("ingest");

    let foi = app.foi.cookie.clone();
    let clerk = app.clerk.cookie.clone();
    let (base, http, db) = (&app.base, &app.http, &app.db);

    // Wait (generously) until the indexer has caught up with the four messages.
    app.wait_indexed().await;

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
            a,
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
    app.running.server.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foi_search_page_sqlite() {
    run(TestDb::sqlite().await.expect("db")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foi_search_page_postgres() {
    run(TestDb::postgres().await.expect("db")).await;
}
