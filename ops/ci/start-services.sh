#!/usr/bin/env bash
# PostgreSQL is started on every machine of this kind before a session; start it again
# if it stopped (a test that restarts it, a reboot). Then wait until it answers.
set -euo pipefail
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
fi
for _ in $(seq 1 60); do
    pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
    sleep 1
done
echo "PostgreSQL at 127.0.0.1:5432 does not answer" >&2
exit 1
