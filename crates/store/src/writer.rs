//! The single writer: group commit with a savepoint per request.
//!
//! Why one writer: SQLite allows one writer at a time anyway, and a writer that owns the
//! outbox and audit heads assigns sequence numbers gap-free in commit order. On
//! PostgreSQL several processes may write; each batch takes a transaction-level advisory
//! lock before it reads the heads, so numbers still become visible in order
//! (DESIGN §4.1: a plain sequence would let a lower number commit after a higher one).

use crate::conn::AnyConnection;
use crate::schema::{audit_checkpoints, audit_events, outbox};
use crate::{Result, StoreError};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use loket_core::TenantId;
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use tokio::sync::{oneshot, watch};

/// Advisory lock key guarding the outbox and audit heads on PostgreSQL ("loket" in ASCII).
const PG_WRITE_LOCK: i64 = 0x006c_6f6b_6574;

type AnyBox = Box<dyn Any + Send>;
type JobFn = Box<dyn FnOnce(&mut AnyConnection, &mut BatchCtx) -> Result<AnyBox> + Send>;

struct Job {
    run: JobFn,
    reply: oneshot::Sender<Result<AnyBox>>,
    /// Runs as its own transaction, without a savepoint (see [`WriterHandle::enqueue_solo`]).
    solo: bool,
}

/// State shared by the requests of one batch: the next outbox sequence and the audit
/// chain heads, loaded under the write lock.
#[derive(Clone)]
pub struct BatchCtx {
    pub(crate) next_outbox_seq: i64,
    pub(crate) audit_heads: HashMap<TenantId, (i64, String)>,
    pub(crate) touched_chains: BTreeMap<TenantId, (i64, String)>,
    pub(crate) audit_key: Vec<u8>,
}

impl BatchCtx {
    /// Reserves the next outbox sequence number.
    pub(crate) fn take_outbox_seq(&mut self) -> i64 {
        let s = self.next_outbox_seq;
        self.next_outbox_seq += 1;
        s
    }
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
            run: Box::new(move |c, ctx| f(c, ctx).map(|v| Box::new(v) as AnyBox)),
            reply,
            solo,
        };
        {
            let guard = self.tx.lock().map_err(|_| StoreError::Closed)?;
            let sender = guard.as_ref().ok_or(StoreError::Closed)?;
            sender.send(job).map_err(|_| StoreError::Closed)?;
        }
        Ok(async move {
            let result = rx.await.map_err(|_| StoreError::Closed)??;
            result
                .downcast::<T>()
                .map(|b| *b)
                // Invariant: the job closure above boxes exactly a `T`.
                .map_err(|_| StoreError::Corrupt("writer returned an unexpected type".into()))
        })
    }
}

pub(crate) fn current_outbox_seq(conn: &mut AnyConnection) -> Result<i64> {
    let max: Option<i64> = outbox::table
        .select(diesel::dsl::max(outbox::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0))
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
        AnyConnection::Postgresql(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})"))
                .execute(c)
                .map(|_| ())
        }
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
    let prepared = begin(conn)
        .map_err(StoreError::from)
        .and_then(|_| current_outbox_seq(conn));
    let start_seq = match prepared {
        Ok(s) => s,
        Err(e) => {
            rollback(conn);
            fail_all(jobs, &e);
            // A broken connection (PostgreSQL restarted) is replaced on the next batch.
            reconnect_if_broken(conn, url);
            return;
        }
    };
    let mut ctx = BatchCtx {
        next_outbox_seq: start_seq + 1,
        audit_heads: HashMap::new(),
        touched_chains: BTreeMap::new(),
        audit_key: audit_key.to_vec(),
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        if job.solo {
            // Alone in its batch (see `run`): a failure rolls back the whole transaction.
            let r = (job.run)(conn, &mut ctx);
            if let Err(e) = r {
                rollback(conn);
                let _ = job.reply.send(Err(e));
                reconnect_if_broken(conn, url);
                return;
            }
            results.push((job.reply, r));
            continue;
        }
        let snapshot = ctx.clone();
        let run = job.run;
        let r = conn.transaction(|c| run(c, &mut ctx));
        if r.is_err() {
            ctx = snapshot;
        }
        results.push((job.reply, r));
    }
    let finished = write_checkpoints(conn, &ctx).and_then(|_| commit(conn).map_err(Into::into));
    match finished {
        Ok(()) => {
            let last = ctx.next_outbox_seq - 1;
            if last > start_seq {
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

/// Updates the checkpoint of every audit chain the batch extended, in the same
/// transaction as the events themselves.
fn write_checkpoints(conn: &mut AnyConnection, ctx: &BatchCtx) -> Result<()> {
    for (tenant, (seq, hash)) in &ctx.touched_chains {
        let mac = crate::audit::checkpoint_mac(&ctx.audit_key, *tenant, *seq, hash);
        let tid = tenant.to_string();
        diesel::delete(audit_checkpoints::table.filter(audit_checkpoints::tenant_id.eq(&tid)))
            .execute(conn)?;
        diesel::insert_into(audit_checkpoints::table)
            .values((
                audit_checkpoints::tenant_id.eq(&tid),
                audit_checkpoints::seq.eq(*seq),
                audit_checkpoints::hash.eq(hash),
                audit_checkpoints::mac.eq(&mac),
                audit_checkpoints::at.eq(loket_core::now().naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Loads (once per batch) and returns the head of a tenant's audit chain.
pub(crate) fn audit_head(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: TenantId,
) -> Result<(i64, String)> {
    if let Some(h) = ctx.audit_heads.get(&tenant) {
        return Ok(h.clone());
    }
    let head: Option<(i64, String)> = audit_events::table
        .filter(audit_events::tenant_id.eq(tenant.to_string()))
        .order(audit_events::seq.desc())
        .select((audit_events::seq, audit_events::hash))
        .first(conn)
        .optional()?;
    let head = head.unwrap_or((0, loket_core::GENESIS_HASH.to_string()));
    ctx.audit_heads.insert(tenant, head.clone());
    Ok(head)
}
