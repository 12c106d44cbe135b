//! Durable, idempotent ingest and the other archive writes.

use crate::audit;
use crate::conn::AnyConnection;
use crate::models::*;
use crate::queries::OutboxKind;
use crate::schema::*;
use crate::writer::BatchCtx;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{
    Actor, Address, AttachmentId, AuditAction, AuditSubject, Channel, ContactId, ConversationHint,
    ConversationId, ConversationStatus, DeliveryStatus, Direction, Inbound, Message, MessageFlag,
    MessageId, NewAttachment, Outbound, Principal, Tenant, TenantId, Timestamp, conversation_token,
    sha256_hex,
};
use serde::Serialize;

/// What `ingest` and `queue_outbound` report back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ingested {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    /// The same key with the same bytes was stored before: nothing new was written.
    pub duplicate: bool,
    /// The key was seen before with different bytes: stored as a new, flagged message.
    pub key_conflict: bool,
    /// Outbox sequence of the new message (`None` for duplicates).
    pub seq: Option<i64>,
}

pub(crate) fn put_blob(
    conn: &mut AnyConnection,
    tenant: &str,
    sha: &str,
    data: &[u8],
) -> Result<()> {
    insert_blobs(
        conn,
        &[NewBlob {
            tenant_id: tenant,
            sha256: sha,
            size: data.len() as i64,
            data,
        }],
    )
}

