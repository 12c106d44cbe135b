//! The inbox's own data about conversations: the filtered, keyset-paged list
//! (`list`), status and assignment (`triage`), labels (`labels`), read marks
//! (`reads`), and what it shows of contacts and the tenant's time zone (`contacts`). Every change to a conversation here is an audit event and an outbox row
//! (`ConversationChanged`, which tells live views), in the same transaction.

mod contacts;
mod labels;
mod list;
mod reads;
mod triage;

pub use contacts::{ContactCard, MAX_CONTACT_NAME};
pub use labels::valid_label;
pub use list::{AssigneeFilter, InboxItem, InboxQuery};

use crate::audit;
use crate::batch::BatchCtx;
use crate::batch::append_outbox;
use crate::conn::AnyConnection;
use crate::queries::OutboxKind;
use crate::schema::conversations;
use crate::{Result, StoreError};
use diesel::prelude::*;
use loket_core::{AuditAction, AuditSubject, ConversationId, Principal, TenantId};

/// Puts a change to a conversation's summary row on the record: the audit event (what
/// changed, in `detail`) and the outbox row, in the caller's transaction.
fn record_change(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    conversation: ConversationId,
    detail: serde_json::Value,
) -> Result<()> {
    audit::append(
        c,
        ctx,
        principal.tenant,
        &principal.actor.reference(),
        AuditAction::ConversationChanged,
        &AuditSubject::new("conversation", conversation),
        &detail.to_string(),
    )?;
    append_outbox(
        c,
        ctx,
        &principal.tenant.to_string(),
        OutboxKind::ConversationChanged,
        None,
        Some(&conversation.to_string()),
    )?;
    Ok(())
}

/// The summary row of one of the tenant's conversations.
#[diesel::dsl::auto_type]
fn summary_row(tenant: TenantId, conversation: ConversationId) -> _ {
    let tenant: String = tenant.to_string();
    let conversation: String = conversation.to_string();
    conversations::table
        .filter(conversations::tenant_id.eq(tenant))
        .filter(conversations::id.eq(conversation))
}

/// `record_change` after an update of the summary row that changed `rows` rows: none
/// means the tenant has no such conversation.
fn record_update(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    conversation: ConversationId,
    rows: usize,
    detail: serde_json::Value,
) -> Result<()> {
    if rows == 0 {
        return Err(StoreError::not_found("conversation", conversation));
    }
    record_change(c, ctx, principal, conversation, detail)
}
