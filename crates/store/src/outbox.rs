//! The outbox's consumers: every task that acts on committed writes (the live relay, the
//! mail sender, the search indexer, and whatever comes next) reads the outbox through one
//! loop, [`run_consumer`], instead of a loop of its own.
//!
//! A consumer implements [`OutboxConsumer`]: where it starts ([`Resume`]), how it paces its
//! reads ([`Pace`]) and what it does with a batch ([`OutboxConsumer::handle`]). The loop
//! reads batches after the consumer's position in sequence order, hands each over exactly
//! once when the handler succeeds, retries a failed batch with exponential backoff (the
//! same entries again, so a handler must tolerate a batch it partly handled before),
//! saves the position in `consumer_cursors` for consumers that keep it there, and, once it
//! has caught up, waits on the store's head watch (writes of this process), the
//! consumer's own wake-up and a poll interval (writes of other nodes do not move this
//! process's watch) instead of reading in a busy loop.

use crate::models::{parse, ts, utc};
use crate::queries::OutboxKind;
use crate::schema::{consumer_cursors, outbox};
use crate::{Result, Store};
use diesel::prelude::*;
use loket_core::{ConversationId, MessageId, TenantId, Timestamp};
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// One outbox row: what happened (`kind`) to which tenant's message or conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub tenant_id: TenantId,
    pub kind: OutboxKind,
    pub message_id: Option<MessageId>,
    pub conversation_id: Option<ConversationId>,
    pub created_at: Timestamp,
}

type OutboxRowTuple = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    chrono::NaiveDateTime,
);

impl Store {
    /// Outbox rows after `after_seq`, in sequence order. Cross-tenant by design: consumers
    /// are system tasks that route by `tenant_id`.
    pub async fn read_outbox(&self, after_seq: i64, limit: i64) -> Result<Vec<OutboxEntry>> {
        self.read(move |c| {
            let rows: Vec<OutboxRowTuple> = outbox::table
                .filter(outbox::seq.gt(after_seq))
                .order(outbox::seq.asc())
                .limit(limit)
                .select((
                    outbox::seq,
                    outbox::tenant_id,
                    outbox::kind,
                    outbox::message_id,
                    outbox::conversation_id,
                    outbox::created_at,
                ))
                .load(c)?;
            rows.into_iter()
                .map(|(seq, t, k, m, conv, at)| {
                    Ok(OutboxEntry {
                        seq,
                        tenant_id: parse("tenant id", &t)?,
                        kind: OutboxKind::parse(&k)?,
                        message_id: m.map(|m| parse("message id", &m)).transpose()?,
                        conversation_id: conv.map(|x| parse("conversation id", &x)).transpose()?,
                        created_at: utc(at),
                    })
                })
                .collect()
        })
        .await
    }

    /// A consumer's stored position (0 when it never ran). Also the IMAP poller's
    /// UIDVALIDITY/UID marks: any named number a system task keeps across restarts.
    pub async fn cursor(&self, name: &str) -> Result<i64> {
        let name = name.to_owned();
        self.read(move |c| {
            Ok(consumer_cursors::table
                .filter(consumer_cursors::name.eq(name))
                .select(consumer_cursors::seq)
                .first(c)
                .optional()?
                .unwrap_or(0))
        })
        .await
    }

