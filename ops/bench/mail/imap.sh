#!/usr/bin/env bash
# IMAP latency benchmark: APPEND -> archived against a real Dovecot, with the
# production poll interval, in every scenario of the IMAP tests. Results go to
# docs/benchmarks.md (by hand: paste the lines).
#   ops/bench/mail/imap.sh              # 223 messages in 6 s, poll 60 s
#   MESSAGES=500 SECONDS_=10 ops/bench/mail/imap.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
. ops/lib/target-dir.sh
bash ops/ci/install-mail.sh >/dev/null
cargo build -q --release -p loket-mail --example imap_bench
BIN="$TARGET_DIR/release/examples/imap_bench"
echo "# $(date -u +%FT%TZ) $(nproc) cores, release profile, $(git rev-parse --short HEAD)"
for scenario in steady dovecot-restart loket-restart uidvalidity; do
    "$BIN" --scenario "$scenario" --messages "${MESSAGES:-223}" --seconds "${SECONDS_:-6}" --poll-secs "${POLL_SECS:-60}"
done
