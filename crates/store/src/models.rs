//! Row types and their conversion to domain types.
//!
//! Every `Insertable` row says `treat_none_as_default_value = false`: `None` is inserted as
//! NULL (no column has a DEFAULT), so every column is bound, each INSERT has one fixed
//! text, and diesel caches its prepared statement by type. With diesel's default an
//! optional column may be left out, so the SQL was built and hashed again for every row
//! (measured: 15 % of the bulk import's CPU on SQLite, docs/benchmarks.md).

use crate::conn::AnyConnection;
use crate::schema::*;
use crate::{Result, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use loket_core::{
    Address, Attachment, Channel, Contact, Conversation, ConversationStatus, Direction, Message,
    MessageFlag, Tenant, Timestamp,
};
use std::str::FromStr;

pub(crate) fn ts(t: Timestamp) -> NaiveDateTime {
    loket_core::to_micros(t).naive_utc()
}

pub(crate) fn utc(t: NaiveDateTime) -> Timestamp {
    t.and_utc()
}

pub(crate) fn parse<T: FromStr>(kind: &'static str, s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>()
        .map_err(|e| StoreError::Corrupt(format!("bad {kind} `{s}`: {e}")))
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(kind: &'static str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("bad {kind} JSON: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = tenants)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct TenantRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

impl TenantRow {
    pub fn into_domain(self) -> Result<Tenant> {
        Ok(Tenant {
            id: parse("tenant id", &self.id)?,
            slug: self.slug,
            name: self.name,
            created_at: utc(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = contacts)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ContactRow {
    pub id: String,
    pub tenant_id: String,
    pub channel: String,
    pub address: String,
    pub name: Option<String>,
    pub created_at: NaiveDateTime,
}

impl ContactRow {
    #[allow(dead_code)] // used by the inbox contact view
    pub fn into_domain(self) -> Result<Contact> {
        Ok(Contact {
            id: parse("contact id", &self.id)?,
            tenant_id: parse("tenant id", &self.tenant_id)?,
            channel: parse::<Channel>("channel", &self.channel)?,
            address: self.address,
            name: self.name,
            created_at: utc(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = conversations)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ConversationRow {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: String,
    pub channel: String,
    pub token: String,
    pub subject: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_message_at: NaiveDateTime,
}

impl ConversationRow {
    pub fn into_domain(self) -> Result<Conversation> {
        Ok(Conversation {
            id: parse("conversation id", &self.id)?,
            tenant_id: parse("tenant id", &self.tenant_id)?,
            contact_id: parse("contact id", &self.contact_id)?,
            channel: parse::<Channel>("channel", &self.channel)?,
            token: self.token,
            subject: self.subject,
            created_at: utc(self.created_at),
            last_message_at: utc(self.last_message_at),
            status: parse::<ConversationStatus>("status", &self.status)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = messages)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct MessageRow {
    pub id: String,
    pub tenant_id: String,
    pub conversation_id: String,
    pub contact_id: String,
    pub direction: String,
    pub channel: String,
    pub idempotency_key: String,
    pub provider_message_id: Option<String>,
    pub rfc_message_id: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    pub to_json: String,
    pub subject: Option<String>,
    pub body_text: String,
    pub body_html: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub received_at: NaiveDateTime,
    pub raw_sha256: String,
    pub raw_size: i64,
    pub raw_content_type: String,
    pub flags_json: String,
    pub parse_warnings_json: String,
    pub author: Option<String>,
}

impl MessageRow {
    pub fn into_domain(
        self,
        attachments: Vec<Attachment>,
        status: Option<loket_core::DeliveryStatus>,
    ) -> Result<Message> {
        Ok(Message {
            id: parse("message id", &self.id)?,
            tenant_id: parse("tenant id", &self.tenant_id)?,
            conversation_id: parse("conversation id", &self.conversation_id)?,
            contact_id: parse("contact id", &self.contact_id)?,
            direction: parse::<Direction>("direction", &self.direction)?,
            channel: parse::<Channel>("channel", &self.channel)?,
            idempotency_key: self.idempotency_key,
            provider_message_id: self.provider_message_id,
            rfc_message_id: self.rfc_message_id,
            from: Address {
                address: self.from_address,
                name: self.from_name,
            },
            to: json("recipients", &self.to_json)?,
            subject: self.subject,
            text: self.body_text,
            html: self.body_html,
            sent_at: self.sent_at.map(utc),
            received_at: utc(self.received_at),
            raw_sha256: self.raw_sha256,
            raw_size: self.raw_size,
            raw_content_type: self.raw_content_type,
            flags: json::<Vec<MessageFlag>>("flags", &self.flags_json)?,
            parse_warnings: json("parse warnings", &self.parse_warnings_json)?,
            author: self.author,
            attachments,
            status,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = attachments)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct AttachmentRow {
    pub id: String,
    pub tenant_id: String,
    pub message_id: String,
    pub ordinal: i32,
    pub filename: Option<String>,
    pub content_type: String,
    pub content_id: Option<String>,
    pub sha256: String,
    pub size: i64,
}

impl AttachmentRow {
    pub fn into_domain(self) -> Result<Attachment> {
        Ok(Attachment {
            id: parse("attachment id", &self.id)?,
            message_id: parse("message id", &self.message_id)?,
            filename: self.filename,
            content_type: self.content_type,
            content_id: self.content_id,
            sha256: self.sha256,
            size: self.size,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = message_events)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct MessageEventRow {
    pub id: String,
    pub tenant_id: String,
    pub message_id: String,
    pub status: String,
    pub detail: Option<String>,
    pub original_sha256: Option<String>,
    pub at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct AuditRow {
    pub id: String,
    pub tenant_id: String,
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    pub fn into_domain(self) -> Result<loket_core::AuditEvent> {
        Ok(loket_core::AuditEvent {
            id: parse("audit event id", &self.id)?,
            tenant_id: parse("tenant id", &self.tenant_id)?,
            seq: self.seq,
            at: utc(self.at),
            actor: self.actor,
            action: self.action,
            subject_kind: self.subject_kind,
            subject_id: self.subject_id,
            detail: self.detail,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = outbox)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct OutboxRow {
    pub seq: i64,
    pub tenant_id: String,
    pub kind: String,
    pub message_id: Option<String>,
    pub conversation_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable, Clone, Copy, Debug)]
#[diesel(table_name = blobs)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct NewBlob<'a> {
    pub tenant_id: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    pub data: &'a [u8],
}

/// Rows per multi-row `INSERT`, so that one statement stays well under the bind-parameter
/// limits (SQLite 32,766; PostgreSQL 65,535) whatever the table's width.
pub(crate) fn rows_per_insert(columns: usize) -> usize {
    (8_000 / columns.max(1)).max(1)
}

/// Inserts rows of one table with as few statements as the backend allows.
pub(crate) fn insert_rows<T: RowInsert>(
    c: &mut AnyConnection,
    rows: &[T],
    columns: usize,
) -> Result<()> {
    for chunk in rows.chunks(rows_per_insert(columns)) {
        T::insert(c, chunk)?;
    }
    Ok(())
}

/// One multi-row `INSERT` of a slice of rows of one table.
pub(crate) trait RowInsert: Sized {
    fn insert(c: &mut AnyConnection, rows: &[Self]) -> Result<()>;
}

macro_rules! row_insert {
    ($row:ty, $table:path) => {
        impl RowInsert for $row {
            // PostgreSQL gets one multi-row INSERT. SQLite has no DEFAULT keyword, so
            // diesel would run a multi-row INSERT as one INSERT per row inside a
            // savepoint (whose sub-journal copies every page it touches); the rows go
            // one by one through the cached single-row statement instead, which is also
            // the fastest way to feed SQLite.
            fn insert(c: &mut AnyConnection, rows: &[Self]) -> Result<()> {
                match c {
                    AnyConnection::Sqlite(c) => {
                        for row in rows {
                            diesel::insert_into($table).values(row).execute(c)?;
                        }
                    }
                    AnyConnection::Postgresql(c) => {
                        diesel::insert_into($table).values(rows).execute(c)?;
                    }
                }
                Ok(())
            }
        }
    };
}
row_insert!(ContactRow, contacts::table);
row_insert!(ConversationRow, conversations::table);
row_insert!(MessageRow, messages::table);
row_insert!(AttachmentRow, attachments::table);
row_insert!(MessageEventRow, message_events::table);
row_insert!(AuditRow, audit_events::table);
row_insert!(OutboxRow, outbox::table);
