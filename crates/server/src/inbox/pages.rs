//! The inbox pages (server-rendered HTML) and their form handlers.

use super::html::{self, Viewer, channel_icon, channel_name, esc, status_name, url_enc};
use super::i18n::{Lang, Texts};
use super::{
    AUDITORS, LANG_COOKIE, LOGIN_CSRF_COOKIE, PageSession, READERS, WRITERS, error_page, lang_of,
    login_policy, page_session, set_cookie, to_login,
};
use crate::AppState;
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use loket_core::tone::{self, ToneFinding, ToneRule};
use loket_core::*;
use loket_store::accounts::{AssigneeFilter, InboxItem, InboxQuery};
use serde::Deserialize;
use std::fmt::Write;

const JS: &str = include_str!("assets/inbox.js");
const CSS: &str = include_str!("assets/inbox.css");

fn html_ok(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

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

fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Where to go after login.
fn home_of(role: Role) -> &'static str {
    if role == Role::Auditor {
        "/inbox/audit"
    } else {
        "/inbox"
    }
}

fn viewer(s: &PageSession) -> Viewer<'_> {
    Viewer {
        principal: &s.session.principal,
        csrf: &s.session.csrf_token,
    }
}

// ---------------------------------------------------------------- language

#[derive(Deserialize)]
pub struct LangQuery {
    back: Option<String>,
}

pub async fn set_lang(
    req: HttpRequest,
    lang: web::Path<String>,
    q: web::Query<LangQuery>,
) -> HttpResponse {
    let l = if lang.as_str() == "en" { "en" } else { "nl" };
    // Only local inbox paths: never an open redirect.
    let back = q
        .back
        .as_deref()
        .filter(|b| b.starts_with("/inbox") && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or("/inbox");
    HttpResponse::SeeOther()
        .insert_header(("Location", back.to_owned()))
        .insert_header((
            "Set-Cookie",
            set_cookie(&req, LANG_COOKIE, l, Some(365 * 86_400)),
        ))
        .finish()
}

// ---------------------------------------------------------------- login

fn login_page(lang: Lang, csrf: &str, tenant: &str, username: &str, failed: bool) -> String {
    let t = lang.texts();
    let mut body = format!("<h1>{}</h1><p>{}</p>", t.login_title, t.login_intro);
    if failed {
        let _ = write!(
            body,
            "<div class=\"alert\" role=\"alert\" id=\"login-error\">{}</div>",
            t.login_failed
        );
    }
    let described = if failed {
        " aria-describedby=\"login-error\""
    } else {
        ""
    };
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/inbox/login\" class=\"login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <p><label for=\"tenant\">{tl}</label><input id=\"tenant\" name=\"tenant\" required autocomplete=\"organization\" value=\"{tenant}\"></p>\
         <p><label for=\"username\">{ul}</label><input id=\"username\" name=\"username\" required autocomplete=\"username\" value=\"{username}\"{described}></p>\
         <p><label for=\"password\">{pl}</label><input id=\"password\" name=\"password\" type=\"password\" required autocomplete=\"current-password\"></p>\
         <p><button type=\"submit\">{bl}</button></p></form>",
        csrf = esc(csrf),
        tl = t.tenant_label,
        tenant = esc(tenant),
        ul = t.username_label,
        username = esc(username),
        pl = t.password_label,
        bl = t.login_button,
    );
    html::page(lang, t.login_title, None, "/inbox/login", &body)
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    if let Some(s) = page_session(&req, &state).await? {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", home_of(s.principal().role)))
            .finish());
    }
    let csrf = super::cookie(&req, LOGIN_CSRF_COOKIE)
        .filter(|c| c.len() == 48 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_token);
    // The only tenant of a single-municipality install is filled in.
    let tenants = state.store.tenants().await?;
    let tenant = match tenants.as_slice() {
        [one] => one.slug.clone(),
        _ => String::new(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Set-Cookie",
            set_cookie(&req, LOGIN_CSRF_COOKIE, &csrf, None),
        ))
        .body(login_page(lang_of(&req), &csrf, &tenant, "", false)))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// Every refusal gives the same page with the same status (no user enumeration).
