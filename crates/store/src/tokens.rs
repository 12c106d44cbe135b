//! API tokens: each carries a tenant and a role. Only the
//! SHA-256 of a token is stored; the token itself is shown once, at creation.

use crate::audit;
use crate::models::{parse, ts, utc};
use crate::schema::api_tokens;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{Actor, AuditAction, AuditSubject, Principal, Role, TenantId, Timestamp};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a token found in the database is trusted without asking again. Every API call
/// carries its token, and the lookup (a pooled read on the blocking pool) was about 15 %
/// of the CPU of single-message HTTP ingest. The price: a token revoked directly in the
/// database (or by another process) keeps working for at most this long.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(10);

/// Most cached tokens; when full, the cache starts over (tokens are few in practice).
const TOKEN_CACHE_MAX: usize = 4096;

/// Known, unrevoked tokens by their SHA-256, with the time they were looked up. Unknown
/// tokens are never cached, so guessing cannot fill it.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl TokenCache {
    fn get(&self, token_hash: &str) -> Option<Principal> {
        // A poisoned lock means a panic mid-insert elsewhere; the map itself is intact.
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(token_hash)
            .filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, token_hash: String, principal: Principal) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= TOKEN_CACHE_MAX {
            entries.clear();
        }
        entries.insert(token_hash, (principal, Instant::now()));
    }
}

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

    /// The principal behind a bearer token, if the token exists and is not revoked
    /// (as of at most [`TOKEN_CACHE_TTL`] ago).
    pub async fn principal_for_token(&self, secret: &str) -> Result<Option<Principal>> {
        let h = hash(secret);
        if let Some(p) = self.inner.tokens.get(&h) {
            return Ok(Some(p));
        }
        let key = h.clone();
        let found = self
            .read(move |c| {
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
            .await?;
        if let Some(p) = &found {
            self.inner.tokens.put(key, p.clone());
        }
        Ok(found)
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
