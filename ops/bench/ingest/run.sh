#!/usr/bin/env bash
# Ingest benchmarks, SQLite and PostgreSQL side by side in one run:
#  1. durable bulk import (`loket import`) of N short messages (default 1,000,000), then of
#     N_MIX (default N) messages of the realistic mix, with msg/s, MB/s and peak RSS;
#  2. single-message ingest over HTTP (ops/bench/ingest/http.sh): one message per request,
#     16 concurrent clients, each durable before its response; SQLite, PostgreSQL with one
#     node and with two nodes on the same database.
# Usage: ops/bench/ingest/run.sh [N] [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
N="${1:-1000000}"
SECS="${2:-20}"
. ops/lib/target-dir.sh
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
cargo build --release -p loket >/dev/null
BIN="$TARGET_DIR/release/loket"
WORK="$(mktemp -d /tmp/loket-bench-XXXX)"
trap 'rm -rf "$WORK"; psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS bench_ingest CASCADE" >/dev/null 2>&1 || true' EXIT
python3 ops/bench/ingest/gen_jsonl.py "$N" "$WORK/messages.jsonl"
echo "corpus: $N messages, $(du -h "$WORK/messages.jsonl" | cut -f1)"
PG="postgres://postgres@127.0.0.1:5432/test"

# Runs `loket import` of one corpus and prints messages/s, MB/s and the import's peak RSS.
import_one() { # name corpus url-env...
    local name="$1" corpus="$2"; shift 2
    local dir="$WORK/$name-import"; rm -rf "$dir"; mkdir -p "$dir"
    env LOKET_DATA_DIR="$dir" "$@" python3 - "$BIN" "$corpus" "$name" <<'PY'
import os, resource, subprocess, sys, time
bin, corpus, name = sys.argv[1:4]
lines = sum(1 for _ in open(corpus, "rb"))
size = os.path.getsize(corpus)
t = time.time()
subprocess.run([bin, "import", "--create-tenants", corpus], check=True, stdout=subprocess.DEVNULL)
d = time.time() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"bulk import {name}: {lines:,} messages ({size / 1e6:,.0f} MB) in {d:.1f} s = "
      f"{lines / d:,.0f} messages/s, {size / 1e6 / d:,.1f} MB/s, peak RSS {rss:,.0f} MiB")
PY
}
pg_schema() { psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1" >/dev/null; }
import_one sqlite "$WORK/messages.jsonl"
pg_schema bench_ingest
import_one postgres "$WORK/messages.jsonl" LOKET_DATABASE__URL="$PG?options=-csearch_path%3Dbench_ingest"

# The realistic mix: emails of a few KB with headers, chat, SMS, three
# tenants, one in 50 with a PDF; with the default batch size, a batch bounded by bytes.
N_MIX="${N_MIX:-$N}"
python3 ops/bench/ingest/gen_jsonl.py "$N_MIX" "$WORK/mix.jsonl" --mix
rm -f "$WORK/messages.jsonl"
import_one sqlite-mix "$WORK/mix.jsonl"
pg_schema bench_ingest
import_one postgres-mix "$WORK/mix.jsonl" LOKET_DATABASE__URL="$PG?options=-csearch_path%3Dbench_ingest"
rm -f "$WORK/mix.jsonl"; rm -rf "$WORK"/*-import

# Single-message ingest over HTTP: SQLite, PostgreSQL with one node and with two.
bash ops/bench/ingest/http.sh "$SECS"
