//! One pass over every matching document: exact message count, exact distinct
//! conversation count, and the top-K page after a keyset cursor.

use crate::schema::join_u128;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, PoisonError};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::ColumnValues;
use tantivy::index::SegmentId;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<rustc_hash::FxHasher>>;

pub type FastSet = std::collections::HashSet<u128, BuildHasherDefault<rustc_hash::FxHasher>>;

/// Dense numbers for the conversations of one index, so that counting the distinct
/// conversations of a result is one array read and one bit per matching message instead
/// of reading two 64-bit columns and probing a hash set of 128-bit ids (which made the
/// exact conversation count the larger part of a search for a very common term).
///
/// Ordinals are assigned on first sight and never change; a conversation keeps its
/// ordinal in every segment, so per-segment bitsets can simply be OR-ed. The per-segment
/// table (document → ordinal, 4 bytes per document) is built the first time a segment is
/// searched and dropped by [`ConversationOrdinals::retain`] once the segment is gone.
#[derive(Default)]
pub struct ConversationOrdinals {
    state: Mutex<OrdinalState>,
}

#[derive(Default)]
struct OrdinalState {
    ordinal_of: FastMap<u128, u32>,
    segments: FastMap<SegmentId, Arc<[u32]>>,
}

impl ConversationOrdinals {
    /// The document → conversation ordinal table of `reader`'s segment, and the number of
    /// ordinals assigned so far (an upper bound for every ordinal in the table).
    pub fn segment(&self, reader: &SegmentReader) -> tantivy::Result<(Arc<[u32]>, usize)> {
        // A poisoned lock only means another search panicked mid-insert; the maps stay
        // consistent (each insert is complete or absent), so keep using them.
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = st.segments.get(&reader.segment_id()) {
            return Ok((t.clone(), st.ordinal_of.len()));
        }
        let ff = reader.fast_fields();
        let hi = ff.u64("conv_hi")?.first_or_default_col(0);
        let lo = ff.u64("conv_lo")?.first_or_default_col(0);
        let st = &mut *st;
        let table: Arc<[u32]> = (0..reader.max_doc())
            .map(|doc| {
                let id = join_u128(hi.get_val(doc), lo.get_val(doc));
                let next = st.ordinal_of.len() as u32;
                *st.ordinal_of.entry(id).or_insert(next)
            })
            .collect();
        st.segments.insert(reader.segment_id(), table.clone());
        Ok((table, st.ordinal_of.len()))
    }
}

/// Registered with the index reader: builds the tables of new segments when the reader
/// reloads (in the indexer, not in a search) and drops those of segments that no live
/// searcher (current, or pinned for cursor paging) has any more.
impl tantivy::Warmer for ConversationOrdinals {
    fn warm(&self, searcher: &tantivy::Searcher) -> tantivy::Result<()> {
        for r in searcher.segment_readers() {
            self.segment(r)?;
        }
        Ok(())
    }

    fn garbage_collect(&self, live: &[&tantivy::SearcherGeneration]) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.segments
            .retain(|id, _| live.iter().any(|g| g.segments().contains_key(id)));
    }
}

/// A set of conversation ordinals.
#[derive(Default)]
pub struct ConversationSet {
    words: Vec<u64>,
}

impl ConversationSet {
    fn with_capacity(ordinals: usize) -> Self {
        ConversationSet {
            words: vec![0; ordinals.div_ceil(64)],
        }
    }

    fn insert(&mut self, ordinal: u32) {
        let (w, b) = ((ordinal / 64) as usize, ordinal % 64);
        if let Some(word) = self.words.get_mut(w) {
            *word |= 1 << b;
        }
    }

    fn union(&mut self, other: ConversationSet) {
        if self.words.len() < other.words.len() {
            let small = std::mem::replace(&mut self.words, other.words);
            self.union(ConversationSet { words: small });
            return;
        }
        for (a, b) in self.words.iter_mut().zip(other.words) {
            *a |= b;
        }
    }

    /// Number of distinct conversations.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

/// Sort key, compared descending: the first element is the primary key (score bits or
/// time), the second the message id as tie-breaker, so every key is unique.
pub type Key = (i64, u128);

/// Order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// BM25, best first (ties: newest message id first).
    #[default]
    Relevance,
    /// Received time, newest first.
    Newest,
    /// Received time, oldest first.
    Oldest,
}

