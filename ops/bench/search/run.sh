#!/usr/bin/env bash
# Search benchmark: loket-search (tantivy) vs PostgreSQL FTS vs SQLite FTS5, same corpus,
# same machine, one run. Usage:
#   ops/bench/search/run.sh [MESSAGES (default 1000000)] [CLIENTS (default 4)]
# Needs PostgreSQL at 127.0.0.1:5432 db `test` (LOKET_BENCH_POSTGRES_URL to override).
# Results: $OUT (default target/bench-search)/{tantivy,pg,sqlite,latency}.json + summary.md
set -euo pipefail
N=${1:-1000000}
CLIENTS=${2:-4}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=${OUT:-$ROOT/target/bench-search}
cd "$ROOT" && . ops/lib/target-dir.sh
TARGET=$TARGET_DIR
HERE="$ROOT/ops/bench/search"
mkdir -p "$OUT"
bash "$ROOT/ops/ci/install-search.sh"

echo "== corpus: $N messages, 1000 queries (fixed seed)"
python3 "$HERE/gen_corpus.py" --n "$N" --out "$OUT"

echo "== build (release profile, as \`loket serve\` runs)"
(cd "$ROOT" && cargo build -q --release -p loket-search --examples)

echo "== tantivy"
# Two processes: one builds the index, a fresh one opens it and serves the query mix, so
# the memory figure is that of a serving process (as after a restart of `loket serve`).
"$TARGET/release/examples/search_bench" build "$OUT/corpus.jsonl" "$OUT/tantivy-index" | tee "$OUT/tantivy-build.json"
GEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dir"])' "$OUT/tantivy-build.json")
"$TARGET/release/examples/search_bench" serve "$GEN" "$OUT/queries.jsonl" "$CLIENTS" "$OUT/corpus.jsonl" | tee "$OUT/tantivy-serve.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.update(json.load(open(sys.argv[2]))); print(json.dumps(d))' \
  "$OUT/tantivy-build.json" "$OUT/tantivy-serve.json" > "$OUT/tantivy.json"
rm -rf "$OUT/tantivy-index"
echo "== SQLite FTS5"
python3 "$HERE/sql_bench.py" sqlite --dir "$OUT" --clients "$CLIENTS" | tee "$OUT/sqlite.json"
rm -f "$OUT/fts5.db"*
echo "== PostgreSQL FTS"
python3 "$HERE/sql_bench.py" pg --dir "$OUT" --clients "$CLIENTS" | tee "$OUT/pg.json"
echo "== ingest -> searchable (real store and indexer)"
"$TARGET/release/examples/latency_bench" 100 | tee "$OUT/latency.json"
python3 "$HERE/report.py" "$OUT" "$N" "$CLIENTS" | tee "$OUT/summary.md"
