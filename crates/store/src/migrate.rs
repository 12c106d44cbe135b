//! Schema migrations as calls on [`Store`], so `loket migrate` needs no connection of
//! its own: each runs on a fresh connection to `url` (the same URL `Store::open` takes),
//! beside any open store.

use crate::{AnyConnection, Result, Store, StoreError, conn};

impl Store {
    /// Applies every pending migration to the database at `url`; returns the versions
    /// applied (none when the schema is current).
    pub async fn migrate(url: &str) -> Result<Vec<String>> {
        on_own_connection(url, conn::run_migrations).await
    }

    /// Reverts every applied migration of the database at `url` (`loket migrate
    /// --down-all`), leaving it without loket's tables; returns the versions reverted.
    pub async fn revert_all(url: &str) -> Result<Vec<String>> {
        on_own_connection(url, conn::revert_all_migrations).await
    }
}

async fn on_own_connection(
    url: &str,
    f: fn(&mut AnyConnection) -> Result<Vec<String>>,
) -> Result<Vec<String>> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || f(&mut conn::establish(&url)?))
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
}