    pub async fn save_cursor(&self, name: &str, seq: i64) -> Result<()> {
        let name = name.to_owned();
        self.write(move |c, _| {
            diesel::delete(consumer_cursors::table.filter(consumer_cursors::name.eq(&name)))
                .execute(c)?;
            diesel::insert_into(consumer_cursors::table)
                .values((
                    consumer_cursors::name.eq(&name),
                    consumer_cursors::seq.eq(seq),
                    consumer_cursors::updated_at.eq(ts(loket_core::now())),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
    }
}

/// A position in the outbox that reads forward one batch at a time, without waiting. The
/// reading half of [`run_consumer`]; on its own for a bounded replay (the indexer replays
/// what arrived during a rebuild with it).
pub struct OutboxCursor {
    store: Store,
    after: i64,
    batch: i64,
}

impl OutboxCursor {
    /// Reads the entries after `after`, at most `batch` per read.
    pub fn new(store: Store, after: i64, batch: i64) -> OutboxCursor {
        OutboxCursor {
            store,
            after,
            batch: batch.max(1),
        }
    }

    /// The last sequence number read (everything up to it has been returned).
    pub fn position(&self) -> i64 {
        self.after
    }

    /// The next batch after the position, advancing past it; empty when caught up.
    pub async fn next_batch(&mut self) -> Result<Vec<OutboxEntry>> {
        let entries = self.store.read_outbox(self.after, self.batch).await?;
        if let Some(last) = entries.last() {
            self.after = last.seq;
        }
        Ok(entries)
    }

    /// Like [`next_batch`](Self::next_batch), but never past `through`: entries after it
    /// are left for later. Empty once the position has reached `through`.
    pub async fn next_batch_through(&mut self, through: i64) -> Result<Vec<OutboxEntry>> {
        if self.after >= through {
            return Ok(Vec::new());
        }
        let mut entries = self.store.read_outbox(self.after, self.batch).await?;
        entries.retain(|e| e.seq <= through);
        self.after = entries.last().map_or(through, |e| e.seq);
        Ok(entries)
    }
}

/// Where a consumer starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// At the current head: only what is committed from now on (live events, which are
    /// ephemeral). The position is kept in memory only.
    Head,
    /// After this sequence number, which the consumer keeps itself (the indexer: in its
    /// index's commit payload). Kept in memory by the loop.
    After(i64),
    /// After the position saved under [`OutboxConsumer::name`] in `consumer_cursors` (0
    /// when it never ran); the loop saves it again after every batch.
    Saved,
}

/// What a handled batch leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Every entry of the batch, and all before it, is final.
    All,
    /// Only entries up to this seq are final (a low-water mark: the mail sender still
    /// retries later entries). A saved cursor stops here, so a restart reads the rest
    /// again; reading goes on after the batch.
    Through(i64),
}

/// The batch the loop hands to [`OutboxConsumer::handle`].
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The position before this batch: every entry up to it was handled before.
    pub after: i64,
    /// The entries after `after`, in sequence order, gap-free; empty when the loop has
    /// caught up (the consumer may do work that is due, e.g. retries).
    pub entries: &'a [OutboxEntry],
}

impl Batch<'_> {
    /// The position after this batch: its last seq, or `after` when it is empty.
    pub fn through(&self) -> i64 {
        self.entries.last().map_or(self.after, |e| e.seq)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How a consumer reads and waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pace {
    /// Most entries per batch.
    pub batch: i64,
    /// After a batch that was not full, wait this long before reading again, so that one
    /// read serves many group commits under load (zero: read as soon as the head moves).
    pub coalesce: Duration,
    /// Once caught up, read again after this long even without a wake-up: writes of other
    /// nodes do not move this process's head watch.
    pub poll: Duration,
    /// Wait before the first retry after an error; doubled per further error.
    pub retry_first: Duration,
    /// The longest wait between retries.
    pub retry_max: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            batch: 500,
            coalesce: Duration::ZERO,
            poll: Duration::from_secs(1),
            retry_first: Duration::from_millis(200),
            retry_max: Duration::from_secs(30),
        }
    }
}

/// A task that acts on the outbox. Run it with [`run_consumer`].
///
/// A new consumer picks a unique [`name`](Self::name), decides where it starts
/// ([`start`](Self::start): by default its saved cursor) and makes
/// [`handle`](Self::handle) safe to call again with the same batch after an error
/// (retried entries arrive again, in order).
pub trait OutboxConsumer: Send {
    type Error: std::fmt::Display + Send;

    /// For logs, and the key of its saved cursor under [`Resume::Saved`].
    fn name(&self) -> &str;

    /// How it reads and waits.
    fn pace(&self) -> Pace {
        Pace::default()
    }

    /// Prepares the consumer and says where it starts. Retried with backoff on error
    /// (unless [`is_fatal`](Self::is_fatal)).
    fn start(&mut self, store: &Store) -> impl Future<Output = Result<Resume, Self::Error>> + Send {
        let _ = store;
        async { Ok(Resume::Saved) }
    }

    /// Acts on one batch. An error retries the same batch after a backoff, unless it
    /// [`is_fatal`](Self::is_fatal).
    fn handle(
        &mut self,
        batch: Batch<'_>,
    ) -> impl Future<Output = Result<Handled, Self::Error>> + Send;

    /// Resolves when the consumer has work of its own while the outbox is quiet (a retry
    /// that is due, a request on a channel of its own); the loop then reads and calls
    /// `handle`, with an empty batch if nothing is new. Must be cancel-safe: the loop
    /// drops it when the outbox moves first. Default: never.
    fn wake(&mut self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }

