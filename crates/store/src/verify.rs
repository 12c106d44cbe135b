//! `loket verify`: recompute every stored hash and walk every audit chain.

use crate::audit::checkpoint_mac;
use crate::models::{AuditRow, parse};
use crate::schema::*;
use crate::{Result, Store};
use diesel::prelude::*;
use loket_core::{ChainFault, TenantId, check_chain};
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyFault {
    /// A blob's bytes no longer hash to its address.
    BlobChanged {
        tenant: String,
        sha256: String,
        actual: String,
    },
    /// A message points at an original that is not there.
    OriginalMissing {
        tenant: String,
        message: String,
        sha256: String,
    },
    /// A message's recorded hash differs from the hash its ingest audit event recorded
    /// (original and its hash edited together).
    MessageHashChanged {
        tenant: String,
        message: String,
        recorded: String,
        stored: String,
    },
    /// A message without its ingest audit event.
    IngestEventMissing { tenant: String, message: String },
    /// The audit chain is broken.
    AuditChain { tenant: String, fault: String },
    /// The chain head does not match the checkpoint (tail deleted or checkpoint forged).
    Checkpoint { tenant: String, detail: String },
}

impl fmt::Display for VerifyFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyFault::BlobChanged {
                tenant,
                sha256,
                actual,
            } => write!(
                f,
                "tenant {tenant}: blob {sha256} was changed (its bytes now hash to {actual})"
            ),
            VerifyFault::OriginalMissing {
                tenant,
                message,
                sha256,
            } => write!(
                f,
                "tenant {tenant}: message {message}: original {sha256} is missing"
            ),
            VerifyFault::MessageHashChanged {
                tenant,
                message,
                recorded,
                stored,
            } => write!(
                f,
                "tenant {tenant}: message {message}: stored hash {stored} differs from the hash {recorded} recorded in the audit chain at ingest"
            ),
            VerifyFault::IngestEventMissing { tenant, message } => write!(
                f,
                "tenant {tenant}: message {message} has no ingest audit event"
            ),
            VerifyFault::AuditChain { tenant, fault } => {
                write!(f, "tenant {tenant}: audit chain: {fault}")
            }
            VerifyFault::Checkpoint { tenant, detail } => {
                write!(f, "tenant {tenant}: audit checkpoint: {detail}")
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub tenants: usize,
    pub blobs_checked: u64,
    pub messages_checked: u64,
    pub audit_events_checked: u64,
    pub faults: Vec<VerifyFault>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.faults.is_empty()
    }
}

const PAGE: i64 = 500;

impl Store {
    /// Recomputes every blob's SHA-256, checks every message against the hash recorded at
    /// ingest, and walks every tenant's audit chain up to its checkpoint.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let key = self.audit_key().to_vec();
        self.read(move |c| {
            let mut report = VerifyReport::default();
            let tenants: Vec<String> = tenants::table
                .select(tenants::id)
                .order(tenants::id)
                .load(c)?;
            report.tenants = tenants.len();
            for tid in tenants {
                verify_blobs(c, &tid, &mut report)?;
                let recorded = verify_chain(c, &tid, &key, &mut report)?;
                verify_messages(c, &tid, &recorded, &mut report)?;
            }
            Ok(report)
        })
        .await
    }
}

fn verify_blobs(c: &mut crate::AnyConnection, tid: &str, report: &mut VerifyReport) -> Result<()> {
    let mut after = String::new();
    loop {
        let rows: Vec<(String, Vec<u8>)> = blobs::table
            .filter(blobs::tenant_id.eq(tid))
            .filter(blobs::sha256.gt(&after))
            .order(blobs::sha256)
            .limit(PAGE)
            .select((blobs::sha256, blobs::data))
            .load(c)?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        for (sha, data) in rows {
            report.blobs_checked += 1;
            let actual = loket_core::sha256_hex(&data);
            if actual != sha {
                report.faults.push(VerifyFault::BlobChanged {
                    tenant: tid.to_owned(),
                    sha256: sha,
                    actual,
                });
            }
        }
    }
    Ok(())
}

