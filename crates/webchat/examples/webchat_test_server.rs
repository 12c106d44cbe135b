//! A small server for the browser tests and the benchmark while `loket serve` is not
//! there (and for testing the crate on its own): the web chat routes over a file-backed
//! SQLite store, with a demo tenant `demo`, an outbox relay and test-only routes
//! `POST /test/reply/{conversation}` (a clerk reply) and `GET /test/messages`.
//!
//! Environment: `WEBCHAT_TEST_DATA` (directory, default `./data-webchat-test`),
//! `WEBCHAT_TEST_DB` (database URL, default SQLite in that directory),
//! `WEBCHAT_TEST_PORT` (default 0 = any free port), `WEBCHAT_TEST_CONFIG` (the `[webchat]`
//! section as JSON). Prints `LISTENING http://127.0.0.1:PORT` when ready.

#[path = "../tests/common/mod.rs"]
mod common;

use loket_store::{Store, StoreOptions};
use loket_webchat::WebchatConfig;
use std::error::Error;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let data = std::env::var("WEBCHAT_TEST_DATA").unwrap_or_else(|_| "./data-webchat-test".into());
    std::fs::create_dir_all(&data)?;
    let url = std::env::var("WEBCHAT_TEST_DB").unwrap_or_else(|_| format!("{data}/loket.sqlite3"));
    let store = Store::open(&url, StoreOptions::default()).await?;
    let tenant = match store.tenant_by_slug("demo").await? {
        Some(t) => t,
        None => store.create_tenant("demo", "Gemeente Voorbeeld").await?,
    };
    let cfg: WebchatConfig = match std::env::var("WEBCHAT_TEST_CONFIG") {
        Ok(json) => serde_json::from_str(&json)?,
        Err(_) => WebchatConfig::default(),
    };
    let port: u16 = std::env::var("WEBCHAT_TEST_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    let running = common::start(listener, store.clone(), tenant.id, cfg)?;
    println!("LISTENING http://127.0.0.1:{}", running.port);
    println!("PID {}", std::process::id());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    running.handle.stop(false).await;
    store.flush().await?;
    Ok(())
}
