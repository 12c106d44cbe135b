#!/usr/bin/env bash
# Search right after a large import and after a restart, on SQLite and on
# PostgreSQL: ops/bench/search/after_import.py around `loket import` + `loket serve`.
# Usage: ops/bench/search/after_import.sh [MESSAGES (default 1000000)] [sqlite|postgres|both]
# LOKET_BENCH_BIN measures another build; LOKET_BENCH_BINS="old new" measures several
# builds one after another on the same corpus (before/after in one run).
set -euo pipefail
N="${1:-1000000}"
WHICH="${2:-both}"
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
. ops/lib/target-dir.sh
if [ -n "${LOKET_BENCH_BINS:-}" ]; then BINS="$LOKET_BENCH_BINS"
elif [ -n "${LOKET_BENCH_BIN:-}" ]; then BINS="$LOKET_BENCH_BIN"; else
    cargo build --release -p loket >/dev/null; BINS="$TARGET_DIR/release/loket"; fi
WORK="$(mktemp -d /tmp/loket-bench-search-XXXX)"
trap 'rm -rf "$WORK"; psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS bench_search CASCADE" >/dev/null 2>&1 || true' EXIT
python3 ops/bench/ingest/gen_jsonl.py "$N" "$WORK/mix.jsonl" --mix
echo "corpus: $N messages (realistic mix, three tenants), $(du -h "$WORK/mix.jsonl" | cut -f1)"
for BIN in $BINS; do
echo "== $BIN"
if [ "$WHICH" != postgres ]; then
    python3 ops/bench/search/after_import.py --bin "$BIN" --corpus "$WORK/mix.jsonl" \
        --dir "$WORK/sqlite" --label "sqlite $(basename "$BIN")"
    rm -rf "$WORK/sqlite"
fi
if [ "$WHICH" != sqlite ]; then
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP SCHEMA IF EXISTS bench_search CASCADE; CREATE SCHEMA bench_search" >/dev/null
    python3 ops/bench/search/after_import.py --bin "$BIN" --corpus "$WORK/mix.jsonl" \
        --dir "$WORK/postgres" --label "postgres $(basename "$BIN")" \
        --db-url "postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_search"
    rm -rf "$WORK/postgres"
fi
done