    /// Errors that retrying cannot cure; they end [`run_consumer`] with the error.
    fn is_fatal(&self, error: &Self::Error) -> bool {
        let _ = error;
        false
    }
}

/// Doubling waits between `first` and `max`, reset by a success.
struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(pace: &Pace) -> Backoff {
        let first = pace.retry_first.max(Duration::from_millis(1));
        Backoff {
            first,
            max: pace.retry_max.max(first),
            next: first,
        }
    }

    fn step(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(self.max);
        now
    }

    fn reset(&mut self) {
        self.next = self.first;
    }
}

/// True when the consumer should stop: shutdown was asked, or nobody can ask any more
/// (its sender is gone).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}

/// Sleeps `d`; true when shutdown came first.
async fn sleep_or_stop(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => stopping(shutdown),
        r = shutdown.changed() => r.is_err() || *shutdown.borrow(),
    }
}

/// Runs `consumer` until `shutdown` becomes true (or its sender is dropped): `Ok(())`,
/// or until its handler returns a fatal error: that error. Errors reading the outbox or
/// saving the cursor are retried with backoff, never fatal.
pub async fn run_consumer<C: OutboxConsumer>(
    store: &Store,
    consumer: &mut C,
    mut shutdown: watch::Receiver<bool>,
) -> std::result::Result<(), C::Error> {
    let pace = consumer.pace();
    let mut backoff = Backoff::new(&pace);
    let mut head = store.outbox_watch();
    let mut head_open = true;
    let (resume, start) = loop {
        if stopping(&shutdown) {
            return Ok(());
        }
        let started = match consumer.start(store).await {
            Err(e) if consumer.is_fatal(&e) => return Err(e),
            Err(e) => Err(e.to_string()),
            Ok(Resume::Saved) => match store.cursor(consumer.name()).await {
                Ok(seq) => Ok((Resume::Saved, seq)),
                Err(e) => Err(format!("cannot read its cursor: {e}")),
            },
            Ok(Resume::Head) => Ok((Resume::Head, *head.borrow_and_update())),
            Ok(Resume::After(seq)) => Ok((Resume::After(seq), seq)),
        };
        match started {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!(consumer = consumer.name(), error = %e, "outbox consumer cannot start; retrying");
                if sleep_or_stop(backoff.step(), &mut shutdown).await {
                    return Ok(());
                }
            }
        }
    };
    backoff.reset();
    let mut saved = start;
    let mut cursor = OutboxCursor::new(store.clone(), start, pace.batch);
    tracing::debug!(
        consumer = consumer.name(),
        after = start,
        "outbox consumer started"
    );
    loop {
        if stopping(&shutdown) {
            return Ok(());
        }
        let after = cursor.position();
        let entries = match cursor.next_batch().await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(consumer = consumer.name(), error = %e, "reading the outbox failed; retrying");
                if sleep_or_stop(backoff.step(), &mut shutdown).await {
                    return Ok(());
                }
                continue;
            }
        };
        let batch = Batch {
            after,
            entries: &entries,
        };
        let handled = loop {
            match consumer.handle(batch).await {
                Ok(h) => break h,
                Err(e) if consumer.is_fatal(&e) => return Err(e),
                Err(e) => {
                    tracing::warn!(consumer = consumer.name(), error = %e, after, "handling outbox entries failed; retrying");
                    if sleep_or_stop(backoff.step(), &mut shutdown).await {
                        return Ok(());
                    }
                }
            }
        };
        backoff.reset();
        if resume == Resume::Saved {
            let done = match handled {
                Handled::All => batch.through(),
                Handled::Through(seq) => seq.min(batch.through()),
            };
            if done != saved {
                match store.save_cursor(consumer.name(), done).await {
                    Ok(()) => saved = done,
                    // Tried again after the next batch; meanwhile a restart repeats a little.
                    Err(e) => {
                        tracing::warn!(consumer = consumer.name(), error = %e, "saving the outbox cursor failed")
                    }
                }
            }
        }
        if i64::try_from(entries.len()).unwrap_or(i64::MAX) >= pace.batch {
            continue; // more to read
        }
        if !entries.is_empty() && !pace.coalesce.is_zero() {
            if sleep_or_stop(pace.coalesce, &mut shutdown).await {
                return Ok(());
            }
            continue;
        }
        if *head.borrow_and_update() > cursor.position() {
            continue; // committed while we handled the batch
        }
        tokio::select! {
            r = head.changed(), if head_open => head_open = r.is_ok(),
            () = consumer.wake() => {}
            () = tokio::time::sleep(pace.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}
