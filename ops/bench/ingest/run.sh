#!/usr/bin/env bash
# Issue 2 benchmarks, SQLite and PostgreSQL side by side in one run:
#  1. durable bulk import (`loket import`) of N short messages (default 1,000,000);
#  2. single-message ingest over HTTP, one message per request, 16 concurrent clients
#     (wrk, 2 threads), each durable before its response.
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
trap 'rm -rf "$WORK"; psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS bench_ingest CASCADE; DROP SCHEMA IF EXISTS bench_http CASCADE" >/dev/null 2>&1 || true' EXIT
python3 ops/bench/ingest/gen_jsonl.py "$N" "$WORK/messages.jsonl"
echo "corpus: $N messages, $(du -h "$WORK/messages.jsonl" | cut -f1)"
PG="postgres://postgres@127.0.0.1:5432/test"

import_one() { # name url-env
    local name="$1"; shift
    local dir="$WORK/$name-import"; mkdir -p "$dir"
    local t0 t1
    t0=$(date +%s.%N)
    env LOKET_DATA_DIR="$dir" "$@" "$BIN" import --create-tenants "$WORK/messages.jsonl" >/dev/null
    t1=$(date +%s.%N)
    python3 -c "d=$t1-$t0; print(f'bulk import $name: $N messages in {d:.1f} s = {$N/d:,.0f} messages/s')"
}
import_one sqlite
psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS bench_ingest CASCADE; CREATE SCHEMA bench_ingest" >/dev/null
import_one postgres LOKET_DATABASE__URL="$PG?options=-csearch_path%3Dbench_ingest"

http_one() { # name url-env...
    local name="$1"; shift
    local dir="$WORK/$name-http"; mkdir -p "$dir"
    local port=$((20000 + RANDOM % 10000))
    env LOKET_DATA_DIR="$dir" LOKET_HTTP__BIND="127.0.0.1:$port" RUST_LOG=warn "$@" "$BIN" serve >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
    echo "-- HTTP ingest $name (16 connections, 2 wrk threads, ${SECS}s)"
    LOKET_TOKEN="$(cat "$dir/demo-admin-token")" wrk -t2 -c16 -d"${SECS}s" --latency -s ops/bench/ingest/post.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|50%|75%|90%|99%|Non-2xx|requests in"
    kill -TERM $pid; wait $pid || true
}
http_one sqlite
psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS bench_http CASCADE; CREATE SCHEMA bench_http" >/dev/null
http_one postgres LOKET_DATABASE__URL="$PG?options=-csearch_path%3Dbench_http"
