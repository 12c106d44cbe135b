#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The outbox-consumer loop (`run_consumer`), each contract on SQLite and on PostgreSQL.

use loket_core::*;
use loket_store::on_both;
use loket_store::testing::TestDb;
use loket_store::{Batch, Handled, OutboxConsumer, Pace, Resume, Store, run_consumer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What a test consumer saw, shared with the test.
#[derive(Default)]
struct Log {
    /// Seqs of the batches handled successfully, in the order handed over.
    seen: Mutex<Vec<i64>>,
    /// Every `handle` call, failed and empty ones included.
    calls: AtomicUsize,
    /// When each non-empty batch was tried.
    tries: Mutex<Vec<Instant>>,
}

struct Recorder {
    name: &'static str,
    resume: Resume,
    pace: Pace,
    log: Arc<Log>,
    /// Fail this many non-empty batches before succeeding.
    fail: usize,
    fatal: bool,
    /// Report only entries up to this seq as final.
    through: Option<i64>,
}

impl Recorder {
    fn new(name: &'static str, resume: Resume) -> Recorder {
        Recorder {
            name,
            resume,
            pace: Pace {
                batch: 7,
                poll: Duration::from_secs(60),
                retry_first: Duration::from_millis(50),
                ..Pace::default()
            },
            log: Arc::new(Log::default()),
            fail: 0,
            fatal: false,
            through: None,
        }
    }
}

impl OutboxConsumer for Recorder {
    type Error = String;

    fn name(&self) -> &str {
        self.name
    }

    fn pace(&self) -> Pace {
        self.pace.clone()
    }

    async fn start(&mut self, _store: &Store) -> Result<Resume, String> {
        Ok(self.resume)
    }

    async fn handle(&mut self, batch: Batch<'_>) -> Result<Handled, String> {
        self.log.calls.fetch_add(1, Ordering::SeqCst);
        if batch.is_empty() {
            return Ok(Handled::All);
        }
        self.log.tries.lock().unwrap().push(Instant::now());
        if self.fail > 0 {
            self.fail -= 1;
            return Err("handler failed on purpose".into());
        }
        if let Some(first) = batch.entries.first() {
            assert_eq!(
                first.seq,
                batch.after + 1,
                "a batch starts right after the position"
            );
        }
        self.log
            .seen
            .lock()
            .unwrap()
            .extend(batch.entries.iter().map(|e| e.seq));
        Ok(self.through.map_or(Handled::All, Handled::Through))
    }

    fn is_fatal(&self, _error: &String) -> bool {
        self.fatal
    }
}

struct Running {
    log: Arc<Log>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

fn spawn(store: &Store, mut consumer: Recorder) -> Running {
    let log = consumer.log.clone();
    let (stop, rx) = watch::channel(false);
    let store = store.clone();
    let task = tokio::spawn(async move { run_consumer(&store, &mut consumer, rx).await });
    Running { log, stop, task }
}

impl Running {
    fn seen(&self) -> Vec<i64> {
        self.log.seen.lock().unwrap().clone()
    }

    /// Waits (at most `within`) until the consumer has seen `n` entries.
    async fn wait_seen(&self, n: usize, within: Duration) -> Vec<i64> {
        let until = Instant::now() + within;
        while self.seen().len() < n && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.seen()
    }

    async fn stop(self) -> Result<(), String> {
        self.stop.send(true).expect("consumer still running");
        self.task.await.expect("join")
    }
}

async fn tenant(store: &Store) -> TenantId {
    store
        .create_tenant("gemeente-test", "Gemeente Test")
        .await
        .expect("tenant")
        .id
}

async fn ingest(store: &Store, tenant: TenantId, n: usize, tag: &str) {
    for i in 0..n {
        let key = format!("{tag}-{i}");
        let mut m = Inbound::new(
            Channel::Webchat,
            Address::new("session:abc"),
            "hallo",
            format!("{{\"id\":\"{key}\"}}").into_bytes(),
        );
        m.idempotency_key = Some(key);
        m.raw_content_type = "application/json".into();
        store.ingest(tenant, m).await.expect("ingest");
    }
}

/// Every seq in the outbox now, in order.
async fn all_seqs(store: &Store) -> Vec<i64> {
    let all = store.read_outbox(0, 100_000).await.expect("outbox");
    all.iter().map(|e| e.seq).collect()
}

on_both!(
    delivers_every_entry_once_in_order,
    |db: TestDb| async move {
        let t = tenant(&db.store).await;
        ingest(&db.store, t, 20, "before").await;
        let run = spawn(&db.store, Recorder::new("test", Resume::After(0)));
        // More arrive while it runs, in batches of 7 that do not line up with the writes.
        ingest(&db.store, t, 20, "during").await;
        let want = all_seqs(&db.store).await;
        assert!(want.len() >= 40);
        let seen = run.wait_seen(want.len(), Duration::from_secs(10)).await;
        assert_eq!(seen, want, "every entry once, in sequence order");
        // Nothing more is handed over once caught up.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(run.seen(), want);
        run.stop().await.expect("stops cleanly on shutdown");
    }
);

on_both!(
    waits_for_new_entries_without_busy_polling,
    |db: TestDb| async move {
        let t = tenant(&db.store).await;
        ingest(&db.store, t, 3, "a").await;
        let run = spawn(&db.store, Recorder::new("test", Resume::After(0)));
        let n = all_seqs(&db.store).await.len();
        run.wait_seen(n, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let calls = run.log.calls.load(Ordering::SeqCst);
        // Idle with a poll interval of a minute: no reads, no calls.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            run.log.calls.load(Ordering::SeqCst),
            calls,
            "idle means idle"
        );
        // A new commit wakes it through the head watch, long before the poll interval.
        let asked = Instant::now();
        ingest(&db.store, t, 1, "b").await;
        let seen = run.wait_seen(n + 1, Duration::from_secs(5)).await;
        assert_eq!(seen, all_seqs(&db.store).await);
        assert!(asked.elapsed() < Duration::from_secs(5));
        run.stop().await.expect("stop");
    }
);

on_both!(polls_for_writes_of_other_nodes, |db: TestDb| async move {
    let t = tenant(&db.store).await;
    let head = *db.store.outbox_watch().borrow();
    let mut consumer = Recorder::new("test", Resume::Head);
    consumer.pace.poll = Duration::from_millis(200);
    let run = spawn(&db.store, consumer);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A second store handle on the same database plays another node: its commits do not
    // move this handle's head watch, only the poll finds them.
    let other = Store::open(&db.url, loket_store::StoreOptions::default())
        .await
        .expect("second node");
    ingest(&other, t, 2, "elsewhere").await;
    assert_eq!(
        *db.store.outbox_watch().borrow(),
        head,
        "this node's watch did not move"
    );
    let want: Vec<i64> = all_seqs(&db.store)
        .await
        .into_iter()
        .filter(|s| *s > head)
        .collect();
    assert_eq!(want.len(), 2);
    let seen = run.wait_seen(want.len(), Duration::from_secs(5)).await;
    assert_eq!(seen, want);
    run.stop().await.expect("stop");
});

on_both!(starts_at_the_head_when_asked, |db: TestDb| async move {
    let t = tenant(&db.store).await;
    ingest(&db.store, t, 3, "old").await;
    let head = *db.store.outbox_watch().borrow();
    let run = spawn(&db.store, Recorder::new("live", Resume::Head));
    tokio::time::sleep(Duration::from_millis(100)).await;
    ingest(&db.store, t, 2, "new").await;
    let want: Vec<i64> = all_seqs(&db.store)
        .await
        .into_iter()
        .filter(|s| *s > head)
        .collect();
    assert_eq!(want.len(), 2);
    assert_eq!(run.wait_seen(2, Duration::from_secs(5)).await, want);
    run.stop().await.expect("stop");
});

on_both!(resumes_from_a_saved_cursor, |db: TestDb| async move {
    let t = tenant(&db.store).await;
    ingest(&db.store, t, 5, "first").await;
    let first = all_seqs(&db.store).await;
    let run = spawn(&db.store, Recorder::new("saver", Resume::Saved));
    assert_eq!(
        run.wait_seen(first.len(), Duration::from_secs(5)).await,
        first
    );
    run.stop().await.expect("stop");
    let last = *first.last().expect("entries");
    assert_eq!(db.store.cursor("saver").await.expect("cursor"), last);

    // A restart (a new store handle: a new process) reads only what came after it.
    ingest(&db.store, t, 3, "second").await;
    let reopened = Store::open(&db.url, loket_store::StoreOptions::default())
        .await
        .expect("reopen");
    let run = spawn(&reopened, Recorder::new("saver", Resume::Saved));
    let rest: Vec<i64> = all_seqs(&db.store)
        .await
        .into_iter()
        .filter(|s| *s > last)
        .collect();
    assert_eq!(rest.len(), 3);
    assert_eq!(run.wait_seen(3, Duration::from_secs(5)).await, rest);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(run.seen(), rest, "nothing before the saved cursor again");
    run.stop().await.expect("stop");
});

on_both!(
    a_low_water_mark_is_saved_and_read_again,
    |db: TestDb| async move {
        let t = tenant(&db.store).await;
        ingest(&db.store, t, 5, "x").await;
        let all = all_seqs(&db.store).await;
        let mut consumer = Recorder::new("low-water", Resume::Saved);
        consumer.through = Some(all[1]);
        let run = spawn(&db.store, consumer);
        run.wait_seen(all.len(), Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        run.stop().await.expect("stop");
        assert_eq!(db.store.cursor("low-water").await.expect("cursor"), all[1]);
        // After a restart everything after the mark comes again.
        let run = spawn(&db.store, Recorder::new("low-water", Resume::Saved));
        let again = run.wait_seen(all.len() - 2, Duration::from_secs(5)).await;
        assert_eq!(again, all[2..].to_vec());
        run.stop().await.expect("stop");
    }
);

on_both!(retries_after_a_handler_error, |db: TestDb| async move {
    let t = tenant(&db.store).await;
    ingest(&db.store, t, 3, "r").await;
    let want = all_seqs(&db.store).await;
    let mut consumer = Recorder::new("retry", Resume::Saved);
    consumer.fail = 2;
    let run = spawn(&db.store, consumer);
    let seen = run.wait_seen(want.len(), Duration::from_secs(5)).await;
    assert_eq!(
        seen, want,
        "the failed batch is handed over again, once it succeeds"
    );
    let tries = run.log.tries.lock().unwrap().clone();
    assert_eq!(tries.len(), 3, "two failures, one success");
    // Backoff: 50 ms, then 100 ms.
    assert!(tries[1] - tries[0] >= Duration::from_millis(50));
    assert!(tries[2] - tries[1] >= Duration::from_millis(100));
    run.stop().await.expect("stop");
    assert_eq!(
        db.store.cursor("retry").await.expect("cursor"),
        *want.last().expect("entries")
    );
});

on_both!(
    a_fatal_error_ends_the_loop_without_saving,
    |db: TestDb| async move {
        let t = tenant(&db.store).await;
        ingest(&db.store, t, 2, "f").await;
        let mut consumer = Recorder::new("fatal", Resume::Saved);
        consumer.fail = 1;
        consumer.fatal = true;
        let mut c = consumer;
        let (_stop, rx) = watch::channel(false);
        let r = tokio::time::timeout(Duration::from_secs(5), run_consumer(&db.store, &mut c, rx))
            .await
            .expect("ends by itself");
        assert_eq!(r, Err("handler failed on purpose".to_owned()));
        assert!(c.log.seen.lock().unwrap().is_empty());
        assert_eq!(db.store.cursor("fatal").await.expect("cursor"), 0);
    }
);

on_both!(stops_while_waiting_to_retry, |db: TestDb| async move {
    let t = tenant(&db.store).await;
    ingest(&db.store, t, 1, "s").await;
    let mut consumer = Recorder::new("stopper", Resume::Saved);
    consumer.fail = usize::MAX;
    consumer.pace.retry_first = Duration::from_secs(30);
    let run = spawn(&db.store, consumer);
    while run.log.tries.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let asked = Instant::now();
    run.stop().await.expect("stop");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "shutdown cuts the backoff short"
    );
});
