//! `SearchService`: the public face of this crate (see the crate docs for wiring).

use crate::collect::{FastSet, Key, PageCollector, Sort, all_ids};
use crate::compile::Compiler;
use crate::error::SearchError;
use crate::extract::{ExtractLimits, attachment_text, wants_text};
use crate::index::{
    Cmd, CommitPolicy, Generation, TenantIndex, WriterHandle, commit, open_current,
    remove_other_generations, set_current, spawn_writer,
};
use crate::query::{QueryLimits, parse};
use crate::schema::MessageDoc;
use crate::snippet::Snippeter;
use base64::Engine;
use loket_core::{
    AuditAction, AuditSubject, Channel, ConversationId, Direction, Message, MessageId, Principal,
    TenantId, Timestamp,
};
use loket_store::{OutboxEntry, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::schema::Value;
use tantivy::{DocAddress, Searcher, TantivyDocument};
use tokio::sync::{mpsc, oneshot, watch};

/// Settings of the search service (config section `[search]`, environment
/// `LOKET_SEARCH__…`). Every limit is documented in `docs/search.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchConfig {
    pub limits: QueryLimits,
    pub commit: CommitPolicy,
    pub extract: ExtractLimits,
    /// Page size when the request gives none.
    pub default_page_size: usize,
    /// Largest page size a request may ask for.
    pub max_page_size: usize,
    /// How long a paging cursor keeps its index snapshot pinned.
    pub cursor_ttl_secs: u64,
    /// Most snapshots pinned at once (oldest are dropped first).
    pub max_pinned: usize,
    /// Outbox entries read per batch by the indexer.
    pub outbox_batch: i64,
    /// How long `verify_index` waits for the indexer to catch up.
    pub verify_wait_secs: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            limits: QueryLimits::default(),
            commit: CommitPolicy::default(),
            extract: ExtractLimits::default(),
            default_page_size: 20,
            max_page_size: 1_000,
            cursor_ttl_secs: 600,
            max_pinned: 1_024,
            outbox_batch: 1_000,
            verify_wait_secs: 120,
        }
    }
}

/// One search request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SearchRequest {
    pub query: String,
    pub sort: Sort,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (default `default_page_size`, at most `max_page_size`).
    pub limit: Option<usize>,
    /// Leave out snippets (faster; the benchmark measures both).
    pub no_snippets: bool,
}

impl SearchRequest {
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            ..Default::default()
        }
    }
}

/// One matching message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub channel: Channel,
    pub direction: Direction,
    pub received_at: Timestamp,
    pub subject: Option<String>,
    pub from: String,
    /// HTML-escaped text with `<mark>` around matches; empty when snippets were not asked.
    pub snippet_html: String,
    /// BM25 score (0 when sorted by date).
    pub score: f32,
}

