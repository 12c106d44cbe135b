//! Legal holds. A case holds every conversation in it while it is open; an admin holds
//! a conversation, a contact or a saved query by hand. Holds are rows (who, why, when),
//! released rather than deleted. Nothing held may be destroyed: every destroy path asks
//! [`Store::is_held`] (inside its transaction, `is_held_in`), and the database refuses a
//! DELETE of a held conversation or message by trigger as well (migration `…000004`).

use super::invalid;
use crate::audit;
use crate::batch::BatchCtx;
use crate::conn::AnyConnection;
use crate::models::{parse, ts, utc};
use crate::schema::{conversations, legal_holds, messages};
use crate::{Result, Store, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use loket_core::{
    AuditAction, AuditSubject, ConversationId, LegalHoldId, Principal, Role, TenantId, Timestamp,
    WooCaseId,
};
use serde::Serialize;

/// What a hold protects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum HoldSubject {
    Conversation(ConversationId),
    Contact(loket_core::ContactId),
    /// A saved search, by its name.
    SavedQuery(String),
}

impl HoldSubject {
    fn kind(&self) -> &'static str {
        match self {
            HoldSubject::Conversation(_) => "conversation",
            HoldSubject::Contact(_) => "contact",
            HoldSubject::SavedQuery(_) => "saved_query",
        }
    }

    fn id(&self) -> String {
        match self {
            HoldSubject::Conversation(c) => c.to_string(),
            HoldSubject::Contact(c) => c.to_string(),
            HoldSubject::SavedQuery(q) => q.clone(),
        }
    }

    fn from_row(kind: &str, id: &str) -> Result<Self> {
        Ok(match kind {
            "conversation" => HoldSubject::Conversation(parse("conversation id", id)?),
            "contact" => HoldSubject::Contact(parse("contact id", id)?),
            "saved_query" => HoldSubject::SavedQuery(id.to_owned()),
            other => return Err(StoreError::Corrupt(format!("bad hold kind `{other}`"))),
        })
    }
}

/// One hold, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct LegalHold {
    pub id: LegalHoldId,
    pub subject: HoldSubject,
    pub case: Option<WooCaseId>,
    pub reason: String,
    pub held_by: String,
    pub held_at: Timestamp,
    pub released_by: Option<String>,
    pub released_at: Option<Timestamp>,
}

type HoldRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
);

fn hold_of(row: HoldRow) -> Result<LegalHold> {
    let (id, kind, subject, case, reason, held_by, held_at, released_by, released_at) = row;
    Ok(LegalHold {
        id: parse("hold id", &id)?,
        subject: HoldSubject::from_row(&kind, &subject)?,
        case: case.as_deref().map(|c| parse("case id", c)).transpose()?,
        reason,
        held_by,
        held_at: utc(held_at),
        released_by,
        released_at: released_at.map(utc),
    })
}

