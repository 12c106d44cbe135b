//! What the inbox shows of a contact: its per-tenant number (given by a database trigger
//! at insert, so every ingest path numbers its contacts), the name the channel supplied
//! and the name a clerk gave it; and the tenant's time zone for the inbox's times.

use crate::audit;
use crate::inbox::record_change;
use crate::schema::{contacts, conversations, tenants};
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{AuditAction, AuditSubject, ConversationId, Principal, TenantId};

/// A contact as the inbox names it. The address may be a hash (a chat session): the
/// inbox shows it only in a details panel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Queryable, Selectable)]
#[diesel(table_name = contacts)]
pub struct ContactCard {
    pub id: String,
    pub channel: String,
    pub address: String,
    /// The name the channel supplied (the name given in the chat, the email display name).
    pub name: Option<String>,
    /// The name a clerk set; it goes before the channel's name.
    pub clerk_name: Option<String>,
    /// Short and stable within the tenant, counting from 1.
    pub number: Option<i64>,
}

/// The longest contact name a clerk may set, in characters.
pub const MAX_CONTACT_NAME: usize = 120;

impl Store {
    /// The contacts with these ids, of this tenant only.
    pub async fn contact_cards(
        &self,
        tenant: TenantId,
        ids: Vec<String>,
    ) -> Result<Vec<ContactCard>> {
        self.read(move |c| {
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(500) {
                out.extend(
                    contacts::table
                        .filter(contacts::tenant_id.eq(tenant.to_string()))
                        .filter(contacts::id.eq_any(chunk))
                        .select(ContactCard::as_select())
                        .load::<ContactCard>(c)?,
                );
            }
            Ok(out)
        })
        .await
    }

    /// The contact a conversation is with.
    pub async fn conversation_contact(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> Result<Option<ContactCard>> {
        self.read(move |c| {
            Ok(conversations::table
                .inner_join(contacts::table.on(contacts::id.eq(conversations::contact_id)))
                .filter(conversations::tenant_id.eq(tenant.to_string()))
                .filter(conversations::id.eq(conversation.to_string()))
                .select(ContactCard::as_select())
                .first::<ContactCard>(c)
                .optional()?)
        })
        .await
    }

    /// Sets (or, with `None` or blank, clears) the name clerks know the contact of a
    /// conversation by. An audit event `contact_changed` and an outbox row for the
    /// conversation, so open lists show the new name.
    pub async fn set_contact_name(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        name: Option<String>,
    ) -> Result<()> {
        let name = name
            .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|n| !n.is_empty());
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_CONTACT_NAME)
        {
            return Err(StoreError::Invalid(format!(
                "a contact name has at most {MAX_CONTACT_NAME} characters"
            )));
        }
        let p = principal.clone();
        self.write(move |c, ctx| {
            let tid = p.tenant.to_string();
            let contact: Option<String> = conversations::table
                .filter(conversations::tenant_id.eq(&tid))
                .filter(conversations::id.eq(conversation.to_string()))
                .select(conversations::contact_id)
                .first(c)
                .optional()?;
            let Some(contact) = contact else {
                return Err(StoreError::not_found("conversation", conversation));
            };
            diesel::update(
                contacts::table
                    .filter(contacts::tenant_id.eq(&tid))
                    .filter(contacts::id.eq(&contact)),
            )
            .set(contacts::clerk_name.eq(&name))
            .execute(c)?;
            let detail = serde_json::json!({"clerk_name": name, "conversation": conversation});
            audit::append(
                c,
                ctx,
                p.tenant,
                &p.actor.reference(),
                AuditAction::ContactChanged,
                &AuditSubject::new("contact", &contact),
                &detail.to_string(),
            )?;
            record_change(
                c,
                ctx,
                &p,
                conversation,
                serde_json::json!({"contact": contact}),
            )
        })
        .await
    }

    /// The tenant's time zone (an IANA name such as `Europe/Amsterdam`).
    pub async fn tenant_time_zone(&self, tenant: TenantId) -> Result<Option<String>> {
        self.read(move |c| {
            Ok(tenants::table
                .filter(tenants::id.eq(tenant.to_string()))
                .select(tenants::time_zone)
                .first::<String>(c)
                .optional()?)
        })
        .await
    }

    /// Sets the tenant's time zone. The caller checks that it is a known IANA name (the
    /// store keeps no time-zone database).
    pub async fn set_tenant_time_zone(&self, tenant: TenantId, zone: &str) -> Result<()> {
        let zone = zone.to_owned();
        self.write(move |c, _| {
            let n = diesel::update(tenants::table.filter(tenants::id.eq(tenant.to_string())))
                .set(tenants::time_zone.eq(&zone))
                .execute(c)?;
            if n == 0 {
                return Err(StoreError::not_found("tenant", tenant));
            }
            Ok(())
        })
        .await
    }
}