/// Maps an f32 to an i64 with the same order (all scores are finite here).
pub fn score_key(s: Score) -> i64 {
    let b = s.to_bits() as i32;
    let ordered = if b < 0 { !b & i32::MAX } else { b };
    i64::from(ordered)
}

/// Normalizes so that "larger key = earlier in the result list" for every sort.
fn normalize(sort: Sort, primary: i64, id: u128) -> Key {
    match sort {
        Sort::Oldest => (!primary, !id),
        _ => (primary, id),
    }
}

pub struct PageCollector<'a> {
    pub sort: Sort,
    /// Only documents with a key strictly below this (normalized) key.
    pub after: Option<Key>,
    /// Page size; 0 collects only the counts. `usize::MAX` collects every match (streaming).
    pub limit: usize,
    /// Count distinct conversations with the index's ordinals (None: don't count).
    pub conversations: Option<&'a ConversationOrdinals>,
}

#[derive(Default)]
pub struct PageFruit {
    pub total: u64,
    pub conversations: ConversationSet,
    /// Best first.
    pub hits: Vec<(Key, Score, DocAddress)>,
}

pub struct PageSegment {
    sort: Sort,
    after: Option<Key>,
    limit: usize,
    seg: SegmentOrdinal,
    id_hi: Arc<dyn ColumnValues<u64>>,
    id_lo: Arc<dyn ColumnValues<u64>>,
    conv: Option<Arc<[u32]>>,
    time: Arc<dyn ColumnValues<i64>>,
    total: u64,
    conversations: ConversationSet,
    heap: BinaryHeap<Reverse<(Key, u32, DocId)>>,
    all: Vec<(Key, Score, DocAddress)>,
}

impl Collector for PageCollector<'_> {
    type Fruit = PageFruit;
    type Child = PageSegment;

    fn for_segment(&self, seg: SegmentOrdinal, r: &SegmentReader) -> tantivy::Result<PageSegment> {
        let ff = r.fast_fields();
        let u = |n: &str| -> tantivy::Result<Arc<dyn ColumnValues<u64>>> {
            Ok(ff.u64(n)?.first_or_default_col(0))
        };
        let (conv, conversations) = match self.conversations {
            Some(ords) => {
                let (table, n) = ords.segment(r)?;
                (Some(table), ConversationSet::with_capacity(n))
            }
            None => (None, ConversationSet::default()),
        };
        Ok(PageSegment {
            sort: self.sort,
            after: self.after,
            limit: self.limit,
            seg,
            id_hi: u("id_hi")?,
            id_lo: u("id_lo")?,
            conv,
            time: ff.i64("received_at")?.first_or_default_col(0),
            total: 0,
            conversations,
            heap: BinaryHeap::new(),
            all: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == Sort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<PageFruit>) -> tantivy::Result<PageFruit> {
        let mut out = PageFruit::default();
        for f in fruits {
            out.total += f.total;
            out.conversations.union(f.conversations);
            out.hits.extend(f.hits);
        }
        out.hits.sort_unstable_by_key(|h| Reverse(h.0));
        out.hits.truncate(self.limit);
        Ok(out)
    }
}

impl SegmentCollector for PageSegment {
    type Fruit = PageFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.total += 1;
        if let Some(&ordinal) = self.conv.as_ref().and_then(|t| t.get(doc as usize)) {
            self.conversations.insert(ordinal);
        }
        if self.limit == 0 {
            return;
        }
        let primary = match self.sort {
            Sort::Relevance => score_key(score),
            _ => self.time.get_val(doc),
        };
        // Most documents cannot enter a full page: decide on the primary key alone
        // before reading the id columns.
        if self.limit != usize::MAX
            && self.heap.len() >= self.limit
            && let Some(min) = self.heap.peek()
        {
            let p = normalize(self.sort, primary, 0).0;
            if p < min.0.0.0 {
                return;
            }
        }
        let id = join_u128(self.id_hi.get_val(doc), self.id_lo.get_val(doc));
        let key = normalize(self.sort, primary, id);
        if let Some(after) = self.after
            && key >= after
        {
            return;
        }
        if self.limit == usize::MAX {
            self.all.push((key, score, DocAddress::new(self.seg, doc)));
            return;
        }
        let entry = Reverse((key, score.to_bits(), doc));
        if self.heap.len() < self.limit {
            self.heap.push(entry);
        } else if let Some(min) = self.heap.peek()
            && key > min.0.0
        {
            self.heap.pop();
            self.heap.push(entry);
        }
    }

    fn harvest(self) -> PageFruit {
        let seg = self.seg;
        let mut hits = self.all;
        hits.extend(
            self.heap
                .into_iter()
                .map(|Reverse((k, s, d))| (k, f32::from_bits(s), DocAddress::new(seg, d))),
        );
        PageFruit {
            total: self.total,
            conversations: self.conversations,
            hits,
        }
    }
}

