//! The conversation list: filters, the rows (also served alone, `?partial=rows`, for
//! live updates) and the next-page link. A search in the list is audited.

use super::{clock, layout};
use crate::AppState;
use crate::inbox::html::{
    self, Clock, Layout, Opt, Select, channel_icon, channel_name, status_name,
};
use crate::inbox::i18n::Texts;
use crate::inbox::list_query::{ListQuery, cursor_of, inbox_query, nonempty};
use crate::inbox::{READERS, error_page, page_session, to_login};
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use loket_core::{AuditAction, AuditSubject, Channel, ConversationStatus};
use loket_store::inbox::InboxItem;

/// One row of the list.
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) unread: bool,
    pub(crate) icon: &'static str,
    pub(crate) channel: &'static str,
    /// The name a person reads (`html::contact_label`), never a hash.
    pub(crate) contact: String,
    pub(crate) subject: Option<String>,
    /// The first non-blank line of the last message, at most 120 characters.
    pub(crate) first_line: String,
    pub(crate) iso: String,
    /// The local time and the age ("3 uur geleden").
    pub(crate) time: String,
    pub(crate) age: String,
    pub(crate) status: &'static str,
    pub(crate) assignee: String,
    pub(crate) labels: Vec<String>,
}

pub(crate) fn rows(clock: &Clock, items: &[InboxItem]) -> Vec<Row> {
    let t = clock.t;
    items
        .iter()
        .map(|it| {
            let c = &it.conversation;
            Row {
                id: c.id.to_string(),
                unread: it.unread,
                icon: channel_icon(c.channel),
                channel: channel_name(t, c.channel),
                contact: html::contact_label(t, &it.contact),
                subject: c.subject.clone(),
                first_line: it
                    .last_text
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .chars()
                    .take(120)
                    .collect(),
                iso: html::iso(c.last_message_at),
                time: clock.local(c.last_message_at),
                age: clock.ago(c.last_message_at),
                status: status_name(t, c.status),
                assignee: it.assignee_name.clone().unwrap_or_else(|| "—".into()),
                labels: it.labels.clone(),
            }
        })
        .collect()
}

/// The newest conversations for the list beside an open conversation (on wide
/// screens), unfiltered; the viewer's unread marks.
pub(crate) async fn pane(
    state: &AppState,
    s: &crate::inbox::PageSession,
    clock: &Clock,
) -> Result<Vec<Row>, Problem> {
    let query = loket_store::inbox::InboxQuery {
        limit: PANE_ROWS,
        ..Default::default()
    };
    let items = state
        .store
        .inbox_list(s.principal().tenant, Some(s.session.user_id.clone()), query)
        .await?;
    Ok(rows(clock, &items))
}

/// How many conversations the list beside a conversation shows.
const PANE_ROWS: i64 = 50;

/// The rows alone (`?partial=rows`).
#[derive(Template)]
#[template(path = "inbox/rows.html", config = "templates/askama.toml")]
struct RowsPart {
    t: &'static Texts,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "inbox/list.html", config = "templates/askama.toml")]
struct ListPage {
    layout: Layout,
    t: &'static Texts,
    /// Status, channel and assignee.
    selects: Vec<Select>,
    label: String,
    q: String,
    sort: Select,
    live_src: String,
    rows: Vec<Row>,
    next: Option<String>,
}

/// The filters as a query string (without paging).
fn query_string(q: &ListQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("status", &q.status),
        ("channel", &q.channel),
        ("assignee", &q.assignee),
        ("label", &q.label),
        ("q", &q.q),
        ("sort", &q.sort),
    ] {
        if let Some(v) = nonempty(v) {
            parts.push(format!("{k}={}", html::url_enc(v)));
        }
    }
    parts.join("&")
}

fn filters(t: &Texts, q: &ListQuery, users: &[loket_store::accounts::User]) -> Vec<Select> {
    let current = |v: &Option<String>| v.clone().unwrap_or_default();
    let any = |cur: &str| Opt::new("", t.any, cur);
    let status = current(&q.status);
    let mut statuses = vec![any(&status)];
    for st in [
        ConversationStatus::Open,
        ConversationStatus::Waiting,
        ConversationStatus::Closed,
    ] {
        statuses.push(Opt::new(st.as_str(), status_name(t, st), &status));
    }
    let channel = current(&q.channel);
    let mut channels = vec![any(&channel)];
    for ch in [Channel::Webchat, Channel::Email, Channel::Sms] {
        channels.push(Opt::new(ch.as_str(), channel_name(t, ch), &channel));
    }
    let assignee = current(&q.assignee);
    let mut assignees = vec![
        any(&assignee),
        Opt::new("me", t.assignee_me, &assignee),
        Opt::new("none", t.assignee_none, &assignee),
    ];
    assignees.extend(
        users
            .iter()
            .map(|u| Opt::new(u.id.clone(), u.display_name.clone(), &assignee)),
    );
    vec![
        Select {
            name: "status",
            label: t.status_label,
            options: statuses,
        },
        Select {
            name: "channel",
            label: t.channel_label,
            options: channels,
        },
        Select {
            name: "assignee",
            label: t.assignee_label,
            options: assignees,
        },
    ]
}

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, Problem> {
    let Some(s) = page_session(&req, &state).await? else {
        return Ok(to_login());
    };
    if !READERS.contains(&s.principal().role) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    let t = crate::inbox::lang_of(&req).texts();
    let clock = clock(&req, &state, &s).await?;
    let q = q.into_inner();
    let query = match inbox_query(&q, Some(&s.session.user_id)) {
        Ok(x) => x,
        Err(_) => return Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s))),
    };
    let searched = query.text.clone();
    let limit = query.limit;
    let items = state
        .store
        .inbox_list(s.principal().tenant, Some(s.session.user_id.clone()), query)
        .await?;
    if let (Some(text), None) = (&searched, &q.partial) {
        state
            .store
            .audit(
                s.principal(),
                AuditAction::Searched,
                AuditSubject::new("inbox", "conversations"),
                serde_json::json!({"q": text, "status": q.status, "channel": q.channel, "label": q.label, "results": items.len()}),
            )
            .await?;
    }
    if q.partial.as_deref() == Some("rows") {
        return Ok(html::ok(&RowsPart {
            t,
            rows: rows(&clock, &items),
        }));
    }
    let users = state.store.users(s.principal().tenant).await?;
    let qs = query_string(&q);
    let with = |extra: &str| {
        if qs.is_empty() {
            format!("/inbox?{extra}")
        } else {
            format!("/inbox?{qs}&{extra}")
        }
    };
    let next = items
        .last()
        .filter(|_| items.len() as i64 == limit)
        .map(|last| with(&format!("after={}", html::url_enc(&cursor_of(last)))));
    let back = if qs.is_empty() {
        "/inbox".to_owned()
    } else {
        format!("/inbox?{qs}")
    };
    let sort = q.sort.clone().unwrap_or_else(|| "newest".into());
    let page = ListPage {
        layout: layout(&req, &s, t.inbox_title, &back),
        t,
        selects: filters(t, &q, &users),
        label: q.label.clone().unwrap_or_default(),
        q: q.q.clone().unwrap_or_default(),
        sort: Select {
            name: "sort",
            label: t.sort_label,
            options: vec![
                Opt::new("newest", t.sort_newest, &sort),
                Opt::new("oldest", t.sort_oldest, &sort),
            ],
        },
        live_src: with("partial=rows"),
        rows: rows(&clock, &items),
        next,
    };
    Ok(html::ok(&page))
}