pub async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Problem> {
    let form = form.into_inner();
    let cookie_token = super::cookie(&req, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !crate::auth::same_token(&form.csrf, &cookie_token) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, None));
    }
    let lang = lang_of(&req);
    if form.username.len() > 200 || form.password.len() > 1024 || form.tenant.len() > 100 {
        return Ok(HttpResponse::Unauthorized()
            .content_type("text/html; charset=utf-8")
            .body(login_page(
                lang,
                &form.csrf,
                &form.tenant,
                &form.username,
                true,
            )));
    }
    match state
        .store
        .login(&form.tenant, &form.username, &form.password, login_policy())
        .await?
    {
        Ok(new) => {
            let max_age = (new.session.expires_at - loket_core::now()).num_seconds();
            Ok(HttpResponse::SeeOther()
                .insert_header(("Location", home_of(new.session.principal.role)))
                .append_header((
                    "Set-Cookie",
                    set_cookie(
                        &req,
                        crate::auth::SESSION_COOKIE,
                        &new.secret,
                        Some(max_age),
                    ),
                ))
                .append_header((
                    "Set-Cookie",
                    set_cookie(&req, LOGIN_CSRF_COOKIE, "", Some(0)),
                ))
                .finish())
        }
        Err(_) => Ok(HttpResponse::Unauthorized()
            .content_type("text/html; charset=utf-8")
            .body(login_page(
                lang,
                &form.csrf,
                &form.tenant,
                &form.username,
                true,
            ))),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Problem> {
    let Some(s) = page_session(&req, &state).await? else {
        return Ok(to_login());
    };
    if !s.check_csrf(&form.csrf) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    state.store.end_session(&s.secret).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/inbox/login"))
        .insert_header((
            "Set-Cookie",
            set_cookie(&req, crate::auth::SESSION_COOKIE, "", Some(0)),
        ))
        .finish())
}

