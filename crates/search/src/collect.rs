//! One pass over every matching document: exact message count, exact distinct
//! conversation count, and the top-K page after a keyset cursor.

use crate::schema::join_u128;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::ColumnValues;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

type U64Col = Arc<dyn ColumnValues<u64>>;

pub type FastSet = HashSet<u128, BuildHasherDefault<rustc_hash::FxHasher>>;

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

pub struct PageCollector {
    pub sort: Sort,
    /// Only documents with a key strictly below this (normalized) key.
    pub after: Option<Key>,
    /// Page size; 0 collects only the counts. `usize::MAX` collects every match (streaming).
    pub limit: usize,
    pub count_conversations: bool,
}

#[derive(Default)]
pub struct PageFruit {
    pub total: u64,
    pub conversations: FastSet,
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
    conv: Option<(U64Col, U64Col)>,
    time: Arc<dyn ColumnValues<i64>>,
    total: u64,
    conversations: FastSet,
    heap: BinaryHeap<Reverse<(Key, u32, DocId)>>,
    all: Vec<(Key, Score, DocAddress)>,
}

impl Collector for PageCollector {
    type Fruit = PageFruit;
    type Child = PageSegment;

    fn for_segment(&self, seg: SegmentOrdinal, r: &SegmentReader) -> tantivy::Result<PageSegment> {
        let ff = r.fast_fields();
        let u = |n: &str| -> tantivy::Result<Arc<dyn ColumnValues<u64>>> {
            Ok(ff.u64(n)?.first_or_default_col(0))
        };
        Ok(PageSegment {
            sort: self.sort,
            after: self.after,
            limit: self.limit,
            seg,
            id_hi: u("id_hi")?,
            id_lo: u("id_lo")?,
            conv: if self.count_conversations {
                Some((u("conv_hi")?, u("conv_lo")?))
            } else {
                None
            },
            time: ff.i64("received_at")?.first_or_default_col(0),
            total: 0,
            conversations: FastSet::default(),
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
            if out.conversations.len() < f.conversations.len() {
                let small = std::mem::replace(&mut out.conversations, f.conversations);
                out.conversations.extend(small);
            } else {
                out.conversations.extend(f.conversations);
            }
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
        if let Some((hi, lo)) = &self.conv {
            self.conversations
                .insert(join_u128(hi.get_val(doc), lo.get_val(doc)));
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

    #[test]
    fn oldest_reverses() {
        assert!(normalize(Sort::Oldest, 1, 5) > normalize(Sort::Oldest, 2, 5));
        assert!(normalize(Sort::Oldest, 1, 5) > normalize(Sort::Oldest, 1, 6));
    }
}
