//! Read marks: who opened a conversation when, recorded with the read audit event.

use crate::audit;
use crate::models::ts;
use crate::schema::conversation_reads;
use crate::{Result, Store};
use diesel::prelude::*;
use loket_core::{Actor, AuditAction, AuditSubject, ConversationId, Principal};

impl Store {
    /// Records that a person opened a conversation: the read audit event and, for a
    /// user, the read mark — in one transaction.
    pub async fn record_conversation_view(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        detail: serde_json::Value,
    ) -> Result<()> {
        let p = principal.clone();
        self.write(move |c, ctx| {
            let tid = p.tenant.to_string();
            let cid = conversation.to_string();
            audit::append(
                c,
                ctx,
                p.tenant,
                &p.actor.reference(),
                AuditAction::ConversationViewed,
                &AuditSubject::new("conversation", conversation),
                &detail.to_string(),
            )?;
            if let Actor::User { id, .. } = &p.actor {
                let key = conversation_reads::table
                    .filter(conversation_reads::tenant_id.eq(&tid))
                    .filter(conversation_reads::user_id.eq(id))
                    .filter(conversation_reads::conversation_id.eq(&cid));
                diesel::delete(key).execute(c)?;
                diesel::insert_into(conversation_reads::table)
                    .values((
                        conversation_reads::tenant_id.eq(&tid),
                        conversation_reads::user_id.eq(id),
                        conversation_reads::conversation_id.eq(&cid),
                        conversation_reads::read_at.eq(ts(loket_core::now())),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
    }
}