/// Walks the chain; returns message id → sha256 recorded by its ingest/import event.
fn verify_chain(
    c: &mut crate::AnyConnection,
    tid: &str,
    key: &[u8],
    report: &mut VerifyReport,
) -> Result<HashMap<String, String>> {
    let mut recorded = HashMap::new();
    let mut events = Vec::new();
    let mut after = 0i64;
    loop {
        let rows: Vec<AuditRow> = audit_events::table
            .filter(audit_events::tenant_id.eq(tid))
            .filter(audit_events::seq.gt(after))
            .order(audit_events::seq)
            .limit(PAGE * 10)
            .select(AuditRow::as_select())
            .load(c)?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in rows {
            let records_sha = matches!(
                r.action.as_str(),
                "message_ingested" | "message_imported" | "reply_queued" | "note_added"
            ) && r.subject_kind == "message";
            let sha = serde_json::from_str::<serde_json::Value>(&r.detail)
                .ok()
                .and_then(|v| v.get("sha256").and_then(|s| s.as_str()).map(str::to_owned));
            if let (true, Some(sha)) = (records_sha, sha) {
                recorded.insert(r.subject_id.clone(), sha);
            }
            events.push(r.into_domain()?);
        }
    }
    report.audit_events_checked += events.len() as u64;
    for fault in check_chain(&events) {
        let text = match fault {
            ChainFault::HashMismatch { seq, id } => {
                format!("event {seq} ({id}) was changed: its hash does not match its fields")
            }
            ChainFault::BrokenLink { seq, id } => {
                format!(
                    "event {seq} ({id}) does not link to the event before it (an event was removed or inserted)"
                )
            }
            ChainFault::Gap { expected, found } => {
                format!(
                    "sequence jumps from {} to {found}: events are missing",
                    expected - 1
                )
            }
        };
        report.faults.push(VerifyFault::AuditChain {
            tenant: tid.to_owned(),
            fault: text,
        });
    }
    let checkpoint: Option<(i64, String, String)> = audit_checkpoints::table
        .filter(audit_checkpoints::tenant_id.eq(tid))
        .select((
            audit_checkpoints::seq,
            audit_checkpoints::hash,
            audit_checkpoints::mac,
        ))
        .first(c)
        .optional()?;
    let head = events.last().map(|e| (e.seq, e.hash.clone()));
    let tenant: TenantId = parse("tenant id", tid)?;
    match (checkpoint, head) {
        (None, None) => {}
        (None, Some(_)) => report.faults.push(VerifyFault::Checkpoint {
            tenant: tid.to_owned(),
            detail: "the checkpoint is missing".into(),
        }),
        (Some((seq, hash, mac)), head) => {
            if checkpoint_mac(key, tenant, seq, &hash) != mac {
                report.faults.push(VerifyFault::Checkpoint {
                    tenant: tid.to_owned(),
                    detail: format!("checkpoint at event {seq} has an invalid MAC (forged, or verified with the wrong audit key)"),
                });
            }
            match head {
                Some((hseq, hhash)) if hseq == seq && hhash == hash => {}
                Some((hseq, _)) if hseq < seq => report.faults.push(VerifyFault::Checkpoint {
                    tenant: tid.to_owned(),
                    detail: format!("the chain ends at event {hseq} but the checkpoint is at {seq}: the tail was deleted"),
                }),
                Some((hseq, _)) => report.faults.push(VerifyFault::Checkpoint {
                    tenant: tid.to_owned(),
                    detail: format!("the chain head (event {hseq}) does not match the checkpoint (event {seq})"),
                }),
                None => report.faults.push(VerifyFault::Checkpoint {
                    tenant: tid.to_owned(),
                    detail: format!("the chain is empty but the checkpoint is at event {seq}"),
                }),
            }
        }
    }
    Ok(recorded)
}

fn verify_messages(
    c: &mut crate::AnyConnection,
    tid: &str,
    recorded: &HashMap<String, String>,
    report: &mut VerifyReport,
) -> Result<()> {
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String)> = messages::table
            .filter(messages::tenant_id.eq(tid))
            .filter(messages::id.gt(&after))
            .order(messages::id)
            .limit(PAGE * 10)
            .select((messages::id, messages::raw_sha256, messages::direction))
            .load(c)?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let shas: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
        let present: Vec<String> = blobs::table
            .filter(blobs::tenant_id.eq(tid))
            .filter(blobs::sha256.eq_any(&shas))
            .select(blobs::sha256)
            .load(c)?;
        for (id, sha, direction) in rows {
            report.messages_checked += 1;
            if !present.contains(&sha) {
                report.faults.push(VerifyFault::OriginalMissing {
                    tenant: tid.to_owned(),
                    message: id.clone(),
                    sha256: sha.clone(),
                });
            }
            let _ = direction;
            match recorded.get(&id) {
                Some(r) if *r == sha => {}
                Some(r) => report.faults.push(VerifyFault::MessageHashChanged {
                    tenant: tid.to_owned(),
                    message: id,
                    recorded: r.clone(),
                    stored: sha,
                }),
                None => report.faults.push(VerifyFault::IngestEventMissing {
                    tenant: tid.to_owned(),
                    message: id,
                }),
            }
        }
    }
    Ok(())
}
