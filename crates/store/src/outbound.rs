//! Replies and their delivery: a reply is stored `queued` and announced in the outbox;
//! a channel sender appends the status events (never an update of the message).

use crate::audit;
use crate::batch::{BatchCtx, append_outbox};
use crate::blobs::put_blob;
use crate::conn::AnyConnection;
use crate::ingest::Ingested;
use crate::message_write::{NewMessage, insert_message};
use crate::models::*;
use crate::placement::touch_conversation;
use crate::queries::OutboxKind;
use crate::schema::*;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{
    Actor, Address, AuditAction, AuditSubject, Channel, ConversationHint, ConversationId,
    DeliveryStatus, Direction, Inbound, MessageFlag, MessageId, Outbound, Principal, TenantId,
    sha256_hex,
};

impl Store {
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
            key_conflict: false,
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
