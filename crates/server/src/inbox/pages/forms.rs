//! What the conversation page's forms post to: a reply or internal note (through the
//! tone check), assignment, status and labels. Each answers with a redirect back to the
//! conversation, or the conversation again with the tone warning.

use super::conv_guard;
use super::conversation::{ReplyDraft, render_conversation};
use crate::AppState;
use crate::inbox::{PageSession, WRITERS, error_page};
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use loket_core::tone;
use loket_core::{Channel, ConversationId, ConversationStatus, Outbound};
use loket_store::StoreError;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    confirm: Option<String>,
}

/// The session and conversation of a form post by someone who answers, with the form's
/// CSRF field checked, or the response to give instead.
async fn form_guard(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    csrf: &str,
) -> Result<Result<(PageSession, ConversationId), HttpResponse>, Problem> {
    let (s, id) = match conv_guard(req, state, id, WRITERS).await? {
        Ok(x) => x,
        Err(resp) => return Ok(Err(resp)),
    };
    if !s.check_csrf(csrf) {
        return Ok(Err(error_page(req, StatusCode::FORBIDDEN, Some(&s))));
    }
    Ok(Ok((s, id)))
}

/// Back to the conversation after a change, or the error page for the store's refusal.
fn answer<T>(
    req: &HttpRequest,
    s: &PageSession,
    id: ConversationId,
    r: Result<T, StoreError>,
) -> Result<HttpResponse, Problem> {
    match r {
        Ok(_) => Ok(back_to(id)),
        Err(StoreError::NotFound { .. }) => Ok(error_page(req, StatusCode::NOT_FOUND, Some(s))),
        Err(StoreError::Invalid(_)) => Ok(error_page(req, StatusCode::BAD_REQUEST, Some(s))),
        Err(e) => Err(e.into()),
    }
}

fn back_to(id: ConversationId) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("/inbox/c/{id}")))
        .finish()
}

pub async fn reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, Problem> {
    let (s, id) = match form_guard(&req, &state, &id, &form.csrf).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let form = form.into_inner();
    let p = s.principal().clone();
    if state.store.conversation(p.tenant, id).await?.is_none() {
        return Ok(error_page(&req, StatusCode::NOT_FOUND, Some(&s)));
    }
    let note = form.kind.as_deref() == Some("note");
    let channel = match form.channel.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => match c.parse::<Channel>() {
            Ok(c) => Some(c),
            Err(_) => return Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s))),
        },
        None => None,
    };
    if form.text.trim().is_empty() {
        return Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s)));
    }
    // The tone check applies to what the citizen receives (and may read back under the
    // Woo); notes are records too, so they are checked as well.
    let findings = tone::check(&form.text);
    if !findings.is_empty() && form.confirm.as_deref() != Some("1") {
        return render_conversation(
            &req,
            &state,
            &s,
            id,
            ReplyDraft {
                text: form.text,
                channel: form.channel,
                note,
                findings,
            },
        )
        .await;
    }
    let out = Outbound {
        channel: if note { None } else { channel },
        to: None,
        subject: None,
        text: form.text,
        html: None,
        attachments: vec![],
        internal_note: note,
        idempotency_key: None,
    };
    state.store.queue_outbound(&p, id, out).await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
}

pub async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, Problem> {
    let (s, id) = match form_guard(&req, &state, &id, &form.csrf).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let user = Some(form.user.trim().to_owned()).filter(|u| !u.is_empty());
    let r = state
        .store
        .assign_conversation(s.principal(), id, user)
        .await;
    answer(&req, &s, id, r)
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

pub async fn status(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, Problem> {
    let (s, id) = match form_guard(&req, &state, &id, &form.csrf).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let Ok(st) = form.status.parse::<ConversationStatus>() else {
        return Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s)));
    };
    let r = state
        .store
        .set_conversation_status(s.principal(), id, st)
        .await;
    answer(&req, &s, id, r)
}

#[derive(Deserialize)]
pub struct LabelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    add: Option<String>,
    #[serde(default)]
    remove: Option<String>,
}

pub async fn labels(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<LabelForm>,
) -> Result<HttpResponse, Problem> {
    let (s, id) = match form_guard(&req, &state, &id, &form.csrf).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let (label, add) = match (&form.add, &form.remove) {
        (Some(l), _) => (l.clone(), true),
        (None, Some(l)) => (l.clone(), false),
        (None, None) => return Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s))),
    };
    let r = state.store.set_label(s.principal(), id, &label, add).await;
    answer(&req, &s, id, r)
}

#[derive(Deserialize)]
pub struct ContactNameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// Names the conversation's contact (blank clears the clerk's name).
pub async fn contact_name(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<ContactNameForm>,
) -> Result<HttpResponse, Problem> {
    let (s, id) = match form_guard(&req, &state, &id, &form.csrf).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let name = Some(form.into_inner().name);
    let r = state.store.set_contact_name(s.principal(), id, name).await;
    answer(&req, &s, id, r)
}
