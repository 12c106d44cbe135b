//! People with passwords: users with argon2id password hashes, database-backed
//! login sessions with a CSRF token, and lock-out after repeated failed logins. The
//! inbox's data about conversations (assignment, labels, read marks, the list) lives in
//! `inbox`.
//!
//! Lock-out is kept per (tenant, username) whether or not the user exists, and a login
//! for an unknown user verifies against a dummy hash, so neither the answer nor its
//! timing tells an attacker which usernames exist.

use crate::audit;
use crate::models::{parse, ts, utc};
use crate::schema::{login_failures, sessions, tenants, users};
use crate::{Result, Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;
use diesel::prelude::*;
use loket_core::{Actor, AuditAction, AuditSubject, Principal, Role, TenantId, Timestamp};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A person of one tenant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub tenant_id: TenantId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub disabled: bool,
}

impl User {
    /// The principal this user acts as.
    pub fn principal(&self) -> Principal {
        Principal {
            tenant: self.tenant_id,
            role: self.role,
            actor: Actor::User {
                id: self.id.clone(),
                name: self.display_name.clone(),
            },
        }
    }
}

/// Lock-out and session lifetime (every limit is configurable).
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Failed logins within `window` that lock the username.
    pub max_failures: i32,
    pub window: Duration,
    pub lockout: Duration,
    /// Absolute session lifetime.
    pub session_ttl: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
            session_ttl: Duration::hours(8),
        }
    }
}

/// A fresh session: `secret` goes into the cookie and is never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub session: Session,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// Why a login was refused — for the audit trail and tests only; the HTTP answer is the
/// same generic refusal for every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    BadCredentials,
    LockedOut,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn session_hash(secret: &str) -> String {
    loket_core::sha256_hex(secret.as_bytes())
}

/// Normalised username: trimmed, lower case.
pub fn normalize_username(u: &str) -> String {
    u.trim().to_lowercase()
}

/// Hashes a password with argon2id (m=19 MiB, t=2, p=1: the argon2 crate's default, the
/// OWASP minimum).
pub fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| StoreError::Invalid(format!("cannot encode salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash password: {e}")))
}

/// Checks a password against a PHC string; a malformed hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash verified against when the user does not exist, so that path costs the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_hex(16)).unwrap_or_default())
}

type UserTuple = (
    String,
    String,
    String,
    String,
    String,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
);

fn user_of(t: UserTuple) -> Result<User> {
    let (id, tenant, username, display_name, role, created, disabled) = t;
    Ok(User {
        id,
        tenant_id: parse("tenant id", &tenant)?,
        username,
        display_name,
        role: parse::<Role>("role", &role)?,
        created_at: utc(created),
        disabled: disabled.is_some(),
    })
}

macro_rules! user_columns {
    () => {
        (
            users::id,
            users::tenant_id,
            users::username,
            users::display_name,
            users::role,
            users::created_at,
            users::disabled_at,
        )
    };
}

