//! The unified inbox: login/logout with database-backed sessions and CSRF
//! tokens, the server-rendered conversation list and view, replies and internal notes,
//! assignment, status, labels, live updates over SSE, the tone check, and the
//! auditor's "who saw what" view, the FOI search page. The pages are in [`pages`] (one
//! file per page, rendered by askama templates in `crates/server/templates/inbox/`);
//! the JSON API for the same actions is in [`api`].
//!
//! Permissions per route and role: `docs/permissions.md`.

pub mod api;
mod html;
pub mod i18n;
pub mod list_query;
mod pages;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, same_token, session_cookie};
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use i18n::Lang;
use loket_core::{Principal, Role};
use loket_store::accounts::{LoginPolicy, Session};

/// Cookie carrying the login form's CSRF token (double submit, before a session exists).
pub const LOGIN_CSRF_COOKIE: &str = "loket_login_csrf";
/// Cookie with the chosen UI language.
pub const LANG_COOKIE: &str = "loket_lang";

/// The Content-Security-Policy of every inbox page: no inline script or style, nothing
/// from other origins.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Roles that read conversations.
pub const READERS: &[Role] = &[Role::Admin, Role::Clerk, Role::FoiOfficer];
/// Roles that answer and handle conversations.
pub const WRITERS: &[Role] = &[Role::Admin, Role::Clerk];
/// Roles that read the audit trail.
pub const AUDITORS: &[Role] = &[Role::Admin, Role::Auditor];

/// Registers the inbox pages, its assets and its JSON API routes. Must be registered
/// before the `/api/{tail}` catch-all.
pub fn configure(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
    cfg.service(
        web::scope("/inbox")
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("Content-Security-Policy", CSP))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Cache-Control", "no-store")),
            )
            .route("", web::get().to(pages::list::list))
            .route("/", web::get().to(pages::list::list))
            .route("/login", web::get().to(pages::login::login_form))
            .route("/login", web::post().to(pages::login::login_submit))
            .route("/logout", web::post().to(pages::login::logout))
            .route("/lang/{lang}", web::get().to(pages::login::set_lang))
            .route("/events", web::get().to(pages::events::events))
            .route("/audit", web::get().to(pages::audit::audit))
            .route("/search", web::get().to(pages::search::search_page))
            .route("/c/{id}", web::get().to(pages::conversation::conversation))
            .route("/c/{id}/reply", web::post().to(pages::forms::reply))
            .route("/c/{id}/assign", web::post().to(pages::forms::assign))
            .route("/c/{id}/status", web::post().to(pages::forms::status))
            .route("/c/{id}/labels", web::post().to(pages::forms::labels))
            .route(
                "/c/{id}/contact",
                web::post().to(pages::forms::contact_name),
            )
            .route("/static/inbox.js", web::get().to(pages::script))
            .route("/static/inbox.css", web::get().to(pages::style)),
    );
}

/// The login policy (lock-out after 5 failures in 15 minutes, for 15 minutes; sessions
/// last 8 hours).
pub fn login_policy() -> LoginPolicy {
    LoginPolicy::default()
}

/// The language: the cookie, else the first supported `Accept-Language`, else Dutch.
pub fn lang_of(req: &HttpRequest) -> Lang {
    if let Some(v) = cookie(req, LANG_COOKIE) {
        return if v == "en" { Lang::En } else { Lang::Nl };
    }
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    for part in accept.split(',') {
        let tag = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("nl") {
            return Lang::Nl;
        }
        if tag.starts_with("en") {
            return Lang::En;
        }
    }
    Lang::Nl
}

/// A cookie's value.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// `Secure` is left off only for plain HTTP on a loopback address (local development
/// and tests); everywhere else cookies need HTTPS.
pub fn cookie_attrs(req: &HttpRequest) -> &'static str {
    let info = req.connection_info();
    let host = info.host().to_ascii_lowercase();
    let loopback =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    if info.scheme() == "http" && loopback {
        "; Path=/; HttpOnly; SameSite=Strict"
    } else {
        "; Path=/; HttpOnly; SameSite=Strict; Secure"
    }
}

/// The logged-in session of a page request.
pub struct PageSession {
    pub secret: String,
    pub session: Session,
}

impl PageSession {
    pub fn principal(&self) -> &Principal {
        &self.session.principal
    }

    /// Checks a form's CSRF field.
    pub fn check_csrf(&self, token: &str) -> bool {
        same_token(token, &self.session.csrf_token)
    }
}

/// The session behind the cookie, if any.
pub async fn page_session(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<PageSession>, Problem> {
    let Some(secret) = session_cookie(req) else {
        return Ok(None);
    };
    Ok(state
        .store
        .session(&secret)
        .await?
        .map(|session| PageSession { secret, session }))
}

/// 303 to the login page (anonymous page requests).
pub fn to_login() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/inbox/login"))
        .finish()
}

#[derive(Template)]
#[template(path = "inbox/error.html", config = "templates/askama.toml")]
struct ErrorPage {
    layout: html::Layout,
    message: &'static str,
}

/// A small HTML error page.
pub fn error_page(
    req: &HttpRequest,
    status: StatusCode,
    viewer: Option<&PageSession>,
) -> HttpResponse {
    let lang = lang_of(req);
    let t = lang.texts();
    let message = match status {
        StatusCode::FORBIDDEN => t.forbidden,
        StatusCode::NOT_FOUND => t.not_found,
        _ => t.bad_request,
    };
    let layout = html::Layout::new(
        lang,
        message,
        viewer.map(PageSession::principal),
        viewer.map_or("", |s| s.session.csrf_token.as_str()),
        "/inbox",
    );
    html::respond(status, &ErrorPage { layout, message })
}

/// Builds a `Set-Cookie` value.
pub fn set_cookie(req: &HttpRequest, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}{}", cookie_attrs(req));
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    c
}

/// The session cookie name (re-exported for tests).
pub const SESSION_COOKIE_NAME: &str = SESSION_COOKIE;
