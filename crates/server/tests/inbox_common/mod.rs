//! The one set-up of the inbox tests (pages, API, permissions, escaping, FOI search): a
//! running server (`loket_server::testing::spawn_app`, with the search index when asked)
//! with two tenants, a person of every role in tenant A, a clerk in tenant B, sessions
//! and a conversation.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use loket_core::*;
use loket_search::SearchService;
use loket_server::testing::{TestDb, settings_for, spawn_app};
use loket_server::{Running, Settings};
use loket_store::accounts::LoginPolicy;
use reqwest::header::{COOKIE, HeaderMap, HeaderValue};

pub const PASSWORD: &str = "correct horse battery staple";

/// A logged-in person: the cookie value and the session's CSRF token.
#[derive(Clone)]
pub struct Person {
    pub user_id: String,
    pub cookie: String,
    pub csrf: String,
}

pub struct Inbox {
    pub base: String,
    pub http: reqwest::Client,
    pub tenant_a: TenantId,
    pub tenant_b: TenantId,
    pub admin: Person,
    pub clerk: Person,
    pub foi: Person,
    pub auditor: Person,
    pub other_clerk: Person,
    pub api_clerk: String,
    pub conversation: ConversationId,
    pub message: MessageId,
    pub db: TestDb,
    pub running: Running,
    /// The search service, for an inbox spawned [`with_search`](spawn_with_search).
    pub search: Option<SearchService>,
}

impl Inbox {
    /// Waits (generously) until the indexer has indexed everything written so far.
    pub async fn wait_indexed(&self) {
        let search = self.search.as_ref().expect("spawned with search");
        let head = *self.db.store.outbox_watch().borrow();
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            search.wait_indexed(head),
        )
        .await
        .expect("indexed in time")
        .expect("indexed");
    }
}

/// A logged-in person of `tenant` (`slug`) with `role`.
pub async fn person(
    db: &TestDb,
    tenant: TenantId,
    slug: &str,
    username: &str,
    role: Role,
) -> Person {
    let u = db
        .store
        .create_user(tenant, username, username, role, PASSWORD)
        .await
        .expect("user");
    let s = db
        .store
        .login(slug, username, PASSWORD, LoginPolicy::default())
        .await
        .expect("login")
        .expect("accepted");
    Person {
        user_id: u.id,
        cookie: format!("loket_session={}", s.secret),
        csrf: s.session.csrf_token,
    }
}

/// An inbound webchat message with an attachment in tenant A.
pub async fn inbound(
    db: &TestDb,
    tenant: TenantId,
    from: &str,
    text: &str,
) -> (ConversationId, MessageId) {
    let mut m = Inbound::new(
        Channel::Webchat,
        Address::new(from),
        text,
        text.as_bytes().to_vec(),
    );
    m.idempotency_key = Some(uuid::Uuid::now_v7().to_string());
    m.attachments = vec![NewAttachment {
        filename: Some("<b>x</b>.html".into()),
        content_type: "text/html".into(),
        content_id: None,
        data: b"<script>alert(1)</script>".to_vec(),
    }];
    let r = db.store.ingest(tenant, m).await.expect("ingest");
    (r.conversation_id, r.message_id)
}

pub async fn spawn(db: TestDb) -> Inbox {
    spawn_with(db, |_| {}).await
}

/// [`spawn`] with the search index and its indexer (the FOI search page).
pub async fn spawn_with_search(db: TestDb) -> Inbox {
    build(db, |_| {}, true).await
}

pub async fn spawn_with(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> Inbox {
    build(db, adjust, false).await
}

async fn build(db: TestDb, adjust: impl FnOnce(&mut Settings), search: bool) -> Inbox {
    let mut settings = settings_for(&db).expect("settings");
    adjust(&mut settings);
    let store = db.store.clone();
    let a = store
        .create_tenant("amersfoort", "Gemeente Amersfoort")
        .await
        .expect("tenant");
    let b = store
        .create_tenant("baarn", "Gemeente Baarn")
        .await
        .expect("tenant");
    let admin = person(&db, a.id, "amersfoort", "anna", Role::Admin).await;
    let clerk = person(&db, a.id, "amersfoort", "kees", Role::Clerk).await;
    let foi = person(&db, a.id, "amersfoort", "wim", Role::FoiOfficer).await;
    let auditor = person(&db, a.id, "amersfoort", "alie", Role::Auditor).await;
    let other_clerk = person(&db, b.id, "baarn", "bert", Role::Clerk).await;
    let api_clerk = store
        .create_token(a.id, "integration", Role::Clerk)
        .await
        .expect("token")
        .secret;
    let (conversation, message) = inbound(
        &db,
        a.id,
        "chat:burger-1",
        "<script>window.pwned=1</script><img src=x onerror=alert(1)> Mijn paspoort is verlopen.",
    )
    .await;
    let app = spawn_app(&db, settings, search).await.expect("start");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Inbox {
        base: app.base,
        http,
        tenant_a: a.id,
        tenant_b: b.id,
        admin,
        clerk,
        foi,
        auditor,
        other_clerk,
        api_clerk,
        conversation,
        message,
        db,
        running: app.running,
        search: app.search,
    }
}

/// Headers of a session request (cookie, and the CSRF header when `csrf`).
pub fn session_headers(p: &Person, csrf: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(COOKIE, HeaderValue::from_str(&p.cookie).expect("cookie"));
    if csrf {
        h.insert(
            "X-CSRF-Token",
            HeaderValue::from_str(&p.csrf).expect("csrf"),
        );
    }
    h
}
