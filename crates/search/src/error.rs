//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong in search and indexing.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query could not be parsed or is too expensive. Maps to HTTP 400.
    /// `position` is the 0-based *character* offset in the query where the problem is.
    #[error("query error at position {position}: {message}")]
    Query {
        position: usize,
        message: String,
        hint: String,
    },
    /// A paging cursor is malformed, belongs to another query or has expired. Maps to HTTP 400
    /// (malformed) or 410 (expired): start the search again without a cursor.
    #[error("invalid cursor: {0}")]
    Cursor(String),
    /// The tenant has no index (yet): it was never opened or is being built for the first time.
    #[error("no index for tenant {0}")]
    NoIndex(String),
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store error: {0}")]
    Store(#[from] loket_store::StoreError),
    #[error("the indexer has stopped")]
    IndexerStopped,
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("{0}")]
    Internal(String),
}

impl SearchError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SearchError::Io {
            path: path.into(),
            source,
        }
    }

    /// True for errors caused by the request (HTTP 4xx), false for server faults.
    pub fn is_client_error(&self) -> bool {
        matches!(self, SearchError::Query { .. } | SearchError::Cursor(_))
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for SearchError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        SearchError::Tantivy(e.into())
    }
}
