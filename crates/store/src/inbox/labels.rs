//! Labels on a conversation.

use crate::inbox::{record_change, summary_row};
use crate::models::ts;
use crate::schema::conversation_labels;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{ConversationId, Principal, TenantId};

/// Checks a label: 1–40 characters, no control characters.
pub fn valid_label(label: &str) -> Option<String> {
    let l = label.trim();
    if l.is_empty() || l.chars().count() > 40 || l.chars().any(char::is_control) {
        None
    } else {
        Some(l.to_owned())
    }
}

impl Store {
    /// Adds (`add = true`) or removes a label. Returns false when nothing changed.
    pub async fn set_label(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        label: &str,
        add: bool,
    ) -> Result<bool> {
        let label = valid_label(label)
            .ok_or_else(|| StoreError::Invalid("a label has 1–40 characters".into()))?;
        let p = principal.clone();
        self.write(move |c, ctx| {
            let tid = p.tenant.to_string();
            let cid = conversation.to_string();
            let exists: i64 = summary_row(p.tenant, conversation).count().get_result(c)?;
            if exists == 0 {
                return Err(StoreError::not_found("conversation", conversation));
            }
            let key = conversation_labels::table
                .filter(conversation_labels::tenant_id.eq(&tid))
                .filter(conversation_labels::conversation_id.eq(&cid))
                .filter(conversation_labels::label.eq(&label));
            let has: i64 = key.count().get_result(c)?;
            let changed = if add && has == 0 {
                diesel::insert_into(conversation_labels::table)
                    .values((
                        conversation_labels::tenant_id.eq(&tid),
                        conversation_labels::conversation_id.eq(&cid),
                        conversation_labels::label.eq(&label),
                        conversation_labels::added_by.eq(p.actor.reference()),
                        conversation_labels::added_at.eq(ts(loket_core::now())),
                    ))
                    .execute(c)?;
                true
            } else if !add && has > 0 {
                diesel::delete(key).execute(c)?;
                true
            } else {
                false
            };
            if changed {
                let change = if add { "label_added" } else { "label_removed" };
                record_change(
                    c,
                    ctx,
                    &p,
                    conversation,
                    serde_json::json!({ change: label }),
                )?;
            }
            Ok(changed)
        })
        .await
    }

    /// The labels of a conversation, sorted.
    pub async fn conversation_labels(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> Result<Vec<String>> {
        self.read(move |c| {
            Ok(conversation_labels::table
                .filter(conversation_labels::tenant_id.eq(tenant.to_string()))
                .filter(conversation_labels::conversation_id.eq(conversation.to_string()))
                .order(conversation_labels::label)
                .select(conversation_labels::label)
                .load(c)?)
        })
        .await
    }
}
