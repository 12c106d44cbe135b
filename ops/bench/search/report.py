#!/usr/bin/env python3
"""Markdown summary of a search benchmark run (see run.sh)."""
import json, os, sys

d, n, clients = sys.argv[1], sys.argv[2], sys.argv[3]
load = lambda f: json.load(open(os.path.join(d, f)))
t, s, p = load("tantivy.json"), load("sqlite.json"), load("pg.json")
lat = [json.loads(l) for l in open(os.path.join(d, "latency.json")) if l.strip()]
rows = [
    ("loket-search (tantivy)", t["build_s"], t["top20_count"]),
    ("loket-search + snippets", None, t["top20_count_snippets"]),
    ("loket-search while indexing 50k more", None, t["top20_count_while_indexing"]),
    ("PostgreSQL FTS", p["build_s"], p["top20_count"]),
    ("SQLite FTS5", s["build_s"], s["top20_count"]),
]
print(f"Corpus: {int(t['messages']):,} messages; 1,000 queries; {clients} concurrent clients; top-20 + exact count.\n")
print("| engine | index build (s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | queries/s | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, b, r in rows:
    bs = f"{b:.1f}" if b is not None else "–"
    print(f"| {name} | {bs} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['qps']:.0f} | {r['errors']} |")
tp, pp, sp = t["top20_count"], p["top20_count"], s["top20_count"]
print()
print(f"Ratios (PostgreSQL / tantivy): p50 {pp['p50_ms']/tp['p50_ms']:.1f}x, p99 {pp['p99_ms']/tp['p99_ms']:.1f}x; "
      f"(SQLite / tantivy): p50 {sp['p50_ms']/tp['p50_ms']:.1f}x, p99 {sp['p99_ms']/tp['p99_ms']:.1f}x.")
print(f"\ntantivy serving process (opened the built index, ran the mix three times): VmRSS {t['vmrss_kib']/1024:.0f} MiB (anonymous {t['rss_anon_kib']/1024:.0f} MiB, "
      f"file-backed/mmap {t['rss_file_kib']/1024:.0f} MiB), peak VmHWM {t['vmhwm_kib']/1024:.0f} MiB; "
      f"index {t['index_bytes']/2**20:.0f} MiB in {t['segments']} segments. "
      f"The building process peaked at {t['build_vmhwm_kib']/1024:.0f} MiB (256 MB writer budget). "
      f"After a live writer (48 MB budget) added {t['indexed_while_serving']:,} messages during a further pass: "
      f"VmRSS {t['after_indexing_vmrss_kib']/1024:.0f} MiB (anonymous {t['after_indexing_rss_anon_kib']/1024:.0f} MiB), "
      f"peak VmHWM {t['after_indexing_vmhwm_kib']/1024:.0f} MiB. "
      f"PostgreSQL table+indexes {p['table_and_index_bytes']/2**20:.0f} MiB; SQLite file {s['db_bytes']/2**20:.0f} MiB.")
print(f"\nIngest → searchable (durable ack to first search hit, {lat[0]['samples']} samples, commit max delay "
      f"{lat[0]['commit_max_delay_ms']} ms):")
for l in lat:
    print(f"- {l['backend']}: p50 {l['p50_ms']:.0f} ms, p99 {l['p99_ms']:.0f} ms, max {l['max_ms']:.0f} ms")
