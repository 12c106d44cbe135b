//! One message as rows: the message row and its attachment rows are built here, from the
//! `Inbound` (or the reply shaped like one), for every path that writes a message — the
//! single ingest, the grouped ingest (`ingest_batch.rs`, which inserts many rows at once)
//! and the outbound reply — so the paths cannot drift apart.

use crate::Result;
use crate::blobs::put_blob;
use crate::conn::AnyConnection;
use crate::models::*;
use crate::schema::*;
use diesel::prelude::*;
use loket_core::{AttachmentId, Direction, Inbound, MessageFlag, MessageId, Timestamp, sha256_hex};

/// Everything needed to write one message.
pub(crate) struct NewMessage<'a> {
    pub id: MessageId,
    pub tenant: &'a str,
    pub conversation: &'a str,
    pub contact: &'a str,
    pub direction: Direction,
    pub inbound: &'a Inbound,
    pub key: String,
    pub raw_sha: String,
    pub received_at: Timestamp,
    pub author: Option<String>,
    /// The key was seen before with other bytes: the row is flagged `KeyConflict`.
    pub key_conflict: bool,
}

/// The message as written, for callers that answer with it (`None` for a duplicate).
pub(crate) type Written = Option<(MessageRow, Vec<AttachmentRow>)>;

/// The message row: flags sorted and without repeats.
pub(crate) fn message_row(m: NewMessage<'_>) -> Result<MessageRow> {
    let inbound = m.inbound;
    let mut flags = inbound.flags.clone();
    if m.key_conflict {
        flags.push(MessageFlag::KeyConflict);
    }
    flags.sort();
    flags.dedup();
    Ok(MessageRow {
        id: m.id.to_string(),
        tenant_id: m.tenant.to_owned(),
        conversation_id: m.conversation.to_owned(),
        contact_id: m.contact.to_owned(),
        direction: m.direction.as_str().to_owned(),
        channel: inbound.channel.as_str().to_owned(),
        idempotency_key: m.key,
        provider_message_id: inbound.provider_message_id.clone(),
        rfc_message_id: inbound.rfc_message_id.clone(),
        from_address: inbound.from.address.clone(),
        from_name: inbound.from.name.clone(),
        to_json: to_json(&inbound.to)?,
        subject: inbound.subject.clone(),
        body_text: inbound.text.clone(),
        body_html: inbound.html.clone(),
        sent_at: inbound.sent_at.map(ts),
        received_at: ts(m.received_at),
        raw_sha256: m.raw_sha,
        raw_size: inbound.raw.len() as i64,
        raw_content_type: inbound.raw_content_type.clone(),
        flags_json: to_json(&flags)?,
        parse_warnings_json: to_json(&inbound.parse_warnings)?,
        author: m.author,
    })
}

/// The attachment rows of a message, in the order of `inbound.attachments`.
pub(crate) fn attachment_rows(inbound: &Inbound, message: &MessageRow) -> Vec<AttachmentRow> {
    inbound
        .attachments
        .iter()
        .enumerate()
        .map(|(n, a)| AttachmentRow {
            id: AttachmentId::new().to_string(),
            tenant_id: message.tenant_id.clone(),
            message_id: message.id.clone(),
            ordinal: n as i32,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            content_id: a.content_id.clone(),
            sha256: sha256_hex(&a.data),
            size: a.data.len() as i64,
        })
        .collect()
}

/// Writes the message, its original and attachments; returns the rows written.
pub(crate) fn insert_message(
    conn: &mut AnyConnection,
    m: NewMessage<'_>,
) -> Result<(MessageRow, Vec<AttachmentRow>)> {
    let inbound = m.inbound;
    put_blob(conn, m.tenant, &m.raw_sha, &inbound.raw)?;
    let row = message_row(m)?;
    diesel::insert_into(messages::table)
        .values(&row)
        .execute(conn)?;
    let attachments = attachment_rows(inbound, &row);
    for (a, att) in inbound.attachments.iter().zip(&attachments) {
        put_blob(conn, &row.tenant_id, &att.sha256, &a.data)?;
        diesel::insert_into(attachments::table)
            .values(att)
            .execute(conn)?;
    }
    Ok((row, attachments))
}
