//! Reads. Every tenant-facing read filters on the tenant column.

use crate::conn::AnyConnection;
use crate::models::*;
use crate::schema::*;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{
    Attachment, Channel, Conversation, ConversationId, DeliveryStatus, Message, MessageId,
    TenantId, Timestamp,
};
use serde::Serialize;
use std::collections::HashMap;

/// What an outbox row announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    MessageIngested,
    OutboundQueued,
    StatusChanged,
    ConversationChanged,
    MessageImported,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::MessageIngested => "message_ingested",
            OutboxKind::OutboundQueued => "outbound_queued",
            OutboxKind::StatusChanged => "status_changed",
            OutboxKind::ConversationChanged => "conversation_changed",
            OutboxKind::MessageImported => "message_imported",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "message_ingested" => Self::MessageIngested,
            "outbound_queued" => Self::OutboundQueued,
            "status_changed" => Self::StatusChanged,
            "conversation_changed" => Self::ConversationChanged,
            "message_imported" => Self::MessageImported,
            other => return Err(StoreError::Corrupt(format!("unknown outbox kind {other}"))),
        })
    }

    /// True when the row announces a new message (to index, to show, to send).
    pub fn is_new_message(self) -> bool {
        matches!(
            self,
            Self::MessageIngested | Self::OutboundQueued | Self::MessageImported
        )
    }
}

pub(crate) fn durability_settings(c: &mut AnyConnection) -> Result<(String, String)> {
    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    match c {
        AnyConnection::Sqlite(c) => {
            let j: One = diesel::sql_query("SELECT journal_mode AS v FROM pragma_journal_mode")
                .get_result(c)?;
            let s: One =
                diesel::sql_query("SELECT CAST(synchronous AS TEXT) AS v FROM pragma_synchronous")
                    .get_result(c)?;
            // SQLite reports synchronous as a number: 2 = FULL.
            let sync = match s.v.as_str() {
                "2" => "full".to_owned(),
                "3" => "extra".to_owned(),
                other => other.to_owned(),
            };
            Ok((j.v, sync))
        }
        AnyConnection::Postgresql(c) => {
            let s: One = diesel::sql_query("SELECT current_setting('synchronous_commit') AS v")
                .get_result(c)?;
            let f: One = diesel::sql_query("SELECT current_setting('fsync') AS v").get_result(c)?;
            Ok((s.v, f.v))
        }
    }
}

fn load_attachments(
    c: &mut AnyConnection,
    tenant: &str,
    ids: &[String],
) -> Result<HashMap<String, Vec<Attachment>>> {
    let mut out: HashMap<String, Vec<Attachment>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<AttachmentRow> = attachments::table
            .filter(attachments::tenant_id.eq(tenant))
            .filter(attachments::message_id.eq_any(chunk))
            .order((attachments::message_id, attachments::ordinal))
            .select(AttachmentRow::as_select())
            .load(c)?;
        for r in rows {
            let mid = r.message_id.clone();
            out.entry(mid).or_default().push(r.into_domain()?);
        }
    }
    Ok(out)
}

fn load_statuses(
    c: &mut AnyConnection,
    tenant: &str,
    ids: &[String],
) -> Result<HashMap<String, DeliveryStatus>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = message_events::table
            .filter(message_events::tenant_id.eq(tenant))
            .filter(message_events::message_id.eq_any(chunk))
            .order((message_events::at.asc(), message_events::id.asc()))
            .select((message_events::message_id, message_events::status))
            .load(c)?;
        for (mid, status) in rows {
            // Later events win: the list is in time order.
            out.insert(mid, parse::<DeliveryStatus>("status", &status)?);
        }
    }
    Ok(out)
}

pub(crate) fn hydrate(
    c: &mut AnyConnection,
    tenant: &str,
    rows: Vec<MessageRow>,
) -> Result<Vec<Message>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut atts = load_attachments(c, tenant, &ids)?;
    let statuses = load_statuses(c, tenant, &ids)?;
    rows.into_iter()
        .map(|r| {
            let a = atts.remove(&r.id).unwrap_or_default();
            let s = statuses.get(&r.id).copied();
            r.into_domain(a, s)
        })
        .collect()
}

impl Store {
    pub async fn message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>> {
        Ok(self.messages_by_ids(tenant, vec![id]).await?.pop())
    }

    /// Messages of the tenant with these ids (others' ids are silently not found).
    pub async fn messages_by_ids(
        &self,
        tenant: TenantId,
        ids: Vec<MessageId>,
    ) -> Result<Vec<Message>> {
        self.read(move |c| {
            let tid = tenant.to_string();
            let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            let mut rows = Vec::new();
            for chunk in ids.chunks(500) {
                let mut part: Vec<MessageRow> = messages::table
                    .filter(messages::tenant_id.eq(&tid))
                    .filter(messages::id.eq_any(chunk))
                    .select(MessageRow::as_select())
                    .load(c)?;
                rows.append(&mut part);
            }
            rows.sort_by(|a, b| a.id.cmp(&b.id));
            hydrate(c, &tid, rows)
        })
        .await
    }

