//! Durable, idempotent ingest of one inbound message (the grouped path that the writer
//! uses for the ingests of a batch is `ingest_batch.rs`; it gives the same results).

use crate::audit;
use crate::batch::{BatchCtx, append_outbox};
use crate::conn::AnyConnection;
use crate::message_write::{NewMessage, Written, insert_message};
use crate::models::*;
use crate::placement::*;
use crate::queries::OutboxKind;
use crate::schema::*;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{
    AuditAction, AuditSubject, ConversationHint, ConversationId, Direction, Inbound, Message,
    MessageId, TenantId, sha256_hex,
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

pub(crate) fn ingest_one_returning(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: TenantId,
    inbound: Inbound,
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
        ConversationHint::Thread { references, token } => thread_conversation(
            conn,
            &tid,
            references,
            token.as_deref(),
            inbound.subject.as_deref(),
            &inbound.text,
        )?,
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
            key_conflict,
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
}
