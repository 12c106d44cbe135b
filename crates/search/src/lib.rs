//! # loket-search
//!
//! Full-text search over the archive for FOI (Woo) requests: one tantivy index per
//! tenant under `<data_dir>/index/<tenant_id>/`, Dutch analysis, an indexer fed by the
//! store's outbox, a small query language, exact counts, stable paging, streaming export
//! and a completeness check.
//!
//! ## Wiring (server and `loket` binary)
//!
//! ```text
//! let search = SearchService::open(store.clone(), &data_dir, cfg.search.clone()).await?;
//! let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
//! let indexer = search.spawn_indexer(stop_rx);        // `loket serve`
//! // HTTP: GET /api/v1/search?q=…&sort=relevance|newest|oldest&cursor=…&limit=…
//! let page = search.search_as(&principal, &SearchRequest::new(q)).await?; // audited
//! // JSONL export: search.stream(tenant, q, Sort::Oldest).await? (iterate on the blocking pool)
//! // `loket reindex`:        search.reindex(tenant).await?
//! // `loket verify --index`: search.catch_up().await?; search.verify_index(tenant).await?
//! stop_tx.send(true)?; indexer.await??;              // on shutdown: commits and stops
//! ```
//!
//! Errors: [`SearchError::Query`] (position, message, hint) and [`SearchError::Cursor`]
//! are the client's (HTTP 400; an expired cursor may be mapped to 410);
//! [`SearchError::NoIndex`] means the tenant's first index build is still running (503).
//!
//! ## Guarantees
//! - Completeness: the commit payload of each index is the last outbox seq it contains;
//!   after a crash indexing resumes after it, and documents are replaced by message id,
//!   so nothing is missed or doubled. [`SearchService::verify_index`] proves it.
//! - Latency: a message is searchable at most `commit.max_delay_ms` (default 250 ms) plus
//!   one outbox read after its ingest commits.
//! - Counts are exact: every matching document is visited, messages and distinct
//!   conversations are counted, no cap and no time window.
//! - Paging: a cursor pins the index snapshot (searcher generation) of the first page for
//!   `cursor_ttl_secs`, and pages by keyset (sort key, message id), so pages neither
//!   repeat nor skip while new messages arrive.
//! - Tenants: each tenant has its own index; a search opens only its tenant's index, and
//!   a cursor is only accepted for the tenant it was issued to.

pub mod analysis;
#[doc(hidden)]
pub mod bench;
pub mod collect;
pub mod compile;
pub mod error;
pub mod extract;
pub mod index;
pub mod query;
pub mod schema;
pub mod service;
pub mod snippet;

pub use collect::Sort;
pub use error::SearchError;
pub use extract::ExtractLimits;
pub use index::CommitPolicy;
pub use query::QueryLimits;
pub use schema::{MessageDoc, SCHEMA_VERSION};
pub use service::{
    HitGroup, HitStream, IndexDiff, SearchConfig, SearchHit, SearchPage, SearchRequest,
    SearchService,
};