// ---------------------------------------------------------------- list

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub assignee: Option<String>,
    pub label: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
    pub partial: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Turns list query parameters into a store query (`me` is the viewer's user id).
pub fn inbox_query(q: &ListQuery, me: Option<&str>) -> Result<InboxQuery, Problem> {
    let status = nonempty(&q.status)
        .map(|s| s.parse::<ConversationStatus>())
        .transpose()
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let channel = nonempty(&q.channel)
        .map(|s| s.parse::<Channel>())
        .transpose()
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let assignee = match nonempty(&q.assignee) {
        None => AssigneeFilter::Any,
        Some("none") => AssigneeFilter::Unassigned,
        Some("me") => match me {
            Some(id) => AssigneeFilter::User(id.to_owned()),
            None => return Err(Problem::bad_request("`assignee=me` needs a person")),
        },
        Some(id) => AssigneeFilter::User(id.to_owned()),
    };
    let oldest_first = match nonempty(&q.sort) {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(other) => return Err(Problem::bad_request(format!("unknown sort `{other}`"))),
    };
    let after = nonempty(&q.after).map(parse_cursor).transpose()?;
    Ok(InboxQuery {
        status,
        channel,
        assignee,
        label: nonempty(&q.label).map(str::to_owned),
        text: nonempty(&q.q).map(str::to_owned),
        oldest_first,
        after,
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    })
}

/// Cursor text: `<RFC 3339 time>_<conversation id>`.
pub fn cursor_of(item: &InboxItem) -> String {
    format!(
        "{}_{}",
        item.conversation
            .last_message_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        item.conversation.id
    )
}

fn parse_cursor(s: &str) -> Result<(Timestamp, ConversationId), Problem> {
    let bad = || Problem::bad_request("`after` is not a cursor from this list");
    let (t, id) = s.rsplit_once('_').ok_or_else(bad)?;
    let t = chrono::DateTime::parse_from_rfc3339(t)
        .map_err(|_| bad())?
        .with_timezone(&chrono::Utc);
    Ok((t, id.parse().map_err(|_| bad())?))
}

fn select(name: &str, label: &str, options: &[(String, String)], current: &str) -> String {
    let mut s = format!(
        "<p><label for=\"f-{name}\">{label}</label><select id=\"f-{name}\" name=\"{name}\">"
    );
    for (v, l) in options {
        let sel = if v == current { " selected" } else { "" };
        let _ = write!(s, "<option value=\"{}\"{sel}>{}</option>", esc(v), esc(l));
    }
    s.push_str("</select></p>");
    s
}

fn list_rows(t: &Texts, items: &[InboxItem]) -> String {
    let now = loket_core::now();
    let mut rows = String::new();
    if items.is_empty() {
        let _ = write!(
            rows,
            "<tr><td colspan=\"7\">{}</td></tr>",
            t.no_conversations
        );
    }
    for it in items {
        let c = &it.conversation;
        let contact = it
            .contact_name
            .as_deref()
            .map(|n| format!("{n} <{}>", it.contact_address))
            .unwrap_or_else(|| it.contact_address.clone());
        let first_line: String = it
            .last_text
            .as_deref()
            .unwrap_or("")
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(120)
            .collect();
        let unread = if it.unread {
            format!(
                "<span class=\"dot\" aria-hidden=\"true\"></span><span class=\"sr-only\">{}: </span>",
                t.unread
            )
        } else {
            String::new()
        };
        let labels: String = it
            .labels
            .iter()
            .map(|l| format!("<span class=\"label\">{}</span>", esc(l)))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(
            rows,
            "<tr class=\"{cls}\" data-id=\"{id}\"><td><span aria-hidden=\"true\">{icon}</span> {chan}</td>\
             <td>{unread}<a href=\"/inbox/c/{id}\">{contact}</a>{subject}</td><td class=\"first\">{first}</td>\
             <td><time datetime=\"{iso}\">{age}</time></td><td>{status}</td><td>{assignee}</td><td>{labels}</td></tr>",
            cls = if it.unread { "unread" } else { "" },
            id = c.id,
            icon = channel_icon(c.channel),
            chan = channel_name(t, c.channel),
            contact = esc(&contact),
            subject = c
                .subject
                .as_deref()
                .map(|s| format!("<br><span class=\"subject\">{}</span>", esc(s)))
                .unwrap_or_default(),
            first = esc(&first_line),
            iso = c
                .last_message_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            age = html::age(t, c.last_message_at, now),
            status = status_name(t, c.status),
            assignee = esc(it.assignee_name.as_deref().unwrap_or("—")),
        );
    }
    rows
}

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
            parts.push(format!("{k}={}", url_enc(v)));
        }
    }
    parts.join("&")
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
    let lang = lang_of(&req);
    let t = lang.texts();
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
    let rows = list_rows(t, &items);
    if q.partial.as_deref() == Some("rows") {
        return Ok(html_ok(rows));
    }
    let users = state.store.users(s.principal().tenant).await?;
    let qs = query_string(&q);
    let mut body = format!("<h1>{}</h1>", t.inbox_title);
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/inbox\" class=\"filters\" role=\"search\" aria-label=\"{}\">",
        t.filters
    );
    let any = (String::new(), t.any.to_owned());
    let mut statuses = vec![any.clone()];
    for st in [
        ConversationStatus::Open,
        ConversationStatus::Waiting,
        ConversationStatus::Closed,
    ] {
        statuses.push((st.as_str().to_owned(), status_name(t, st).to_owned()));
    }
    body.push_str(&select(
        "status",
        t.status_label,
        &statuses,
        q.status.as_deref().unwrap_or(""),
    ));
    let mut channels = vec![any.clone()];
    for ch in [Channel::Webchat, Channel::Email, Channel::Sms] {
        channels.push((ch.as_str().to_owned(), channel_name(t, ch).to_owned()));
    }
    body.push_str(&select(
        "channel",
        t.channel_label,
        &channels,
        q.channel.as_deref().unwrap_or(""),
    ));
    let mut assignees = vec![
        any.clone(),
        ("me".to_owned(), t.assignee_me.to_owned()),
        ("none".to_owned(), t.assignee_none.to_owned()),
    ];
    assignees.extend(users.iter().map(|u| (u.id.clone(), u.display_name.clone())));
    body.push_str(&select(
        "assignee",
        t.assignee_label,
        &assignees,
        q.assignee.as_deref().unwrap_or(""),
    ));
    let _ = write!(
        body,
        "<p><label for=\"f-label\">{}</label><input id=\"f-label\" name=\"label\" value=\"{}\"></p>\
         <p><label for=\"f-q\">{}</label><input id=\"f-q\" name=\"q\" type=\"search\" value=\"{}\"></p>",
        t.label_label,
        esc(q.label.as_deref().unwrap_or("")),
        t.search_label,
        esc(q.q.as_deref().unwrap_or("")),
    );
    body.push_str(&select(
        "sort",
        t.sort_label,
        &[
            ("newest".into(), t.sort_newest.into()),
            ("oldest".into(), t.sort_oldest.into()),
        ],
        q.sort.as_deref().unwrap_or("newest"),
    ));
    let _ = write!(
        body,
        "<p><button type=\"submit\">{}</button></p></form>",
        t.apply_filters
    );
    let partial_src = if qs.is_empty() {
        "/inbox?partial=rows".to_owned()
    } else {
        format!("/inbox?{qs}&partial=rows")
    };
    let _ = write!(
        body,
        "<table class=\"list\"><caption>{cap}</caption><thead><tr><th scope=\"col\">{c1}</th><th scope=\"col\">{c2}</th>\
         <th scope=\"col\">{c3}</th><th scope=\"col\">{c4}</th><th scope=\"col\">{c5}</th><th scope=\"col\">{c6}</th>\
         <th scope=\"col\">{c7}</th></tr></thead><tbody id=\"rows\" data-live-src=\"{src}\">{rows}</tbody></table>",
        cap = t.list_caption,
        c1 = t.col_channel,
        c2 = t.col_contact,
        c3 = t.col_last,
        c4 = t.col_age,
        c5 = t.col_status,
        c6 = t.col_assignee,
        c7 = t.col_labels,
        src = esc(&partial_src),
    );
    if items.len() as i64 == limit
        && let Some(last) = items.last()
    {
        {
            let sep = if qs.is_empty() { "" } else { "&" };
            let _ = write!(
                body,
                "<p><a href=\"/inbox?{}{sep}after={}\" rel=\"next\">{}</a></p>",
                esc(&qs),
                url_enc(&cursor_of(last)),
                t.next_page
            );
        }
    }
    let back = if qs.is_empty() {
        "/inbox".to_owned()
    } else {
        format!("/inbox?{qs}")
    };
    Ok(html_ok(html::page(
        lang,
        t.inbox_title,
        Some(&viewer(&s)),
        &back,
        &body,
    )))
}

