#!/usr/bin/env python3
"""Writes N messages in loket's JSONL interchange format (docs/jsonl-format.md),
deterministically (fixed seed), for the bulk-import benchmark.

    gen_jsonl.py N OUT            short generated chat lines (the round 1 figure)
    gen_jsonl.py N OUT --mix      the realistic mix: 55 % emails of a few KB
                                  with full headers (raw = the MIME), 35 % chat, 10 % SMS,
                                  three tenants, one message in 50 with a PDF attachment
"""
import base64, hashlib, json, random, sys, uuid, datetime

args = [a for a in sys.argv[1:] if not a.startswith("--")]
mix = "--mix" in sys.argv
n = int(args[0]) if len(args) > 0 else 1_000_000
out = args[1] if len(args) > 1 else "/dev/stdout"
rng = random.Random(20261125)
words = ("vergunning paspoort afspraak parkeren afval container melding gemeente "
         "rijbewijs uittreksel verhuizing subsidie bijstand klacht wachttijd").split()
start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)

def uid(i, salt):
    return str(uuid.UUID(int=(rng.getrandbits(64) << 64) | (salt << 56) | i, version=4))

sentences = [
    "Graag ontvang ik informatie over de vergunning voor de uitbouw aan de achterkant.",
    "De container in onze straat is al twee weken niet geleegd, kunt u dit nagaan?",
    "Ik heb vorige week een afspraak gemaakt voor mijn paspoort maar kan niet komen.",
    "Wanneer wordt de parkeervergunning voor bewoners van de binnenstad verlengd?",
    "Naar aanleiding van uw brief van 12 maart wil ik bezwaar maken tegen de aanslag.",
    "Hierbij stuur ik de gevraagde stukken mee als bijlage bij deze e-mail.",
    "Bedankt voor uw snelle reactie, ik wacht de beslissing verder af.",
    "De lantaarnpaal op de hoek van de Dorpsstraat is al een maand kapot.",
]

def pdf_bytes(i):
    # A small valid-looking PDF with a stream of pseudo-random bytes (10-25 KB), as a
    # scanned letter would be: incompressible, so its size is real.
    body = rng.randbytes(rng.randint(10_000, 25_000))
    head = (b"%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
            b"4 0 obj<</Length %d>>stream\n" % len(body))
    return head + body + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%EOF\n"

def email_raw(i, c, subject, text, at):
    headers = (
        f"Return-Path: <burger{c}@voorbeeld.nl>\r\n"
        f"Received: from mail.voorbeeld.nl (mail.voorbeeld.nl [192.0.2.{c % 250}])\r\n"
        f"\tby mx.gemeente.example with ESMTPS id {i:x}; {at}\r\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; d=voorbeeld.nl; s=sel; b={base64.b64encode(rng.randbytes(180)).decode()}\r\n"
        f"From: Burger {c} <burger{c}@voorbeeld.nl>\r\nTo: info@gemeente.example\r\n"
        f"Subject: {subject}\r\nDate: {at}\r\nMessage-ID: <mix-{i}@voorbeeld.nl>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return (headers + text.replace("\n", "\r\n") + "\r\n").encode()

with open(out, "w") as f:
    contacts = 20_000
    for i in range(n):
        c = i % contacts
        at = (start + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        channel, tenant, subject, attachments = "webchat", "bench", None, []
        if not mix:
            text = " ".join(rng.choice(words) for _ in range(8))
            raw = json.dumps({"id": f"bench-{i}", "text": text}).encode()
            content_type, address = "application/json", f"session:{c}"
        else:
            tenant = ("bench", "bench-b", "bench-c")[c % 3]  # a conversation stays in its tenant
            kind = rng.random()
            if kind < 0.55:
                channel, address = "email", f"burger{c}@voorbeeld.nl"
                subject = "Vraag over " + rng.choice(words)
                text = "Geachte heer/mevrouw,\n\n" + "\n".join(
                    rng.choice(sentences) for _ in range(rng.randint(3, 12))) + \
                    f"\n\nMet vriendelijke groet,\nBurger {c}\n"
                raw = email_raw(i, c, subject, text, at)
                content_type = "message/rfc822"
            elif kind < 0.90:
                address = f"session:{c}"
                text = " ".join(rng.choice(sentences).split()[: rng.randint(4, 14)])
                raw = json.dumps({"id": f"bench-{i}", "text": text}).encode()
                content_type = "application/json"
            else:
                channel, address = "sms", f"+316{c:08d}"
                text = rng.choice(sentences)[:160]
                raw = f"From={address}&Body={text}".encode()
                content_type = "application/x-www-form-urlencoded"
            if i % 50 == 0:
                data = pdf_bytes(i)
                attachments = [{
                    "id": str(uuid.UUID(int=(0x0190_0000_0003_7000_8000_0000_0000_0000 | i))),
                    "filename": f"bijlage-{i}.pdf", "content_type": "application/pdf",
                    "content_id": None, "sha256": hashlib.sha256(data).hexdigest(),
                    "data": base64.b64encode(data).decode(),
                }]
        line = {
            "v": 1, "tenant": tenant, "tenant_name": "Gemeente " + tenant.replace("bench", "Bench"),
            "id": str(uuid.UUID(int=(0x0190_0000_0000_7000_8000_0000_0000_0000 | i))),
            "conversation_id": str(uuid.UUID(int=(0x0190_0000_0001_7000_8000_0000_0000_0000 | c))),
            "conversation_token": f"B{c:05d}",
            "conversation_subject": None,
            "conversation_created_at": start.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "contact_id": str(uuid.UUID(int=(0x0190_0000_0002_7000_8000_0000_0000_0000 | c))),
            "contact_address": address, "contact_name": None,
            "direction": "inbound", "channel": channel, "idempotency_key": f"bench-{i}",
            "provider_message_id": f"bench-{i}", "rfc_message_id": None,
            "from": {"address": address}, "to": [], "subject": subject,
            "text": text, "html": None, "sent_at": None, "received_at": at,
            "flags": [], "parse_warnings": [], "author": None,
            "raw_content_type": content_type,
            "raw_sha256": hashlib.sha256(raw).hexdigest(),
            "raw": base64.b64encode(raw).decode(), "attachments": attachments, "events": [],
        }
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
