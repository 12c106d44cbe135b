//! People with passwords: users with argon2id password hashes, database-backed
//! login sessions with a CSRF token, lock-out after repeated failed logins, and the
//! inbox's own data: assignment, labels, read marks and the filtered conversation list.
//!
//! Lock-out is kept per (tenant, username) whether or not the user exists, and a login
//! for an unknown user verifies against a dummy hash, so neither the answer nor its
//! timing tells an attacker which usernames exist.

use crate::audit;
use crate::ingest::append_outbox;
use crate::models::{ConversationRow, parse, ts, utc};
use crate::queries::OutboxKind;
use crate::schema::{contacts, conversations, tenants};
use crate::{Result, Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;
use diesel::prelude::*;
use loket_core::{
    Actor, AuditAction, AuditSubject, Channel, Conversation, ConversationId, ConversationStatus,
    Direction, Principal, Role, TenantId, Timestamp,
};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::OnceLock;

diesel::table! {
    users (id) {
        id -> Text,
        tenant_id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id_sha256) {
        id_sha256 -> Text,
        tenant_id -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (tenant_id, username) {
        tenant_id -> Text,
        username -> Text,
        failures -> Integer,
        first_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversation_labels (tenant_id, conversation_id, label) {
        tenant_id -> Text,
        conversation_id -> Text,
        label -> Text,
        added_by -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    conversation_reads (tenant_id, user_id, conversation_id) {
        tenant_id -> Text,
        user_id -> Text,
        conversation_id -> Text,
        read_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, sessions);
diesel::allow_tables_to_appear_in_same_query!(conversation_labels, conversations);
diesel::allow_tables_to_appear_in_same_query!(conversation_labels, contacts);

diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower_n(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

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

/// Which conversations the inbox list shows.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    pub status: Option<ConversationStatus>,
    pub channel: Option<Channel>,
    pub assignee: AssigneeFilter,
    pub label: Option<String>,
    /// Substring of the contact's address or name, or the subject (a search: the caller
    /// audits it).
    pub text: Option<String>,
    pub oldest_first: bool,
    /// Keyset cursor: the (last_message_at, id) of the last row of the previous page.
    pub after: Option<(Timestamp, ConversationId)>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    User(String),
}

/// One row of the inbox list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InboxItem {
    pub conversation: Conversation,
    pub contact_address: String,
    pub contact_name: Option<String>,
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    pub labels: Vec<String>,
    /// The newest message's text (internal notes included: colleagues see them).
    pub last_text: Option<String>,
    pub last_direction: Option<Direction>,
    /// Activity since the user last opened it (always false for tokens).
    pub unread: bool,
}

/// Checks a label: 1–40 characters, no control characters.
pub fn valid_label(label: &str) -> Option<String> {
    let l = label.trim();
    if l.is_empty() || l.chars().count() > 40 || l.chars().any(char::is_control) {
        None
    } else {
        Some(l.to_owned())
    }
}

#[derive(diesel::QueryableByName)]
struct NewestMessage {
    #[diesel(sql_type = diesel::sql_types::Text)]
    conversation_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    body_text: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    direction: String,
}

/// The newest message (text, direction) of each conversation of a list page, in one
/// round trip (a window function; both SQLite ≥ 3.25 and PostgreSQL have it).
fn newest_messages(
    c: &mut crate::conn::AnyConnection,
    tenant: &str,
    ids: &[String],
) -> Result<HashMap<String, (String, String)>> {
    use crate::conn::AnyConnection;
    use diesel::sql_types::Text;
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pg = matches!(c, AnyConnection::Postgresql(_));
    let ph = |i: usize| if pg { format!("${i}") } else { "?".to_owned() };
    let list: Vec<String> = (0..ids.len()).map(|i| ph(i + 2)).collect();
    let sql = format!(
        "SELECT conversation_id, body_text, direction FROM (SELECT conversation_id, body_text, \
         direction, ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY received_at DESC, \
         id DESC) AS rn FROM messages WHERE tenant_id = {} AND conversation_id IN ({})) t \
         WHERE rn = 1",
        ph(1),
        list.join(",")
    );
    let rows: Vec<NewestMessage> = match c {
        AnyConnection::Sqlite(c) => {
            let mut q = diesel::sql_query(sql)
                .into_boxed::<diesel::sqlite::Sqlite>()
                .bind::<Text, _>(tenant.to_owned());
            for id in ids {
                q = q.bind::<Text, _>(id.clone());
            }
            q.load(c)?
        }
        AnyConnection::Postgresql(c) => {
            let mut q = diesel::sql_query(sql)
                .into_boxed::<diesel::pg::Pg>()
                .bind::<Text, _>(tenant.to_owned());
            for id in ids {
                q = q.bind::<Text, _>(id.clone());
            }
            q.load(c)?
        }
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.conversation_id, (r.body_text, r.direction)))
        .collect())
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
            let cid = conversation.to_string();
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
            let n = diesel::update(
                conversations::table
                    .filter(conversations::tenant_id.eq(&tid))
                    .filter(conversations::id.eq(&cid)),
            )
            .set(conversations::assignee.eq(&user_id))
            .execute(c)?;
            if n == 0 {
                return Err(StoreError::not_found("conversation", conversation));
            }
            audit::append(
                c,
                ctx,
                p.tenant,
                &p.actor.reference(),
                AuditAction::ConversationChanged,
                &AuditSubject::new("conversation", conversation),
                &serde_json::json!({"assignee": user_id}).to_string(),
            )?;
            append_outbox(
                c,
                ctx,
                &tid,
                OutboxKind::ConversationChanged,
                None,
                Some(&cid),
            )?;
            Ok(())
        })
        .await
    }

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
            let exists: i64 = conversations::table
                .filter(conversations::tenant_id.eq(&tid))
                .filter(conversations::id.eq(&cid))
                .count()
                .get_result(c)?;
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
                audit::append(
                    c,
                    ctx,
                    p.tenant,
                    &p.actor.reference(),
                    AuditAction::ConversationChanged,
                    &AuditSubject::new("conversation", conversation),
                    &serde_json::json!({ if add { "label_added" } else { "label_removed" }: label })
                        .to_string(),
                )?;
                append_outbox(
                    c,
                    ctx,
                    &tid,
                    OutboxKind::ConversationChanged,
                    None,
                    Some(&cid),
                )?;
            }
            Ok(changed)
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
            let a: Option<Option<String>> = conversations::table
                .filter(conversations::tenant_id.eq(tenant.to_string()))
                .filter(conversations::id.eq(conversation.to_string()))
                .select(conversations::assignee)
                .first(c)
                .optional()?;
            Ok(a.flatten())
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

    /// The inbox list: filtered, sorted by last activity, keyset paged. `viewer` (a
    /// user id) decides the unread marks.
    pub async fn inbox_list(
        &self,
        tenant: TenantId,
        viewer: Option<String>,
        q: InboxQuery,
    ) -> Result<Vec<InboxItem>> {
        self.read(move |c| {
            let tid = tenant.to_string();
            let mut query = conversations::table
                .inner_join(contacts::table.on(contacts::id.eq(conversations::contact_id)))
                .filter(conversations::tenant_id.eq(&tid))
                .into_boxed();
            if let Some(s) = q.status {
                query = query.filter(conversations::status.eq(s.as_str()));
            }
            if let Some(ch) = q.channel {
                query = query.filter(conversations::channel.eq(ch.as_str()));
            }
            match &q.assignee {
                AssigneeFilter::Any => {}
                AssigneeFilter::Unassigned => {
                    query = query.filter(conversations::assignee.is_null());
                }
                AssigneeFilter::User(u) => {
                    query = query.filter(conversations::assignee.eq(u.clone()));
                }
            }
            if let Some(label) = &q.label {
                query = query.filter(
                    conversations::id.eq_any(
                        conversation_labels::table
                            .filter(conversation_labels::tenant_id.eq(tid.clone()))
                            .filter(conversation_labels::label.eq(label.clone()))
                            .select(conversation_labels::conversation_id),
                    ),
                );
            }
            if let Some(text) = &q.text {
                let cleaned: String = text
                    .to_lowercase()
                    .chars()
                    .filter(|c| !matches!(c, '%' | '_' | '\\'))
                    .collect();
                if !cleaned.trim().is_empty() {
                    let pat = format!("%{}%", cleaned.trim());
                    query = query.filter(
                        lower(contacts::address)
                            .like(pat.clone())
                            .or(lower_n(contacts::name).like(pat.clone()))
                            .or(lower_n(conversations::subject).like(pat)),
                    );
                }
            }
            if let Some((at, id)) = q.after {
                let at = ts(at);
                let id = id.to_string();
                if q.oldest_first {
                    query = query.filter(
                        conversations::last_message_at
                            .gt(at)
                            .or(conversations::last_message_at
                                .eq(at)
                                .and(conversations::id.gt(id))),
                    );
                } else {
                    query = query.filter(
                        conversations::last_message_at
                            .lt(at)
                            .or(conversations::last_message_at
                                .eq(at)
                                .and(conversations::id.lt(id))),
                    );
                }
            }
            query = if q.oldest_first {
                query.order((
                    conversations::last_message_at.asc(),
                    conversations::id.asc(),
                ))
            } else {
                query.order((
                    conversations::last_message_at.desc(),
                    conversations::id.desc(),
                ))
            };
            let rows: Vec<(ConversationRow, String, Option<String>)> = query
                .limit(q.limit.clamp(1, 200))
                .select((
                    ConversationRow::as_select(),
                    contacts::address,
                    contacts::name,
                ))
                .load(c)?;
            let ids: Vec<String> = rows.iter().map(|(r, _, _)| r.id.clone()).collect();
            let mut labels: HashMap<String, Vec<String>> = HashMap::new();
            if !ids.is_empty() {
                let ls: Vec<(String, String)> = conversation_labels::table
                    .filter(conversation_labels::tenant_id.eq(&tid))
                    .filter(conversation_labels::conversation_id.eq_any(&ids))
                    .order((
                        conversation_labels::conversation_id,
                        conversation_labels::label,
                    ))
                    .select((
                        conversation_labels::conversation_id,
                        conversation_labels::label,
                    ))
                    .load(c)?;
                for (cid, l) in ls {
                    labels.entry(cid).or_default().push(l);
                }
            }
            let mut reads: HashMap<String, chrono::NaiveDateTime> = HashMap::new();
            if let (Some(u), false) = (&viewer, ids.is_empty()) {
                let rs: Vec<(String, chrono::NaiveDateTime)> = conversation_reads::table
                    .filter(conversation_reads::tenant_id.eq(&tid))
                    .filter(conversation_reads::user_id.eq(u))
                    .filter(conversation_reads::conversation_id.eq_any(&ids))
                    .select((
                        conversation_reads::conversation_id,
                        conversation_reads::read_at,
                    ))
                    .load(c)?;
                reads.extend(rs);
            }
            let names: HashMap<String, String> = users::table
                .filter(users::tenant_id.eq(&tid))
                .select((users::id, users::display_name))
                .load::<(String, String)>(c)?
                .into_iter()
                .collect();
            let mut last_messages = newest_messages(c, &tid, &ids)?;
            let mut out = Vec::with_capacity(rows.len());
            for (r, address, name) in rows {
                let last = last_messages.remove(&r.id);
                let unread = viewer.is_some()
                    && reads
                        .get(&r.id)
                        .is_none_or(|read| *read < r.last_message_at);
                let assignee = r.assignee.clone();
                let cid = r.id.clone();
                out.push(InboxItem {
                    conversation: r.into_domain()?,
                    contact_address: address,
                    contact_name: name,
                    assignee_name: assignee.as_ref().and_then(|a| names.get(a).cloned()),
                    assignee,
                    labels: labels.remove(&cid).unwrap_or_default(),
                    last_direction: last
                        .as_ref()
                        .map(|(_, d)| parse::<Direction>("direction", d))
                        .transpose()?,
                    last_text: last.map(|(t, _)| t),
                    unread,
                });
            }
            Ok(out)
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
