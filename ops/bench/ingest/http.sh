#!/usr/bin/env bash
# Single-message ingest over HTTP: one message per request, each
# durable before its response, 16 concurrent clients (wrk), in one run:
#   1. SQLite, one node;
#   2. PostgreSQL, one node;
#   3. PostgreSQL, two `loket serve` nodes on the same database (8 + 8 clients, one wrk
#      per node at the same time; the figure is the sum, p99 the worse of the two).
# Usage: ops/bench/ingest/http.sh [SECONDS (default 20)] [ROUNDS (default 1)]
# LOKET_BENCH_PG_PARAMS="sslmode=disable&" adds connection parameters to the PostgreSQL URL.
# Prints one line per measurement; with ROUNDS > 1 each scenario is measured that often,
# interleaved, so that a noisy moment of the machine hits every scenario alike.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
SECS="${1:-20}"
ROUNDS="${2:-1}"
. ops/lib/target-dir.sh
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
# LOKET_BENCH_BIN measures another build (a "before" binary kept for comparison).
if [ -n "${LOKET_BENCH_BIN:-}" ]; then BIN="$LOKET_BENCH_BIN"; else
    cargo build --release -p loket >/dev/null; BIN="$TARGET_DIR/release/loket"; fi
PG="postgres://postgres@127.0.0.1:5432/test"
WORK="$(mktemp -d /tmp/loket-bench-http-XXXX)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS bench_http CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# start_node DIR HTTP_PORT SMTP_PORT [env...]: starts `loket serve`, waits until ready.
start_node() {
    local dir="$1" port="$2" smtp="$3"; shift 3
    mkdir -p "$dir"
    env LOKET_DATA_DIR="$dir" LOKET_HTTP__BIND="127.0.0.1:$port" LOKET_SMTP__BIND="127.0.0.1:$smtp" \
        RUST_LOG=warn "$@" "$BIN" serve >"$dir/serve.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return 0; sleep 0.2; done
    echo "node on $port did not become ready:" >&2; cat "$dir/serve.log" >&2; return 1
}
stop_nodes() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
# run_wrk PORT CONNECTIONS TOKEN OUT
run_wrk() {
    LOKET_TOKEN="$3" LOKET_RUN="$1-$(date +%s%N)" wrk -t2 -c"$2" -d"${SECS}s" --latency -s ops/bench/ingest/post.lua \
        "http://127.0.0.1:$1" >"$4"
}
# summary NAME FILE...: requests/s summed, p50/p99 the worst over the files.
summary() {
    python3 - "$@" <<'PY'
import re, sys
name, files = sys.argv[1], sys.argv[2:]
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
rps = p50 = p99 = 0.0; errors = 0
for f in files:
    t = open(f).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = max(p50, ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1)))
    p99 = max(p99, ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    errors += int(m.group(1)) if m else 0
    e = re.search(r"Socket errors:.*", t)
    if e: print(f"  {f}: {e.group(0)}")
print(f"{name}: {rps:,.0f} msg/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, non-2xx {errors}")
PY
}
fresh_schema() { psql -h 127.0.0.1 -U postgres -d test -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench_http CASCADE; CREATE SCHEMA bench_http" >/dev/null; }
PG_URL="$PG?${LOKET_BENCH_PG_PARAMS:-}options=-csearch_path%3Dbench_http"

for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$WORK"/n*
    start_node "$WORK/n-sqlite" 21080 21025
    run_wrk 21080 16 "$(cat "$WORK/n-sqlite/demo-admin-token")" "$WORK/sqlite.txt"
    stop_nodes
    summary "sqlite, 1 node, 16 clients" "$WORK/sqlite.txt"

    fresh_schema
    start_node "$WORK/n-pg1" 21081 21026 LOKET_DATABASE__URL="$PG_URL"
    run_wrk 21081 16 "$(cat "$WORK/n-pg1/demo-admin-token")" "$WORK/pg1.txt"
    stop_nodes
    summary "postgres, 1 node, 16 clients" "$WORK/pg1.txt"

    fresh_schema
    start_node "$WORK/n-pg2a" 21082 21027 LOKET_DATABASE__URL="$PG_URL"
    # The second node shares the database and the audit key, nothing else.
    mkdir -p "$WORK/n-pg2b"; cp "$WORK/n-pg2a/audit.key" "$WORK/n-pg2b/audit.key"
    start_node "$WORK/n-pg2b" 21083 21028 LOKET_DATABASE__URL="$PG_URL"
    token="$(cat "$WORK/n-pg2a/demo-admin-token")"
    run_wrk 21082 8 "$token" "$WORK/pg2a.txt" &
    w1=$!
    run_wrk 21083 8 "$token" "$WORK/pg2b.txt"
    wait "$w1"
    stop_nodes
    summary "postgres, 2 nodes, 8+8 clients" "$WORK/pg2a.txt" "$WORK/pg2b.txt"
    # The archive the two nodes wrote together must still verify (gap-free, one chain).
    if env LOKET_DATA_DIR="$WORK/n-pg2a" LOKET_DATABASE__URL="$PG_URL" "$BIN" verify >"$WORK/verify.txt" 2>&1; then
        echo "  two-node archive verifies"
    else
        echo "  two-node archive FAILS verify:"; head -20 "$WORK/verify.txt"; grep -i error "$WORK"/n-pg2*/serve.log | head -5
    fi
done
