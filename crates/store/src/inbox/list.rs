//! The inbox list: conversations filtered by status, channel, assignee, label and text,
//! sorted by last activity and keyset paged, with each row's contact, assignee name,
//! labels, newest message and unread mark.

use crate::inbox::ContactCard;
use crate::models::{ConversationRow, parse, ts};
use crate::schema::{contacts, conversation_labels, conversation_reads, conversations, users};
use crate::{Result, Store};
use diesel::prelude::*;
use loket_core::{
    Channel, Conversation, ConversationId, ConversationStatus, Direction, TenantId, Timestamp,
};
use std::collections::HashMap;

diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower_n(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// Which conversations the inbox list shows.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    pub status: Option<ConversationStatus>,
    pub channel: Option<Channel>,
    pub assignee: AssigneeFilter,
    pub label: Option<String>,
    /// Substring of the contact's address or name, or the subject (a search: the caller
    /// audits it).
    pub text: Option<String>,
    pub oldest_first: bool,
    /// Keyset cursor: the (last_message_at, id) of the last row of the previous page.
    pub after: Option<(Timestamp, ConversationId)>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    User(String),
}

/// One row of the inbox list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InboxItem {
    pub conversation: Conversation,
    pub contact_address: String,
    pub contact_name: Option<String>,
    /// The whole contact (its number and the name a clerk gave it too).
    pub contact: ContactCard,
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    pub labels: Vec<String>,
    /// The newest message's text (internal notes included: colleagues see them).
    pub last_text: Option<String>,
    pub last_direction: Option<Direction>,
    /// Activity since the user last opened it (always false for tokens).
    pub unread: bool,
}

#[derive(diesel::QueryableByName)]
struct NewestMessage {
    #[diesel(sql_type = diesel::sql_types::Text)]
    conversation_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    body_text: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    direction: String,
}

/// The newest message (text, direction) of each conversation of a list page, in one
/// round trip (a window function; both SQLite ≥ 3.25 and PostgreSQL have it).
fn newest_messages(
    c: &mut crate::conn::AnyConnection,
    tenant: &str,
    ids: &[String],
) -> Result<HashMap<String, (String, String)>> {
    use crate::conn::AnyConnection;
    use diesel::sql_types::Text;
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pg = matches!(c, AnyConnection::Postgresql(_));
    let ph = |i: usize| if pg { format!("${i}") } else { "?".to_owned() };
    let list: Vec<String> = (0..ids.len()).map(|i| ph(i + 2)).collect();
    let sql = format!(
        "SELECT conversation_id, body_text, direction FROM (SELECT conversation_id, body_text, \
         direction, ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY received_at DESC, \
         id DESC) AS rn FROM messages WHERE tenant_id = {} AND conversation_id IN ({})) t \
         WHERE rn = 1",
        ph(1),
        list.join(",")
    );
    let rows: Vec<NewestMessage> = match c {
        AnyConnection::Sqlite(c) => {
            let mut q = diesel::sql_query(sql)
                .into_boxed::<diesel::sqlite::Sqlite>()
                .bind::<Text, _>(tenant.to_owned());
            for id in ids {
                q = q.bind::<Text, _>(id.clone());
            }
            q.load(c)?
        }
        AnyConnection::Postgresql(c) => {
            let mut q = diesel::sql_query(sql)
                .into_boxed::<diesel::pg::Pg>()
                .bind::<Text, _>(tenant.to_owned());
            for id in ids {
                q = q.bind::<Text, _>(id.clone());
            }
            q.load(c)?
        }
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.conversation_id, (r.body_text, r.direction)))
        .collect())
}

