//! One connection type for both backends, the pool, per-connection settings and the
//! embedded migrations.

use crate::StoreError;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Executes a statement on the backend's own connection, where diesel caches its
/// prepared form; through `MultiConnection` an UPDATE is prepared anew every time, which
/// showed in the ingest profiles.
macro_rules! execute_cached {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::conn::AnyConnection::Sqlite(c) => $query.execute(c),
            $crate::conn::AnyConnection::Postgresql(c) => $query.execute(c),
        }
    };
}
pub(crate) use execute_cached;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` / `postgresql://` URLs select PostgreSQL; anything else is a SQLite
    /// file path (optionally prefixed `sqlite://`).
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The path or URL diesel's SQLite driver understands.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

pub type Pool = r2d2::Pool<ConnectionManager<AnyConnection>>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager<AnyConnection>>;

/// Durability settings applied to every connection (ARCHITECTURE.md, invariant 1): SQLite in WAL mode with
/// `synchronous=FULL`; PostgreSQL with `synchronous_commit=on`.
#[derive(Debug, Clone, Copy)]
pub struct Durability;

impl Durability {
    pub fn apply(conn: &mut AnyConnection) -> Result<(), diesel::result::Error> {
        match conn {
            AnyConnection::Sqlite(c) => c.batch_execute(
                // A 64 MiB page cache per connection: the archive's indexes on text ids
                // do not fit SQLite's 2 MiB default, and a cold index page costs a read.
                "PRAGMA busy_timeout = 30000;
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA cache_size = -65536;
                 PRAGMA temp_store = MEMORY;",
            ),
            // Custom plans: the archive's lookups name many keys at once (`= ANY($n)`),
            // and a generic plan of such a statement, cached after five runs while the
            // tables were small, kept using a tenant-wide index scan with a filter.
            AnyConnection::Postgresql(c) => c.batch_execute(
                "SET synchronous_commit = on; SET TIME ZONE 'UTC'; \
                 SET plan_cache_mode = force_custom_plan;",
            ),
        }
    }
}

/// SQLite page cache of a pooled (reading) connection, KiB. The writer keeps the 64 MiB of
/// [`Durability`]: it touches every index on each insert. Readers share the operating
/// system's page cache instead of filling 64 MiB each: eight of them held ~300 MiB of
/// the server's anonymous memory after the search indexer had read a large import,
/// without making reads faster.
const READER_CACHE_KIB: i64 = 8 * 1024;

impl CustomizeConnection<AnyConnection, r2d2::Error> for Durability {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        Durability::apply(conn).map_err(r2d2::Error::QueryError)?;
        if let AnyConnection::Sqlite(c) = conn {
            c.batch_execute(&format!("PRAGMA cache_size = -{READER_CACHE_KIB};"))
                .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub fn establish(url: &str) -> Result<AnyConnection, StoreError> {
    let mut conn = match Backend::of_url(url) {
        Backend::Postgres => AnyConnection::Postgresql(PgConnection::establish(url)?),
        Backend::Sqlite => AnyConnection::Sqlite(SqliteConnection::establish(sqlite_path(url))?),
    };
    Durability::apply(&mut conn)?;
    Ok(conn)
}

pub fn build_pool(url: &str, max_size: u32) -> Result<Pool, StoreError> {
    let url = match Backend::of_url(url) {
        Backend::Postgres => url.to_owned(),
        Backend::Sqlite => sqlite_path(url).to_owned(),
    };
    let manager = ConnectionManager::<AnyConnection>::new(url);
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_customizer(Box::new(Durability))
        .connection_timeout(std::time::Duration::from_secs(10))
        .build(manager)
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

fn migrations_for(conn: &AnyConnection) -> EmbeddedMigrations {
    match conn {
        AnyConnection::Postgresql(_) => POSTGRES_MIGRATIONS,
        AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    }
}

/// Applies every pending migration; returns the versions applied.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let migrations = migrations_for(conn);
    let applied = match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(migrations),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(migrations),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// Reverts every applied migration (used by `loket migrate --down-all` and the tests).
pub fn revert_all_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let migrations = migrations_for(conn);
    let reverted = match conn {
        AnyConnection::Postgresql(c) => c.revert_all_migrations(migrations),
        AnyConnection::Sqlite(c) => c.revert_all_migrations(migrations),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(reverted.into_iter().map(|v| v.to_string()).collect())
}

/// Reverts the most recently applied migration; returns its version (tests check that
/// a migration's `down.sql` keeps the data it reshapes).
pub fn revert_last_migration(conn: &mut AnyConnection) -> Result<String, StoreError> {
    let migrations = migrations_for(conn);
    let reverted = match conn {
        AnyConnection::Postgresql(c) => c.revert_last_migration(migrations),
        AnyConnection::Sqlite(c) => c.revert_last_migration(migrations),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(reverted.to_string())
}

/// True when no migration is pending (for `/health/ready`).
pub fn migrations_current(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    let migrations = migrations_for(conn);
    let pending = match conn {
        AnyConnection::Postgresql(c) => c.has_pending_migration(migrations),
        AnyConnection::Sqlite(c) => c.has_pending_migration(migrations),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(!pending)
}
