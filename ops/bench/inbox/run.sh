#!/bin/sh
# Inbox benchmark on both backends; results go to stdout (copy into docs/benchmarks-inbox.md).
# Needs: a built binary (cargo build -p loket [--release]), python3, psql, PostgreSQL at
# 127.0.0.1:5432 (user postgres, trust auth) — see ops/ci/.
set -eu
here=$(dirname "$0")
cd "$here/../../.." && . ops/lib/target-dir.sh && here=ops/bench/inbox
BIN=${LOKET_BIN:-$TARGET_DIR/debug/loket}
python3 "$here/bench.py" --bin "$BIN" --backend sqlite "$@"
python3 "$here/bench.py" --bin "$BIN" --backend postgres "$@"
