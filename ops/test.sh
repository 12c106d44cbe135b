#!/usr/bin/env bash
# The test command (README): installs what the tests need, then runs every test —
# Rust unit and integration tests on SQLite and PostgreSQL, and the browser tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The build goes where the caller's CARGO_TARGET_DIR says, else to cargo's default.
. ops/lib/target-dir.sh
export CARGO_TERM_COLOR=never
export LOKET_TEST_POSTGRES_URL="${LOKET_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

for script in ops/ci/install-*.sh; do
    echo "== $script"
    bash "$script"
done
bash ops/ci/start-services.sh

echo "== cargo build"
cargo build --workspace --all-targets
echo "== cargo test"
cargo test --workspace --no-fail-fast -- --test-threads="${LOKET_TEST_THREADS:-4}"

if [ -d tests/browser ] && ls tests/browser/*.test.mjs >/dev/null 2>&1; then
    echo "== browser tests"
    export LOKET_BIN="$TARGET_DIR/debug/loket"
    (cd tests/browser && node --test --test-concurrency=1 ./*.test.mjs)
fi
