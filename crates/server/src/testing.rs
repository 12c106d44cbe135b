//! The server's part of the test kit (feature `testing`, never in a release build): the
//! whole app — API, inbox, web chat, live relay and, when asked, search with its indexer
//! — on a free port of 127.0.0.1 over a test database (`loket_store::testing`).

use crate::{Running, ServerError, Services, Settings, open_search, start_with};
use loket_search::SearchService;
pub use loket_store::testing::TestDb;

/// The built-in default settings, with `db`'s directory as the data directory.
pub fn settings_for(db: &TestDb) -> Result<Settings, ServerError> {
    let mut settings = Settings::load_from(None, vec![])?;
    settings.data_dir = db.dir.clone();
    Ok(settings)
}

/// A running app of a test.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub running: Running,
    /// The search service, when the app was started with it.
    pub search: Option<SearchService>,
}

/// Starts the app over `db`'s store with `settings` (start from [`settings_for`]); with
/// `search`, opens the search index in the data directory and runs its indexer.
pub async fn spawn_app(
    db: &TestDb,
    settings: Settings,
    search: bool,
) -> Result<TestApp, ServerError> {
    let search = if search {
        Some(open_search(&db.store, &settings).await?)
    } else {
        None
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let running = start_with(
        db.store.clone(),
        settings,
        listener,
        Services {
            search: search.clone(),
        },
    )?;
    Ok(TestApp {
        base: format!("http://{}", running.addr),
        running,
        search,
    })
}