impl Store {
    /// The inbox list: filtered, sorted by last activity, keyset paged. `viewer` (a
    /// user id) decides the unread marks.
    pub async fn inbox_list(
        &self,
        tenant: TenantId,
        viewer: Option<String>,
        q: InboxQuery,
    ) -> Result<Vec<InboxItem>> {
        self.read(move |c| {
            let tid = tenant.to_string();
            let mut query = conversations::table
                .inner_join(contacts::table.on(contacts::id.eq(conversations::contact_id)))
                .filter(conversations::tenant_id.eq(&tid))
                .into_boxed();
            if let Some(s) = q.status {
                query = query.filter(conversations::status.eq(s.as_str()));
            }
            if let Some(ch) = q.channel {
                query = query.filter(conversations::channel.eq(ch.as_str()));
            }
            match &q.assignee {
                AssigneeFilter::Any => {}
                AssigneeFilter::Unassigned => {
                    query = query.filter(conversations::assignee.is_null());
                }
                AssigneeFilter::User(u) => {
                    query = query.filter(conversations::assignee.eq(u.clone()));
                }
            }
            if let Some(label) = &q.label {
                query = query.filter(
                    conversations::id.eq_any(
                        conversation_labels::table
                            .filter(conversation_labels::tenant_id.eq(tid.clone()))
                            .filter(conversation_labels::label.eq(label.clone()))
                            .select(conversation_labels::conversation_id),
                    ),
                );
            }
            if let Some(text) = &q.text {
                let cleaned: String = text
                    .to_lowercase()
                    .chars()
                    .filter(|c| !matches!(c, '%' | '_' | '\\'))
                    .collect();
                if !cleaned.trim().is_empty() {
                    let pat = format!("%{}%", cleaned.trim());
                    query = query.filter(
                        lower(contacts::address)
                            .like(pat.clone())
                            .or(lower_n(contacts::name).like(pat.clone()))
                            .or(lower_n(conversations::subject).like(pat)),
                    );
                }
            }
            if let Some((at, id)) = q.after {
                let at = ts(at);
                let id = id.to_string();
                if q.oldest_first {
                    query = query.filter(
                        conversations::last_message_at
                            .gt(at)
                            .or(conversations::last_message_at
                                .eq(at)
                                .and(conversations::id.gt(id))),
                    );
                } else {
                    query = query.filter(
                        conversations::last_message_at
                            .lt(at)
                            .or(conversations::last_message_at
                                .eq(at)
                                .and(conversations::id.lt(id))),
                    );
                }
            }
            query = if q.oldest_first {
                query.order((
                    conversations::last_message_at.asc(),
                    conversations::id.asc(),
                ))
            } else {
                query.order((
                    conversations::last_message_at.desc(),
                    conversations::id.desc(),
                ))
            };
            let rows: Vec<(ConversationRow, ContactCard)> = query
                .limit(q.limit.clamp(1, 200))
                .select((ConversationRow::as_select(), ContactCard::as_select()))
                .load(c)?;
            let ids: Vec<String> = rows.iter().map(|(r, _)| r.id.clone()).collect();
            let mut labels: HashMap<String, Vec<String>> = HashMap::new();
            if !ids.is_empty() {
                let ls: Vec<(String, String)> = conversation_labels::table
                    .filter(conversation_labels::tenant_id.eq(&tid))
                    .filter(conversation_labels::conversation_id.eq_any(&ids))
                    .order((
                        conversation_labels::conversation_id,
                        conversation_labels::label,
                    ))
                    .select((
                        conversation_labels::conversation_id,
                        conversation_labels::label,
                    ))
                    .load(c)?;
                for (cid, l) in ls {
                    labels.entry(cid).or_default().push(l);
                }
            }
            let mut reads: HashMap<String, chrono::NaiveDateTime> = HashMap::new();
            if let (Some(u), false) = (&viewer, ids.is_empty()) {
                let rs: Vec<(String, chrono::NaiveDateTime)> = conversation_reads::table
                    .filter(conversation_reads::tenant_id.eq(&tid))
                    .filter(conversation_reads::user_id.eq(u))
                    .filter(conversation_reads::conversation_id.eq_any(&ids))
                    .select((
                        conversation_reads::conversation_id,
                        conversation_reads::read_at,
                    ))
                    .load(c)?;
                reads.extend(rs);
            }
            let names: HashMap<String, String> = users::table
                .filter(users::tenant_id.eq(&tid))
                .select((users::id, users::display_name))
                .load::<(String, String)>(c)?
                .into_iter()
                .collect();
            let mut last_messages = newest_messages(c, &tid, &ids)?;
            let mut out = Vec::with_capacity(rows.len());
            for (r, contact) in rows {
                let last = last_messages.remove(&r.id);
                let unread = viewer.is_some()
                    && reads
                        .get(&r.id)
                        .is_none_or(|read| *read < r.last_message_at);
                let assignee = r.assignee.clone();
                let cid = r.id.clone();
                out.push(InboxItem {
                    conversation: r.into_domain()?,
                    contact_address: contact.address.clone(),
                    contact_name: contact.name.clone(),
                    contact,
                    assignee_name: assignee.as_ref().and_then(|a| names.get(a).cloned()),
                    assignee,
                    labels: labels.remove(&cid).unwrap_or_default(),
                    last_direction: last
                        .as_ref()
                        .map(|(_, d)| parse::<Direction>("direction", d))
                        .transpose()?,
                    last_text: last.map(|(t, _)| t),
                    unread,
                });
            }
            Ok(out)
        })
        .await
    }
}