/// All ids (alive documents) in a snapshot, with duplicates kept, for `verify_index`.
pub fn all_ids(searcher: &tantivy::Searcher) -> tantivy::Result<Vec<u128>> {
    let mut out = Vec::with_capacity(searcher.num_docs() as usize);
    for r in searcher.segment_readers() {
        let ff = r.fast_fields();
        let hi = ff.u64("id_hi")?.first_or_default_col(0);
        let lo = ff.u64("id_lo")?.first_or_default_col(0);
        let alive = r.alive_bitset();
        for doc in 0..r.max_doc() {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                out.push(join_u128(hi.get_val(doc), lo.get_val(doc)));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_key_keeps_order() {
        let v = [0.0f32, 0.001, 0.5, 1.0, 2.5, 100.0, 1e9];
        for w in v.windows(2) {
            assert!(score_key(w[0]) < score_key(w[1]));
        }
    }

    fn doc(conversation: u128, n: u128) -> crate::schema::MessageDoc {
        crate::schema::MessageDoc::new(
            loket_core::MessageId(uuid::Uuid::from_u128(n)),
            loket_core::ConversationId(uuid::Uuid::from_u128(conversation)),
            "sms",
            "inbound",
            loket_core::Address::new("+31612345678"),
            format!("melding {n}"),
            chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        )
    }

    fn count(g: &crate::index::Generation) -> (u64, usize) {
        let searcher = g.reader.searcher();
        let fruit = searcher
            .search(
                &tantivy::query::AllQuery,
                &PageCollector {
                    sort: Sort::Newest,
                    after: None,
                    limit: 5,
                    conversations: Some(&g.conversations),
                },
            )
            .unwrap();
        (fruit.total, fruit.conversations.len())
    }

    /// Conversations that span segments are counted once, before and after a merge, and
    /// the tables of merged-away segments are dropped.
    #[test]
    fn conversations_across_segments_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let g = crate::bench::create(dir.path()).unwrap();
        let mut w = g.writer(15_000_000, 1).unwrap();
        // segment 1: conversations 1..=3; segment 2: conversations 3..=5
        for (n, conv) in [(1, 1), (2, 2), (3, 3), (4, 3)] {
            w.add_document(doc(conv, n).to_document(&g.fields)).unwrap();
        }
        w.commit().unwrap();
        for (n, conv) in [(5, 3), (6, 4), (7, 5), (8, 5)] {
            w.add_document(doc(conv, n).to_document(&g.fields)).unwrap();
        }
        w.commit().unwrap();
        g.reader.reload().unwrap();
        assert_eq!(g.reader.searcher().segment_readers().len(), 2);
        assert_eq!(count(&g), (8, 5));

        let ids: Vec<_> = g.index.searchable_segment_ids().unwrap();
        w.merge(&ids).wait().unwrap();
        w.wait_merging_threads().unwrap();
        g.reader.reload().unwrap();
        assert_eq!(g.reader.searcher().segment_readers().len(), 1);
        assert_eq!(count(&g), (8, 5));
        // tantivy's warming GC runs every second (GC_INTERVAL) on its own thread
        let tables = || g.conversations.state.lock().unwrap().segments.len();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while tables() > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(tables(), 1, "the merged-away segments' tables are dropped");
    }

    #[test]
    fn oldest_reverses() {
        assert!(normalize(Sort::Oldest, 1, 5) > normalize(Sort::Oldest, 2, 5));
        assert!(normalize(Sort::Oldest, 1, 5) > normalize(Sort::Oldest, 1, 6));
    }
}
