//! Every route × every role (and anonymous, and a clerk of another tenant) answers
//! exactly as docs/permissions.md says. Sessions are real logins; state-changing calls
//! carry the CSRF token. A second pass proves every state-changing call from a session
//! without the CSRF token is refused (403), while API tokens need none.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod inbox_common;

use inbox_common::*;
use loket_store::testing::TestDb;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

/// What a cell of the table expects: a status, or a 303 to the login page.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    S(u16),
    Login,
}
use Want::{Login, S};

struct Route {
    method: Method,
    path: String,
    body: Body,
    /// anonymous, admin, clerk, foi_officer, auditor, other tenant's clerk
    want: [Want; 6],
}

fn r(method: Method, path: String, body: Body, want: [Want; 6]) -> Route {
    Route {
        method,
        path,
        body,
        want,
    }
}

async fn call(app: &Inbox, route: &Route, who: Option<&Person>, csrf: bool) -> (u16, String) {
    let url = format!("{}{}", app.base, route.path);
    let mut req = app.http.request(route.method.clone(), &url);
    if let Some(p) = who {
        req = req.headers(session_headers(p, csrf));
    }
    // Each ingest is a new message (not an idempotent repeat of the previous caller's).
    req = req.header("Idempotency-Key", uuid::Uuid::now_v7().to_string());
    req = match &route.body {
        Body::None => req,
        Body::Json(v) => req.json(v),
        Body::Form(fields) => {
            let mut f: Vec<(&str, String)> = fields.clone();
            if let (Some(p), true) = (who, csrf) {
                f.push(("csrf", p.csrf.clone()));
            }
            req.form(&f)
        }
    };
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, location)
}