/// Blobs are content-addressed: a row already stored under the same (tenant, SHA-256) holds
/// the same bytes, so the insert itself skips it (`ON CONFLICT DO NOTHING`) instead of a
/// lookup first — on a large archive that lookup was a random probe per blob.
pub(crate) fn insert_blobs(c: &mut AnyConnection, rows: &[NewBlob<'_>]) -> Result<()> {
    match c {
        AnyConnection::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(blobs::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
        AnyConnection::Postgresql(c) => {
            // Blobs are large: a few per statement keep the statement's memory bounded.
            for chunk in rows.chunks(64) {
                diesel::insert_into(blobs::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn append_outbox(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: &str,
    kind: OutboxKind,
    message: Option<&str>,
    conversation: Option<&str>,
) -> Result<i64> {
    let seq = ctx.take_outbox_seq(conn)?;
    diesel::insert_into(outbox::table)
        .values((
            outbox::seq.eq(seq),
            outbox::tenant_id.eq(tenant),
            outbox::kind.eq(kind.as_str()),
            outbox::message_id.eq(message),
            outbox::conversation_id.eq(conversation),
            outbox::created_at.eq(ts(loket_core::now())),
        ))
        .execute(conn)?;
    Ok(seq)
}

fn find_or_create_contact(
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

fn conversation_of_tenant(
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

fn latest_open_of_contact(
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

fn create_conversation(
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

fn touch_conversation(
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

fn insert_attachments(
    conn: &mut AnyConnection,
    tenant: &str,
    message: &str,
    attachments: &[NewAttachment],
    ids: Option<&[AttachmentId]>,
) -> Result<Vec<AttachmentRow>> {
    let mut rows = Vec::with_capacity(attachments.len());
    for (i, a) in attachments.iter().enumerate() {
        let sha = sha256_hex(&a.data);
        put_blob(conn, tenant, &sha, &a.data)?;
        let id = ids.and_then(|ids| ids.get(i).copied()).unwrap_or_default();
        let row = AttachmentRow {
            id: id.to_string(),
            tenant_id: tenant.to_owned(),
            message_id: message.to_owned(),
            ordinal: i as i32,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            content_id: a.content_id.clone(),
            sha256: sha,
            size: a.data.len() as i64,
        };
        diesel::insert_into(attachments::table)
            .values(&row)
            .execute(conn)?;
        rows.push(row);
    }
    Ok(rows)
}

/// Everything needed to write one message; shared by ingest, outbound and import.
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
    pub attachment_ids: Option<&'a [AttachmentId]>,
}

/// Writes the message, its original and attachments; returns the rows written.
pub(crate) fn insert_message(
    conn: &mut AnyConnection,
    m: NewMessage<'_>,
) -> Result<(MessageRow, Vec<AttachmentRow>)> {
    let inbound = m.inbound;
    put_blob(conn, m.tenant, &m.raw_sha, &inbound.raw)?;
    let mut flags = inbound.flags.clone();
    flags.sort();
    flags.dedup();
    let row = MessageRow {
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
    };
    diesel::insert_into(messages::table)
        .values(&row)
        .execute(conn)?;
    let attachments = insert_attachments(
        conn,
        m.tenant,
        &row.id,
        &inbound.attachments,
        m.attachment_ids,
    )?;
    Ok((row, attachments))
}

/// The message as written, for callers that answer with it (`None` for a duplicate).
pub(crate) type Written = Option<(MessageRow, Vec<AttachmentRow>)>;

pub(crate) fn ingest_one_returning(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: TenantId,
    mut inbound: Inbound,
) -> Result<(Ingested, Written)> {
    let tid = tenant.to_string();
    let exists: i64 = tenants::table
        .filter(tenants::id.eq(&tid))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Err(StoreError::not_found("tenant", tenant));
    }
    let key = inbound.effective_idempotency_key();
    let raw_sha = sha256_hex(&inbound.raw);
    let seen: Vec<(String, String, String)> = messages::table
        .filter(messages::tenant_id.eq(&tid))
        .filter(messages::channel.eq(inbound.channel.as_str()))
        .filter(messages::idempotency_key.eq(&key))
        .select((
            messages::id,
            messages::conversation_id,
            messages::raw_sha256,
        ))
        .load(conn)?;
    if let Some((id, conv, _)) = seen.iter().find(|(_, _, sha)| *sha == raw_sha) {
        let ingested = Ingested {
            message_id: parse("message id", id)?,
            conversation_id: parse("conversation id", conv)?,
            duplicate: true,
            key_conflict: false,
            seq: None,
        };
        return Ok((ingested, None));
    }
    let key_conflict = !seen.is_empty();
    if key_conflict {
        inbound.flags.push(MessageFlag::KeyConflict);
    }
    let now = loket_core::now();
    let received_at = inbound
        .received_at
        .map(loket_core::to_micros)
        .unwrap_or(now);
    let contact = find_or_create_contact(conn, &tid, inbound.channel, &inbound.from, now)?;
    let conversation = match &inbound.conversation {
        ConversationHint::Conversation(id) => Some(
            conversation_of_tenant(conn, &tid, &id.to_string())?
                .ok_or_else(|| StoreError::not_found("conversation", id))?,
        ),
        ConversationHint::Thread { references, token } => {
            resolve_thread(conn, &tid, references, token.as_deref())?
        }
        ConversationHint::LatestOpenOfContact => latest_open_of_contact(conn, &tid, &contact)?,
        ConversationHint::New => None,
    };
    let conversation = match conversation {
        Some(c) => {
            touch_conversation(conn, &c, received_at, true)?;
            c
        }
        None => create_conversation(
            conn,
            &tid,
            &contact,
            inbound.channel,
            inbound.subject.as_deref(),
            received_at,
            None,
        )?,
    };
    let id = MessageId::new();
    let written = insert_message(
        conn,
        NewMessage {
            id,
            tenant: &tid,
            conversation: &conversation,
            contact: &contact,
            direction: Direction::Inbound,
            inbound: &inbound,
            key,
            raw_sha: raw_sha.clone(),
            received_at,
            author: None,
            attachment_ids: None,
        },
    )?;
    let detail = serde_json::json!({
        "sha256": raw_sha,
        "channel": inbound.channel.as_str(),
        "conversation": conversation,
        "key_conflict": key_conflict,
    })
    .to_string();
    audit::append(
        conn,
        ctx,
        tenant,
        &format!("system:{}", inbound.channel.as_str()),
        AuditAction::MessageIngested,
        &AuditSubject::new("message", id),
        &detail,
    )?;
    let mid = id.to_string();
    let seq = append_outbox(
        conn,
        ctx,
        &tid,
        OutboxKind::MessageIngested,
        Some(&mid),
        Some(&conversation),
    )?;
    let ingested = Ingested {
        message_id: id,
        conversation_id: parse("conversation id", &conversation)?,
        duplicate: false,
        key_conflict,
        seq: Some(seq),
    };
    Ok((ingested, Some(written)))
}

impl Store {
    /// Stores one inbound message durably and idempotently; returns after commit.
    pub async fn ingest(&self, tenant: TenantId, inbound: Inbound) -> Result<Ingested> {
        Ok(self.ingest_written(tenant, inbound).await?.0)
    }

    /// Like [`Store::ingest`], and also returns the stored message, built from what was
    /// written instead of read back (the HTTP ingest answers with it).
    pub async fn ingest_returning_message(
        &self,
        tenant: TenantId,
        inbound: Inbound,
    ) -> Result<(Ingested, Message)> {
        let (ingested, written) = self.ingest_written(tenant, inbound).await?;
        let message = match written {
            Some((row, attachments)) => row.into_domain(
                attachments
                    .into_iter()
                    .map(AttachmentRow::into_domain)
                    .collect::<Result<_>>()?,
                None,
            )?,
            None => self
                .message(tenant, ingested.message_id)
                .await?
                .ok_or_else(|| StoreError::not_found("message", ingested.message_id))?,
        };
        Ok((ingested, message))
    }

    async fn ingest_written(
        &self,
        tenant: TenantId,
        inbound: Inbound,
    ) -> Result<(Ingested, Written)> {
        let r = self.inner.writer.ingest(tenant, inbound.clone()).await;
        match r {
            Err(StoreError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => {
                // Another request committed the same key between our check and our insert;
                // a fresh transaction now finds its message (a duplicate).
                self.write(move |c, ctx| ingest_one_returning(c, ctx, tenant, inbound))
                    .await
            }
            other => other,
        }
    }

    /// Stores many inbound messages in one transaction (bulk paths and benchmarks), with
    /// the statements of a group commit (`ingest_batch.rs`): the same results as ingesting
    /// them one after another. Each message is still idempotent; results are in input
    /// order; if one is refused, none is stored.
    pub async fn ingest_many(
        &self,
        tenant: TenantId,
        inbound: Vec<Inbound>,
    ) -> Result<Vec<Ingested>> {
        let items: Vec<crate::ingest_batch::IngestItem> = inbound
            .into_iter()
            .map(|inbound| crate::ingest_batch::IngestItem { tenant, inbound })
            .collect();
        self.write(move |c, ctx| {
            crate::ingest_batch::ingest_group(c, ctx, &items)?
                .into_iter()
                .map(|r| r.map(|(ingested, _)| ingested))
                .collect()
        })
        .await
    }

    /// Stores a reply (`queued`) and appends it to the outbox; a channel sender delivers it.
    pub async fn queue_outbound(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        out: Outbound,
    ) -> Result<Ingested> {
        let principal = principal.clone();
        self.write(move |c, ctx| queue_outbound_one(c, ctx, &principal, conversation, out))
            .await
    }

    /// Appends a delivery-status event (never updates the message). `sent_original` is
    /// the exact bytes a channel sent (the outbound MIME), archived as a blob.
    pub async fn append_message_status(
        &self,
        tenant: TenantId,
        message: MessageId,
        status: DeliveryStatus,
        detail: Option<String>,
        sent_original: Option<Vec<u8>>,
    ) -> Result<i64> {
        self.write(move |c, ctx| {
            let tid = tenant.to_string();
            let mid = message.to_string();
            let conv: Option<String> = messages::table
                .filter(messages::tenant_id.eq(&tid))
                .filter(messages::id.eq(&mid))
                .select(messages::conversation_id)
                .first(c)
                .optional()?;
            let conv = conv.ok_or_else(|| StoreError::not_found("message", message))?;
            let original_sha = match &sent_original {
                Some(bytes) => {
                    let sha = sha256_hex(bytes);
                    put_blob(c, &tid, &sha, bytes)?;
                    Some(sha)
                }
                None => None,
            };
            let row = MessageEventRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tid.clone(),
                message_id: mid.clone(),
                status: status.as_str().to_owned(),
                detail: detail.clone(),
                original_sha256: original_sha.clone(),
                at: ts(loket_core::now()),
            };
            diesel::insert_into(message_events::table)
                .values(&row)
                .execute(c)?;
            audit::append(
                c,
                ctx,
                tenant,
                "system:delivery",
                AuditAction::MessageStatusChanged,
                &AuditSubject::new("message", message),
                &serde_json::json!({"status": status.as_str(), "detail": detail, "original_sha256": original_sha})
                    .to_string(),
            )?;
            append_outbox(c, ctx, &tid, OutboxKind::StatusChanged, Some(&mid), Some(&conv))
        })
        .await
    }

    /// Creates a tenant (CLI, admin API, demo start-up).
    pub async fn create_tenant(&self, slug: &str, name: &str) -> Result<Tenant> {
        if !loket_core::is_valid_slug(slug) {
            return Err(StoreError::Invalid(format!(
                "tenant slug `{slug}` must be 2–63 characters of a-z, 0-9 and '-'"
            )));
        }
        let slug = slug.to_owned();
        let name = name.to_owned();
        self.write(move |c, ctx| {
            let taken: i64 = tenants::table
                .filter(tenants::slug.eq(&slug))
                .count()
                .get_result(c)?;
            if taken > 0 {
                return Err(StoreError::Conflict(format!("tenant `{slug}` exists")));
            }
            let tenant = Tenant {
                id: TenantId::new(),
                slug: slug.clone(),
                name: name.clone(),
                created_at: loket_core::now(),
            };
            insert_tenant(c, ctx, &tenant)?;
            Ok(tenant)
        })
        .await
    }

    /// Sets a per-tenant channel setting (mail addresses, IMAP mailboxes, …).
    pub async fn set_channel_setting(
        &self,
        tenant: TenantId,
        channel: Channel,
        key: &str,
        value: serde_json::Value,
    ) -> Result<()> {
        let key = key.to_owned();
        self.write(move |c, _| {
            let tid = tenant.to_string();
            let target = channel_settings::table
                .filter(channel_settings::tenant_id.eq(&tid))
                .filter(channel_settings::channel.eq(channel.as_str()))
                .filter(channel_settings::key.eq(&key));
            diesel::delete(target).execute(c)?;
            diesel::insert_into(channel_settings::table)
                .values((
                    channel_settings::tenant_id.eq(&tid),
                    channel_settings::channel.eq(channel.as_str()),
                    channel_settings::key.eq(&key),
                    channel_settings::value_json.eq(value.to_string()),
                    channel_settings::updated_at.eq(ts(loket_core::now())),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
    }
}

pub(crate) fn insert_tenant(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: &Tenant,
) -> Result<()> {
    diesel::insert_into(tenants::table)
        .values(&TenantRow {
            id: tenant.id.to_string(),
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
            created_at: ts(tenant.created_at),
        })
        .execute(c)?;
    audit::append(
        c,
        ctx,
        tenant.id,
        "system:cli",
        AuditAction::TenantCreated,
        &AuditSubject::new("tenant", tenant.id),
        &serde_json::json!({"slug": tenant.slug, "name": tenant.name}).to_string(),
    )?;
    Ok(())
}

fn queue_outbound_one(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    conversation: ConversationId,
    out: Outbound,
) -> Result<Ingested> {
    let tid = principal.tenant.to_string();
    let cid = conversation.to_string();
    let conv: Option<ConversationRow> = conversations::table
        .filter(conversations::tenant_id.eq(&tid))
        .filter(conversations::id.eq(&cid))
        .select(ConversationRow::as_select())
        .first(conn)
        .optional()?;
    let conv = conv.ok_or_else(|| StoreError::not_found("conversation", conversation))?;
    if out.text.trim().is_empty() && out.attachments.is_empty() {
        return Err(StoreError::Invalid(
            "a reply needs text or an attachment".into(),
        ));
    }
    let author = principal.actor.reference();
    let key = match &out.idempotency_key {
        Some(k) => format!("reply:{author}:{k}"),
        None => format!("reply:{}", MessageId::new()),
    };
    // The last inbound message decides the default channel and recipient.
    let last_inbound: Option<(String, String, Option<String>)> = messages::table
        .filter(messages::tenant_id.eq(&tid))
        .filter(messages::conversation_id.eq(&cid))
        .filter(messages::direction.eq(Direction::Inbound.as_str()))
        .order(messages::received_at.desc())
        .select((
            messages::channel,
            messages::from_address,
            messages::from_name,
        ))
        .first(conn)
        .optional()?;
    let channel = match (out.channel, &last_inbound) {
        (Some(ch), _) => ch,
        (None, Some((ch, _, _))) => parse::<Channel>("channel", ch)?,
        (None, None) => parse::<Channel>("channel", &conv.channel)?,
    };
    let existing: Option<(String, String)> = messages::table
        .filter(messages::tenant_id.eq(&tid))
        .filter(messages::channel.eq(channel.as_str()))
        .filter(messages::idempotency_key.eq(&key))
        .select((messages::id, messages::conversation_id))
        .first(conn)
        .optional()?;
    if let Some((id, conv_id)) = existing {
        return Ok(Ingested {
            message_id: parse("message id", &id)?,
            conversation_id: parse("conversation id", &conv_id)?,
            duplicate: true,
            key_conflict: false,
            seq: None,
        });
    }
    let to = match (&out.to, &last_inbound) {
        (Some(a), _) => a.clone(),
        (None, Some((_, addr, name))) => Address {
            address: addr.clone(),
            name: name.clone(),
        },
        (None, None) => {
            let addr: String = contacts::table
                .filter(contacts::tenant_id.eq(&tid))
                .filter(contacts::id.eq(&conv.contact_id))
                .select(contacts::address)
                .first(conn)?;
            Address::new(addr)
        }
    };
    let from_name = match &principal.actor {
        Actor::User { name, .. } | Actor::Token { name, .. } => Some(name.clone()),
        Actor::System { name } => Some(name.clone()),
    };
    // The stored original of a reply is the request as the clerk submitted it; the
    // channel's exact wire bytes are archived with the `sent` status event.
    let raw = serde_json::to_vec(&out).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut flags = Vec::new();
    if out.internal_note {
        flags.push(MessageFlag::InternalNote);
    }
    let subject = out.subject.clone().or_else(|| conv.subject.clone());
    let inbound_like = Inbound {
        channel,
        idempotency_key: Some(key.clone()),
        provider_message_id: None,
        rfc_message_id: None,
        from: Address {
            address: author.clone(),
            name: from_name,
        },
        to: vec![to],
        subject,
        text: out.text.clone(),
        html: out.html.clone(),
        sent_at: None,
        received_at: None,
        raw,
        raw_content_type: "application/vnd.loket.outbound+json".into(),
        attachments: out.attachments.clone(),
        flags,
        parse_warnings: Vec::new(),
        conversation: ConversationHint::Conversation(conversation),
    };
    let now = loket_core::now();
    let id = MessageId::new();
    let raw_sha = sha256_hex(&inbound_like.raw);
    insert_message(
        conn,
        NewMessage {
            id,
            tenant: &tid,
            conversation: &cid,
            contact: &conv.contact_id,
            direction: Direction::Outbound,
            inbound: &inbound_like,
            key,
            raw_sha: raw_sha.clone(),
            received_at: now,
            author: Some(author.clone()),
            attachment_ids: None,
        },
    )?;
    let mid = id.to_string();
    if !out.internal_note {
        diesel::insert_into(message_events::table)
            .values(&MessageEventRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tid.clone(),
                message_id: mid.clone(),
                status: DeliveryStatus::Queued.as_str().to_owned(),
                detail: None,
                original_sha256: None,
                at: ts(now),
            })
            .execute(conn)?;
    }
    touch_conversation(conn, &cid, now, false)?;
    audit::append(
        conn,
        ctx,
        principal.tenant,
        &author,
        if out.internal_note {
            AuditAction::NoteAdded
        } else {
            AuditAction::ReplyQueued
        },
        &AuditSubject::new("message", id),
        &serde_json::json!({"sha256": raw_sha, "conversation": cid, "channel": channel.as_str()})
            .to_string(),
    )?;
    let seq = append_outbox(
        conn,
        ctx,
        &tid,
        OutboxKind::OutboundQueued,
        Some(&mid),
        Some(&cid),
    )?;
    Ok(Ingested {
        message_id: id,
        conversation_id: conversation,
        duplicate: false,
        key_conflict: false,
        seq: Some(seq),
    })
}
