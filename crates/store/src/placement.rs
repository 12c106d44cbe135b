//! Where an inbound message goes: its contact, and the conversation it joins or opens.

use crate::Result;
use crate::conn::AnyConnection;
use crate::models::*;
use crate::schema::*;
use diesel::prelude::*;
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

pub(crate) fn resolve_thread(
    conn: &mut AnyConnection,
    tenant: &str,
    references: &[String],
    token: Option<&str>,
) -> Result<Option<String>> {
    for r in references.iter().rev() {
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
    if let Some(token) = token {
        let found: Option<String> = conversations::table
            .filter(conversations::tenant_id.eq(tenant))
            .filter(conversations::token.eq(token.to_ascii_uppercase()))
            .select(conversations::id)
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