impl Store {
    /// Adds a person to a tenant (`loket user add`).
    pub async fn create_user(
        &self,
        tenant: TenantId,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<User> {
        let username = normalize_username(username);
        if username.is_empty()
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(StoreError::Invalid(
                "a username is 1–64 characters of a-z, 0-9 and . _ - @".into(),
            ));
        }
        if password.chars().count() < 12 {
            return Err(StoreError::Invalid(
                "a password has at least 12 characters".into(),
            ));
        }
        let pw = password.to_owned();
        let phc = tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))??;
        let display_name = if display_name.trim().is_empty() {
            username.clone()
        } else {
            display_name.trim().to_owned()
        };
        self.write(move |c, ctx| {
            let tid = tenant.to_string();
            let taken: i64 = users::table
                .filter(users::tenant_id.eq(&tid))
                .filter(users::username.eq(&username))
                .count()
                .get_result(c)?;
            if taken > 0 {
                return Err(StoreError::Conflict(format!("user `{username}` exists")));
            }
            let user = User {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tenant,
                username: username.clone(),
                display_name: display_name.clone(),
                role,
                created_at: loket_core::now(),
                disabled: false,
            };
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(&user.id),
                    users::tenant_id.eq(&tid),
                    users::username.eq(&user.username),
                    users::display_name.eq(&user.display_name),
                    users::role.eq(role.as_str()),
                    users::password_hash.eq(&phc),
                    users::created_at.eq(ts(user.created_at)),
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
                AuditAction::UserCreated,
                &AuditSubject::new("user", &user.id),
                &serde_json::json!({"username": user.username, "role": role.as_str()}).to_string(),
            )?;
            Ok(user)
        })
        .await
    }

    /// The tenant's users, by username.
    pub async fn users(&self, tenant: TenantId) -> Result<Vec<User>> {
        self.read(move |c| {
            let rows: Vec<UserTuple> = users::table
                .filter(users::tenant_id.eq(tenant.to_string()))
                .order(users::username)
                .select(user_columns!())
                .load(c)?;
            rows.into_iter().map(user_of).collect()
        })
        .await
    }

    /// One user of the tenant.
    pub async fn user(&self, tenant: TenantId, id: &str) -> Result<Option<User>> {
        let id = id.to_owned();
        self.read(move |c| {
            let row: Option<UserTuple> = users::table
                .filter(users::tenant_id.eq(tenant.to_string()))
                .filter(users::id.eq(id))
                .select(user_columns!())
                .first(c)
                .optional()?;
            row.map(user_of).transpose()
        })
        .await
    }

    /// Checks a login. Every refusal looks the same to the caller; the reason is only
    /// for the audit trail. A locked username is refused even with the right password.
    pub async fn login(
        &self,
        tenant_slug: &str,
        username: &str,
        password: &str,
        policy: LoginPolicy,
    ) -> Result<std::result::Result<NewSession, LoginRefusal>> {
        let username = normalize_username(username);
        let slug = tenant_slug.trim().to_owned();
        let uname = username.clone();
        let now = loket_core::now();
        // (tenant, user with hash, locked?)
        let found = self
            .read(move |c| {
                let tenant: Option<String> = tenants::table
                    .filter(tenants::slug.eq(&slug))
                    .select(tenants::id)
                    .first(c)
                    .optional()?;
                let Some(tid) = tenant else {
                    return Ok(None);
                };
                let user: Option<(UserTuple, String)> = users::table
                    .filter(users::tenant_id.eq(&tid))
                    .filter(users::username.eq(&uname))
                    .select((user_columns!(), users::password_hash))
                    .first(c)
                    .optional()?;
                let locked: Option<Option<chrono::NaiveDateTime>> = login_failures::table
                    .filter(login_failures::tenant_id.eq(&tid))
                    .filter(login_failures::username.eq(&uname))
                    .select(login_failures::locked_until)
                    .first(c)
                    .optional()?;
                let locked = matches!(locked, Some(Some(until)) if utc(until) > now);
                let user = user.map(|(u, h)| user_of(u).map(|u| (u, h))).transpose()?;
                Ok(Some((parse::<TenantId>("tenant id", &tid)?, user, locked)))
            })
            .await?;
        // An unknown tenant slug gets no failure row and no audit event (there is no
        // chain to write to), but costs the same password verification.
        let tenant_known = found.is_some();
        let (tenant, user, locked) = match found {
            Some(f) => f,
            None => (TenantId::new(), None, false),
        };
        let phc = match &user {
            Some((u, h)) if !u.disabled => h.clone(),
            _ => dummy_hash().to_owned(),
        };
        let pw = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &phc))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let user = user.filter(|(u, _)| !u.disabled).map(|(u, _)| u);
        match (user, ok, locked) {
            (Some(user), true, false) => {
                let secret = random_hex(32);
                let csrf = random_hex(24);
                let h = session_hash(&secret);
                let session = Session {
                    principal: user.principal(),
                    user_id: user.id.clone(),
                    csrf_token: csrf.clone(),
                    expires_at: now + policy.session_ttl,
                };
                let s2 = session.clone();
                self.write(move |c, ctx| {
                    let tid = tenant.to_string();
                    diesel::delete(
                        login_failures::table
                            .filter(login_failures::tenant_id.eq(&tid))
                            .filter(login_failures::username.eq(&username)),
                    )
                    .execute(c)?;
                    diesel::delete(
                        sessions::table
                            .filter(sessions::user_id.eq(&user.id))
                            .filter(sessions::expires_at.le(ts(now))),
                    )
                    .execute(c)?;
                    diesel::insert_into(sessions::table)
                        .values((
                            sessions::id_sha256.eq(&h),
                            sessions::tenant_id.eq(&tid),
                            sessions::user_id.eq(&user.id),
                            sessions::csrf_token.eq(&s2.csrf_token),
                            sessions::created_at.eq(ts(now)),
                            sessions::expires_at.eq(ts(s2.expires_at)),
                        ))
                        .execute(c)?;
                    audit::append(
                        c,
                        ctx,
                        tenant,
                        &format!("user:{}", user.id),
                        AuditAction::LoginSucceeded,
                        &AuditSubject::new("user", &user.id),
                        "{}",
                    )?;
                    Ok(())
                })
                .await?;
                Ok(Ok(NewSession { secret, session }))
            }
            (_, _, locked) => {
                let reason = if locked {
                    LoginRefusal::LockedOut
                } else {
                    LoginRefusal::BadCredentials
                };
                if tenant_known {
                    self.record_login_failure(tenant, username, reason, policy)
                        .await?;
                }
                Ok(Err(reason))
            }
        }
    }

    async fn record_login_failure(
        &self,
        tenant: TenantId,
        username: String,
        reason: LoginRefusal,
        policy: LoginPolicy,
    ) -> Result<()> {
        self.write(move |c, ctx| {
            let tid = tenant.to_string();
            let now = loket_core::now();
            let row: Option<(i32, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> =
                login_failures::table
                    .filter(login_failures::tenant_id.eq(&tid))
                    .filter(login_failures::username.eq(&username))
                    .select((
                        login_failures::failures,
                        login_failures::first_failure_at,
                        login_failures::locked_until,
                    ))
                    .first(c)
                    .optional()?;
            let (failures, first, locked_until) = match row {
                Some((n, first, locked)) if utc(first) + policy.window > now => {
                    (n.saturating_add(1), utc(first), locked.map(utc))
                }
                Some((_, _, Some(locked))) if utc(locked) > now => (1, now, Some(utc(locked))),
                _ => (1, now, None),
            };
            let locked_until = if failures >= policy.max_failures {
                Some(locked_until.map_or(now + policy.lockout, |l| l.max(now + policy.lockout)))
            } else {
                locked_until
            };
            diesel::delete(
                login_failures::table
                    .filter(login_failures::tenant_id.eq(&tid))
                    .filter(login_failures::username.eq(&username)),
            )
            .execute(c)?;
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::tenant_id.eq(&tid),
                    login_failures::username.eq(&username),
                    login_failures::failures.eq(failures),
                    login_failures::first_failure_at.eq(ts(first)),
                    login_failures::locked_until.eq(locked_until.map(ts)),
                ))
                .execute(c)?;
            audit::append(
                c,
                ctx,
                tenant,
                "system:login",
                AuditAction::LoginFailed,
                &AuditSubject::new("login", &username),
                &serde_json::json!({
                    "reason": match reason {
                        LoginRefusal::BadCredentials => "bad_credentials",
                        LoginRefusal::LockedOut => "locked_out",
                    },
                    "failures": failures,
                    "locked": locked_until.is_some_and(|l| l > now),
                })
                .to_string(),
            )?;
            Ok(())
        })
        .await
    }

    /// The live session behind a cookie value (not expired, user not disabled).
    pub async fn session(&self, secret: &str) -> Result<Option<Session>> {
        let h = session_hash(secret);
        self.read(move |c| {
            let now = ts(loket_core::now());
            let row: Option<(String, chrono::NaiveDateTime, UserTuple)> = sessions::table
                .inner_join(users::table)
                .filter(sessions::id_sha256.eq(h))
                .filter(sessions::expires_at.gt(now))
                .filter(users::disabled_at.is_null())
                .select((sessions::csrf_token, sessions::expires_at, user_columns!()))
                .first(c)
                .optional()?;
            row.map(|(csrf, exp, u)| {
                let user = user_of(u)?;
                Ok(Session {
                    principal: user.principal(),
                    user_id: user.id,
                    csrf_token: csrf,
                    expires_at: utc(exp),
                })
            })
            .transpose()
        })
        .await
    }

    /// Ends a session (logout).
    pub async fn end_session(&self, secret: &str) -> Result<()> {
        let h = session_hash(secret);
        self.write(move |c, _| {
            diesel::delete(sessions::table.filter(sessions::id_sha256.eq(h))).execute(c)?;
            Ok(())
        })
        .await
    }

    /// Display names of the tenant's users and tokens by actor reference
    /// (`user:<id>` → name), for the auditor's view.
    pub async fn actor_names(&self, tenant: TenantId) -> Result<HashMap<String, String>> {
        self.read(move |c| {
            let tid = tenant.to_string();
            let mut out: HashMap<String, String> = users::table
                .filter(users::tenant_id.eq(&tid))
                .select((users::id, users::username, users::display_name))
                .load::<(String, String, String)>(c)?
                .into_iter()
                .map(|(id, u, d)| (format!("user:{id}"), format!("{d} ({u})")))
                .collect();
            let toks: Vec<(String, String)> = crate::schema::api_tokens::table
                .filter(crate::schema::api_tokens::tenant_id.eq(&tid))
                .select((
                    crate::schema::api_tokens::id,
                    crate::schema::api_tokens::name,
                ))
                .load(c)?;
            out.extend(toks.into_iter().map(|(id, n)| (format!("token:{id}"), n)));
            Ok(out)
        })
        .await
    }
}
