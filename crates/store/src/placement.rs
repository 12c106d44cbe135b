//! Where an inbound message goes: its contact, and the conversation it joins or opens.

use crate::Result;
use crate::conn::AnyConnection;
use crate::models::*;
use crate::schema::*;
use diesel::prelude::*;
use loket_core::thread::{join_thread, parse_outbound_message_id};
use loket_core::{
    Address, Channel, ContactId, ConversationId, ConversationStatus, Timestamp, conversation_token,
};

pub(crate) fn find_or_create_contact(
    conn: &mut AnyConnection,
    tenant: &str,
    channel: Channel,
    from: &Address,
    now: Timestamp,
) -> Result<String> {
    let existing: Option<String> = contacts::table
        .filter(contacts::tenant_id.eq(tenant))
        .filter(contacts::channel.eq(channel.as_str()))
        .filter(contacts::address.eq(&from.address))
        .select(contacts::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let row = ContactRow {
        id: ContactId::new().to_string(),
        tenant_id: tenant.to_owned(),
        channel: channel.as_str().to_owned(),
        address: from.address.clone(),
        name: from.name.clone(),
        created_at: ts(now),
    };
    diesel::insert_into(contacts::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.id)
}

pub(crate) fn conversation_of_tenant(
    conn: &mut AnyConnection,
    tenant: &str,
    id: &str,
) -> Result<Option<String>> {
    Ok(conversations::table
        .filter(conversations::tenant_id.eq(tenant))
        .filter(conversations::id.eq(id))
        .select(conversations::id)
        .first(conn)
        .optional()?)
}

/// The conversation a message with thread marks joins, by the one threading rule
/// (`loket_core::thread::join_thread`); `None`: a new conversation.
pub(crate) fn thread_conversation(
    conn: &mut AnyConnection,
    tenant: &str,
    references: &[String],
    token: Option<&str>,
    subject: Option<&str>,
    text: &str,
) -> Result<Option<String>> {
    let by_reference = conversation_by_references(conn, tenant, references)?;
    let by_token: Option<String> = match token {
        Some(token) => conversations::table
            .filter(conversations::tenant_id.eq(tenant))
            .filter(conversations::token.eq(token.to_ascii_uppercase()))
            .select(conversations::id)
            .first(conn)
            .optional()?,
        None => None,
    };
    // The conversation's subject matters only for the new-topic split.
    let reference_subject: Option<String> = match (&by_reference, &by_token) {
        (Some(c), None) => conversations::table
            .filter(conversations::tenant_id.eq(tenant))
            .filter(conversations::id.eq(c))
            .select(conversations::subject)
            .first::<Option<String>>(conn)?,
        _ => None,
    };
    Ok(join_thread(
        by_reference.map(|c| (c, reference_subject.as_deref())),
        by_token,
        subject,
        text,
    ))
}

/// The conversation of the most specific Message-ID (last first) that names a message of
/// the tenant: one of loket's own outbound ids by the message id it carries, else any
/// stored message's Message-ID.
fn conversation_by_references(
    conn: &mut AnyConnection,
    tenant: &str,
    references: &[String],
) -> Result<Option<String>> {
    for r in references.iter().rev() {
        if let Some(id) = parse_outbound_message_id(r) {
            let found: Option<String> = messages::table
                .filter(messages::tenant_id.eq(tenant))
                .filter(messages::id.eq(id.to_string()))
                .select(messages::conversation_id)
                .first(conn)
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        let found: Option<String> = messages::table
            .filter(messages::tenant_id.eq(tenant))
            .filter(messages::rfc_message_id.eq(r))
            .select(messages::conversation_id)
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

pub(crate) fn latest_open_of_contact(
    conn: &mut AnyConnection,
    tenant: &str,
    contact: &str,
) -> Result<Option<String>> {
    Ok(conversations::table
        .filter(conversations::tenant_id.eq(tenant))
        .filter(conversations::contact_id.eq(contact))
        .filter(conversations::status.ne(ConversationStatus::Closed.as_str()))
        .order(conversations::last_message_at.desc())
        .select(conversations::id)
        .first(conn)
        .optional()?)
}

pub(crate) fn create_conversation(
    conn: &mut AnyConnection,
    tenant: &str,
    contact: &str,
    channel: Channel,
    subject: Option<&str>,
    now: Timestamp,
    id: Option<ConversationId>,
) -> Result<String> {
    let id = id.unwrap_or_default();
    let row = ConversationRow {
        id: id.to_string(),
        tenant_id: tenant.to_owned(),
        contact_id: contact.to_owned(),
        channel: channel.as_str().to_owned(),
        token: conversation_token(id),
        subject: subject.map(str::to_owned),
        status: ConversationStatus::Open.as_str().to_owned(),
        assignee: None,
        created_at: ts(now),
        last_message_at: ts(now),
    };
    diesel::insert_into(conversations::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.id)
}

pub(crate) fn touch_conversation(
    conn: &mut AnyConnection,
    conversation: &str,
    at: Timestamp,
    reopen: bool,
) -> Result<()> {
    let target = conversations::table.filter(conversations::id.eq(conversation));
    if reopen {
        let q = diesel::update(target).set((
            conversations::last_message_at.eq(ts(at)),
            conversations::status.eq(ConversationStatus::Open.as_str()),
        ));
        crate::conn::execute_cached!(conn, q)?;
    } else {
        let q = diesel::update(target).set(conversations::last_message_at.eq(ts(at)));
        crate::conn::execute_cached!(conn, q)?;
    }
    Ok(())
}