/// Hits of one conversation on this page, in page order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitGroup {
    pub conversation_id: ConversationId,
    /// Indexes into `SearchPage::hits`.
    pub hits: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Exact number of matching messages (no cap, no time window).
    pub total_messages: u64,
    /// Exact number of distinct conversations with at least one matching message.
    pub total_conversations: u64,
    pub hits: Vec<SearchHit>,
    /// The page's hits grouped by conversation (first appearance order).
    pub groups: Vec<HitGroup>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Result of [`SearchService::verify_index`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDiff {
    pub tenant: TenantId,
    /// Messages in the archive.
    pub archived: u64,
    /// Documents in the index.
    pub indexed: u64,
    pub missing_in_index: Vec<MessageId>,
    pub extra_in_index: Vec<MessageId>,
    /// Messages indexed more than once.
    pub duplicated_in_index: Vec<MessageId>,
    /// Outbox seq the checked index snapshot covers, and the archive's latest seq.
    pub index_seq: i64,
    pub head_seq: i64,
}

impl IndexDiff {
    /// True when the index holds exactly the archived messages.
    pub fn is_clean(&self) -> bool {
        self.missing_in_index.is_empty()
            && self.extra_in_index.is_empty()
            && self.duplicated_in_index.is_empty()
    }
}

struct Pin {
    tenant: TenantId,
    searcher: Searcher,
    generation: Arc<Generation>,
    expires: Instant,
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    /// tenant
    t: TenantId,
    /// hash of query text and sort
    h: u64,
    /// pinned snapshot id
    p: u64,
    /// last key: primary and message id (hex)
    k: i64,
    i: String,
    /// hits returned so far
    n: u64,
}

fn query_hash(q: &str, sort: Sort) -> u64 {
    // FNV-1a: only to detect a cursor reused with another query.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in q.bytes().chain([sort as u8]) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Where finished rebuilds report: the tenant and its new generation with its seq.
type RebuildTx = mpsc::UnboundedSender<(TenantId, Result<(Arc<Generation>, i64), String>)>;

enum IndexerMsg {
    Reindex(TenantId, oneshot::Sender<Result<(), String>>),
}

struct Inner {
    store: Store,
    root: PathBuf,
    cfg: SearchConfig,
    tenants: Mutex<HashMap<TenantId, Arc<TenantIndex>>>,
    writers: Mutex<HashMap<TenantId, WriterHandle>>,
    dispatched: AtomicI64,
    progress: watch::Sender<i64>,
    pins: Mutex<HashMap<u64, Pin>>,
    next_pin: AtomicU64,
    running: AtomicBool,
    requests: Mutex<Option<mpsc::UnboundedSender<IndexerMsg>>>,
    /// One rebuild at a time: each holds a writer with `rebuild_memory_bytes`.
    rebuilds: tokio::sync::Semaphore,
}

/// Search over the archive: tantivy index per tenant, fed by the outbox. Cheap to clone.
#[derive(Clone)]
pub struct SearchService {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// How long the indexer waits, once it has caught up with the outbox, before reading it
/// again. Under load one read of the outbox and one load of the messages then serve many
/// group commits: chasing each commit with reads of its own (statements prepared anew
/// for every `IN (…)` list) took 40 % of the server's CPU in the ingest benchmark. Adds at
/// most this much to "searchable after ack" (target ≤ 1 s; measured p99 ≈ 0.4 s).
const OUTBOX_COALESCE: Duration = Duration::from_millis(40);

impl SearchService {
    /// Opens the indexes under `<data_dir>/index/`. Does not start indexing: call
    /// [`SearchService::spawn_indexer`].
    pub async fn open(
        store: Store,
        data_dir: &Path,
        cfg: SearchConfig,
    ) -> Result<SearchService, SearchError> {
        let root = data_dir.join("index");
        std::fs::create_dir_all(&root).map_err(|e| SearchError::io(&root, e))?;
        let (progress, _) = watch::channel(0);
        Ok(SearchService {
            inner: Arc::new(Inner {
                store,
                root,
                cfg,
                tenants: Mutex::new(HashMap::new()),
                writers: Mutex::new(HashMap::new()),
                // -1 until the indexer has registered every tenant (see `wait_indexed`).
                dispatched: AtomicI64::new(-1),
                progress,
                pins: Mutex::new(HashMap::new()),
                next_pin: AtomicU64::new(1),
                running: AtomicBool::new(false),
                requests: Mutex::new(None),
                rebuilds: tokio::sync::Semaphore::new(1),
            }),
        })
    }

    pub fn config(&self) -> &SearchConfig {
        &self.inner.cfg
    }

    fn tenant_root(&self, tenant: TenantId) -> PathBuf {
        self.inner.root.join(tenant.to_string())
    }

    /// The tenant's index handle, opening its current generation on first use.
    fn tenant_index(&self, tenant: TenantId) -> Result<Arc<TenantIndex>, SearchError> {
        if let Some(t) = lock(&self.inner.tenants).get(&tenant) {
            return Ok(t.clone());
        }
        let root = self.tenant_root(tenant);
        std::fs::create_dir_all(&root).map_err(|e| SearchError::io(&root, e))?;
        let gn = open_current(&root)?;
        // Without a usable generation nothing is searchable yet: -1 keeps `wait_indexed`
        // waiting until the first build is published.
        let processed = match &gn {
            Some(g) if g.is_current_schema() => g.payload()?.seq,
            _ => -1,
        };
        let idx = Arc::new(TenantIndex::new(tenant, root, gn, processed));
        let mut map = lock(&self.inner.tenants);
        Ok(map.entry(tenant).or_insert(idx).clone())
    }

    /// Last outbox seq committed in the tenant's live index (0 if none).
    pub fn committed_seq(&self, tenant: TenantId) -> Result<i64, SearchError> {
        match self.tenant_index(tenant)?.live() {
            Some(g) => Ok(g.payload()?.seq),
            None => Ok(0),
        }
    }

    /// Outbox seq up to which the indexer has handed entries to the writers (tests).
    #[doc(hidden)]
    pub fn dispatched_seq(&self) -> i64 {
        self.inner.dispatched.load(Ordering::SeqCst)
    }

    /// Every outbox entry up to this seq is searchable (in every tenant's index).
    pub fn indexed_seq(&self) -> i64 {
        let d = self.inner.dispatched.load(Ordering::SeqCst);
        lock(&self.inner.tenants)
            .values()
            .map(|t| t.processed.load(Ordering::SeqCst))
            .fold(d, i64::min)
    }

    fn notify_progress(&self) {
        let v = self.indexed_seq();
        self.inner.progress.send_if_modified(|cur| {
            if *cur != v {
                *cur = v;
                true
            } else {
                false
            }
        });
    }

    /// Waits until every outbox entry up to `seq` is searchable. Needs a running indexer.
    pub async fn wait_indexed(&self, seq: i64) -> Result<(), SearchError> {
        let mut rx = self.inner.progress.subscribe();
        loop {
            if self.indexed_seq() >= seq {
                return Ok(());
            }
            // Progress can also come from writer threads between checks: poll as well.
            let _ = tokio::time::timeout(Duration::from_millis(50), rx.changed()).await;
        }
    }

    /// Starts the indexer: one task reading the outbox and one writer thread per tenant
    /// index. It stops (committing everything) when `shutdown` becomes `true`.
    pub fn spawn_indexer(
        &self,
        shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<Result<(), SearchError>> {
        let svc = self.clone();
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.inner.requests) = Some(tx);
        self.inner.running.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let r = svc.run_indexer(shutdown, rx).await;
            svc.inner.running.store(false, Ordering::SeqCst);
            svc.inner.dispatched.store(-1, Ordering::SeqCst);
            *lock(&svc.inner.requests) = None;
            svc.stop_writers(false).await;
            if let Err(e) = &r {
                tracing::error!(error = %e, "search indexer stopped");
            }
            r
        })
    }

    /// Stops all writer threads; `abandon` drops uncommitted work (simulated crash).
    async fn stop_writers(&self, abandon: bool) {
        let handles: Vec<WriterHandle> =
            lock(&self.inner.writers).drain().map(|(_, h)| h).collect();
        let _ = tokio::task::spawn_blocking(move || {
            for mut h in handles {
                let _ =
                    h.tx.send(if abandon { Cmd::Abandon } else { Cmd::Shutdown });
                if let Some(t) = h.thread.take() {
                    let _ = t.join();
                }
            }
        })
        .await;
    }

    /// Test hook: stops every writer *without committing*, as a crash would, and waits for
    /// the threads to end. The indexer task must have been stopped or aborted first.
    #[doc(hidden)]
    pub async fn simulate_crash(&self) {
        self.stop_writers(true).await;
    }

    async fn send(&self, tenant: TenantId, mut cmd: Cmd) -> Result<(), SearchError> {
        loop {
            let tx = match lock(&self.inner.writers).get(&tenant) {
                Some(h) => h.tx.clone(),
                None => return Err(SearchError::IndexerStopped),
            };
            match tx.try_send(cmd) {
                Ok(()) => return Ok(()),
                Err(std::sync::mpsc::TrySendError::Full(c)) => {
                    cmd = c;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                    return Err(SearchError::IndexerStopped);
                }
            }
        }
    }

    /// Registers the tenant with the indexer: writer thread, and a rebuild when its index
    /// is missing or has an old schema. Returns the seq the index already covers.
    async fn ensure_writer(
        &self,
        tenant: TenantId,
        rebuilds: &RebuildTx,
        covered: &mut HashMap<TenantId, i64>,
    ) -> Result<i64, SearchError> {
        if let Some(c) = covered.get(&tenant) {
            return Ok(*c);
        }
        let idx = self.tenant_index(tenant)?;
        let live = idx.live();
        let writable = live.as_ref().is_some_and(|g| g.is_current_schema());
        let svc = self.clone();
        let notify: Arc<dyn Fn() + Send + Sync> = Arc::new(move || svc.notify_progress());
        let h = spawn_writer(idx.clone(), self.inner.cfg.commit.clone(), notify)?;
        lock(&self.inner.writers).insert(tenant, h);
        let seq = if writable {
            live.map(|g| g.payload().map(|p| p.seq))
                .transpose()?
                .unwrap_or(0)
        } else {
            tracing::info!(%tenant, "index missing or of an older schema: rebuilding from the archive");
            self.start_rebuild(tenant, rebuilds.clone());
            i64::MAX // nothing from the live stream until the rebuild is swapped in
        };
        covered.insert(tenant, seq);
        Ok(seq)
    }

    fn start_rebuild(&self, tenant: TenantId, done: RebuildTx) {
        let svc = self.clone();
        tokio::spawn(async move {
            let r = svc
                .build_generation(tenant)
                .await
                .map_err(|e| e.to_string());
            let _ = done.send((tenant, r));
        });
    }

    /// Builds a complete new generation of the tenant's index from the archive.
    /// Returns it with the outbox seq it covers.
    async fn build_generation(
        &self,
        tenant: TenantId,
    ) -> Result<(Arc<Generation>, i64), SearchError> {
        let _turn = self
            .inner
            .rebuilds
            .acquire()
            .await
            .map_err(|_| SearchError::IndexerStopped)?;
        let store = &self.inner.store;
        // Every entry up to s0 is committed, so its message is in the scan below.
        let s0 = *store.outbox_watch().borrow();
        let root = self.tenant_root(tenant);
        let gn = Generation::create(&root)?;
        let c = &self.inner.cfg.commit;
        let writer = gn.writer(c.rebuild_memory_bytes, c.rebuild_threads)?;
        let fields = gn.fields;
        let mut after = None;
        let mut n = 0u64;
        loop {
            let ids = store.message_ids_page(tenant, after, 1_000).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = Some(last);
            let docs = self.load_docs(tenant, ids).await?;
            n += docs.len() as u64;
            for d in &docs {
                writer.add_document(d.to_document(&fields))?;
            }
        }
        let gn = Arc::new(gn);
        let g2 = gn.clone();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let mut writer = writer;
            commit(&mut writer, &g2.reader, s0)?;
            writer.wait_merging_threads()?;
            Ok(())
        })
        .await
        .map_err(|e| SearchError::Internal(e.to_string()))??;
        tracing::info!(%tenant, messages = n, seq = s0, "index generation built");
        Ok((gn, s0))
    }

    /// Loads messages and the text of their attachments.
    async fn load_docs(
        &self,
        tenant: TenantId,
        ids: Vec<MessageId>,
    ) -> Result<Vec<MessageDoc>, SearchError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let msgs = self.inner.store.messages_by_ids(tenant, ids).await?;
        let mut out = Vec::with_capacity(msgs.len());
        for m in msgs {
            let texts = self.attachment_texts(tenant, &m).await?;
            out.push(MessageDoc::from_message(&m, texts));
        }
        Ok(out)
    }

    async fn attachment_texts(
        &self,
        tenant: TenantId,
        m: &Message,
    ) -> Result<Vec<String>, SearchError> {
        let lim = &self.inner.cfg.extract;
        let mut texts = Vec::new();
        for a in &m.attachments {
            if !wants_text(&a.content_type, a.filename.as_deref(), a.size, lim) {
                continue;
            }
            if let Some(data) = self.inner.store.blob(tenant, &a.sha256).await?
                && let Some(t) =
                    attachment_text(&a.content_type, a.filename.as_deref(), data, lim).await
            {
                texts.push(t);
            }
        }
        Ok(texts)
    }

    async fn run_indexer(
        &self,
        mut shutdown: watch::Receiver<bool>,
        mut requests: mpsc::UnboundedReceiver<IndexerMsg>,
    ) -> Result<(), SearchError> {
        let store = self.inner.store.clone();
        let mut head_rx = store.outbox_watch();
        let head0 = *head_rx.borrow_and_update();
        let (rb_tx, mut rb_rx) = mpsc::unbounded_channel();
        let mut covered: HashMap<TenantId, i64> = HashMap::new();
        let mut waiting: HashMap<TenantId, Vec<oneshot::Sender<Result<(), String>>>> =
            HashMap::new();
        for t in store.tenants().await? {
            self.ensure_writer(t.id, &rb_tx, &mut covered).await?;
        }
        let mut pos = covered
            .values()
            .copied()
            .filter(|s| *s != i64::MAX)
            .min()
            .unwrap_or(head0)
            .min(head0);
        self.inner.dispatched.store(pos, Ordering::SeqCst);
        self.notify_progress();
        tracing::info!(resume_after = pos, "search indexer started");
        let batch_size = self.inner.cfg.outbox_batch.max(1);
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            // Finished rebuilds: swap in, replay what came since, publish.
            while let Ok((tenant, r)) = rb_rx.try_recv() {
                let r = match r {
                    Ok((gn, s0)) => self
                        .swap_in(tenant, gn, s0, pos)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match &r {
                    Ok(()) => {
                        covered.insert(tenant, pos);
                    }
                    Err(e) => tracing::error!(%tenant, error = %e, "index rebuild failed"),
                }
                for w in waiting.remove(&tenant).unwrap_or_default() {
                    let _ = w.send(r.clone());
                }
            }
            while let Ok(IndexerMsg::Reindex(tenant, reply)) = requests.try_recv() {
                self.ensure_writer(tenant, &rb_tx, &mut covered).await?;
                let first = !waiting.contains_key(&tenant);
                waiting.entry(tenant).or_default().push(reply);
                if first {
                    self.start_rebuild(tenant, rb_tx.clone());
                }
            }
            let batch = store.read_outbox(pos, batch_size).await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                self.inner.dispatched.store(pos, Ordering::SeqCst);
                let lagging: Vec<TenantId> = lock(&self.inner.tenants)
                    .values()
                    .filter(|t| t.processed.load(Ordering::SeqCst) < pos)
                    .map(|t| t.tenant)
                    .collect();
                for t in lagging {
                    if lock(&self.inner.writers).contains_key(&t) {
                        self.send(t, Cmd::Advance(pos)).await?;
                    }
                }
                self.notify_progress();
                tokio::select! {
                    _ = head_rx.changed() => {}
                    _ = shutdown.changed() => {}
                    m = rb_rx.recv() => {
                        if let Some((tenant, r)) = m {
                            let r = match r {
                                Ok((gn, s0)) => self.swap_in(tenant, gn, s0, pos).await.map_err(|e| e.to_string()),
                                Err(e) => Err(e),
                            };
                            if r.is_ok() {
                                covered.insert(tenant, pos);
                            } else if let Err(e) = &r {
                                tracing::error!(%tenant, error = %e, "index rebuild failed");
                            }
                            for w in waiting.remove(&tenant).unwrap_or_default() {
                                let _ = w.send(r.clone());
                            }
                        }
                    }
                    m = requests.recv() => {
                        if let Some(IndexerMsg::Reindex(tenant, reply)) = m {
                            self.ensure_writer(tenant, &rb_tx, &mut covered).await?;
                            let first = !waiting.contains_key(&tenant);
                            waiting.entry(tenant).or_default().push(reply);
                            if first {
                                self.start_rebuild(tenant, rb_tx.clone());
                            }
                        }
                    }
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
                continue;
            };
            let mut by_tenant: HashMap<TenantId, Vec<&OutboxEntry>> = HashMap::new();
            for e in &batch {
                by_tenant.entry(e.tenant_id).or_default().push(e);
            }
            for (tenant, entries) in &by_tenant {
                let cov = self.ensure_writer(*tenant, &rb_tx, &mut covered).await?;
                let ids: Vec<MessageId> = entries
                    .iter()
                    .filter(|e| e.seq > cov && e.kind.is_new_message())
                    .filter_map(|e| e.message_id)
                    .collect();
                let docs = if cov == i64::MAX {
                    Vec::new()
                } else {
                    self.load_docs(*tenant, ids).await?
                };
                self.send(*tenant, Cmd::Add { seq: last, docs }).await?;
            }
            let idle: Vec<TenantId> = lock(&self.inner.writers)
                .keys()
                .filter(|t| !by_tenant.contains_key(t))
                .copied()
                .collect();
            for t in idle {
                self.send(t, Cmd::Advance(last)).await?;
            }
            pos = last;
            self.inner.dispatched.store(pos, Ordering::SeqCst);
            self.notify_progress();
            if i64::try_from(batch.len()).unwrap_or(i64::MAX) < batch_size {
                // Caught up with the writer: wait for more before reading again, instead
                // of chasing every group commit with a read of its own.
                tokio::time::sleep(OUTBOX_COALESCE).await;
            }
        }
    }

    /// Switches the tenant's writer to a rebuilt generation, replays the outbox entries
    /// after `s0` up to `pos` into it, then makes it the one searches use.
    async fn swap_in(
        &self,
        tenant: TenantId,
        gn: Arc<Generation>,
        s0: i64,
        pos: i64,
    ) -> Result<(), SearchError> {
        self.send(tenant, Cmd::Swap(gn)).await?;
        let mut at = s0;
        while at < pos {
            let batch = self
                .inner
                .store
                .read_outbox(at, self.inner.cfg.outbox_batch.max(1))
                .await?;
            let Some(last) = batch.last().map(|e| e.seq.min(pos)) else {
                break;
            };
            let ids: Vec<MessageId> = batch
                .iter()
                .filter(|e| e.seq <= pos && e.tenant_id == tenant && e.kind.is_new_message())
                .filter_map(|e| e.message_id)
                .collect();
            let docs = self.load_docs(tenant, ids).await?;
            self.send(tenant, Cmd::Add { seq: last, docs }).await?;
            at = last;
        }
        self.send(tenant, Cmd::Advance(pos.max(s0))).await?;
        self.send(tenant, Cmd::Publish).await?;
        Ok(())
    }

    /// Rebuilds the tenant's index from the archive into a new directory; searches keep
    /// using the old index until the new one is complete. With a running indexer the
    /// indexer does it (and replays what arrives meanwhile); without one (CLI
    /// `loket reindex`) it is done here and the next indexer start continues from it.
    pub async fn reindex(&self, tenant: TenantId) -> Result<(), SearchError> {
        let tx = lock(&self.inner.requests).clone();
        if let Some(tx) = tx.filter(|_| self.inner.running.load(Ordering::SeqCst)) {
            let (rtx, rrx) = oneshot::channel();
            tx.send(IndexerMsg::Reindex(tenant, rtx))
                .map_err(|_| SearchError::IndexerStopped)?;
            return rrx
                .await
                .map_err(|_| SearchError::IndexerStopped)?
                .map_err(SearchError::Internal);
        }
        let (gn, _s0) = self.build_generation(tenant).await?;
        let idx = self.tenant_index(tenant)?;
        set_current(&idx.root, &gn.dir)?;
        idx.set_live(gn.clone());
        remove_other_generations(&idx.root, &gn.dir);
        Ok(())
    }

    /// Runs the indexer until everything in the outbox now is searchable, then stops it
    /// (CLI: `loket verify --index` and `loket reindex` without a running server).
    pub async fn catch_up(&self) -> Result<i64, SearchError> {
        let head = *self.inner.store.outbox_watch().borrow();
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut h = self.spawn_indexer(stop_rx);
        let r = tokio::select! {
            r = self.wait_indexed(head) => r,
            j = &mut h => {
                return match j {
                    Ok(Ok(())) => Err(SearchError::IndexerStopped),
                    Ok(Err(e)) => Err(e),
                    Err(e) => Err(SearchError::Internal(e.to_string())),
                };
            }
        };
        let _ = stop_tx.send(true);
        match h.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(SearchError::Internal(e.to_string())),
        }
        r.map(|()| head)
    }

    fn generation(&self, tenant: TenantId) -> Result<Option<Arc<Generation>>, SearchError> {
        Ok(self.tenant_index(tenant)?.live())
    }

    fn pin(&self, tenant: TenantId, searcher: Searcher, generation: Arc<Generation>) -> u64 {
        let id = self.inner.next_pin.fetch_add(1, Ordering::SeqCst);
        let ttl = Duration::from_secs(self.inner.cfg.cursor_ttl_secs);
        let mut pins = lock(&self.inner.pins);
        let now = Instant::now();
        pins.retain(|_, p| p.expires > now);
        while pins.len() >= self.inner.cfg.max_pinned.max(1) {
            let Some(oldest) = pins.iter().min_by_key(|(_, p)| p.expires).map(|(k, _)| *k) else {
                break;
            };
            pins.remove(&oldest);
        }
        pins.insert(
            id,
            Pin {
                tenant,
                searcher,
                generation,
                expires: now + ttl,
            },
        );
        id
    }

    fn pinned(&self, id: u64, tenant: TenantId) -> Option<(Searcher, Arc<Generation>)> {
        let ttl = Duration::from_secs(self.inner.cfg.cursor_ttl_secs);
        let mut pins = lock(&self.inner.pins);
        let p = pins.get_mut(&id)?;
        if p.tenant != tenant || p.expires <= Instant::now() {
            return None;
        }
        p.expires = Instant::now() + ttl;
        Some((p.searcher.clone(), p.generation.clone()))
    }

    /// Searches one tenant's messages. CPU work runs on the blocking pool.
    pub async fn search(
        &self,
        tenant: TenantId,
        req: &SearchRequest,
    ) -> Result<SearchPage, SearchError> {
        let svc = self.clone();
        let req = req.clone();
        if self.generation(tenant)?.is_none() {
            return self.no_index(tenant).await;
        }
        tokio::task::spawn_blocking(move || svc.search_blocking(tenant, &req))
            .await
            .map_err(|e| SearchError::Internal(e.to_string()))?
    }

    /// A tenant without any index: empty when it has no messages, else an error (the
    /// first build is running).
    async fn no_index(&self, tenant: TenantId) -> Result<SearchPage, SearchError> {
        if self
            .inner
            .store
            .message_ids_page(tenant, None, 1)
            .await?
            .is_empty()
        {
            return Ok(SearchPage {
                total_messages: 0,
                total_conversations: 0,
                hits: Vec::new(),
                groups: Vec::new(),
                next_cursor: None,
            });
        }
        Err(SearchError::NoIndex(tenant.to_string()))
    }

    /// Like [`search`](Self::search) for a person or token, recorded in the audit trail
    /// (who, when, query, counts) for the Woo request's search log. Only the first page of
    /// a search is recorded; following pages are the same search.
    pub async fn search_as(
        &self,
        principal: &Principal,
        req: &SearchRequest,
    ) -> Result<SearchPage, SearchError> {
        let page = self.search(principal.tenant, req).await?;
        if req.cursor.is_none() {
            let detail = serde_json::json!({
                "query": req.query,
                "sort": req.sort,
                "total_messages": page.total_messages,
                "total_conversations": page.total_conversations,
            });
            self.inner
                .store
                .audit(
                    principal,
                    AuditAction::Searched,
                    AuditSubject::new("search", principal.tenant),
                    detail,
                )
                .await?;
        }
        Ok(page)
    }

    fn search_blocking(
        &self,
        tenant: TenantId,
        req: &SearchRequest,
    ) -> Result<SearchPage, SearchError> {
        let cfg = &self.inner.cfg;
        let ast = parse(&req.query, &cfg.limits)?;
        let limit = req
            .limit
            .unwrap_or(cfg.default_page_size)
            .clamp(1, cfg.max_page_size.max(1));
        let hash = query_hash(&req.query, req.sort);
        let mut after: Option<Key> = None;
        let mut seen = 0u64;
        let mut snapshot = None;
        if let Some(c) = &req.cursor {
            let cd = decode_cursor(c)?;
            if cd.t != tenant || cd.h != hash {
                return Err(SearchError::Cursor(
                    "the cursor belongs to another search".into(),
                ));
            }
            let id = u128::from_str_radix(&cd.i, 16)
                .map_err(|_| SearchError::Cursor("malformed cursor".into()))?;
            after = Some((cd.k, id));
            seen = cd.n;
            snapshot = self.pinned(cd.p, tenant).map(|s| (cd.p, s));
            if snapshot.is_none() && req.sort == Sort::Relevance {
                return Err(SearchError::Cursor(
                    "the cursor has expired; run the search again (date-sorted searches can be continued)".into(),
                ));
            }
        }
        let (pin_id, (searcher, gn)) = match snapshot {
            Some(s) => (Some(s.0), s.1),
            None => {
                let g = self
                    .generation(tenant)?
                    .ok_or_else(|| SearchError::NoIndex(tenant.to_string()))?;
                (None, (g.reader.searcher(), g))
            }
        };
        let mut compiler = Compiler::new(gn.fields, &searcher, &cfg.limits);
        let query = compiler.compile(&ast)?;
        let highlight = std::mem::take(&mut compiler.highlight);
        let fruit = searcher.search(
            &*query,
            &PageCollector {
                sort: req.sort,
                after,
                limit,
                conversations: Some(&gn.conversations),
            },
        )?;
        let mut snip = (!req.no_snippets).then(|| Snippeter::new(highlight));
        let mut hits = Vec::with_capacity(fruit.hits.len());
        for (_, score, addr) in &fruit.hits {
            hits.push(load_hit(
                &searcher,
                &gn,
                *addr,
                *score,
                req.sort,
                snip.as_mut(),
            )?);
        }
        let now_seen = seen + hits.len() as u64;
        let next_cursor = match fruit.hits.last() {
            Some((key, _, _)) if now_seen < fruit.total => {
                let p = pin_id.unwrap_or_else(|| self.pin(tenant, searcher.clone(), gn.clone()));
                Some(encode_cursor(&CursorData {
                    t: tenant,
                    h: hash,
                    p,
                    k: key.0,
                    i: format!("{:x}", key.1),
                    n: now_seen,
                })?)
            }
            _ => None,
        };
        let mut groups: Vec<HitGroup> = Vec::new();
        for (i, h) in hits.iter().enumerate() {
            match groups
                .iter_mut()
                .find(|g| g.conversation_id == h.conversation_id)
            {
                Some(g) => g.hits.push(i),
                None => groups.push(HitGroup {
                    conversation_id: h.conversation_id,
                    hits: vec![i],
                }),
            }
        }
        Ok(SearchPage {
            total_messages: fruit.total,
            total_conversations: fruit.conversations.len() as u64,
            hits,
            groups,
            next_cursor,
        })
    }

    /// Every hit of a query (no snippets), for JSONL export. The matching set is fixed
    /// when this returns (one snapshot); iterating loads the stored fields lazily and
    /// blocks, so iterate on the blocking pool. Memory: ~40 bytes per hit.
    pub async fn stream(
        &self,
        tenant: TenantId,
        query: &str,
        sort: Sort,
    ) -> Result<HitStream, SearchError> {
        let svc = self.clone();
        let query = query.to_owned();
        if self.generation(tenant)?.is_none() {
            self.no_index(tenant).await?;
        }
        tokio::task::spawn_blocking(move || {
            let cfg = &svc.inner.cfg;
            let ast = parse(&query, &cfg.limits)?;
            let gn = svc.generation(tenant)?;
            let Some(gn) = gn else {
                return Ok(HitStream {
                    total: 0,
                    total_conversations: 0,
                    searcher: None,
                    hits: Vec::new().into_iter(),
                    sort,
                });
            };
            let searcher = gn.reader.searcher();
            let q = Compiler::new(gn.fields, &searcher, &cfg.limits).compile(&ast)?;
            let fruit = searcher.search(
                &*q,
                &PageCollector {
                    sort,
                    after: None,
                    limit: usize::MAX,
                    conversations: Some(&gn.conversations),
                },
            )?;
            let mut hits = fruit.hits;
            hits.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
            Ok(HitStream {
                total: fruit.total,
                total_conversations: fruit.conversations.len() as u64,
                searcher: Some((searcher, gn)),
                hits: hits
                    .into_iter()
                    .map(|(_, s, a)| (s, a))
                    .collect::<Vec<_>>()
                    .into_iter(),
                sort,
            })
        })
        .await
        .map_err(|e| SearchError::Internal(e.to_string()))?
    }

    /// Compares the set of message ids in the tenant's index with the archive.
    /// With a running indexer it first waits (up to `verify_wait_secs`) until everything
    /// committed so far is indexed, and re-checks apparent gaps once, so messages that
    /// arrive during the check are not reported.
    pub async fn verify_index(&self, tenant: TenantId) -> Result<IndexDiff, SearchError> {
        let store = &self.inner.store;
        let head = *store.outbox_watch().borrow();
        let running = self.inner.running.load(Ordering::SeqCst);
        if running {
            let wait = Duration::from_secs(self.inner.cfg.verify_wait_secs);
            tokio::time::timeout(wait, self.wait_indexed(head))
                .await
                .map_err(|_| SearchError::Timeout(wait))??;
        }
        let gn = self.generation(tenant)?;
        let (index_ids, index_seq) = match &gn {
            Some(g) => {
                let g = g.clone();
                tokio::task::spawn_blocking(move || -> Result<(Vec<u128>, i64), SearchError> {
                    Ok((all_ids(&g.reader.searcher())?, g.payload()?.seq))
                })
                .await
                .map_err(|e| SearchError::Internal(e.to_string()))??
            }
            None => (Vec::new(), 0),
        };
        let mut archived = FastSet::default();
        let mut after = None;
        loop {
            let ids = store.message_ids_page(tenant, after, 10_000).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = Some(last);
            archived.extend(ids.iter().map(|i| i.0.as_u128()));
        }
        let mut in_index = FastSet::default();
        let mut dup = FastSet::default();
        for id in &index_ids {
            if !in_index.insert(*id) {
                dup.insert(*id);
            }
        }
        let mut missing: Vec<u128> = archived
            .iter()
            .filter(|i| !in_index.contains(i))
            .copied()
            .collect();
        let extra: Vec<u128> = in_index
            .iter()
            .filter(|i| !archived.contains(i))
            .copied()
            .collect();
        if running && !missing.is_empty() {
            // Messages committed after `head` may be in the archive scan but not yet in
            // the snapshot: wait for them and look again.
            let head2 = *store.outbox_watch().borrow();
            let wait = Duration::from_secs(self.inner.cfg.verify_wait_secs);
            tokio::time::timeout(wait, self.wait_indexed(head2))
                .await
                .map_err(|_| SearchError::Timeout(wait))??;
            if let Some(g) = self.generation(tenant)? {
                let s = g.reader.searcher();
                missing.retain(|id| {
                    let term = tantivy::Term::from_field_text(
                        g.fields.message_id,
                        &uuid::Uuid::from_u128(*id).hyphenated().to_string(),
                    );
                    s.doc_freq(&term).map(|n| n == 0).unwrap_or(true)
                });
            }
        }
        let to_ids = |v: Vec<u128>| -> Vec<MessageId> {
            let mut v: Vec<MessageId> = v
                .into_iter()
                .map(|i| MessageId(uuid::Uuid::from_u128(i)))
                .collect();
            v.sort();
            v
        };
        Ok(IndexDiff {
            tenant,
            archived: archived.len() as u64,
            indexed: index_ids.len() as u64,
            missing_in_index: to_ids(missing),
            extra_in_index: to_ids(extra),
            duplicated_in_index: to_ids(dup.into_iter().collect()),
            index_seq,
            head_seq: head,
        })
    }
}

