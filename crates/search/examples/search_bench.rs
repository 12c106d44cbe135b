//! tantivy side of the search benchmark (driven by `ops/bench/search/run.sh`).
//!
//! `search_bench build <corpus.jsonl> <index-root>` builds the index from the corpus and
//! prints the build figures and the generation's directory (JSON).
//!
//! `search_bench serve <generation-dir> <queries.jsonl> <clients> <corpus.jsonl>` opens
//! that index in a fresh process, as `loket serve` would after a restart, runs every query
//! of the mix with `clients` threads (top-20 + exact message and conversation counts, hits
//! loaded, no snippets), then again with snippets, then once more while a live writer
//! (the live indexer's memory budget and commit interval) adds 50,000 further messages,
//! and prints the figures and the serving process's memory (JSON). Two processes so that
//! the memory figure is the serving one, not what the allocator kept from the bulk build.

use loket_core::{Address, ConversationId, MessageId};
use loket_search::bench;
use loket_search::{MessageDoc, QueryLimits, Sort};
use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(serde::Deserialize)]
struct Row {
    id: uuid::Uuid,
    conv: uuid::Uuid,
    channel: String,
    direction: String,
    from: String,
    to: String,
    subject: Option<String>,
    text: String,
    ts: i64,
}

#[derive(serde::Deserialize)]
struct Q {
    tantivy: String,
}

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

fn proc_status(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn run(
    g: &bench::BenchIndex,
    qs: &[String],
    clients: usize,
    snippets: bool,
) -> Result<serde_json::Value, BoxErr> {
    let limits = QueryLimits {
        max_prefix_expansions: 50_000,
        ..QueryLimits::default()
    };
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let mut lat: Vec<f64> = Vec::new();
    let mut errors = 0usize;
    let mut total_hits: u64 = 0;
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let mut l = Vec::new();
                    let mut e = 0;
                    let mut th = 0u64;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(q) = qs.get(i) else { break };
                        let t = Instant::now();
                        match bench::search(g, &limits, q, Sort::Relevance, 20, snippets) {
                            Ok((n, _, _)) => th += n,
                            Err(_) => e += 1,
                        }
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        if std::env::var_os("BENCH_DUMP").is_some() && ms > 20.0 {
                            eprintln!("{ms:8.1} ms  {q}");
                        }
                        l.push(ms);
                    }
                    (l, e, th)
                })
            })
            .collect();
        for h in hs {
            if let Ok((l, e, th)) = h.join() {
                lat.extend(l);
                errors += e;
                total_hits += th;
            }
        }
    });
    let wall = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    Ok(serde_json::json!({
        "queries": lat.len(), "errors": errors, "wall_s": wall,
        "qps": lat.len() as f64 / wall,
        "p50_ms": pct(&lat, 0.5), "p90_ms": pct(&lat, 0.9), "p99_ms": pct(&lat, 0.99),
        "max_ms": lat.last().copied().unwrap_or(0.0),
        "sum_of_counts": total_hits,
    }))
}

fn main() -> Result<(), BoxErr> {
    let a: Vec<String> = std::env::args().collect();
    match (a.get(1).map(String::as_str), a.len()) {
        (Some("build"), 4) => build(&a[2], std::path::Path::new(&a[3])),
        (Some("serve"), 6) => serve(std::path::Path::new(&a[2]), &a[3], a[4].parse()?, &a[5]),
        _ => Err("usage: search_bench build <corpus.jsonl> <index-root> | \
             search_bench serve <generation-dir> <queries.jsonl> <clients> <corpus.jsonl>"
            .into()),
    }
}

/// The corpus as documents; `fresh_ids` gives every message a new id (for adding the
/// same text again as further messages).
fn corpus_docs(corpus: &str, fresh_ids: bool) -> Result<impl Iterator<Item = MessageDoc>, BoxErr> {
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(corpus)?);
    Ok(file.lines().map_while(Result::ok).filter_map(move |l| {
        let r: Row = serde_json::from_str(&l).ok()?;
        let id = if fresh_ids {
            uuid::Uuid::now_v7()
        } else {
            r.id
        };
        let received_at = chrono::DateTime::from_timestamp_micros(r.ts)?;
        Some(MessageDoc {
            to: vec![Address::new(r.to)],
            subject: r.subject,
            ..MessageDoc::new(
                MessageId(id),
                ConversationId(r.conv),
                &r.channel,
                &r.direction,
                Address::new(r.from),
                r.text,
                received_at,
            )
        })
    }))
}

fn build(corpus: &str, root: &std::path::Path) -> Result<(), BoxErr> {
    let _ = std::fs::remove_dir_all(root);
    let g = bench::create(root)?;
    let t0 = Instant::now();
    let n = bench::build(&g, corpus_docs(corpus, false)?, 256 * 1024 * 1024, 2)?;
    let build_s = t0.elapsed().as_secs_f64();
    let segments = g.reader.searcher().segment_readers().len();
    let size: u64 = std::fs::read_dir(&g.dir)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let out = serde_json::json!({
        "messages": n, "build_s": build_s, "segments": segments, "index_bytes": size,
        "dir": g.dir, "build_vmhwm_kib": proc_status("VmHWM:"),
    });
    println!("{out}");
    Ok(())
}

fn serve(dir: &std::path::Path, queries: &str, clients: usize, corpus: &str) -> Result<(), BoxErr> {
    let g = bench::open(dir)?;
    let qs: Vec<String> = std::io::BufReader::new(std::fs::File::open(queries)?)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Q>(&l).ok().map(|q| q.tantivy))
        .collect();
    // warm-up pass (page cache and term dictionaries), not measured
    let _ = run(&g, &qs, clients, false)?;
    let plain = run(&g, &qs, clients, false)?;
    let with_snippets = run(&g, &qs, clients, true)?;
    let serving = serde_json::json!({
        "vmrss_kib": proc_status("VmRSS:"), "rss_anon_kib": proc_status("RssAnon:"),
        "rss_file_kib": proc_status("RssFile:"), "vmhwm_kib": proc_status("VmHWM:"),
    });
    let (indexed, while_indexing) = std::thread::scope(|s| {
        let writer = s.spawn(|| -> Result<u64, BoxErr> {
            Ok(bench::index_live(
                &g,
                corpus_docs(corpus, true)?.take(50_000),
            )?)
        });
        let r = run(&g, &qs, clients, false);
        (writer.join(), r)
    });
    let indexed = indexed.map_err(|_| "the live writer panicked")??;
    let out = serde_json::json!({
        "engine": "tantivy (loket-search)",
        "top20_count": plain, "top20_count_snippets": with_snippets,
        "top20_count_while_indexing": while_indexing?, "indexed_while_serving": indexed,
        "vmrss_kib": serving["vmrss_kib"], "rss_anon_kib": serving["rss_anon_kib"],
        "rss_file_kib": serving["rss_file_kib"], "vmhwm_kib": serving["vmhwm_kib"],
        "after_indexing_vmrss_kib": proc_status("VmRSS:"),
        "after_indexing_rss_anon_kib": proc_status("RssAnon:"),
        "after_indexing_vmhwm_kib": proc_status("VmHWM:"),
    });
    println!("{out}");
    Ok(())
}
