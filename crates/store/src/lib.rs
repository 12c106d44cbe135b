//! loket's archive: one diesel codebase for SQLite (embedded default) and PostgreSQL
//! (scale-out), chosen by the database URL.
//!
//! Writes go through one writer thread per process that groups concurrent requests
//! into one transaction (group commit) with a savepoint per request, so a sender is
//! acknowledged only after a durable commit and throughput does not pay one fsync per
//! message. Reads use a connection pool on `spawn_blocking`.
//!
//! Every public query takes the tenant and filters on it; the only cross-tenant reads
//! are the outbox (consumers route by the tenant column) and `verify`, which are
//! system operations, never reachable by a tenant's principal.

pub mod accounts;
pub mod audit;
mod batch;
mod blobs;
mod channel_settings;
pub mod conn;
pub mod inbox;
mod ingest;
mod ingest_batch;
pub mod jsonl;
pub mod live;
mod message_write;
mod migrate;
mod models;
mod outbound;
pub mod outbox;
mod placement;
mod queries;
pub mod schema;
mod tenants;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tokens;
pub mod verify;
pub mod woo;
mod writer;

pub use conn::{AnyConnection, Backend};
pub use ingest::Ingested;
pub use jsonl::{ImportError, ImportReport};
pub use outbox::{
    Batch, Handled, OutboxConsumer, OutboxCursor, OutboxEntry, Pace, Resume, run_consumer,
};
pub use queries::OutboxKind;
pub use tokens::{ApiToken, NewToken};
pub use verify::{VerifyFault, VerifyReport};

use loket_core::TenantId;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Bad input in one named field (the problem report names it); nothing was changed.
    #[error("invalid {field}: {message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    /// The thing is under legal hold and may not be destroyed.
    #[error("under legal hold: {0}")]
    Held(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
}

impl StoreError {
    pub(crate) fn not_found(kind: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    /// True when the database could not be reached (maps to HTTP 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_)
                | StoreError::Connection(_)
                | StoreError::Closed
                | StoreError::Database(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection
                        | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                    _,
                ))
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Process settings for the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Read pool size.
    pub pool_size: u32,
    /// Most requests the writer groups into one transaction.
    pub max_batch: usize,
    /// Key for the audit checkpoint MAC. Kept outside the database (a file in the data
    /// directory by default) so a database-only attacker cannot forge a checkpoint.
    pub audit_key: Vec<u8>,
    /// Run pending migrations on open.
    pub migrate: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            max_batch: 512,
            audit_key: b"loket-default-audit-key".to_vec(),
            migrate: true,
        }
    }
}

/// Handle to the archive. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    pool: conn::Pool,
    writer: writer::WriterHandle,
    outbox_seq: watch::Receiver<i64>,
    audit_key: Vec<u8>,
    tokens: tokens::TokenCache,
}

impl Store {
    /// Opens (and by default migrates) the database at `url`: `postgres://…` or a SQLite
    /// file path (`sqlite://` prefix optional). Fails clearly when it cannot be reached.
    pub async fn open(url: &str, opts: StoreOptions) -> Result<Store> {
        let url = url.to_owned();
        let backend = Backend::of_url(&url);
        let migrate = opts.migrate;
        let url2 = url.clone();
        let mut writer_conn = tokio::task::spawn_blocking(move || -> Result<AnyConnection> {
            if backend == Backend::Sqlite {
                let path = std::path::Path::new(conn::sqlite_path(&url2));
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
            }
            let mut c = conn::establish(&url2)?;
            if migrate {
                conn::run_migrations(&mut c)?;
            }
            Ok(c)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))??;
        let pool_size = opts.pool_size;
        let url3 = url.clone();
        let pool = tokio::task::spawn_blocking(move || conn::build_pool(&url3, pool_size))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))??;
        let current = batch::current_outbox_seq(&mut writer_conn)?;
        let (seq_tx, seq_rx) = watch::channel(current);
        let writer = writer::spawn(
            url.clone(),
            writer_conn,
            opts.max_batch,
            opts.audit_key.clone(),
            seq_tx,
        )?;
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                pool,
                writer,
                outbox_seq: seq_rx,
                audit_key: opts.audit_key,
                tokens: tokens::TokenCache::default(),
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The latest committed outbox sequence; consumers wait on it instead of polling.
    pub fn outbox_watch(&self) -> watch::Receiver<i64> {
        self.inner.outbox_seq.clone()
    }

    /// Runs `f` on a pooled connection on the blocking pool.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// Runs `f` inside the writer's next group-commit transaction; returns after commit.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &mut batch::BatchCtx) -> Result<T> + Send + 'static,
    {
        self.inner.writer.submit(f).await
    }

    /// A large write in a transaction of its own (see `WriterHandle::enqueue_solo`), handed
    /// to the writer before this returns; await the future for its result.
    pub(crate) fn enqueue_write_solo<T, F>(
        &self,
        f: F,
    ) -> Result<impl std::future::Future<Output = Result<T>> + Send + 'static>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &mut batch::BatchCtx) -> Result<T> + Send + 'static,
    {
        self.inner.writer.enqueue_solo(f)
    }

    /// `/health/ready`: the database answers and every migration is applied.
    pub async fn ready(&self) -> Result<bool> {
        self.read(conn::migrations_current).await
    }

    /// The durability settings as a live connection reports them (for tests and
    /// `loket verify`): (`journal_mode`, `synchronous`) on SQLite,
    /// (`synchronous_commit`, `fsync`) on PostgreSQL.
    pub async fn durability_settings(&self) -> Result<(String, String)> {
        self.read(queries::durability_settings).await
    }

    pub(crate) fn audit_key(&self) -> &[u8] {
        &self.inner.audit_key
    }

    /// Waits until the writer has committed everything submitted before this call.
    pub async fn flush(&self) -> Result<()> {
        self.write(|_, _| Ok(())).await
    }

    /// A tenant id that exists, or NotFound.
    pub async fn require_tenant(&self, tenant: TenantId) -> Result<loket_core::Tenant> {
        self.tenant(tenant)
            .await?
            .ok_or_else(|| StoreError::not_found("tenant", tenant))
    }
}
