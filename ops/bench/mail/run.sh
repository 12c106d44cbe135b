#!/usr/bin/env bash
# SMTP ingest benchmark: 10 concurrent SMTP clients, 50 KB messages, every 250
# is a durable commit. Results go to docs/benchmarks-mail.md (by hand: paste the lines).
#   ops/bench/mail/run.sh                 # SQLite (file in a temp dir) and PostgreSQL
#   MESSAGES=6000 ops/bench/mail/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
. ops/lib/target-dir.sh
MESSAGES="${MESSAGES:-3000}"
CLIENTS="${CLIENTS:-10}"
SIZE="${SIZE:-51200}"
PG="${LOKET_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo build -q --release -p loket-mail --example smtp_bench
BIN="$TARGET_DIR/release/examples/smtp_bench"
echo "# $(date -u +%FT%TZ) $(nproc) cores, release profile"
"$BIN" --db sqlite --clients "$CLIENTS" --messages "$MESSAGES" --size "$SIZE"
if pg_isready -q -h 127.0.0.1 -p 5432; then
    SCHEMA="bench_mail_$$"
    psql -q "$PG" -c "CREATE SCHEMA $SCHEMA"
    trap 'psql -q "$PG" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" || true' EXIT
    "$BIN" --db "$PG?options=-csearch_path%3D$SCHEMA" --clients "$CLIENTS" --messages "$MESSAGES" --size "$SIZE"
fi