// ---------------------------------------------------------------- conversation

fn flag_name(f: MessageFlag) -> &'static str {
    f.as_str()
}

fn message_list(t: &Texts, messages: &[Message]) -> String {
    let mut out = String::new();
    for m in messages {
        let note = m.has_flag(MessageFlag::InternalNote);
        let (cls, who) = match (m.direction, note) {
            (_, true) => ("note", t.internal_note),
            (Direction::Inbound, _) => ("in", t.inbound),
            (Direction::Outbound, _) => ("out", t.outbound),
        };
        let from = m
            .from
            .name
            .as_deref()
            .map(|n| format!("{n} <{}>", m.from.address))
            .unwrap_or_else(|| m.from.address.clone());
        let _ = write!(
            out,
            "<li class=\"msg {cls}\" id=\"m-{id}\"><article aria-label=\"{who}\"><header><strong>{who}</strong> · {from} · \
             <span aria-hidden=\"true\">{icon}</span> {chan} · <time datetime=\"{iso}\">{time}</time>",
            id = m.id,
            from = esc(&from),
            icon = channel_icon(m.channel),
            chan = channel_name(t, m.channel),
            iso = m
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            time = m.received_at.format("%Y-%m-%d %H:%M UTC"),
        );
        if let (Some(st), false) = (m.status, note) {
            let _ = write!(
                out,
                " · {}: <span class=\"status\">{}</span>",
                t.delivery_status,
                st.as_str()
            );
        }
        out.push_str("</header>");
        let flags: Vec<&str> = m
            .flags
            .iter()
            .copied()
            .filter(|f| !matches!(f, MessageFlag::InternalNote | MessageFlag::ParseWarning))
            .map(flag_name)
            .collect();
        if !flags.is_empty() {
            let _ = write!(
                out,
                "<p class=\"notice\">{}: {}</p>",
                t.flag_notice,
                esc(&flags.join(", "))
            );
        }
        if m.has_flag(MessageFlag::ParseWarning) || !m.parse_warnings.is_empty() {
            let _ = write!(
                out,
                "<p class=\"notice\">{}: {}</p>",
                t.parse_warning_notice,
                esc(&m.parse_warnings.join("; "))
            );
        }
        if let Some(s) = &m.subject {
            let _ = write!(out, "<p class=\"subject\">{}</p>", esc(s));
        }
        let _ = write!(out, "<div class=\"body\">{}</div>", esc(&m.text));
        if !m.attachments.is_empty() {
            let _ = write!(out, "<p>{}:</p><ul class=\"atts\">", t.attachments);
            for (i, a) in m.attachments.iter().enumerate() {
                let _ = write!(
                    out,
                    "<li><a href=\"/api/v1/messages/{}/attachments/{}\" download>{}</a> ({}, {} B)</li>",
                    m.id,
                    i,
                    esc(a.filename.as_deref().unwrap_or("bijlage")),
                    esc(&a.content_type),
                    a.size
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</article></li>");
    }
    out
}

fn tone_rule_text(t: &Texts, r: ToneRule) -> &'static str {
    match r {
        ToneRule::Opinion => t.tone_opinion,
        ToneRule::Informal => t.tone_informal,
        ToneRule::Swearing => t.tone_swearing,
        ToneRule::Emoji => t.tone_emoji,
        ToneRule::AllCaps => t.tone_all_caps,
        ToneRule::Exclamation => t.tone_exclamation,
    }
}

/// What the reply form shows again after a tone warning.
#[derive(Default)]
struct ReplyDraft {
    text: String,
    channel: Option<String>,
    note: bool,
    findings: Vec<ToneFinding>,
}

async fn render_conversation(
    req: &HttpRequest,
    state: &AppState,
    s: &PageSession,
    id: ConversationId,
    draft: ReplyDraft,
) -> Result<HttpResponse, Problem> {
    let lang = lang_of(req);
    let t = lang.texts();
    let p = s.principal();
    let Some(conv) = state.store.conversation(p.tenant, id).await? else {
        return Ok(error_page(req, StatusCode::NOT_FOUND, Some(s)));
    };
    let messages = state.store.conversation_messages(p.tenant, id).await?;
    state
        .store
        .record_conversation_view(
            p,
            id,
            serde_json::json!({"messages": messages.len(), "via": "inbox"}),
        )
        .await?;
    let labels = state.store.conversation_labels(p.tenant, id).await?;
    let assignee = state.store.conversation_assignee(p.tenant, id).await?;
    let users = state.store.users(p.tenant).await?;
    let contact = messages
        .iter()
        .find(|m| m.direction == Direction::Inbound)
        .map(|m| m.from.address.clone())
        .unwrap_or_default();
    let title = if contact.is_empty() {
        conv.token.clone()
    } else {
        contact.clone()
    };
    let csrf = esc(&s.session.csrf_token);
    let mut body = format!(
        "<p><a href=\"/inbox\">{}</a></p><h1>{}</h1><p class=\"meta\"><span aria-hidden=\"true\">{}</span> {} · {}: {} · {}: {}{}</p>",
        t.back_to_inbox,
        esc(&title),
        channel_icon(conv.channel),
        channel_name(t, conv.channel),
        t.status_label,
        status_name(t, conv.status),
        t.assignee_label,
        esc(assignee
            .as_ref()
            .and_then(|a| users.iter().find(|u| &u.id == a))
            .map(|u| u.display_name.as_str())
            .unwrap_or(t.nobody)),
        conv.subject
            .as_deref()
            .map(|s| format!(" · {}", esc(s)))
            .unwrap_or_default(),
    );
    let _ = write!(
        body,
        "<h2>{}</h2><ol id=\"messages\" class=\"messages\" data-conversation=\"{}\" data-live-src=\"/inbox/c/{}?partial=messages\">{}</ol>",
        t.messages_heading,
        conv.id,
        conv.id,
        message_list(t, &messages)
    );
    if WRITERS.contains(&p.role) {
        // Reply box.
        let mut channels: Vec<Channel> = messages
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .map(|m| m.channel)
            .collect();
        let last_in = messages
            .iter()
            .rev()
            .find(|m| m.direction == Direction::Inbound)
            .map(|m| m.channel)
            .unwrap_or(conv.channel);
        if !channels.contains(&last_in) {
            channels.push(last_in);
        }
        // The channels the citizen wrote from in this conversation, each once.
        channels.sort_by_key(|c| c.as_str());
        channels.dedup();
        let chosen = draft
            .channel
            .clone()
            .unwrap_or_else(|| last_in.as_str().to_owned());
        let _ = write!(
            body,
            "<section aria-labelledby=\"reply-h\"><h2 id=\"reply-h\">{}</h2>\
             <p class=\"woo\" id=\"woo-notice\">{}</p>",
            t.reply_heading, t.woo_notice
        );
        let mut confirm = "";
        if !draft.findings.is_empty() {
            confirm = "<input type=\"hidden\" name=\"confirm\" value=\"1\">";
            let _ = write!(
                body,
                "<div class=\"alert\" role=\"alert\" id=\"tone\"><h3>{}</h3><ul>",
                t.tone_heading
            );
            for f in &draft.findings {
                let _ = write!(
                    body,
                    "<li>{}: “{}”</li>",
                    tone_rule_text(t, f.rule),
                    esc(&f.matched)
                );
            }
            body.push_str("</ul></div>");
        }
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/inbox/c/{id}/reply\" class=\"reply\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{confirm}\
             <fieldset><legend>{kl}</legend>\
             <label><input type=\"radio\" name=\"kind\" value=\"reply\"{rchk}> {kr}</label>\
             <label><input type=\"radio\" name=\"kind\" value=\"note\"{nchk}> {kn}</label></fieldset>\
             <p><label for=\"reply-channel\">{cl}</label><select id=\"reply-channel\" name=\"channel\">",
            id = conv.id,
            kl = t.kind_legend,
            rchk = if draft.note { "" } else { " checked" },
            nchk = if draft.note { " checked" } else { "" },
            kr = t.kind_reply,
            kn = t.kind_note,
            cl = t.reply_channel_label,
        );
        for ch in &channels {
            let sel = if ch.as_str() == chosen {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                body,
                "<option value=\"{}\"{sel}>{}</option>",
                ch.as_str(),
                channel_name(t, *ch)
            );
        }
        let _ = write!(
            body,
            "</select></p><p><label for=\"reply-text\">{tl}</label>\
             <textarea id=\"reply-text\" name=\"text\" rows=\"6\" required aria-describedby=\"woo-notice{tone_ref}\">{text}</textarea></p>\
             <p><button type=\"submit\">{send}</button></p></form></section>",
            tl = t.reply_text_label,
            tone_ref = if draft.findings.is_empty() {
                ""
            } else {
                " tone"
            },
            text = esc(&draft.text),
            send = if draft.findings.is_empty() {
                t.send
            } else {
                t.tone_send_anyway
            },
        );
        // Handling: assign, status, labels.
        let _ = write!(
            body,
            "<section aria-labelledby=\"manage-h\"><h2 id=\"manage-h\">{}</h2>\
             <form method=\"post\" action=\"/inbox/c/{}/assign\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"assign\">{}</label><select id=\"assign\" name=\"user\"><option value=\"\">{}</option>",
            t.manage_heading, conv.id, t.assign_label, t.nobody
        );
        for u in users
            .iter()
            .filter(|u| !u.disabled && u.role != Role::Auditor)
        {
            let sel = if assignee.as_deref() == Some(u.id.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                body,
                "<option value=\"{}\"{sel}>{}</option>",
                esc(&u.id),
                esc(&u.display_name)
            );
        }
        let _ = write!(
            body,
            "</select> <button type=\"submit\">{}</button></form>\
             <form method=\"post\" action=\"/inbox/c/{}/status\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"status\">{}</label><select id=\"status\" name=\"status\">",
            t.assign_button, conv.id, t.status_label
        );
        for st in [
            ConversationStatus::Open,
            ConversationStatus::Waiting,
            ConversationStatus::Closed,
        ] {
            let sel = if st == conv.status { " selected" } else { "" };
            let _ = write!(
                body,
                "<option value=\"{}\"{sel}>{}</option>",
                st.as_str(),
                status_name(t, st)
            );
        }
        let _ = write!(
            body,
            "</select> <button type=\"submit\">{}</button></form><h3>{}</h3>",
            t.status_button, t.labels_heading
        );
        if labels.is_empty() {
            let _ = write!(body, "<p>{}</p>", t.no_labels);
        } else {
            body.push_str("<ul class=\"labels\">");
            for l in &labels {
                let _ = write!(
                    body,
                    "<li><span class=\"label\">{l}</span> <form method=\"post\" action=\"/inbox/c/{id}/labels\" class=\"inline\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"remove\" value=\"{l}\">\
                     <button type=\"submit\" aria-label=\"{rl}: {l}\">×</button></form></li>",
                    l = esc(l),
                    id = conv.id,
                    rl = t.remove_label,
                );
            }
            body.push_str("</ul>");
        }
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/inbox/c/{}/labels\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"new-label\">{}</label><input id=\"new-label\" name=\"add\" maxlength=\"40\" required> \
             <button type=\"submit\">{}</button></form></section>",
            conv.id, t.add_label_label, t.add_label_button
        );
    } else {
        let _ = write!(
            body,
            "<p>{}: {}</p>",
            t.labels_heading,
            if labels.is_empty() {
                t.no_labels.to_owned()
            } else {
                esc(&labels.join(", "))
            }
        );
    }
    let back = format!("/inbox/c/{}", conv.id);
    Ok(html_ok(html::page(
        lang,
        &title,
        Some(&viewer(s)),
        &back,
        &body,
    )))
}