/// All hits of one query, in order. See [`SearchService::stream`].
pub struct HitStream {
    pub total: u64,
    pub total_conversations: u64,
    searcher: Option<(Searcher, Arc<Generation>)>,
    hits: std::vec::IntoIter<(f32, DocAddress)>,
    sort: Sort,
}

impl Iterator for HitStream {
    type Item = Result<SearchHit, SearchError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (score, addr) = self.hits.next()?;
        let (s, g) = self.searcher.as_ref()?;
        Some(load_hit(s, g, addr, score, self.sort, None))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.hits.size_hint()
    }
}

pub(crate) fn load_hit(
    searcher: &Searcher,
    gn: &Generation,
    addr: DocAddress,
    score: f32,
    sort: Sort,
    snip: Option<&mut Snippeter>,
) -> Result<SearchHit, SearchError> {
    let f = &gn.fields;
    let doc: TantivyDocument = searcher.doc(addr)?;
    let text = |field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let bad = |what: &str| SearchError::Internal(format!("index document without valid {what}"));
    let message_id = text(f.message_id)
        .and_then(|s| s.parse::<MessageId>().ok())
        .ok_or_else(|| bad("message id"))?;
    let conversation_id = text(f.conversation)
        .and_then(|s| s.parse::<ConversationId>().ok())
        .ok_or_else(|| bad("conversation id"))?;
    let channel = text(f.channel)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("channel"))?;
    let direction = text(f.direction)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("direction"))?;
    let micros = doc
        .get_first(f.received_at)
        .and_then(|v| v.as_i64())
        .ok_or_else(|| bad("time"))?;
    let received_at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| bad("time"))?;
    let subject = text(f.subject);
    let snippet_html = match snip {
        Some(s) => s.snippet(&text(f.body).unwrap_or_default(), subject.as_deref()),
        None => String::new(),
    };
    Ok(SearchHit {
        message_id,
        conversation_id,
        channel,
        direction,
        received_at,
        subject,
        from: text(f.from_display).unwrap_or_default(),
        snippet_html,
        score: if sort == Sort::Relevance { score } else { 0.0 },
    })
}

fn encode_cursor(c: &CursorData) -> Result<String, SearchError> {
    let json = serde_json::to_vec(c).map_err(|e| SearchError::Internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

fn decode_cursor(s: &str) -> Result<CursorData, SearchError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| SearchError::Cursor("malformed cursor".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| SearchError::Cursor("malformed cursor".into()))
}