fn routes(app: &Inbox) -> Vec<Route> {
    let c = app.conversation;
    let m = app.message;
    let note = || {
        Body::Form(vec![
            ("kind", "note".into()),
            ("text", "Neutrale notitie voor collega's.".into()),
        ])
    };
    let mut v = vec![
        r(
            Method::GET,
            "/inbox/static/inbox.js".into(),
            Body::None,
            [S(200); 6],
        ),
        r(
            Method::GET,
            "/inbox/login".into(),
            Body::None,
            [S(200), S(303), S(303), S(303), S(303), S(303)],
        ),
        r(
            Method::GET,
            "/inbox".into(),
            Body::None,
            [Login, S(200), S(200), S(200), S(403), S(200)],
        ),
        r(
            Method::GET,
            format!("/inbox/c/{c}"),
            Body::None,
            [Login, S(200), S(200), S(200), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/inbox/c/{c}/reply"),
            note(),
            [Login, S(303), S(303), S(403), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/inbox/c/{c}/assign"),
            Body::Form(vec![("user", String::new())]),
            [Login, S(303), S(303), S(403), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/inbox/c/{c}/status"),
            Body::Form(vec![("status", "open".into())]),
            [Login, S(303), S(303), S(403), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/inbox/c/{c}/labels"),
            Body::Form(vec![("add", "paspoort".into())]),
            [Login, S(303), S(303), S(403), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/inbox/c/{c}/contact"),
            Body::Form(vec![("name", "Jan Jansen".into())]),
            [Login, S(303), S(303), S(403), S(403), S(404)],
        ),
        r(
            Method::GET,
            "/inbox/audit".into(),
            Body::None,
            [Login, S(200), S(403), S(403), S(200), S(403)],
        ),
        r(
            Method::GET,
            "/inbox/events".into(),
            Body::None,
            [S(401), S(200), S(200), S(200), S(403), S(200)],
        ),
        r(
            Method::GET,
            "/api/v1/conversations".into(),
            Body::None,
            [S(401), S(200), S(200), S(200), S(403), S(200)],
        ),
        r(
            Method::GET,
            format!("/api/v1/conversations/{c}"),
            Body::None,
            [S(401), S(200), S(200), S(200), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/api/v1/conversations/{c}/replies"),
            Body::Json(json!({"text": "Neutraal antwoord.", "internal_note": true})),
            [S(401), S(201), S(201), S(403), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/api/v1/conversations/{c}/notes"),
            Body::Json(json!({"text": "Notitie."})),
            [S(401), S(201), S(201), S(403), S(403), S(404)],
        ),
        r(
            Method::PUT,
            format!("/api/v1/conversations/{c}/assignee"),
            Body::Json(json!({"user_id": null})),
            [S(401), S(204), S(204), S(403), S(403), S(404)],
        ),
        r(
            Method::PUT,
            format!("/api/v1/conversations/{c}/status"),
            Body::Json(json!({"status": "waiting"})),
            [S(401), S(204), S(204), S(403), S(403), S(404)],
        ),
        r(
            Method::POST,
            format!("/api/v1/conversations/{c}/labels"),
            Body::Json(json!({"label": "urgent"})),
            [S(401), S(204), S(204), S(403), S(403), S(404)],
        ),
        r(
            Method::DELETE,
            format!("/api/v1/conversations/{c}/labels/urgent"),
            Body::None,
            [S(401), S(204), S(204), S(403), S(403), S(404)],
        ),
        r(
            Method::GET,
            format!("/api/v1/messages/{m}"),
            Body::None,
            [S(401), S(200), S(200), S(200), S(403), S(404)],
        ),
        r(
            Method::GET,
            format!("/api/v1/messages/{m}/attachments/0"),
            Body::None,
            [S(401), S(200), S(200), S(200), S(403), S(404)],
        ),
        r(
            Method::GET,
            "/api/v1/audit-events".into(),
            Body::None,
            [S(401), S(200), S(403), S(403), S(200), S(403)],
        ),
        r(
            Method::GET,
            "/api/v1/users".into(),
            Body::None,
            [S(401), S(200), S(200), S(403), S(403), S(200)],
        ),
        r(
            Method::POST,
            "/api/v1/tone-check".into(),
            Body::Json(json!({"text": "Ik vind dit raar!!"})),
            [S(401), S(200), S(200), S(403), S(403), S(200)],
        ),
        r(
            Method::POST,
            "/api/v1/messages".into(),
            Body::Json(
                json!({"channel": "sms", "from": {"address": "+31612345678"}, "text": "Hallo"}),
            ),
            [S(401), S(201), S(201), S(403), S(403), S(201)],
        ),
        r(
            Method::POST,
            "/api/v1/imports".into(),
            Body::None,
            [S(401), S(200), S(403), S(403), S(403), S(403)],
        ),
    ];
    // Logout last: it ends the session.
    v.push(r(
        Method::POST,
        "/inbox/logout".into(),
        Body::Form(vec![]),
        [Login, Login, Login, Login, Login, Login],
    ));
    v
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn matrix(db: TestDb) {
    let app = spawn(db).await;
    let people = [
        None,
        Some(app.admin.clone()),
        Some(app.clerk.clone()),
        Some(app.foi.clone()),
        Some(app.auditor.clone()),
        Some(app.other_clerk.clone()),
    ];
    let names = [
        "anonymous",
        "admin",
        "clerk",
        "foi_officer",
        "auditor",
        "other tenant's clerk",
    ];
    let routes = routes(&app);
    // CSRF first (before logout ends the sessions): every state-changing call from a
    // session without the token is refused, whatever the role allows.
    let mut failures = Vec::new();
    for route in routes.iter().filter(|r| is_unsafe(&r.method)) {
        if route.path == "/inbox/logout" {
            continue;
        }
        for (i, who) in people.iter().enumerate().skip(1) {
            let (status, _) = call(&app, route, who.as_ref(), false).await;
            let allowed = route.want[i] != S(403);
            // Another tenant's clerk is refused before the lookup that would give 404.
            if status != 403 {
                failures.push(format!(
                    "{} {} without CSRF as {}: got {status}, want 403 (allowed={allowed})",
                    route.method, route.path, names[i]
                ));
            }
        }
    }
    for route in &routes {
        for (i, who) in people.iter().enumerate() {
            let (status, location) = call(&app, route, who.as_ref(), true).await;
            let got = if status == 303 && location == "/inbox/login" {
                Login
            } else {
                S(status)
            };
            if got != route.want[i] {
                failures.push(format!(
                    "{} {} as {}: got {got:?} (location {location:?}), want {:?}",
                    route.method, route.path, names[i], route.want[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission matrix:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_matrix_sqlite() {
    matrix(TestDb::sqlite().await.expect("sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_matrix_postgres() {
    matrix(TestDb::postgres().await.expect("postgres")).await;
}

/// API tokens are exempt from CSRF (a browser never sends them by itself), and the
/// token's role is checked the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_need_no_csrf() {
    let app = spawn(TestDb::sqlite().await.expect("sqlite")).await;
    let c = app.conversation;
    let resp = app
        .http
        .put(format!("{}/api/v1/conversations/{c}/status", app.base))
        .bearer_auth(&app.api_clerk)
        .json(&json!({"status": "closed"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 204);
    let resp = app
        .http
        .get(format!("{}/api/v1/audit-events", app.base))
        .bearer_auth(&app.api_clerk)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 403);
}
