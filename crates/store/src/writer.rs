//! The single writer: group commit with a savepoint per request.
//!
//! Why one writer: SQLite allows one writer at a time anyway, and a writer that owns the
//! outbox and audit heads assigns sequence numbers gap-free in commit order. On
//! PostgreSQL several processes may write; a batch takes a transaction-level advisory
//! lock before it reads the heads, so numbers still become visible in order (a plain
//! sequence would let a lower number commit after a higher one, and a consumer whose
//! cursor passed it would never see it).
//!
//! The lock is taken **late**: only when the batch first needs a head (the first outbox
//! or audit append), not at BEGIN. The bulk of a batch of ingests (contacts,
//! conversations, blobs, messages, attachments) is written before that, while another
//! node holds the lock; what runs under the lock is the append of the outbox and audit
//! rows and the commit. That is what lets two nodes on one database ingest faster than
//! one (docs/benchmarks.md). The lock stays global, not per tenant, because
//! the outbox sequence is global: every consumer reads one gap-free sequence.

use crate::audit::write_checkpoints;
use crate::batch::BatchCtx;
use crate::conn::AnyConnection;
use crate::ingest::{Ingested, ingest_one_returning};
use crate::ingest_batch::{IngestItem, ingest_group};
use crate::message_write::Written;
use crate::{Result, StoreError};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use loket_core::TenantId;
use std::any::Any;
use std::sync::mpsc;
use tokio::sync::{oneshot, watch};

type AnyBox = Box<dyn Any + Send>;
type JobFn = Box<dyn FnOnce(&mut AnyConnection, &mut BatchCtx) -> Result<AnyBox> + Send>;

/// What a job does: a closure, or an ingest, which the writer writes together with the
/// other ingests of its batch (`ingest_batch.rs`).
enum Work {
    Run(JobFn),
    Ingest(Box<IngestItem>),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<AnyBox>>,
    /// Runs as its own transaction, without a savepoint (see [`WriterHandle::enqueue_solo`]).
    solo: bool,
}

pub(crate) struct WriterHandle {
    tx: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
}

impl WriterHandle {
    pub(crate) async fn submit<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &mut BatchCtx) -> Result<T> + Send + 'static,
    {
        self.enqueue(f, false)?.await
    }

    /// Like [`Self::submit`], but the job gets a transaction of its own instead of a
    /// savepoint inside a group commit. For large jobs (an import batch of thousands of
    /// messages): SQLite copies every page a savepoint touches into a sub-journal, which
    /// cost about 15 % of a bulk import. If the job fails, its transaction is rolled back
    /// and no other request is affected, as with a savepoint.
    ///
    /// The job is handed to the writer at once (not when the returned future is first
    /// polled), so the caller can prepare the next job while this one is written.
    pub(crate) fn enqueue_solo<T, F>(
        &self,
        f: F,
    ) -> Result<impl std::future::Future<Output = Result<T>> + Send + 'static>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &mut BatchCtx) -> Result<T> + Send + 'static,
    {
        self.enqueue(f, true)
    }

    fn enqueue<T, F>(
        &self,
        f: F,
        solo: bool,
    ) -> Result<impl std::future::Future<Output = Result<T>> + Send + 'static>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &mut BatchCtx) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            work: Work::Run(Box::new(move |c, ctx| {
                f(c, ctx).map(|v| Box::new(v) as AnyBox)
            })),
            reply,
            solo,
        };
        self.send(job)?;
        Ok(Self::answer(rx))
    }

    /// Ingests one message; the writer writes it with the other ingests of its batch.
    pub(crate) async fn ingest(
        &self,
        tenant: TenantId,
        inbound: loket_core::Inbound,
    ) -> Result<(Ingested, Written)> {
        let (reply, rx) = oneshot::channel();
        self.send(Job {
            work: Work::Ingest(Box::new(IngestItem { tenant, inbound })),
            reply,
            solo: false,
        })?;
        Self::answer(rx).await
    }

    fn send(&self, job: Job) -> Result<()> {
        let guard = self.tx.lock().map_err(|_| StoreError::Closed)?;
        let sender = guard.as_ref().ok_or(StoreError::Closed)?;
        sender.send(job).map_err(|_| StoreError::Closed)
    }

    async fn answer<T: Send + 'static>(rx: oneshot::Receiver<Result<AnyBox>>) -> Result<T> {
        let result = rx.await.map_err(|_| StoreError::Closed)??;
        result
            .downcast::<T>()
            .map(|b| *b)
            // Invariant: a job's reply boxes exactly the `T` its sender waits for.
            .map_err(|_| StoreError::Corrupt("writer returned an unexpected type".into()))
    }
}

pub(crate) fn spawn(
    url: String,
    conn: AnyConnection,
    max_batch: usize,
    audit_key: Vec<u8>,
    seq_tx: watch::Sender<i64>,
) -> Result<WriterHandle> {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("loket-store-writer".into())
        .spawn(move || run(url, conn, rx, max_batch.max(1), audit_key, seq_tx))
        .map_err(|e| StoreError::Unavailable(format!("cannot start writer thread: {e}")))?;
    Ok(WriterHandle {
        tx: std::sync::Mutex::new(Some(tx)),
    })
}

