//! Store-free entry points for the benchmark in `ops/bench/search` (not a stable API).
//! They run the same code as [`crate::SearchService`]: analysis, query compiler,
//! collector (exact message and conversation counts), stored-field loading, snippets.

use crate::collect::{PageCollector, Sort};
use crate::compile::Compiler;
use crate::error::SearchError;
use crate::index::{Generation, commit};
use crate::query::{QueryLimits, parse};
use crate::schema::MessageDoc;
use crate::snippet::Snippeter;
use std::path::Path;

pub use crate::index::Generation as BenchIndex;

/// Creates an empty index (current schema) under `dir`.
pub fn create(dir: &Path) -> Result<Generation, SearchError> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
    Generation::create(dir)
}

/// Opens a generation made by [`create`] (its directory is `BenchIndex::dir`).
pub fn open(dir: &Path) -> Result<Generation, SearchError> {
    Generation::open_dir(dir)
}

/// Bulk-indexes `docs` with a rebuild writer and commits.
pub fn build(
    g: &Generation,
    docs: impl Iterator<Item = MessageDoc>,
    memory: usize,
    threads: usize,
) -> Result<u64, SearchError> {
    let mut w = g.writer(memory, threads)?;
    let mut n = 0;
    for d in docs {
        w.add_document(d.to_document(&g.fields))?;
        n += 1;
    }
    commit(&mut w, &g.reader, 0)?;
    w.wait_merging_threads()?;
    g.reader.reload()?;
    Ok(n)
}

/// Indexes `docs` as the live indexer does while the index serves: one writer with the
/// live writer's memory budget, one thread, a commit (and reader reload) every
/// `CommitPolicy::max_delay_ms`.
pub fn index_live(
    g: &Generation,
    docs: impl Iterator<Item = MessageDoc>,
) -> Result<u64, SearchError> {
    let policy = crate::index::CommitPolicy::default();
    let mut w = g.writer(policy.writer_memory_bytes, 1)?;
    let every = std::time::Duration::from_millis(policy.max_delay_ms);
    let mut last = std::time::Instant::now();
    let mut n = 0;
    for d in docs {
        w.add_document(d.to_document(&g.fields))?;
        n += 1;
        if last.elapsed() >= every {
            commit(&mut w, &g.reader, 0)?;
            last = std::time::Instant::now();
        }
    }
    commit(&mut w, &g.reader, 0)?;
    w.wait_merging_threads()?;
    g.reader.reload()?;
    Ok(n)
}

/// One search as the service runs it: top `limit` + exact counts, hits loaded.
/// Returns (messages, conversations, hits loaded).
pub fn search(
    g: &Generation,
    limits: &QueryLimits,
    query: &str,
    sort: Sort,
    limit: usize,
    snippets: bool,
) -> Result<(u64, u64, usize), SearchError> {
    let searcher = g.reader.searcher();
    let ast = parse(query, limits)?;
    let mut c = Compiler::new(g.fields, &searcher, limits);
    let q = c.compile(&ast)?;
    let h = std::mem::take(&mut c.highlight);
    let fruit = searcher.search(
        &*q,
        &PageCollector {
            sort,
            after: None,
            limit,
            conversations: Some(&g.conversations),
        },
    )?;
    let mut snip = snippets.then(|| Snippeter::new(h));
    for (_, score, addr) in &fruit.hits {
        crate::service::load_hit(&searcher, g, *addr, *score, sort, snip.as_mut())?;
    }
    Ok((
        fruit.total,
        fruit.conversations.len() as u64,
        fruit.hits.len(),
    ))
}
