//! One tenant's index on disk, and its writer thread.
//!
//! Layout: `<data_dir>/index/<tenant_id>/CURRENT` names the generation directory that
//! searches use (`v<schema>-<uuid>`). A rebuild writes a new generation next to it and
//! switches `CURRENT` (atomic rename) only when the new one is complete; leftover
//! directories of an interrupted rebuild are removed at the next open.
//!
//! The commit payload of every generation is JSON `{"seq": N, "schema": V}`: every outbox
//! entry up to `N` is in the index. After a crash the indexer resumes after `N`; documents
//! are replaced by message id, so replaying an entry never doubles a message.

use crate::analysis;
use crate::error::SearchError;
use crate::schema::{Fields, MessageDoc, SCHEMA_VERSION, build_schema, fields_of};
use loket_core::TenantId;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

/// An idle index commits its resume point after this many outbox entries went by.
const ADVANCE_COMMIT_EVERY: i64 = 10_000;

/// How the writer batches commits. A commit happens when any limit is reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CommitPolicy {
    /// Commit after this many added documents.
    pub max_docs: usize,
    /// Commit after this many bytes of text.
    pub max_bytes: usize,
    /// Commit at most this long after the first uncommitted document: the upper bound of
    /// "ingested → searchable" added by the index.
    pub max_delay_ms: u64,
    /// Memory budget of a live writer (tantivy's minimum is 15 MB).
    pub writer_memory_bytes: usize,
    /// Memory budget of a rebuild writer. Rebuilds run one at a time (several tenants
    /// rebuilt at once, each with its own budget, took a server past 900 MiB).
    pub rebuild_memory_bytes: usize,
    /// Indexing threads of a rebuild writer.
    pub rebuild_threads: usize,
}

