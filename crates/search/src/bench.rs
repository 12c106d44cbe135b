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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::Sort;

    /// The fields that classification (labels, topics) and Woo cases will fill are indexed
    /// and filterable already, so those issues only have to supply the values.
    #[test]
    fn label_topic_and_woo_case_filters_find_their_messages() {
        let dir = tempfile::tempdir().unwrap();
        let g = create(dir.path()).unwrap();
        let doc = |n: u128, label: &str, topic: &str, case: &str| MessageDoc {
            labels: vec![label.into()],
            topics: vec![topic.into()],
            woo_cases: vec![case.into()],
            ..MessageDoc::new(
                loket_core::MessageId(uuid::Uuid::from_u128(n)),
                loket_core::ConversationId(uuid::Uuid::from_u128(1000 + n)),
                "webchat",
                "inbound",
                loket_core::Address::new("session:1"),
                format!("vraag over de herinrichting {n}"),
                chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            )
        };
        let docs = vec![
            doc(1, "publieke_taak", "openbare_ruimte", "WOO-2026-001"),
            doc(2, "persoonlijk", "overig", "WOO-2026-002"),
            doc(3, "Publieke_Taak", "afval", "WOO-2026-001"),
        ];
        build(&g, docs.into_iter(), 15_000_000, 1).unwrap();
        let limits = QueryLimits::default();
        let count = |q: &str| search(&g, &limits, q, Sort::Newest, 20, false).unwrap().0;
        assert_eq!(
            count("label:publieke_taak"),
            2,
            "labels match case-insensitively"
        );
        assert_eq!(count("label:persoonlijk"), 1);
        assert_eq!(count("topic:afval"), 1);
        assert_eq!(count("woo:WOO-2026-001"), 2);
        assert_eq!(count("herinrichting label:publieke_taak -topic:afval"), 1);
        assert_eq!(count("label:spam"), 0);
    }
}
