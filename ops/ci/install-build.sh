#!/usr/bin/env bash
# What the Rust build needs from the system: libpq for diesel's PostgreSQL driver, a C
# compiler for the bundled SQLite. Idempotent.
set -euo pipefail
need=()
dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v cc >/dev/null 2>&1 || need+=(gcc)
if [ "${#need[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update
    apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${need[@]}"
fi