#[allow(clippy::too_many_arguments)]
fn insert_hold(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    kind: &str,
    subject: &str,
    case: Option<WooCaseId>,
    reason: &str,
) -> Result<LegalHoldId> {
    let id = LegalHoldId::new();
    diesel::insert_into(legal_holds::table)
        .values((
            legal_holds::id.eq(id.to_string()),
            legal_holds::tenant_id.eq(principal.tenant.to_string()),
            legal_holds::subject_kind.eq(kind),
            legal_holds::subject_id.eq(subject),
            legal_holds::case_id.eq(case.map(|c| c.to_string())),
            legal_holds::reason.eq(reason),
            legal_holds::held_by.eq(principal.actor.reference()),
            legal_holds::held_at.eq(ts(loket_core::now())),
            legal_holds::released_by.eq(None::<String>),
            legal_holds::released_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)?;
    audit::append(
        c,
        ctx,
        principal.tenant,
        &principal.actor.reference(),
        AuditAction::LegalHoldChanged,
        &AuditSubject::new(kind, subject),
        &serde_json::json!({"held": id.to_string(), "reason": reason}).to_string(),
    )?;
    Ok(id)
}

/// Holds a conversation for a case (once per case and conversation).
pub(crate) fn hold_for_case(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    case: WooCaseId,
    number: &str,
    conversation: &str,
) -> Result<()> {
    let held: i64 = legal_holds::table
        .filter(legal_holds::tenant_id.eq(principal.tenant.to_string()))
        .filter(legal_holds::case_id.eq(case.to_string()))
        .filter(legal_holds::subject_kind.eq("conversation"))
        .filter(legal_holds::subject_id.eq(conversation))
        .filter(legal_holds::released_at.is_null())
        .count()
        .get_result(c)?;
    if held == 0 {
        insert_hold(
            c,
            ctx,
            principal,
            "conversation",
            conversation,
            Some(case),
            &format!("Woo-verzoek {number}"),
        )?;
    }
    Ok(())
}

/// Holds many conversations for a case in one go (bulk document adds): one multi-row
/// insert and one audit event for the lot.
pub(crate) fn hold_many_for_case(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    case: WooCaseId,
    number: &str,
    conversations: &[String],
) -> Result<()> {
    if conversations.is_empty() {
        return Ok(());
    }
    let tid = principal.tenant.to_string();
    let cid = case.to_string();
    let actor = principal.actor.reference();
    let reason = format!("Woo-verzoek {number}");
    let now = ts(loket_core::now());
    let rows: Vec<_> = conversations
        .iter()
        .map(|conv| {
            (
                legal_holds::id.eq(LegalHoldId::new().to_string()),
                legal_holds::tenant_id.eq(tid.clone()),
                legal_holds::subject_kind.eq("conversation"),
                legal_holds::subject_id.eq(conv.clone()),
                legal_holds::case_id.eq(Some(cid.clone())),
                legal_holds::reason.eq(reason.clone()),
                legal_holds::held_by.eq(actor.clone()),
                legal_holds::held_at.eq(now),
            )
        })
        .collect();
    // Ten columns a row: stay far below either backend's bind-parameter limit.
    for chunk in rows.chunks(3_000) {
        match c {
            AnyConnection::Sqlite(s) => {
                for row in chunk {
                    diesel::insert_into(legal_holds::table)
                        .values(row.clone())
                        .execute(s)?;
                }
            }
            AnyConnection::Postgresql(pg) => {
                diesel::insert_into(legal_holds::table)
                    .values(chunk.to_vec())
                    .execute(pg)?;
            }
        }
    }
    audit::append(
        c,
        ctx,
        principal.tenant,
        &actor,
        AuditAction::LegalHoldChanged,
        &AuditSubject::new("woo_case", case),
        &serde_json::json!({"held_conversations": conversations.len(), "reason": reason})
            .to_string(),
    )?;
    Ok(())
}

/// Releases every hold a case placed (when it is closed).
pub(crate) fn release_case_holds(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    principal: &Principal,
    case: WooCaseId,
) -> Result<()> {
    let n = diesel::update(
        legal_holds::table
            .filter(legal_holds::tenant_id.eq(principal.tenant.to_string()))
            .filter(legal_holds::case_id.eq(case.to_string()))
            .filter(legal_holds::released_at.is_null()),
    )
    .set((
        legal_holds::released_by.eq(Some(principal.actor.reference())),
        legal_holds::released_at.eq(Some(ts(loket_core::now()))),
    ))
    .execute(c)?;
    audit::append(
        c,
        ctx,
        principal.tenant,
        &principal.actor.reference(),
        AuditAction::LegalHoldChanged,
        &AuditSubject::new("woo_case", case),
        &serde_json::json!({"released_holds": n}).to_string(),
    )?;
    Ok(())
}

/// Whether a conversation is held, directly or through its contact — the question every
/// destroy path asks inside its own transaction.
pub(crate) fn is_held_in(
    c: &mut AnyConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<bool> {
    let tid = tenant.to_string();
    let cid = conversation.to_string();
    let contact: Option<String> = conversations::table
        .filter(conversations::tenant_id.eq(&tid))
        .filter(conversations::id.eq(&cid))
        .select(conversations::contact_id)
        .first(c)
        .optional()?;
    let contact = contact.unwrap_or_default();
    let n: i64 = legal_holds::table
        .filter(legal_holds::tenant_id.eq(&tid))
        .filter(legal_holds::released_at.is_null())
        .filter(
            (legal_holds::subject_kind
                .eq("conversation")
                .and(legal_holds::subject_id.eq(&cid)))
            .or(legal_holds::subject_kind
                .eq("contact")
                .and(legal_holds::subject_id.eq(&contact))),
        )
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

impl Store {
    /// Whether anything may still destroy this conversation: false while a hold on it or
    /// its contact is in force.
    pub async fn is_held(&self, tenant: TenantId, conversation: ConversationId) -> Result<bool> {
        self.read(move |c| is_held_in(c, tenant, conversation))
            .await
    }

    /// An admin's hold on a conversation, a contact or a saved query, with the reason.
    pub async fn place_hold(
        &self,
        principal: &Principal,
        subject: HoldSubject,
        reason: &str,
    ) -> Result<LegalHold> {
        if principal.role != Role::Admin {
            return Err(StoreError::Invalid(
                "only an admin places a hold by hand".into(),
            ));
        }
        let reason = reason.trim().to_owned();
        if reason.is_empty() {
            return Err(invalid("reason", "a hold needs a reason"));
        }
        let p = principal.clone();
        self.write(move |c, ctx| {
            let tid = p.tenant.to_string();
            let exists: i64 = match &subject {
                HoldSubject::Conversation(id) => conversations::table
                    .filter(conversations::tenant_id.eq(&tid))
                    .filter(conversations::id.eq(id.to_string()))
                    .count()
                    .get_result(c)?,
                HoldSubject::Contact(id) => crate::schema::contacts::table
                    .filter(crate::schema::contacts::tenant_id.eq(&tid))
                    .filter(crate::schema::contacts::id.eq(id.to_string()))
                    .count()
                    .get_result(c)?,
                HoldSubject::SavedQuery(name) => i64::from(!name.trim().is_empty()),
            };
            if exists == 0 {
                return Err(invalid("subject", "nothing of this tenant to hold"));
            }
            let id = insert_hold(c, ctx, &p, subject.kind(), &subject.id(), None, &reason)?;
            let row: HoldRow = legal_holds::table
                .filter(legal_holds::id.eq(id.to_string()))
                .select(hold_columns())
                .first(c)?;
            hold_of(row)
        })
        .await
    }

    /// Releases a hold placed by hand (a case's holds end with the case).
    pub async fn release_hold(&self, principal: &Principal, hold: LegalHoldId) -> Result<()> {
        if principal.role != Role::Admin {
            return Err(StoreError::Invalid("only an admin releases a hold".into()));
        }
        let p = principal.clone();
        self.write(move |c, ctx| {
            let n = diesel::update(
                legal_holds::table
                    .filter(legal_holds::tenant_id.eq(p.tenant.to_string()))
                    .filter(legal_holds::id.eq(hold.to_string()))
                    .filter(legal_holds::case_id.is_null())
                    .filter(legal_holds::released_at.is_null()),
            )
            .set((
                legal_holds::released_by.eq(Some(p.actor.reference())),
                legal_holds::released_at.eq(Some(ts(loket_core::now()))),
            ))
            .execute(c)?;
            if n == 0 {
                return Err(StoreError::not_found("hold in force placed by hand", hold));
            }
            audit::append(
                c,
                ctx,
                p.tenant,
                &p.actor.reference(),
                AuditAction::LegalHoldChanged,
                &AuditSubject::new("legal_hold", hold),
                &serde_json::json!({"released": hold.to_string()}).to_string(),
            )?;
            Ok(())
        })
        .await
    }

    /// The tenant's holds, in force first, newest first (`in_force_only` leaves out
    /// released ones).
    pub async fn legal_holds(
        &self,
        tenant: TenantId,
        in_force_only: bool,
    ) -> Result<Vec<LegalHold>> {
        self.read(move |c| {
            let mut q = legal_holds::table
                .filter(legal_holds::tenant_id.eq(tenant.to_string()))
                .into_boxed();
            if in_force_only {
                q = q.filter(legal_holds::released_at.is_null());
            }
            let rows: Vec<HoldRow> = q
                .order(legal_holds::held_at.desc())
                .select(hold_columns())
                .limit(10_000)
                .load(c)?;
            let mut holds = rows.into_iter().map(hold_of).collect::<Result<Vec<_>>>()?;
            holds.sort_by_key(|h| h.released_at.is_some());
            Ok(holds)
        })
        .await
    }

    /// Destroys a conversation with its messages — the path retention will use. Refused
    /// while the conversation is held.
    pub async fn destroy_conversation(
        &self,
        principal: &Principal,
        conversation: ConversationId,
    ) -> Result<()> {
        if principal.role != Role::Admin {
            return Err(StoreError::Invalid(
                "only an admin destroys a conversation".into(),
            ));
        }
        let p = principal.clone();
        self.write(move |c, ctx| {
            if is_held_in(c, p.tenant, conversation)? {
                return Err(StoreError::Held(format!("conversation {conversation}")));
            }
            let tid = p.tenant.to_string();
            let cid = conversation.to_string();
            let n: i64 = conversations::table
                .filter(conversations::tenant_id.eq(&tid))
                .filter(conversations::id.eq(&cid))
                .count()
                .get_result(c)?;
            if n == 0 {
                return Err(StoreError::not_found("conversation", conversation));
            }
            let ids: Vec<String> = messages::table
                .filter(messages::tenant_id.eq(&tid))
                .filter(messages::conversation_id.eq(&cid))
                .select(messages::id)
                .load(c)?;
            use crate::schema::{attachments, message_events};
            diesel::delete(attachments::table.filter(attachments::message_id.eq_any(&ids)))
                .execute(c)?;
            diesel::delete(message_events::table.filter(message_events::message_id.eq_any(&ids)))
                .execute(c)?;
            diesel::delete(messages::table.filter(messages::conversation_id.eq(&cid)))
                .execute(c)?;
            diesel::delete(
                crate::schema::conversation_labels::table
                    .filter(crate::schema::conversation_labels::conversation_id.eq(&cid)),
            )
            .execute(c)?;
            diesel::delete(
                crate::schema::conversation_reads::table
                    .filter(crate::schema::conversation_reads::conversation_id.eq(&cid)),
            )
            .execute(c)?;
            diesel::delete(conversations::table.filter(conversations::id.eq(&cid))).execute(c)?;
            audit::append(
                c,
                ctx,
                p.tenant,
                &p.actor.reference(),
                AuditAction::ConversationChanged,
                &AuditSubject::new("conversation", conversation),
                &serde_json::json!({"destroyed": ids.len()}).to_string(),
            )?;
            Ok(())
        })
        .await
    }
}

#[allow(clippy::type_complexity)]
fn hold_columns() -> (
    legal_holds::id,
    legal_holds::subject_kind,
    legal_holds::subject_id,
    legal_holds::case_id,
    legal_holds::reason,
    legal_holds::held_by,
    legal_holds::held_at,
    legal_holds::released_by,
    legal_holds::released_at,
) {
    (
        legal_holds::id,
        legal_holds::subject_kind,
        legal_holds::subject_id,
        legal_holds::case_id,
        legal_holds::reason,
        legal_holds::held_by,
        legal_holds::held_at,
        legal_holds::released_by,
        legal_holds::released_at,
    )
}
