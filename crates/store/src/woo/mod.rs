//! Woo requests as cases (the rules are `loket_core::woo`): the case and its append-only
//! history (`cases`), its documents — whole conversations — and their judgements
//! (`documents`), its search log (`search_log`), and legal holds with the `is_held` check
//! every destroy path asks (`holds`). Every change writes a row of the case's history and
//! an audit event in the same transaction.

mod cases;
mod documents;
mod holds;
mod search_log;

pub use cases::{CaseEvent, CaseFilter, CaseSummary, NewCase, WooCase};
pub use documents::{AddedDocuments, CaseDocument, DocumentPage};
pub use holds::{HoldSubject, LegalHold};
pub use search_log::{NewSearchEntry, SearchLogEntry};

use crate::audit;
use crate::batch::BatchCtx;
use crate::conn::AnyConnection;
use crate::models::ts;
use crate::schema::{woo_case_events, woo_cases};
use crate::{Result, StoreError};
use chrono::NaiveDate;
use diesel::prelude::*;
use loket_core::{AuditAction, AuditSubject, Principal, TenantId, WooCaseId};

pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("bad date `{s}`: {e}")))
}

pub(crate) fn invalid(field: &'static str, message: impl ToString) -> StoreError {
    StoreError::InvalidField {
        field,
        message: message.to_string(),
    }
}

/// Puts a change to a case on the record: a row of its history and an audit event.
pub(crate) fn record(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    case: WooCaseId,
    kind: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let at = loket_core::now();
    let actor = principal.actor.reference();
    diesel::insert_into(woo_case_events::table)
        .values((
            woo_case_events::id.eq(uuid::Uuid::now_v7().to_string()),
            woo_case_events::tenant_id.eq(principal.tenant.to_string()),
            woo_case_events::case_id.eq(case.to_string()),
            woo_case_events::at.eq(ts(at)),
            woo_case_events::actor.eq(&actor),
            woo_case_events::kind.eq(kind),
            woo_case_events::detail_json.eq(detail.to_string()),
        ))
        .execute(c)?;
    diesel::update(
        woo_cases::table
            .filter(woo_cases::tenant_id.eq(principal.tenant.to_string()))
            .filter(woo_cases::id.eq(case.to_string())),
    )
    .set(woo_cases::updated_at.eq(ts(at)))
    .execute(c)?;
    let mut detail = detail;
    if let Some(obj) = detail.as_object_mut() {
        obj.insert("change".into(), kind.into());
    }
    audit::append(
        c,
        ctx,
        principal.tenant,
        &actor,
        AuditAction::WooCaseChanged,
        &AuditSubject::new("woo_case", case),
        &detail.to_string(),
    )?;
    Ok(())
}

/// The case row of one of the tenant's cases, or NotFound.
pub(crate) fn case_exists(c: &mut AnyConnection, tenant: TenantId, case: WooCaseId) -> Result<()> {
    let n: i64 = woo_cases::table
        .filter(woo_cases::tenant_id.eq(tenant.to_string()))
        .filter(woo_cases::id.eq(case.to_string()))
        .count()
        .get_result(c)?;
    if n == 0 {
        return Err(StoreError::not_found("woo case", case));
    }
    Ok(())
}
