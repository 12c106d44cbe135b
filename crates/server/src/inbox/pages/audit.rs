//! The auditor's "who saw what": the audit trail of the tenant with filters on action,
//! person and subject, 200 events a page.

use super::{clock, layout};
use crate::AppState;
use crate::inbox::html::{self, Layout, Opt, Select};
use crate::inbox::i18n::Texts;
use crate::inbox::list_query::nonempty;
use crate::inbox::{AUDITORS, error_page, lang_of, page_session, to_login};
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use loket_core::AuditAction;
use serde::Deserialize;

/// Events a page.
const PAGE: usize = 200;

#[derive(Deserialize)]
pub struct AuditPageQuery {
    action: Option<String>,
    actor: Option<String>,
    subject: Option<String>,
    after: Option<i64>,
}

/// One audit event as the page shows it.
struct EventRow {
    iso: String,
    time: String,
    who: String,
    action: String,
    subject_kind: String,
    subject_id: String,
    /// The subject is a conversation (linked).
    conversation: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "inbox/audit.html", config = "templates/askama.toml")]
struct AuditPage {
    layout: Layout,
    t: &'static Texts,
    /// Action and actor.
    selects: Vec<Select>,
    subject: String,
    events: Vec<EventRow>,
    next: Option<String>,
}

pub async fn audit(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<AuditPageQuery>,
) -> Result<HttpResponse, Problem> {
    let Some(s) = page_session(&req, &state).await? else {
        return Ok(to_login());
    };
    if !AUDITORS.contains(&s.principal().role) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    let t = lang_of(&req).texts();
    let clock = clock(&req, &state, &s).await?;
    let tenant = s.principal().tenant;
    let action = nonempty(&q.action)
        .unwrap_or("conversation_viewed")
        .to_owned();
    let events = state
        .store
        .audit_events(
            tenant,
            loket_store::audit::AuditQuery {
                action: Some(action.clone()).filter(|a| a != "all"),
                actor: nonempty(&q.actor).map(str::to_owned),
                subject_kind: None,
                subject_id: nonempty(&q.subject).map(str::to_owned),
                after_seq: q.after,
                limit: PAGE as i64,
            },
        )
        .await?;
    let names = state.store.actor_names(tenant).await?;

    let mut actions = vec![Opt::new("all", t.audit_all, &action)];
    for a in [
        AuditAction::ConversationViewed,
        AuditAction::AttachmentDownloaded,
        AuditAction::Searched,
        AuditAction::Exported,
        AuditAction::ReplyQueued,
        AuditAction::NoteAdded,
        AuditAction::ConversationChanged,
        AuditAction::ContactChanged,
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
    ] {
        actions.push(Opt::new(a.as_str(), a.as_str(), &action));
    }
    let actor = q.actor.clone().unwrap_or_default();
    let subject = q.subject.clone().unwrap_or_default();
    let mut actors = vec![Opt::new("", t.any, &actor)];
    let mut named: Vec<(&String, &String)> = names.iter().collect();
    named.sort_by_key(|(_, n)| n.to_lowercase());
    actors.extend(
        named
            .into_iter()
            .map(|(r, n)| Opt::new(r.clone(), n.clone(), &actor)),
    );
    let next = events.last().filter(|_| events.len() == PAGE).map(|last| {
        format!(
            "/inbox/audit?action={}&actor={}&subject={}&after={}",
            html::url_enc(&action),
            html::url_enc(&actor),
            html::url_enc(&subject),
            last.seq
        )
    });
    let rows = events
        .iter()
        .map(|e| EventRow {
            iso: html::iso(e.at),
            time: clock.local(e.at),
            who: names
                .get(&e.actor)
                .cloned()
                .unwrap_or_else(|| e.actor.clone()),
            action: e.action.clone(),
            subject_kind: e.subject_kind.clone(),
            subject_id: e.subject_id.clone(),
            conversation: e.subject_kind == "conversation",
            // Hashes (of a message, an attachment) stay in the record and the API;
            // the page shortens them.
            detail: html::shorten_hashes(&e.detail),
        })
        .collect();
    let page = AuditPage {
        layout: layout(&req, &s, t.audit_title, "/inbox/audit"),
        t,
        selects: vec![
            Select {
                name: "action",
                label: t.audit_action,
                options: actions,
            },
            Select {
                name: "actor",
                label: t.audit_actor,
                options: actors,
            },
        ],
        subject,
        events: rows,
        next,
    };
    Ok(html::ok(&page))
}
