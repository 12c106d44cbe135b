#!/usr/bin/env bash
# The providers' SDKs from PyPI for the SMS interop test (crates/server/tests/sms_interop.rs):
# a venv at $LOKET_SMS_SDK_VENV (default /var/tmp/loket-sms-sdk). Idempotent.
set -euo pipefail
VENV="${LOKET_SMS_SDK_VENV:-/var/tmp/loket-sms-sdk}"
if "$VENV/bin/python" -c 'import twilio, vonage_http_client, messagebird, jwt' 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet 'twilio>=9' 'vonage>=4' 'messagebird>=2' 'PyJWT>=2'