#[derive(Deserialize)]
pub struct ConvQuery {
    partial: Option<String>,
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

pub async fn conversation(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<ConvQuery>,
) -> Result<HttpResponse, Problem> {
    let (s, id) = match conv_guard(&req, &state, &id, READERS).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    if q.partial.as_deref() == Some("messages") {
        let p = s.principal();
        if state.store.conversation(p.tenant, id).await?.is_none() {
            return Ok(error_page(&req, StatusCode::NOT_FOUND, Some(&s)));
        }
        let messages = state.store.conversation_messages(p.tenant, id).await?;
        state
            .store
            .record_conversation_view(
                p,
                id,
                serde_json::json!({"messages": messages.len(), "via": "inbox", "refresh": true}),
            )
            .await?;
        return Ok(html_ok(message_list(lang_of(&req).texts(), &messages)));
    }
    render_conversation(&req, &state, &s, id, ReplyDraft::default()).await
}

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
    let (s, id) = match conv_guard(&req, &state, &id, WRITERS).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    let form = form.into_inner();
    if !s.check_csrf(&form.csrf) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
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
    let (s, id) = match conv_guard(&req, &state, &id, WRITERS).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    if !s.check_csrf(&form.csrf) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    let user = Some(form.user.trim().to_owned()).filter(|u| !u.is_empty());
    match state
        .store
        .assign_conversation(s.principal(), id, user)
        .await
    {
        Ok(()) => Ok(back_to(id)),
        Err(loket_store::StoreError::NotFound { .. }) => {
            Ok(error_page(&req, StatusCode::NOT_FOUND, Some(&s)))
        }
        Err(loket_store::StoreError::Invalid(_)) => {
            Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s)))
        }
        Err(e) => Err(e.into()),
    }
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
    let (s, id) = match conv_guard(&req, &state, &id, WRITERS).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    if !s.check_csrf(&form.csrf) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    let Ok(st) = form.status.parse::<ConversationStatus>() else {
        return Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s)));
    };
    match state
        .store
        .set_conversation_status(s.principal(), id, st)
        .await
    {
        Ok(()) => Ok(back_to(id)),
        Err(loket_store::StoreError::NotFound { .. }) => {
            Ok(error_page(&req, StatusCode::NOT_FOUND, Some(&s)))
        }
        Err(e) => Err(e.into()),
    }
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
    let (s, id) = match conv_guard(&req, &state, &id, WRITERS).await? {
        Ok(x) => x,
        Err(resp) => return Ok(resp),
    };
    if !s.check_csrf(&form.csrf) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    let (label, add) = match (&form.add, &form.remove) {
        (Some(l), _) => (l.clone(), true),
        (None, Some(l)) => (l.clone(), false),
        (None, None) => return Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s))),
    };
    match state.store.set_label(s.principal(), id, &label, add).await {
        Ok(_) => Ok(back_to(id)),
        Err(loket_store::StoreError::NotFound { .. }) => {
            Ok(error_page(&req, StatusCode::NOT_FOUND, Some(&s)))
        }
        Err(loket_store::StoreError::Invalid(_)) => {
            Ok(error_page(&req, StatusCode::BAD_REQUEST, Some(&s)))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- live updates

/// Server-sent events for an open inbox: one event per live-bus event of the tenant,
/// and a comment every 5 s: it keeps proxies from closing the stream and lets the
/// server notice a closed connection (so clerk presence ends within about 5 s). While a clerk or
/// admin has it open, the webchat widget shows the municipality as online.
pub async fn events(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: crate::auth::Auth,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(READERS)?.clone();
    let guard = if WRITERS.contains(&p.role) {
        req.app_data::<web::Data<loket_webchat::WebchatState>>()
            .map(|w| w.presence().clerk_connected(p.tenant))
    } else {
        None
    };
    let sub = state.bus.subscribe(p.tenant);
    let first = Bytes::from_static(b"retry: 2000\n: connected\n\n");
    let stream = futures_util::stream::unfold(
        (sub, guard, Some(first)),
        |(mut sub, guard, first)| async move {
            if let Some(f) = first {
                return Some((Ok::<_, actix_web::Error>(f), (sub, guard, None)));
            }
            match tokio::time::timeout(std::time::Duration::from_secs(5), sub.recv()).await {
                Err(_) => Some((
                    Ok(Bytes::from_static(b": keep-alive\n\n")),
                    (sub, guard, None),
                )),
                Ok(None) => None,
                Ok(Some(ev)) => {
                    let kind = match &ev {
                        LiveEvent::Message { .. } => "message",
                        LiveEvent::Status { .. } => "status",
                        LiveEvent::Conversation { .. } => "conversation",
                    };
                    let data = serde_json::to_string(&ev).unwrap_or_else(|_| "{}".into());
                    Some((
                        Ok(Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))),
                        (sub, guard, None),
                    ))
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}

// ---------------------------------------------------------------- audit

#[derive(Deserialize)]
pub struct AuditPageQuery {
    action: Option<String>,
    actor: Option<String>,
    subject: Option<String>,
    after: Option<i64>,
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
    let lang = lang_of(&req);
    let t = lang.texts();
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
                limit: 200,
            },
        )
        .await?;
    let names = state.store.actor_names(tenant).await?;
    let mut body = format!("<h1>{}</h1><p>{}</p>", t.audit_title, t.audit_intro);
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/inbox/audit\" class=\"filters\" aria-label=\"{}\">",
        t.filters
    );
    let mut actions = vec![("all".to_owned(), t.audit_all.to_owned())];
    for a in [
        AuditAction::ConversationViewed,
        AuditAction::AttachmentDownloaded,
        AuditAction::Searched,
        AuditAction::Exported,
        AuditAction::ReplyQueued,
        AuditAction::NoteAdded,
        AuditAction::ConversationChanged,
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
    ] {
        actions.push((a.as_str().to_owned(), a.as_str().to_owned()));
    }
    body.push_str(&select("action", t.audit_action, &actions, &action));
    let mut actors = vec![(String::new(), t.any.to_owned())];
    let mut named: Vec<(&String, &String)> = names.iter().collect();
    named.sort_by_key(|(_, n)| n.to_lowercase());
    actors.extend(named.into_iter().map(|(r, n)| (r.clone(), n.clone())));
    body.push_str(&select(
        "actor",
        t.audit_actor,
        &actors,
        q.actor.as_deref().unwrap_or(""),
    ));
    let _ = write!(
        body,
        "<p><label for=\"f-subject\">{}</label><input id=\"f-subject\" name=\"subject\" value=\"{}\"></p>\
         <p><button type=\"submit\">{}</button></p></form>",
        t.audit_subject,
        esc(q.subject.as_deref().unwrap_or("")),
        t.apply_filters
    );
    let _ = write!(
        body,
        "<table class=\"list\"><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t.audit_caption,
        t.audit_time,
        t.audit_actor,
        t.audit_action,
        t.audit_subject,
        t.audit_detail
    );
    if events.is_empty() {
        let _ = write!(body, "<tr><td colspan=\"5\">{}</td></tr>", t.audit_none);
    }
    for e in &events {
        let who = names
            .get(&e.actor)
            .cloned()
            .unwrap_or_else(|| e.actor.clone());
        let subject = if e.subject_kind == "conversation" {
            format!(
                "<a href=\"/inbox/c/{}\">{} {}</a>",
                esc(&e.subject_id),
                esc(&e.subject_kind),
                esc(&e.subject_id)
            )
        } else {
            format!("{} {}", esc(&e.subject_kind), esc(&e.subject_id))
        };
        let _ = write!(
            body,
            "<tr><td><time datetime=\"{iso}\">{time}</time></td><td>{who}</td><td>{action}</td><td>{subject}</td><td class=\"detail\">{detail}</td></tr>",
            iso = e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            time = e.at.format("%Y-%m-%d %H:%M:%S"),
            who = esc(&who),
            action = esc(&e.action),
            detail = esc(&e.detail),
        );
    }
    body.push_str("</tbody></table>");
    if events.len() == 200
        && let Some(last) = events.last()
    {
        {
            let _ = write!(
                body,
                "<p><a href=\"/inbox/audit?action={}&amp;actor={}&amp;subject={}&amp;after={}\" rel=\"next\">{}</a></p>",
                url_enc(&action),
                url_enc(q.actor.as_deref().unwrap_or("")),
                url_enc(q.subject.as_deref().unwrap_or("")),
                last.seq,
                t.next_page
            );
        }
    }
    Ok(html_ok(html::page(
        lang,
        t.audit_title,
        Some(&viewer(&s)),
        "/inbox/audit",
        &body,
    )))
}
