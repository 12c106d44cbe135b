#!/bin/sh
# Inbox benchmark on both backends; results go to stdout (copy into docs/benchmarks-inbox.md).
# Needs: a built binary (cargo build -p loket [--release]), python3, psql, PostgreSQL at
# 127.0.0.1:5432 (user postgres, trust auth) — see ops/ci/.
set -eu
BIN=${LOKET_BIN:-${CARGO_TARGET_DIR:-/work/target}/debug/loket}
here=$(dirname "$0")
python3 "$here/bench.py" --bin "$BIN" --backend sqlite "$@"
python3 "$here/bench.py" --bin "$BIN" --backend postgres "$@"