    /// Keyset page over all message ids of a tenant (rebuilds and index verification).
    pub async fn message_ids_page(
        &self,
        tenant: TenantId,
        after: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<MessageId>> {
        self.read(move |c| {
            let mut q = messages::table
                .filter(messages::tenant_id.eq(tenant.to_string()))
                .into_boxed();
            if let Some(a) = after {
                q = q.filter(messages::id.gt(a.to_string()));
            }
            let ids: Vec<String> = q
                .order(messages::id.asc())
                .limit(limit)
                .select(messages::id)
                .load(c)?;
            ids.iter().map(|s| parse("message id", s)).collect()
        })
        .await
    }

    pub async fn message_count(&self, tenant: TenantId) -> Result<i64> {
        self.read(move |c| {
            Ok(messages::table
                .filter(messages::tenant_id.eq(tenant.to_string()))
                .count()
                .get_result(c)?)
        })
        .await
    }

    /// The byte-exact original of a message.
    pub async fn raw_original(&self, tenant: TenantId, id: MessageId) -> Result<Option<Vec<u8>>> {
        self.read(move |c| {
            let tid = tenant.to_string();
            let sha: Option<String> = messages::table
                .filter(messages::tenant_id.eq(&tid))
                .filter(messages::id.eq(id.to_string()))
                .select(messages::raw_sha256)
                .first(c)
                .optional()?;
            match sha {
                None => Ok(None),
                Some(sha) => Ok(blobs::table
                    .filter(blobs::tenant_id.eq(&tid))
                    .filter(blobs::sha256.eq(sha))
                    .select(blobs::data)
                    .first(c)
                    .optional()?),
            }
        })
        .await
    }

    /// A blob (original or attachment) of the tenant by its SHA-256.
    pub async fn blob(&self, tenant: TenantId, sha256: &str) -> Result<Option<Vec<u8>>> {
        let sha = sha256.to_owned();
        self.read(move |c| {
            Ok(blobs::table
                .filter(blobs::tenant_id.eq(tenant.to_string()))
                .filter(blobs::sha256.eq(sha))
                .select(blobs::data)
                .first(c)
                .optional()?)
        })
        .await
    }

    /// Delivery events of a message: (status, detail, original sha256, time).
    pub async fn message_events(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<Vec<(DeliveryStatus, Option<String>, Option<String>, Timestamp)>> {
        self.read(move |c| {
            let rows: Vec<MessageEventRow> = message_events::table
                .filter(message_events::tenant_id.eq(tenant.to_string()))
                .filter(message_events::message_id.eq(id.to_string()))
                .order((message_events::at.asc(), message_events::id.asc()))
                .select(MessageEventRow::as_select())
                .load(c)?;
            rows.into_iter()
                .map(|r| {
                    Ok((
                        parse::<DeliveryStatus>("status", &r.status)?,
                        r.detail,
                        r.original_sha256,
                        utc(r.at),
                    ))
                })
                .collect()
        })
        .await
    }

    pub async fn conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<Option<Conversation>> {
        self.read(move |c| {
            let row: Option<ConversationRow> = conversations::table
                .filter(conversations::tenant_id.eq(tenant.to_string()))
                .filter(conversations::id.eq(id.to_string()))
                .select(ConversationRow::as_select())
                .first(c)
                .optional()?;
            row.map(ConversationRow::into_domain).transpose()
        })
        .await
    }

    /// Every message of a conversation, in order (received time, then id).
    pub async fn conversation_messages(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<Vec<Message>> {
        self.read(move |c| {
            let tid = tenant.to_string();
            let rows: Vec<MessageRow> = messages::table
                .filter(messages::tenant_id.eq(&tid))
                .filter(messages::conversation_id.eq(id.to_string()))
                .order((messages::received_at.asc(), messages::id.asc()))
                .select(MessageRow::as_select())
                .load(c)?;
            hydrate(c, &tid, rows)
        })
        .await
    }

    /// The most recent conversation of the contact with this channel address.
    pub async fn conversation_for_contact(
        &self,
        tenant: TenantId,
        channel: Channel,
        address: &str,
    ) -> Result<Option<Conversation>> {
        let address = address.to_owned();
        self.read(move |c| {
            let tid = tenant.to_string();
            let contact: Option<String> = contacts::table
                .filter(contacts::tenant_id.eq(&tid))
                .filter(contacts::channel.eq(channel.as_str()))
                .filter(contacts::address.eq(address))
                .select(contacts::id)
                .first(c)
                .optional()?;
            let Some(contact) = contact else {
                return Ok(None);
            };
            let row: Option<ConversationRow> = conversations::table
                .filter(conversations::tenant_id.eq(&tid))
                .filter(conversations::contact_id.eq(contact))
                .order(conversations::last_message_at.desc())
                .select(ConversationRow::as_select())
                .first(c)
                .optional()?;
            row.map(ConversationRow::into_domain).transpose()
        })
        .await
    }
}
