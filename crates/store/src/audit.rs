//! The per-tenant audit hash chain and its checkpoint.

use crate::batch::BatchCtx;
use crate::conn::AnyConnection;
use crate::models::{AuditRow, ts};
use crate::schema::{audit_checkpoints, audit_events};
use crate::{Result, Store};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use loket_core::{AuditAction, AuditEvent, AuditEventId, AuditSubject, Principal, TenantId};
use sha2::Sha256;

/// MAC over a chain head, keyed outside the database.
pub fn checkpoint_mac(key: &[u8], tenant: TenantId, seq: i64, hash: &str) -> String {
    // Invariant: HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(tenant.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(seq.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Appends one event to the tenant's chain inside the current write transaction.
pub(crate) fn append(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: TenantId,
    actor: &str,
    action: AuditAction,
    subject: &AuditSubject,
    detail: &str,
) -> Result<AuditEvent> {
    let row = chain(conn, ctx, tenant, actor, action, subject, detail)?;
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    row.into_domain()
}

/// Links the next event into the tenant's chain (heads kept in the batch) without
/// writing it: bulk paths insert many such rows with one statement. The caller must
/// insert every row it got, in order, within the same transaction.
pub(crate) fn chain(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: TenantId,
    actor: &str,
    action: AuditAction,
    subject: &AuditSubject,
    detail: &str,
) -> Result<AuditRow> {
    let (head_seq, head_hash) = audit_head(conn, ctx, tenant)?;
    let seq = head_seq + 1;
    let id = AuditEventId::new();
    let at = loket_core::now();
    let hash = AuditEvent::compute_hash(
        id,
        tenant,
        seq,
        at,
        actor,
        action.as_str(),
        &subject.kind,
        &subject.id,
        detail,
        &head_hash,
    );
    ctx.audit_heads.insert(tenant, (seq, hash.clone()));
    ctx.touched_chains.insert(tenant, (seq, hash.clone()));
    Ok(AuditRow {
        id: id.to_string(),
        tenant_id: tenant.to_string(),
        seq,
        at: ts(at),
        actor: actor.to_owned(),
        action: action.as_str().to_owned(),
        subject_kind: subject.kind.clone(),
        subject_id: subject.id.clone(),
        detail: detail.to_owned(),
        prev_hash: head_hash,
        hash,
    })
}

/// Filter for the auditor's view of the trail.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    /// Keyset paging: events with `seq` greater than this.
    pub after_seq: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Records what `principal` did (or read). Returns after commit.
    pub async fn audit(
        &self,
        principal: &Principal,
        action: AuditAction,
        subject: AuditSubject,
        detail: serde_json::Value,
    ) -> Result<AuditEvent> {
        let tenant = principal.tenant;
        let actor = principal.actor.reference();
        let detail = detail.to_string();
        self.write(move |c, ctx| append(c, ctx, tenant, &actor, action, &subject, &detail))
            .await
    }

    /// The tenant's audit events in chain order.
    pub async fn audit_events(&self, tenant: TenantId, q: AuditQuery) -> Result<Vec<AuditEvent>> {
        self.read(move |c| {
            let mut query = audit_events::table
                .filter(audit_events::tenant_id.eq(tenant.to_string()))
                .into_boxed();
            if let Some(a) = q.action {
                query = query.filter(audit_events::action.eq(a));
            }
            if let Some(a) = q.actor {
                query = query.filter(audit_events::actor.eq(a));
            }
            if let Some(k) = q.subject_kind {
                query = query.filter(audit_events::subject_kind.eq(k));
            }
            if let Some(i) = q.subject_id {
                query = query.filter(audit_events::subject_id.eq(i));
            }
            if let Some(s) = q.after_seq {
                query = query.filter(audit_events::seq.gt(s));
            }
            let rows: Vec<AuditRow> = query
                .order(audit_events::seq.asc())
                .limit(q.limit.clamp(1, 10_000))
                .select(AuditRow::as_select())
                .load(c)?;
            rows.into_iter().map(AuditRow::into_domain).collect()
        })
        .await
    }
}

/// Updates the checkpoint of every audit chain the batch extended, in the same
/// transaction as the events themselves.
pub(crate) fn write_checkpoints(conn: &mut AnyConnection, ctx: &BatchCtx) -> Result<()> {
    for (tenant, (seq, hash)) in &ctx.touched_chains {
        let mac = checkpoint_mac(&ctx.audit_key, *tenant, *seq, hash);
        let tid = tenant.to_string();
        diesel::delete(audit_checkpoints::table.filter(audit_checkpoints::tenant_id.eq(&tid)))
            .execute(conn)?;
        diesel::insert_into(audit_checkpoints::table)
            .values((
                audit_checkpoints::tenant_id.eq(&tid),
                audit_checkpoints::seq.eq(*seq),
                audit_checkpoints::hash.eq(hash),
                audit_checkpoints::mac.eq(&mac),
                audit_checkpoints::at.eq(loket_core::now().naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Loads (once per batch) and returns the head of a tenant's audit chain.
fn audit_head(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: TenantId,
) -> Result<(i64, String)> {
    if let Some(h) = ctx.audit_heads.get(&tenant) {
        return Ok(h.clone());
    }
    ctx.lock_heads(conn)?;
    let head: Option<(i64, String)> = audit_events::table
        .filter(audit_events::tenant_id.eq(tenant.to_string()))
        .order(audit_events::seq.desc())
        .select((audit_events::seq, audit_events::hash))
        .first(conn)
        .optional()?;
    let head = head.unwrap_or((0, loket_core::GENESIS_HASH.to_string()));
    ctx.audit_heads.insert(tenant, head.clone());
    Ok(head)
}
