//! A conversation's triage state on its summary row: status and assignee.

use crate::inbox::{record_update, summary_row};
use crate::schema::{conversations, users};
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{ConversationId, ConversationStatus, Principal, TenantId};

impl Store {
    /// Moves a conversation to another status (an outbox event tells live views).
    pub async fn set_conversation_status(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        status: ConversationStatus,
    ) -> Result<()> {
        let p = principal.clone();
        self.write(move |c, ctx| {
            let rows = diesel::update(summary_row(p.tenant, conversation))
                .set(conversations::status.eq(status.as_str()))
                .execute(c)?;
            let change = serde_json::json!({"status": status.as_str()});
            record_update(c, ctx, &p, conversation, rows, change)
        })
        .await
    }

    /// Assigns a conversation to a user of the same tenant (or nobody).
    pub async fn assign_conversation(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        user_id: Option<String>,
    ) -> Result<()> {
        let p = principal.clone();
        self.write(move |c, ctx| {
            let tid = p.tenant.to_string();
            if let Some(u) = &user_id {
                let n: i64 = users::table
                    .filter(users::tenant_id.eq(&tid))
                    .filter(users::id.eq(u))
                    .filter(users::disabled_at.is_null())
                    .count()
                    .get_result(c)?;
                if n == 0 {
                    return Err(StoreError::Invalid(format!("no such user `{u}`")));
                }
            }
            let rows = diesel::update(summary_row(p.tenant, conversation))
                .set(conversations::assignee.eq(&user_id))
                .execute(c)?;
            let change = serde_json::json!({"assignee": user_id});
            record_update(c, ctx, &p, conversation, rows, change)
        })
        .await
    }

    /// The user a conversation is assigned to.
    pub async fn conversation_assignee(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> Result<Option<String>> {
        self.read(move |c| {
            let a: Option<Option<String>> = summary_row(tenant, conversation)
                .select(conversations::assignee)
                .first(c)
                .optional()?;
            Ok(a.flatten())
        })
        .await
    }
}
