//! The test kit (feature `testing`; compiled for this crate's unit tests too, never into
//! a release build): throwaway databases for tests, a file-backed SQLite in a temp
//! directory (never `:memory:`: tests use the durable settings of production) or a fresh PostgreSQL schema per test, so
//! tests run in parallel, and [`on_both!`](crate::on_both) to run a test on each.
//! PostgreSQL comes from `LOKET_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`).
//!
//! A crate whose tests use it names the feature in its dev-dependencies:
//! `loket-store = { workspace = true, features = ["testing"] }`.

use crate::conn::Backend;
use crate::{Store, StoreError, StoreOptions};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use std::path::PathBuf;

pub const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test server's URL. Without TLS unless the URL asks for it: a test binary exits
/// while idle pooled connections may still be closed by the pool's reaper thread, and
/// OpenSSL's exit handlers racing a TLS shutdown on another thread crashed a test binary
/// with SIGSEGV after all its tests had passed. Test traffic never leaves 127.0.0.1.
pub fn postgres_base_url() -> String {
    let base = std::env::var("LOKET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.to_owned());
    if base.contains("sslmode=") {
        return base;
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}sslmode=disable")
}

/// One test database. Dropping it drops the PostgreSQL schema / deletes the directory.
pub struct TestDb {
    pub store: Store,
    /// The URL the store was opened with (for a second process or a reopen).
    pub url: String,
    pub backend: Backend,
    pub dir: PathBuf,
    schema: Option<String>,
    _tmp: TempDir,
}

/// A temp directory removed on drop (no extra dependency for one struct).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&p)?;
        Ok(Self(p))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL URL whose connections use `schema` as their search path.
pub fn postgres_url_with_schema(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// Creates a fresh schema and returns (its name, a URL that uses it).
pub fn create_postgres_schema() -> Result<(String, String), StoreError> {
    let base = postgres_base_url();
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut c = diesel::pg::PgConnection::establish(&base)?;
    c.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
    Ok((schema.clone(), postgres_url_with_schema(&base, &schema)))
}

pub fn drop_postgres_schema(schema: &str) {
    if let Ok(mut c) = diesel::pg::PgConnection::establish(&postgres_base_url()) {
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    }
}

impl TestDb {
    pub async fn sqlite() -> Result<TestDb, StoreError> {
        let tmp = TempDir::new("loket-test").map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let url = tmp.path().join("loket.db").display().to_string();
        let store = Store::open(&url, StoreOptions::default()).await?;
        Ok(TestDb {
            store,
            url,
            backend: Backend::Sqlite,
            dir: tmp.path().to_path_buf(),
            schema: None,
            _tmp: tmp,
        })
    }

    pub async fn postgres() -> Result<TestDb, StoreError> {
        let tmp = TempDir::new("loket-test").map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let (schema, url) = tokio::task::spawn_blocking(create_postgres_schema)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))??;
        let store = Store::open(
            &url,
            StoreOptions {
                pool_size: 4,
                ..StoreOptions::default()
            },
        )
        .await?;
        Ok(TestDb {
            store,
            url,
            backend: Backend::Postgres,
            dir: tmp.path().to_path_buf(),
            schema: Some(schema),
            _tmp: tmp,
        })
    }

    /// Both backends, for tests that must hold on each.
    pub async fn each() -> Result<Vec<TestDb>, StoreError> {
        Ok(vec![TestDb::sqlite().await?, TestDb::postgres().await?])
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(s) = &self.schema {
            drop_postgres_schema(s);
        }
    }
}

/// The set-up of [`on_both!`] without one: the test gets the database itself.
pub async fn just_the_db(db: TestDb) -> TestDb {
    db
}

/// Defines a module `$name` with two tests, `sqlite` and `postgres`, each running `$body`
/// on a fresh database of its backend. With `$setup =>`, `$body` gets what the async
/// `$setup(TestDb)` returns (a running app, say) instead of the database.
///
/// ```text
/// loket_store::on_both!(ingest_is_idempotent, |db: TestDb| async move { … });
/// loket_store::on_both!(answers_over_http, spawn => |app: App| async move { … });
/// ```
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        $crate::on_both!($name, $crate::testing::just_the_db => $body);
    };
    ($name:ident, $setup:path => $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::testing::TestDb::sqlite()
                    .await
                    .expect("sqlite test db");
                ($body)($setup(db).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::testing::TestDb::postgres()
                    .await
                    .expect("postgres test db");
                ($body)($setup(db).await).await;
            }
        }
    };
}
