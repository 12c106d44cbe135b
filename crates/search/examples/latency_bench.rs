//! Ingest → searchable latency through the real store and indexer (SQLite and
//! PostgreSQL), for `ops/bench/search/run.sh`. Prints one JSON object per backend.
//!
//! `latency_bench [samples]`: ingests `samples` messages one by one, each with a unique
//! word, and measures the time from `ingest` returning (the durable ack) until a search
//! for that word returns it (polling every 2 ms).

use loket_core::{Address, Channel, Inbound};
use loket_search::{SearchConfig, SearchRequest, SearchService};
use loket_store::testing::TestDb;
use std::time::{Duration, Instant};

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxErr> {
    let samples: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200);
    for db in TestDb::each().await? {
        let t = db.store.create_tenant("bench", "Bench").await?;
        let dir = tempfile::tempdir()?;
        let cfg = SearchConfig::default();
        let svc = SearchService::open(db.store.clone(), dir.path(), cfg.clone()).await?;
        let (stop, rx) = tokio::sync::watch::channel(false);
        let h = svc.spawn_indexer(rx);
        let head = *db.store.outbox_watch().borrow();
        svc.wait_indexed(head).await?;
        let mut lat = Vec::with_capacity(samples);
        for i in 0..samples {
            let word = format!("meetwoord{i}q");
            let key = uuid::Uuid::now_v7().to_string();
            let mut m = Inbound::new(
                Channel::Sms,
                Address::new("+31611111111"),
                format!("melding {word}"),
                key.clone().into_bytes(),
            );
            m.idempotency_key = Some(key);
            db.store.ingest(t.id, m).await?;
            let t0 = Instant::now();
            loop {
                let p = svc
                    .search(
                        t.id,
                        &SearchRequest {
                            no_snippets: true,
                            ..SearchRequest::new(word.clone())
                        },
                    )
                    .await?;
                if p.total_messages == 1 {
                    break;
                }
                if t0.elapsed() > Duration::from_secs(30) {
                    return Err(format!("{word} not found after 30 s").into());
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            lat.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{}",
            serde_json::json!({
                "backend": format!("{:?}", db.backend), "samples": samples,
                "commit_max_delay_ms": cfg.commit.max_delay_ms,
                "p50_ms": p(0.5), "p99_ms": p(0.99), "max_ms": lat[lat.len() - 1],
            })
        );
        stop.send(true)?;
        h.await??;
    }
    Ok(())
}
