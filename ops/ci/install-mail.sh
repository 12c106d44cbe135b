#!/usr/bin/env bash
# Installs what the loket-mail tests need: Dovecot (IMAP server started by the
# tests with their own config), swaks (SMTP client), aiosmtpd (Python SMTP server that
# plays the outbound relay) and CPython's email test corpus. Idempotent; runs as root on a
# fresh Debian 12 machine.
set -euo pipefail

need_apt=()
command -v /usr/sbin/dovecot >/dev/null 2>&1 || need_apt+=(dovecot-imapd)
command -v swaks >/dev/null 2>&1 || need_apt+=(swaks)
[ -x /usr/bin/python3 ] || need_apt+=(python3)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need_apt+=(python3-aiosmtpd)
[ -d /usr/lib/python3.11/test/test_email/data ] || need_apt+=(libpython3.11-testsuite)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)        # test certificates
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client) # lock-holder in a test
command -v kill >/dev/null 2>&1 || need_apt+=(procps)

if [ "${#need_apt[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update
    apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${need_apt[@]}"
fi

# The packaged dovecot service is not used: tests start their own dovecot processes.
if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now dovecot >/dev/null 2>&1 || true
fi

# aiosmtpd for whichever python3 comes first on PATH too (pyenv on developer machines).
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
    python3 -m pip install --quiet aiosmtpd \
        || python3 -m pip install --quiet --break-system-packages aiosmtpd
fi

echo "install-mail: dovecot $(/usr/sbin/dovecot --version), swaks $(swaks --version 2>&1 | head -1)"