impl Default for CommitPolicy {
    fn default() -> Self {
        CommitPolicy {
            max_docs: 10_000,
            max_bytes: 32 * 1024 * 1024,
            max_delay_ms: 250,
            writer_memory_bytes: 48 * 1024 * 1024,
            rebuild_memory_bytes: 96 * 1024 * 1024,
            rebuild_threads: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    pub seq: i64,
    pub schema: u32,
}

/// One opened generation: what searches run against.
pub struct Generation {
    pub dir: PathBuf,
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub schema_version: u32,
    /// Dense conversation numbers for exact conversation counts (see collect.rs).
    pub conversations: Arc<crate::collect::ConversationOrdinals>,
}

impl Generation {
    /// The last committed payload (seq 0 for a fresh index).
    pub fn payload(&self) -> Result<Payload, SearchError> {
        let meta = self.index.load_metas()?;
        Ok(meta
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Payload>(p).ok())
            .unwrap_or(Payload {
                seq: 0,
                schema: self.schema_version,
            }))
    }

    pub(crate) fn open_dir(dir: &Path) -> Result<Generation, SearchError> {
        let index = Index::open_in_dir(dir)?;
        analysis::register(&index);
        let fields = fields_of(&index.schema()).ok_or_else(|| {
            SearchError::Internal(format!("index {} lacks loket fields", dir.display()))
        })?;
        let schema_version = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v'))
            .and_then(|n| n.split('-').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Self::with_index(dir, index, fields, schema_version)
    }

    fn with_index(
        dir: &Path,
        index: Index,
        fields: Fields,
        schema_version: u32,
    ) -> Result<Generation, SearchError> {
        let conversations = Arc::new(crate::collect::ConversationOrdinals::default());
        let warmer: Arc<dyn tantivy::Warmer> = conversations.clone();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .warmers(vec![Arc::downgrade(&warmer)])
            .try_into()?;
        Ok(Generation {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            schema_version,
            conversations,
        })
    }

    /// Creates an empty generation with the current schema.
    pub fn create(root: &Path) -> Result<Generation, SearchError> {
        let dir = root.join(format!(
            "v{SCHEMA_VERSION}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| SearchError::io(&dir, e))?;
        let (schema, fields) = build_schema();
        let index = Index::create_in_dir(&dir, schema)?;
        analysis::register(&index);
        Self::with_index(&dir, index, fields, SCHEMA_VERSION)
    }

    pub fn is_current_schema(&self) -> bool {
        self.schema_version == SCHEMA_VERSION
    }

    pub fn writer(&self, memory: usize, threads: usize) -> Result<IndexWriter, SearchError> {
        Ok(self
            .index
            .writer_with_num_threads(threads.max(1), memory.max(15_000_000))?)
    }
}

/// Commits with the payload and makes the commit visible to searches.
pub fn commit(writer: &mut IndexWriter, reader: &IndexReader, seq: i64) -> Result<(), SearchError> {
    let payload = serde_json::to_string(&Payload {
        seq,
        schema: SCHEMA_VERSION,
    })
    .map_err(|e| SearchError::Internal(e.to_string()))?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit()?;
    reader.reload()?;
    Ok(())
}

/// Adds a document, replacing any earlier document of the same message.
pub fn replace_doc(
    writer: &IndexWriter,
    fields: &Fields,
    doc: &MessageDoc,
) -> Result<(), SearchError> {
    writer.delete_term(Term::from_field_text(
        fields.message_id,
        &doc.message_id.to_string(),
    ));
    writer.add_document(doc.to_document(fields))?;
    Ok(())
}

fn current_file(root: &Path) -> PathBuf {
    root.join("CURRENT")
}

/// Points `CURRENT` at `gen_dir` atomically and durably.
pub fn set_current(root: &Path, gen_dir: &Path) -> Result<(), SearchError> {
    let name = gen_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| SearchError::Internal("bad generation dir".into()))?;
    let tmp = root.join("CURRENT.tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(|e| SearchError::io(&tmp, e))?;
        f.write_all(name.as_bytes())
            .map_err(|e| SearchError::io(&tmp, e))?;
        f.sync_all().map_err(|e| SearchError::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, current_file(root)).map_err(|e| SearchError::io(root, e))?;
    if let Ok(d) = std::fs::File::open(root) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes every generation directory except `keep`.
pub fn remove_other_generations(root: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir()
            && p != keep
            && let Err(err) = std::fs::remove_dir_all(&p)
        {
            tracing::warn!(dir = %p.display(), error = %err, "could not remove old index generation");
        }
    }
}

/// Opens the tenant's current generation, if there is a usable one.
pub fn open_current(root: &Path) -> Result<Option<Generation>, SearchError> {
    let cf = current_file(root);
    let name = match std::fs::read_to_string(&cf) {
        Ok(n) => n.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SearchError::io(cf, e)),
    };
    let dir = root.join(&name);
    match Generation::open_dir(&dir) {
        Ok(g) => {
            remove_other_generations(root, &dir);
            Ok(Some(g))
        }
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "index generation unusable, it will be rebuilt");
            Ok(None)
        }
    }
}

/// A tenant's index as searches see it, plus the progress of its writer.
pub struct TenantIndex {
    pub tenant: TenantId,
    pub root: PathBuf,
    live: RwLock<Option<Arc<Generation>>>,
    /// Every outbox entry up to this seq is visible to searches.
    pub processed: AtomicI64,
}

impl TenantIndex {
    pub fn new(tenant: TenantId, root: PathBuf, live: Option<Generation>, processed: i64) -> Self {
        TenantIndex {
            tenant,
            root,
            live: RwLock::new(live.map(Arc::new)),
            processed: AtomicI64::new(processed),
        }
    }

