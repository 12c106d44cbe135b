//! The inbox's JSON API: the list with filters, notes, assignment, status, labels,
//! attachment download, the auditor's trail and the tone check. Usable with an API
//! token or a session (sessions send `X-CSRF-Token` on state-changing calls).

use super::list_query::{ListQuery, cursor_of, inbox_query};
use super::{AUDITORS, READERS, WRITERS};
use crate::AppState;
use crate::auth::Auth;
use crate::problem::Problem;
use crate::routes::api::MessageView;
use actix_web::{HttpResponse, web};
use loket_core::tone::{self, ToneFinding};
use loket_core::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/conversations", web::get().to(list_conversations))
        .route(
            "/api/v1/conversations/{id}/notes",
            web::post().to(post_note),
        )
        .route(
            "/api/v1/conversations/{id}/assignee",
            web::put().to(put_assignee),
        )
        .route(
            "/api/v1/conversations/{id}/status",
            web::put().to(put_status),
        )
        .route(
            "/api/v1/conversations/{id}/labels",
            web::post().to(post_label),
        )
        .route(
            "/api/v1/conversations/{id}/labels/{label}",
            web::delete().to(delete_label),
        )
        .route(
            "/api/v1/messages/{id}/attachments/{ordinal}",
            web::get().to(get_attachment),
        )
        .route("/api/v1/audit-events", web::get().to(list_audit_events))
        .route("/api/v1/users", web::get().to(list_users))
        .route("/api/v1/tone-check", web::post().to(tone_check));
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `open`, `waiting` or `closed`.
    pub status: Option<String>,
    /// `webchat`, `email` or `sms`.
    pub channel: Option<String>,
    /// `me`, `none` or a user id.
    pub assignee: Option<String>,
    pub label: Option<String>,
    /// Substring of the contact or subject (an audited search when a person asks).
    pub q: Option<String>,
    /// `newest` (default) or `oldest`.
    pub sort: Option<String>,
    /// Cursor from the previous page's `next`.
    pub after: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationListItem {
    pub id: String,
    pub channel: String,
    pub status: String,
    pub subject: Option<String>,
    pub contact_address: String,
    pub contact_name: Option<String>,
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    pub labels: Vec<String>,
    pub last_message_at: String,
    pub last_text: Option<String>,
    pub unread: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationList {
    pub items: Vec<ConversationListItem>,
    /// Cursor of the next page, absent on the last one.
    pub next: Option<String>,
}

fn user_id(p: &Principal) -> Option<String> {
    match &p.actor {
        Actor::User { id, .. } => Some(id.clone()),
        _ => None,
    }
}

fn conv_id(s: &str) -> Result<ConversationId, Problem> {
    s.parse().map_err(|_| Problem::not_found("conversation"))
}

/// The inbox list: newest activity first (or oldest), filtered, keyset paged.
#[utoipa::path(get, path = "/api/v1/conversations", params(ListParams),
    responses((status = 200, body = ConversationList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_conversations(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(READERS)?.clone();
    let q = q.into_inner();
    let lq = ListQuery {
        status: q.status,
        channel: q.channel,
        assignee: q.assignee,
        label: q.label,
        q: q.q,
        sort: q.sort,
        after: q.after,
        limit: q.limit,
        partial: None,
    };
    let me = user_id(&p);
    let query = inbox_query(&lq, me.as_deref())?;
    let limit = query.limit;
    let text = query.text.clone();
    let items = state.store.inbox_list(p.tenant, me, query).await?;
    if let (Some(text), true) = (text, p.actor.is_person()) {
        state
            .store
            .audit(
                &p,
                AuditAction::Searched,
                AuditSubject::new("inbox", "conversations"),
                serde_json::json!({"q": text, "status": lq.status, "channel": lq.channel, "label": lq.label, "results": items.len()}),
            )
            .await?;
    }
    let next = if items.len() as i64 == limit {
        items.last().map(cursor_of)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ConversationList {
        items: items
            .into_iter()
            .map(|it| ConversationListItem {
                id: it.conversation.id.to_string(),
                channel: it.conversation.channel.as_str().to_owned(),
                status: it.conversation.status.as_str().to_owned(),
                subject: it.conversation.subject.clone(),
                contact_address: it.contact_address,
                contact_name: it.contact_name,
                assignee: it.assignee,
                assignee_name: it.assignee_name,
                labels: it.labels,
                last_message_at: it
                    .conversation
                    .last_message_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                last_text: it.last_text,
                unread: it.unread,
            })
            .collect(),
        next,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub text: String,
}

/// An internal note: archived with the conversation, never sent to the citizen.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/notes", params(("id" = String, Path)), request_body = NoteBody,
    responses((status = 201, body = MessageView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn post_note(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<NoteBody>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(WRITERS)?.clone();
    let id = conv_id(&id)?;
    let out = Outbound {
        channel: None,
        to: None,
        subject: None,
        text: body.into_inner().text,
        html: None,
        attachments: vec![],
        internal_note: true,
        idempotency_key: None,
    };
    let r = state.store.queue_outbound(&p, id, out).await?;
    let m = state
        .store
        .message(p.tenant, r.message_id)
        .await?
        .ok_or_else(|| Problem::not_found("message"))?;
    Ok(HttpResponse::Created().json(MessageView::of(&m, false)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssigneeBody {
    /// A user of the tenant, or null to unassign.
    pub user_id: Option<String>,
}

/// Assigns the conversation to a user (or nobody).
#[utoipa::path(put, path = "/api/v1/conversations/{id}/assignee", params(("id" = String, Path)), request_body = AssigneeBody,
    responses((status = 204), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_assignee(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<AssigneeBody>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(WRITERS)?.clone();
    let id = conv_id(&id)?;
    state
        .store
        .assign_conversation(&p, id, body.into_inner().user_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `open`, `waiting` or `closed`.
    pub status: String,
}

/// Changes the conversation's status.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/status", params(("id" = String, Path)), request_body = StatusBody,
    responses((status = 204), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_status(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<StatusBody>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(WRITERS)?.clone();
    let id = conv_id(&id)?;
    let st: ConversationStatus = body
        .status
        .parse()
        .map_err(|e: UnknownValue| Problem::bad_request(e.to_string()))?;
    state.store.set_conversation_status(&p, id, st).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    /// 1–40 characters.
    pub label: String,
}

/// Adds a label.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/labels", params(("id" = String, Path)), request_body = LabelBody,
    responses((status = 204), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn post_label(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<LabelBody>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(WRITERS)?.clone();
    let id = conv_id(&id)?;
    state.store.set_label(&p, id, &body.label, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a label.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/labels/{label}", params(("id" = String, Path), ("label" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete_label(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(WRITERS)?.clone();
    let (id, label) = path.into_inner();
    let id = conv_id(&id)?;
    state.store.set_label(&p, id, &label, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Downloads an attachment (an audited read). Always served as a download with a
/// sandboxing CSP, so an HTML attachment can never run in loket's origin.
#[utoipa::path(get, path = "/api/v1/messages/{id}/attachments/{ordinal}", params(("id" = String, Path), ("ordinal" = usize, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_attachment(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(READERS)?.clone();
    let (id, ordinal) = path.into_inner();
    let id: MessageId = id.parse().map_err(|_| Problem::not_found("message"))?;
    let m = state
        .store
        .message(p.tenant, id)
        .await?
        .ok_or_else(|| Problem::not_found("message"))?;
    let a = m
        .attachments
        .get(ordinal)
        .ok_or_else(|| Problem::not_found("attachment"))?;
    let data = state
        .store
        .blob(p.tenant, &a.sha256)
        .await?
        .ok_or_else(|| Problem::not_found("attachment"))?;
    state
        .store
        .audit(
            &p,
            AuditAction::AttachmentDownloaded,
            AuditSubject::new("attachment", a.id),
            serde_json::json!({"message": m.id.to_string(), "conversation": m.conversation_id.to_string(), "sha256": a.sha256}),
        )
        .await?;
    let name: String = a
        .filename
        .as_deref()
        .unwrap_or("attachment")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(data))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// e.g. `conversation_viewed`, `attachment_downloaded`, `searched`.
    pub action: Option<String>,
    /// `user:<id>` or `token:<id>`.
    pub actor: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub after_seq: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_name: Option<String>,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub detail: serde_json::Value,
}

/// Who did or saw what, and when (auditors and admins).
#[utoipa::path(get, path = "/api/v1/audit-events", params(AuditParams),
    responses((status = 200, body = [AuditEventView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<AuditParams>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(AUDITORS)?.clone();
    let q = q.into_inner();
    let events = state
        .store
        .audit_events(
            p.tenant,
            loket_store::audit::AuditQuery {
                action: q.action,
                actor: q.actor,
                subject_kind: q.subject_kind,
                subject_id: q.subject_id,
                after_seq: q.after_seq,
                limit: q.limit.unwrap_or(200).clamp(1, 1000),
            },
        )
        .await?;
    let names = state.store.actor_names(p.tenant).await?;
    Ok(HttpResponse::Ok().json(
        events
            .into_iter()
            .map(|e| AuditEventView {
                seq: e.seq,
                at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                actor_name: names.get(&e.actor).cloned(),
                actor: e.actor,
                action: e.action,
                subject_kind: e.subject_kind,
                subject_id: e.subject_id,
                detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
            })
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
}

/// The tenant's users (for assignment).
#[utoipa::path(get, path = "/api/v1/users",
    responses((status = 200, body = [UserView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_users(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, Problem> {
    let p = auth.require(WRITERS)?.clone();
    let users = state.store.users(p.tenant).await?;
    Ok(HttpResponse::Ok().json(
        users
            .into_iter()
            .map(|u| UserView {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                role: u.role.as_str().to_owned(),
                disabled: u.disabled,
            })
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToneBody {
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ToneFindingView {
    /// `opinion`, `informal`, `swearing`, `emoji`, `all_caps`, `exclamation`.
    pub rule: String,
    pub matched: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ToneResult {
    /// Shown with every reply: the text becomes part of the public record.
    pub notice: String,
    pub findings: Vec<ToneFindingView>,
}

/// The tone check a reply gets before it is sent (warnings; sending is never blocked).
#[utoipa::path(post, path = "/api/v1/tone-check", request_body = ToneBody,
    responses((status = 200, body = ToneResult), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn tone_check(
    req: actix_web::HttpRequest,
    auth: Auth,
    body: web::Json<ToneBody>,
) -> Result<HttpResponse, Problem> {
    auth.require(WRITERS)?;
    let findings: Vec<ToneFinding> = tone::check(&body.text);
    Ok(HttpResponse::Ok().json(ToneResult {
        notice: super::lang_of(&req).texts().woo_notice.to_owned(),
        findings: findings
            .into_iter()
            .map(|f| ToneFindingView {
                rule: f.rule.as_str().to_owned(),
                matched: f.matched,
            })
            .collect(),
    }))
}

/// The inbox paths of the OpenAPI document (merged into `routes::api::ApiDoc`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_conversations,
        post_note,
        put_assignee,
        put_status,
        post_label,
        delete_label,
        get_attachment,
        list_audit_events,
        list_users,
        tone_check
    ),
    components(schemas(
        ConversationList,
        ConversationListItem,
        NoteBody,
        AssigneeBody,
        StatusBody,
        LabelBody,
        AuditEventView,
        UserView,
        ToneBody,
        ToneResult,
        ToneFindingView
    ))
)]
pub struct InboxApiDoc;
