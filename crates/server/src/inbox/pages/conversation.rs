//! One conversation: its messages (also served alone, `?partial=messages`, for live
//! updates), the reply form with the tone check's warning, and the handling forms
//! (assign, status, labels). Every view is recorded in the read audit.

use super::{clock, conv_guard, layout};
use crate::AppState;
use crate::inbox::html::{self, Clock, Layout, Opt, channel_icon, channel_name, status_name};
use crate::inbox::i18n::Texts;
use crate::inbox::{PageSession, READERS, WRITERS, error_page, lang_of};
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use loket_core::tone::{ToneFinding, ToneRule};
use loket_core::{
    Channel, ConversationId, ConversationStatus, Direction, Message, MessageFlag, Role,
};
use loket_store::inbox::ContactCard;
use serde::Deserialize;

/// One message as the page shows it.
struct MessageView {
    /// `in`, `out` or `note`.
    cls: &'static str,
    who: &'static str,
    id: String,
    /// Inbound: the contact's readable name (`html::contact_label`); outbound: the
    /// clerk's name.
    from: String,
    icon: &'static str,
    channel: &'static str,
    iso: String,
    /// The local time and the age.
    time: String,
    age: String,
    /// The delivery status of an answer.
    status: Option<&'static str>,
    flags: Option<String>,
    warnings: Option<String>,
    subject: Option<String>,
    text: String,
    attachments: Vec<AttachmentView>,
}

struct AttachmentView {
    ordinal: usize,
    name: String,
    content_type: String,
    size: i64,
}

