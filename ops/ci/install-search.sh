#!/usr/bin/env bash
# Python packages for the search benchmark (ops/bench/search): the PostgreSQL driver and
# the real chat text of PyPI `chitchat-dataset` (its data ships inside the package).
# Idempotent. The tests of loket-search need nothing beyond PostgreSQL (ops/ci).
set -euo pipefail
if python3 -c 'import psycopg, chitchat_dataset' 2>/dev/null; then
  exit 0
fi
python3 -m pip install --quiet 'psycopg[binary]>=3.1' 'chitchat-dataset==0.9.0'