fn run(
    url: String,
    mut conn: AnyConnection,
    rx: mpsc::Receiver<Job>,
    max_batch: usize,
    audit_key: Vec<u8>,
    seq_tx: watch::Sender<i64>,
) {
    // A solo job that arrived while a group was being gathered waits here for its turn.
    let mut held: Option<Job> = None;
    loop {
        let first = match held.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        if first.solo {
            run_batch(&url, &mut conn, vec![first], &audit_key, &seq_tx);
            continue;
        }
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) if j.solo => {
                    held = Some(j);
                    break;
                }
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        run_batch(&url, &mut conn, jobs, &audit_key, &seq_tx);
    }
}

fn begin(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        // IMMEDIATE takes the write lock up front, so a second process (the CLI importing
        // while the server runs) waits on busy_timeout instead of failing on upgrade.
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        // The write lock comes later, when the batch first needs a head (BatchCtx).
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c),
    }
}

fn commit(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
        AnyConnection::Postgresql(c) => AnsiTransactionManager::commit_transaction(c),
    }
}

fn rollback(conn: &mut AnyConnection) {
    let r = match conn {
        AnyConnection::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        AnyConnection::Postgresql(c) => AnsiTransactionManager::rollback_transaction(c),
    };
    if let Err(e) = r {
        tracing::warn!(error = %e, "rollback failed");
    }
}

fn run_batch(
    url: &str,
    conn: &mut AnyConnection,
    jobs: Vec<Job>,
    audit_key: &[u8],
    seq_tx: &watch::Sender<i64>,
) {
    if let Err(e) = begin(conn) {
        let e = StoreError::from(e);
        rollback(conn);
        fail_all(jobs, &e);
        // A broken connection (PostgreSQL restarted) is replaced on the next batch.
        reconnect_if_broken(conn, url);
        return;
    }
    let mut ctx = BatchCtx::new(audit_key);
    let mut results = Vec::with_capacity(jobs.len());
    let mut ingests = Vec::new();
    let mut runs = Vec::new();
    for job in jobs {
        match job.work {
            Work::Ingest(item) => ingests.push((*item, job.reply)),
            Work::Run(run) => runs.push((run, job.reply, job.solo)),
        }
    }
    // Ingests first: their archive rows are written before the batch takes the write lock.
    if !ingests.is_empty() {
        write_ingests(conn, &mut ctx, ingests, &mut results);
    }
    for (run, reply, solo) in runs {
        if solo {
            // Alone in its batch (see `run`): a failure rolls back the whole transaction.
            let r = run(conn, &mut ctx);
            if let Err(e) = r {
                rollback(conn);
                let _ = reply.send(Err(e));
                reconnect_if_broken(conn, url);
                return;
            }
            results.push((reply, r));
            continue;
        }
        let snapshot = ctx.clone();
        let r = conn.transaction(|c| run(c, &mut ctx));
        if r.is_err() {
            ctx = snapshot;
        }
        results.push((reply, r));
    }
    let finished = write_checkpoints(conn, &ctx).and_then(|_| commit(conn).map_err(Into::into));
    match finished {
        Ok(()) => {
            if let Some(last) = ctx.last_seq() {
                seq_tx.send_replace(last);
            }
            for (reply, r) in results {
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            rollback(conn);
            tracing::error!(error = %e, "group commit failed; every request in the batch is refused");
            for (reply, _) in results {
                let _ = reply.send(Err(StoreError::Unavailable(format!("commit failed: {e}"))));
            }
            reconnect_if_broken(conn, url);
        }
    }
}

type Reply = oneshot::Sender<Result<AnyBox>>;

/// Writes the batch's ingests as one group in a savepoint; if the group fails (a database
/// error: a race with another node, a bad row), rolls it back and writes them one by one,
/// each in a savepoint of its own, so that one bad message refuses only itself.
fn write_ingests(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    ingests: Vec<(IngestItem, Reply)>,
    results: &mut Vec<(Reply, Result<AnyBox>)>,
) {
    let (items, replies): (Vec<IngestItem>, Vec<Reply>) = ingests.into_iter().unzip();
    let snapshot = ctx.clone();
    match conn.transaction(|c| ingest_group(c, ctx, &items)) {
        Ok(rs) => {
            for (reply, r) in replies.into_iter().zip(rs) {
                results.push((reply, r.map(|v| Box::new(v) as AnyBox)));
            }
        }
        Err(e) => {
            *ctx = snapshot;
            tracing::debug!(error = %e, "group ingest failed; writing its messages one by one");
            for (item, reply) in items.into_iter().zip(replies) {
                let snapshot = ctx.clone();
                let r =
                    conn.transaction(|c| ingest_one_returning(c, ctx, item.tenant, item.inbound));
                if r.is_err() {
                    *ctx = snapshot;
                }
                results.push((reply, r.map(|v| Box::new(v) as AnyBox)));
            }
        }
    }
}

fn fail_all(jobs: Vec<Job>, e: &StoreError) {
    for job in jobs {
        let _ = job
            .reply
            .send(Err(StoreError::Unavailable(format!("cannot write: {e}"))));
    }
}

/// After a failed batch, checks the connection and replaces it when the database went
/// away (PostgreSQL restarted), so the writer recovers without a process restart.
fn reconnect_if_broken(conn: &mut AnyConnection, url: &str) {
    if diesel::sql_query("SELECT 1").execute(conn).is_ok() {
        return;
    }
    match crate::conn::establish(url) {
        Ok(fresh) => {
            tracing::info!("writer reconnected to the database");
            *conn = fresh;
        }
        Err(e) => tracing::warn!(error = %e, "database still unreachable"),
    }
}