fn message_views(
    clock: &Clock,
    contacts: &[ContactCard],
    messages: &[Message],
) -> Vec<MessageView> {
    let t = clock.t;
    messages
        .iter()
        .map(|m| {
            let note = m.has_flag(MessageFlag::InternalNote);
            let (cls, who) = match (m.direction, note) {
                (_, true) => ("note", t.internal_note),
                (Direction::Inbound, _) => ("in", t.inbound),
                (Direction::Outbound, _) => ("out", t.outbound),
            };
            let flags: Vec<&str> = m
                .flags
                .iter()
                .copied()
                .filter(|f| !matches!(f, MessageFlag::InternalNote | MessageFlag::ParseWarning))
                .map(MessageFlag::as_str)
                .collect();
            MessageView {
                cls,
                who,
                id: m.id.to_string(),
                from: from_label(t, contacts, m),
                icon: channel_icon(m.channel),
                channel: channel_name(t, m.channel),
                iso: html::iso(m.received_at),
                time: clock.local(m.received_at),
                age: clock.ago(m.received_at),
                status: m.status.filter(|_| !note).map(|s| s.as_str()),
                flags: Some(flags.join(", ")).filter(|_| !flags.is_empty()),
                warnings: (m.has_flag(MessageFlag::ParseWarning) || !m.parse_warnings.is_empty())
                    .then(|| m.parse_warnings.join("; ")),
                subject: m.subject.clone(),
                text: m.text.clone(),
                attachments: m
                    .attachments
                    .iter()
                    .enumerate()
                    .map(|(ordinal, a)| AttachmentView {
                        ordinal,
                        name: a.filename.clone().unwrap_or_else(|| "bijlage".into()),
                        content_type: a.content_type.clone(),
                        size: a.size,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Who a message is from, as a person reads it: for an inbound message its contact's
/// label; for an answer the clerk's name (or the sender address), never a hash.
fn from_label(t: &Texts, contacts: &[ContactCard], m: &Message) -> String {
    let contact_id = m.contact_id.to_string();
    if m.direction == Direction::Inbound
        && let Some(c) = contacts.iter().find(|c| c.id == contact_id)
    {
        return html::contact_label(t, c);
    }
    let name = m.from.name.as_deref().filter(|n| !html::has_hash(n));
    match name {
        Some(n) => n.to_owned(),
        None => html::shorten_hashes(&m.from.address),
    }
}

/// The contacts of the inbound messages of a conversation.
async fn contacts_of(
    state: &AppState,
    tenant: loket_core::TenantId,
    messages: &[Message],
) -> Result<Vec<ContactCard>, Problem> {
    let mut ids: Vec<String> = messages
        .iter()
        .filter(|m| m.direction == Direction::Inbound)
        .map(|m| m.contact_id.to_string())
        .collect();
    ids.sort();
    ids.dedup();
    Ok(state.store.contact_cards(tenant, ids).await?)
}

/// The messages alone (`?partial=messages`).
#[derive(Template)]
#[template(path = "inbox/messages.html", config = "templates/askama.toml")]
struct MessagesPart {
    t: &'static Texts,
    messages: Vec<MessageView>,
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
pub struct ReplyDraft {
    pub text: String,
    pub channel: Option<String>,
    pub note: bool,
    pub findings: Vec<ToneFinding>,
}

struct Finding {
    rule: &'static str,
    matched: String,
}

/// The reply and handling forms (for those who answer).
struct Manage {
    /// The channels to answer in.
    channels: Vec<Opt>,
    note: bool,
    text: String,
    findings: Vec<Finding>,
    /// Who the conversation can be assigned to.
    users: Vec<Opt>,
    statuses: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "inbox/conversation.html", config = "templates/askama.toml")]
struct ConversationPage {
    layout: Layout,
    t: &'static Texts,
    id: String,
    csrf: String,
    title: String,
    icon: &'static str,
    channel: &'static str,
    status: &'static str,
    assignee: String,
    subject: Option<String>,
    messages: Vec<MessageView>,
    /// The list beside the conversation (shown on wide screens).
    pane: Vec<super::list::Row>,
    contact: Option<ContactPanel>,
    labels: Vec<String>,
    manage: Option<Manage>,
}

/// The contact panel: the readable name, and in a details panel the channel's own
/// address (a hash for an anonymous chat), the channel's name and the number.
struct ContactPanel {
    label: String,
    /// The name a clerk gave (the name form's value).
    clerk_name: String,
    channel_name: Option<String>,
    number: i64,
    channel: &'static str,
    address: String,
}

#[derive(Deserialize)]
pub struct ConvQuery {
    partial: Option<String>,
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
        let clock = clock(&req, &state, &s).await?;
        let contacts = contacts_of(&state, p.tenant, &messages).await?;
        return Ok(html::ok(&MessagesPart {
            t: clock.t,
            messages: message_views(&clock, &contacts, &messages),
        }));
    }
    render_conversation(&req, &state, &s, id, ReplyDraft::default()).await
}

/// The conversation page (with `draft` in the reply form).
pub async fn render_conversation(
    req: &HttpRequest,
    state: &AppState,
    s: &PageSession,
    id: ConversationId,
    draft: ReplyDraft,
) -> Result<HttpResponse, Problem> {
    let t = lang_of(req).texts();
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
    let clock = clock(req, state, s).await?;
    let contacts = contacts_of(state, p.tenant, &messages).await?;
    let card = state.store.conversation_contact(p.tenant, id).await?;
    let title = card
        .as_ref()
        .map(|c| html::contact_label(t, c))
        .unwrap_or_else(|| html::shorten_hashes(&conv.token));
    let contact = card.map(|c| ContactPanel {
        label: title.clone(),
        clerk_name: c.clerk_name.clone().unwrap_or_default(),
        channel_name: c.name.clone(),
        number: c.number.unwrap_or(0),
        channel: c
            .channel
            .parse::<Channel>()
            .map(|ch| channel_name(t, ch))
            .unwrap_or(t.channel_other),
        address: c.address,
    });
    let manage = WRITERS.contains(&p.role).then(|| {
        // The channels the citizen wrote from in this conversation, each once.
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
        channels.sort_by_key(|c| c.as_str());
        channels.dedup();
        let chosen = draft
            .channel
            .clone()
            .unwrap_or_else(|| last_in.as_str().to_owned());
        let current = assignee.clone().unwrap_or_default();
        Manage {
            channels: channels
                .iter()
                .map(|c| Opt::new(c.as_str(), channel_name(t, *c), &chosen))
                .collect(),
            note: draft.note,
            text: draft.text,
            findings: draft
                .findings
                .iter()
                .map(|f| Finding {
                    rule: tone_rule_text(t, f.rule),
                    matched: f.matched.clone(),
                })
                .collect(),
            users: users
                .iter()
                .filter(|u| !u.disabled && u.role != Role::Auditor)
                .map(|u| Opt {
                    value: u.id.clone(),
                    label: u.display_name.clone(),
                    selected: assignee.is_some() && u.id == current,
                })
                .collect(),
            statuses: [
                ConversationStatus::Open,
                ConversationStatus::Waiting,
                ConversationStatus::Closed,
            ]
            .into_iter()
            .map(|st| Opt::new(st.as_str(), status_name(t, st), conv.status.as_str()))
            .collect(),
        }
    });
    let page = ConversationPage {
        layout: layout(req, s, &title, &format!("/inbox/c/{}", conv.id)),
        t,
        id: conv.id.to_string(),
        csrf: s.session.csrf_token.clone(),
        title,
        icon: channel_icon(conv.channel),
        channel: channel_name(t, conv.channel),
        status: status_name(t, conv.status),
        assignee: assignee
            .as_ref()
            .and_then(|a| users.iter().find(|u| &u.id == a))
            .map(|u| u.display_name.clone())
            .unwrap_or_else(|| t.nobody.to_owned()),
        subject: conv.subject.clone(),
        messages: message_views(&clock, &contacts, &messages),
        pane: super::list::pane(state, s, &clock).await?,
        contact,
        labels,
        manage,
    };
    Ok(html::ok(&page))
}