    pub fn live(&self) -> Option<Arc<Generation>> {
        match self.live.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn set_live(&self, g: Arc<Generation>) {
        match self.live.write() {
            Ok(mut l) => *l = Some(g),
            Err(p) => *p.into_inner() = Some(g),
        }
    }
}

/// Commands to a writer thread.
pub enum Cmd {
    /// Index these documents (replacing by id); they come from outbox entries up to `seq`.
    Add { seq: i64, docs: Vec<MessageDoc> },
    /// Every outbox entry up to `seq` has been dispatched; none was for this tenant.
    Advance(i64),
    /// Switch writing to a freshly rebuilt generation; it becomes visible at `Publish`.
    Swap(Arc<Generation>),
    /// Make the swapped generation the one searches use.
    Publish,
    /// Commit now and answer.
    Flush(std::sync::mpsc::SyncSender<Result<(), String>>),
    /// Commit and stop.
    Shutdown,
    /// Stop without committing (tests: simulates a crash).
    Abandon,
}

pub struct WriterHandle {
    pub tx: SyncSender<Cmd>,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts the writer thread of a tenant. `gn` is the generation to write into; `None`
/// (or an old schema) means: write nothing until a rebuilt generation is swapped in.
pub fn spawn_writer(
    idx: Arc<TenantIndex>,
    policy: CommitPolicy,
    notify: Arc<dyn Fn() + Send + Sync>,
) -> Result<WriterHandle, SearchError> {
    // A few batches in flight keep the writer busy; more only hold documents in memory
    // while the indexer catches up (64 held ~200 MiB of text at 1M messages).
    let (tx, rx) = std::sync::mpsc::sync_channel::<Cmd>(4);
    let initial = idx.live().filter(|g| g.is_current_schema());
    let writer = match &initial {
        Some(g) => Some(g.writer(policy.writer_memory_bytes, 1)?),
        None => None,
    };
    let committed = match &initial {
        Some(g) => g.payload()?.seq,
        None => 0,
    };
    let name = format!("loket-index-{}", &idx.tenant.to_string()[..8]);
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let mut w = WriterLoop {
                idx,
                policy,
                notify,
                gn: initial,
                writer,
                pending_docs: 0,
                pending_bytes: 0,
                deadline: None,
                last_seq: None,
                swapped: None,
                publish_requested: false,
                committed,
            };
            w.run(rx);
        })
        .map_err(|e| SearchError::Internal(format!("cannot start writer thread: {e}")))?;
    Ok(WriterHandle {
        tx,
        thread: Some(thread),
    })
}

struct WriterLoop {
    idx: Arc<TenantIndex>,
    policy: CommitPolicy,
    notify: Arc<dyn Fn() + Send + Sync>,
    gn: Option<Arc<Generation>>,
    writer: Option<IndexWriter>,
    pending_docs: usize,
    pending_bytes: usize,
    deadline: Option<Instant>,
    /// Highest seq handed to this writer.
    last_seq: Option<i64>,
    /// Set between Swap and Publish: the new generation is written but not yet visible.
    swapped: Option<Arc<Generation>>,
    publish_requested: bool,
    /// Seq of the last commit of the current generation.
    committed: i64,
}

impl WriterLoop {
    fn run(&mut self, rx: Receiver<Cmd>) {
        loop {
            let wait = match self.deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            match rx.recv_timeout(wait) {
                Ok(Cmd::Add { seq, docs }) => {
                    self.last_seq = Some(seq);
                    if let (Some(w), Some(g)) = (&self.writer, &self.gn) {
                        for d in &docs {
                            self.pending_bytes += d.approx_bytes();
                            if let Err(e) = replace_doc(w, &g.fields, d) {
                                tracing::error!(tenant = %self.idx.tenant, error = %e, "indexing a message failed");
                            }
                        }
                        self.pending_docs += docs.len().max(1);
                        if self.deadline.is_none() {
                            self.deadline = Some(
                                Instant::now() + Duration::from_millis(self.policy.max_delay_ms),
                            );
                        }
                    }
                }
                Ok(Cmd::Advance(seq)) => {
                    self.last_seq = Some(seq);
                    if self.pending_docs == 0 && self.swapped.is_none() && self.writer.is_some() {
                        // Nothing pending: the visible state already covers `seq`. Persist
                        // the new resume point now and then, so restarts skip less.
                        if seq - self.committed >= ADVANCE_COMMIT_EVERY
                            && let Err(e) = self.commit_now()
                        {
                            tracing::warn!(tenant = %self.idx.tenant, error = %e, "payload commit failed");
                        }
                        self.publish_progress(seq);
                    }
                }
                Ok(Cmd::Swap(g)) => {
                    if let Err(e) = self.commit_now() {
                        tracing::error!(tenant = %self.idx.tenant, error = %e, "commit before swap failed");
                    }
                    self.writer = None; // releases the old generation's lock
                    match g.writer(self.policy.writer_memory_bytes, 1) {
                        Ok(w) => {
                            self.writer = Some(w);
                            self.committed = g.payload().map(|p| p.seq).unwrap_or(0);
                            self.gn = Some(g.clone());
                            self.swapped = Some(g);
                        }
                        Err(e) => {
                            tracing::error!(tenant = %self.idx.tenant, error = %e, "cannot open rebuilt index")
                        }
                    }
                }
                Ok(Cmd::Publish) => {
                    if self.swapped.is_some() {
                        self.publish_requested = true;
                        self.try_publish();
                    }
                }
                Ok(Cmd::Flush(ack)) => {
                    let r = self.commit_now();
                    let _ = ack.send(r.map_err(|e| e.to_string()));
                }
                Ok(Cmd::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.commit_now();
                    if let Some(w) = self.writer.take() {
                        let _ = w.wait_merging_threads();
                    }
                    return;
                }
                Ok(Cmd::Abandon) => {
                    // Dropping the writer discards everything not committed.
                    self.writer = None;
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let due = self.deadline.is_some_and(|d| Instant::now() >= d)
                || self.pending_docs >= self.policy.max_docs
                || self.pending_bytes >= self.policy.max_bytes;
            if due {
                if let Err(e) = self.commit_now() {
                    tracing::error!(tenant = %self.idx.tenant, error = %e, "index commit failed");
                    // Try again soon rather than never.
                    self.deadline = Some(Instant::now() + Duration::from_secs(1));
                } else if self.publish_requested {
                    self.try_publish();
                }
            }
        }
    }

    /// Commits the swapped-in generation and makes it the one searches use.
    fn try_publish(&mut self) {
        if let Err(e) = self.commit_now() {
            tracing::error!(tenant = %self.idx.tenant, error = %e, "commit of rebuilt index failed; retrying");
            self.deadline = Some(Instant::now() + Duration::from_secs(1));
            return;
        }
        self.publish_requested = false;
        if let Some(g) = self.swapped.take() {
            if let Err(e) = set_current(&self.idx.root, &g.dir) {
                tracing::error!(tenant = %self.idx.tenant, error = %e, "cannot switch CURRENT");
            }
            self.idx.set_live(g.clone());
            remove_other_generations(&self.idx.root, &g.dir);
            if let Some(s) = self.last_seq {
                self.publish_progress(s);
            }
        }
    }

    fn publish_progress(&self, seq: i64) {
        self.idx.processed.store(seq, Ordering::SeqCst);
        (self.notify)();
    }

    fn commit_now(&mut self) -> Result<(), SearchError> {
        let (Some(w), Some(g), Some(seq)) = (self.writer.as_mut(), self.gn.as_ref(), self.last_seq)
        else {
            return Ok(());
        };
        if self.pending_docs == 0 && self.committed >= seq {
            return Ok(());
        }
        commit(w, &g.reader, seq)?;
        self.committed = seq;
        self.pending_docs = 0;
        self.pending_bytes = 0;
        self.deadline = None;
        if self.swapped.is_none() {
            self.publish_progress(seq);
        }
        Ok(())
    }
}
