//! API tokens: each carries a tenant and a role (DESIGN §4.1 principals). Only the
//! SHA-256 of a token is stored; the token itself is shown once, at creation.

use crate::audit;
use crate::models::{parse, ts, utc};
use crate::schema::api_tokens;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{Actor, AuditAction, AuditSubject, Principal, Role, TenantId, Timestamp};
use rand::RngCore;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ApiToken {
    pub id: String,
    pub tenant_id: TenantId,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A freshly created token: `secret` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

fn hash(secret: &str) -> String {
    loket_core::sha256_hex(secret.as_bytes())
}

impl Store {
    pub async fn create_token(&self, tenant: TenantId, name: &str, role: Role) -> Result<NewToken> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("lkt_{}", hex::encode(bytes));
        let name = name.to_owned();
        let token_hash = hash(&secret);
        let token = self
            .write(move |c, ctx| {
                let token = ApiToken {
                    id: uuid::Uuid::now_v7().to_string(),
                    tenant_id: tenant,
                    name: name.clone(),
                    role,
                    created_at: loket_core::now(),
                    revoked_at: None,
                };
                diesel::insert_into(api_tokens::table)
                    .values((
                        api_tokens::id.eq(&token.id),
                        api_tokens::tenant_id.eq(tenant.to_string()),
                        api_tokens::name.eq(&token.name),
                        api_tokens::role.eq(role.as_str()),
                        api_tokens::token_sha256.eq(&token_hash),
                        api_tokens::created_at.eq(ts(token.created_at)),
                    ))
                    .execute(c)
                    .map_err(|e| match e {
                        diesel::result::Error::DatabaseError(
                            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                            _,
                        ) => StoreError::not_found("tenant", tenant),
                        e => e.into(),
                    })?;
                audit::append(
                    c,
                    ctx,
                    tenant,
                    "system:cli",
                    AuditAction::TokenCreated,
                    &AuditSubject::new("token", &token.id),
                    &serde_json::json!({"name": token.name, "role": role.as_str()}).to_string(),
                )?;
                Ok(token)
            })
            .await?;
        Ok(NewToken { token, secret })
    }

    /// The principal behind a bearer token, if the token exists and is not revoked.
    pub async fn principal_for_token(&self, secret: &str) -> Result<Option<Principal>> {
        let h = hash(secret);
        self.read(move |c| {
            let row: Option<(String, String, String, String)> = api_tokens::table
                .filter(api_tokens::token_sha256.eq(h))
                .filter(api_tokens::revoked_at.is_null())
                .select((
                    api_tokens::id,
                    api_tokens::tenant_id,
                    api_tokens::name,
                    api_tokens::role,
                ))
                .first(c)
                .optional()?;
            row.map(|(id, tenant, name, role)| {
                Ok(Principal {
                    tenant: parse("tenant id", &tenant)?,
                    role: parse::<Role>("role", &role)?,
                    actor: Actor::Token { id, name },
                })
            })
            .transpose()
        })
        .await
    }

    pub async fn tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>> {
        self.read(move |c| {
            let rows: Vec<(
                String,
                String,
                String,
                chrono::NaiveDateTime,
                Option<chrono::NaiveDateTime>,
            )> = api_tokens::table
                .filter(api_tokens::tenant_id.eq(tenant.to_string()))
                .order(api_tokens::created_at)
                .select((
                    api_tokens::id,
                    api_tokens::name,
                    api_tokens::role,
                    api_tokens::created_at,
                    api_tokens::revoked_at,
                ))
                .load(c)?;
            rows.into_iter()
                .map(|(id, name, role, created, revoked)| {
                    Ok(ApiToken {
                        id,
                        tenant_id: tenant,
                        name,
                        role: parse::<Role>("role", &role)?,
                        created_at: utc(created),
                        revoked_at: revoked.map(utc),
                    })
                })
                .collect()
        })
        .await
    }
}
