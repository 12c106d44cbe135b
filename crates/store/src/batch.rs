//! The state of one writer transaction (a batch): the write lock, the next outbox
//! sequence number and the audit chain heads, and the append to the outbox. Everything
//! that writes inside a batch takes its `BatchCtx`; the writer (`writer.rs`) makes one per
//! transaction and the audit chain (`audit.rs`) keeps its heads in it.

use crate::Result;
use crate::conn::AnyConnection;
use crate::models::ts;
use crate::queries::OutboxKind;
use crate::schema::outbox;
use diesel::prelude::*;
use loket_core::TenantId;
use std::collections::{BTreeMap, HashMap};

/// Advisory lock key guarding the outbox and audit heads on PostgreSQL ("loket" in ASCII).
const PG_WRITE_LOCK: i64 = 0x006c_6f6b_6574;

/// State shared by the requests of one batch: the next outbox sequence and the audit
/// chain heads, loaded under the write lock the first time one is needed.
#[derive(Clone)]
pub struct BatchCtx {
    /// `None` until the batch holds the write lock and has read the outbox head.
    pub(crate) next_outbox_seq: Option<i64>,
    /// The outbox head when the lock was taken: what this batch started from.
    pub(crate) start_seq: i64,
    pub(crate) audit_heads: HashMap<TenantId, (i64, String)>,
    pub(crate) touched_chains: BTreeMap<TenantId, (i64, String)>,
    pub(crate) audit_key: Vec<u8>,
}

impl BatchCtx {
    pub(crate) fn new(audit_key: &[u8]) -> Self {
        BatchCtx {
            next_outbox_seq: None,
            start_seq: 0,
            audit_heads: HashMap::new(),
            touched_chains: BTreeMap::new(),
            audit_key: audit_key.to_vec(),
        }
    }

    /// Takes the write lock (PostgreSQL) and reads the outbox head, once per batch.
    /// Everything that reads a head calls this first.
    pub(crate) fn lock_heads(&mut self, conn: &mut AnyConnection) -> Result<()> {
        if self.next_outbox_seq.is_some() {
            return Ok(());
        }
        if let AnyConnection::Postgresql(c) = conn {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})"))
                .execute(c)?;
        }
        let head = current_outbox_seq(conn)?;
        self.start_seq = head;
        self.next_outbox_seq = Some(head + 1);
        Ok(())
    }

    /// Reserves the next outbox sequence number.
    pub(crate) fn take_outbox_seq(&mut self, conn: &mut AnyConnection) -> Result<i64> {
        self.lock_heads(conn)?;
        let s = self.next_outbox_seq.unwrap_or(self.start_seq + 1);
        self.next_outbox_seq = Some(s + 1);
        Ok(s)
    }

    /// The last sequence this batch appended, if it appended any.
    pub(crate) fn last_seq(&self) -> Option<i64> {
        self.next_outbox_seq
            .map(|n| n - 1)
            .filter(|last| *last > self.start_seq)
    }
}

pub(crate) fn current_outbox_seq(conn: &mut AnyConnection) -> Result<i64> {
    let max: Option<i64> = outbox::table
        .select(diesel::dsl::max(outbox::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0))
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
