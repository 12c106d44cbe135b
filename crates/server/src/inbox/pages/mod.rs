//! The inbox pages, one file per page: [`login`] (login, logout, language), [`list`]
//! (the conversation list), [`conversation`] (one conversation with its reply and
//! handling forms), [`forms`] (what those forms post to), [`events`] (live updates over
//! SSE), [`audit`] (the auditor's "who saw what"), [`search`] (the FOI search page).
//!
//! A handler gathers what a page shows into a plain struct; the struct's askama
//! template (`crates/server/templates/inbox/`) renders it inside `base.html`.

pub mod audit;
pub mod conversation;
pub mod events;
pub mod forms;
pub mod list;
pub mod login;
pub mod search;

use super::html::{Clock, Layout};
use super::{PageSession, error_page, lang_of, page_session, to_login};
use crate::AppState;
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use loket_core::{ConversationId, Role};

const JS: &str = include_str!("../assets/inbox.js");
const CSS: &str = include_str!("../assets/inbox.css");

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(JS)
}

pub async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(CSS)
}

/// How this person's pages show times: the tenant's time zone, the page's language.
async fn clock(req: &HttpRequest, state: &AppState, s: &PageSession) -> Result<Clock, Problem> {
    let zone = state.store.tenant_time_zone(s.principal().tenant).await?;
    Ok(Clock::new(
        lang_of(req).texts(),
        zone.as_deref(),
        loket_core::now(),
    ))
}

/// The chrome of a signed-in person's page.
fn layout(req: &HttpRequest, s: &PageSession, title: &str, back: &str) -> Layout {
    Layout::new(
        lang_of(req),
        title,
        Some(s.principal()),
        &s.session.csrf_token,
        back,
    )
}

/// Resolves the session, role and conversation id of a conversation route, or the
/// response to give instead.
async fn conv_guard(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    roles: &[Role],
) -> Result<Result<(PageSession, ConversationId), HttpResponse>, Problem> {
    let Some(s) = page_session(req, state).await? else {
        return Ok(Err(to_login()));
    };
    if !roles.contains(&s.principal().role) {
        return Ok(Err(error_page(req, StatusCode::FORBIDDEN, Some(&s))));
    }
    match id.parse::<ConversationId>() {
        Ok(id) => Ok(Ok((s, id))),
        Err(_) => Ok(Err(error_page(req, StatusCode::NOT_FOUND, Some(&s)))),
    }
}
