#!/usr/bin/env python3
"""Writes N short messages in loket's JSONL interchange format (docs/jsonl-format.md),
deterministically (fixed seed), for the bulk-import benchmark."""
import base64, hashlib, json, random, sys, uuid, datetime

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = sys.argv[2] if len(sys.argv) > 2 else "/dev/stdout"
rng = random.Random(20261125)
words = ("vergunning paspoort afspraak parkeren afval container melding gemeente "
         "rijbewijs uittreksel verhuizing subsidie bijstand klacht wachttijd").split()
start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)

def uid(i, salt):
    return str(uuid.UUID(int=(rng.getrandbits(64) << 64) | (salt << 56) | i, version=4))

with open(out, "w") as f:
    contacts = 20_000
    for i in range(n):
        c = i % contacts
        text = " ".join(rng.choice(words) for _ in range(8))
        raw = json.dumps({"id": f"bench-{i}", "text": text}).encode()
        at = (start + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        line = {
            "v": 1, "tenant": "bench", "tenant_name": "Gemeente Bench",
            "id": str(uuid.UUID(int=(0x0190_0000_0000_7000_8000_0000_0000_0000 | i))),
            "conversation_id": str(uuid.UUID(int=(0x0190_0000_0001_7000_8000_0000_0000_0000 | c))),
            "conversation_token": f"B{c:05d}",
            "conversation_subject": None,
            "conversation_created_at": start.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "contact_id": str(uuid.UUID(int=(0x0190_0000_0002_7000_8000_0000_0000_0000 | c))),
            "contact_address": f"session:{c}", "contact_name": None,
            "direction": "inbound", "channel": "webchat", "idempotency_key": f"bench-{i}",
            "provider_message_id": f"bench-{i}", "rfc_message_id": None,
            "from": {"address": f"session:{c}"}, "to": [], "subject": None,
            "text": text, "html": None, "sent_at": None, "received_at": at,
            "flags": [], "parse_warnings": [], "author": None,
            "raw_content_type": "application/json",
            "raw_sha256": hashlib.sha256(raw).hexdigest(),
            "raw": base64.b64encode(raw).decode(), "attachments": [], "events": [],
        }
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
