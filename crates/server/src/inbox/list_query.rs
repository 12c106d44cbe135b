//! The conversation list's query parameters, shared by the list page
//! (`pages/list.rs`) and the JSON API (`api.rs`): parsing them into a store query and
//! the paging cursor.

use crate::problem::Problem;
use loket_core::{Channel, ConversationId, ConversationStatus, Timestamp};
use loket_store::inbox::{AssigneeFilter, InboxItem, InboxQuery};
use serde::Deserialize;

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

/// A parameter's trimmed value, `None` when absent or blank.
pub fn nonempty(s: &Option<String>) -> Option<&str> {
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
