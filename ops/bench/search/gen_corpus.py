#!/usr/bin/env python3
"""Reproducible corpus and query mix for the search benchmark.

Writes <out>/corpus.jsonl (one message per line) and <out>/queries.jsonl (the 1,000-query
mix in the syntax of each engine). Fixed seeds: the same --n gives byte-identical files.

Text: real English chat messages from PyPI `chitchat-dataset` (258k messages, shipped in
the package) mixed with generated Dutch municipal messages (webchat, email, SMS).
"""
import argparse, json, os, random, re, uuid, collections, datetime

SEED = 20241125

TOPICS = [
    ("kapvergunning", ["boom", "kappen", "eik", "tuin", "herplant"]),
    ("omgevingsvergunning", ["dakkapel", "aanbouw", "bouwtekening", "bestemmingsplan", "schuur"]),
    ("evenementenvergunning", ["buurtfeest", "muziek", "straatafsluiting", "koningsdag", "podium"]),
    ("parkeervergunning", ["bewoners", "kenteken", "wachtlijst", "parkeerzone", "bezoekers"]),
    ("paspoort", ["afspraak", "verlopen", "pasfoto", "spoed", "vakantie"]),
    ("rijbewijs", ["verlengen", "keuring", "gestolen", "afspraak", "categorie"]),
    ("afval", ["gft", "container", "grofvuil", "ophaaldag", "milieustraat"]),
    ("subsidie", ["zonnepanelen", "isolatie", "vereniging", "aanvraagformulier", "toekenning"]),
    ("wmo", ["huishoudelijke", "hulp", "scootmobiel", "indicatie", "mantelzorg"]),
    ("bijstand", ["uitkering", "inkomen", "schuldhulp", "kwijtschelding", "aanvraag"]),
    ("overlast", ["geluidsoverlast", "buren", "hondenpoep", "jongeren", "stankoverlast"]),
    ("belasting", ["woz", "aanslag", "bezwaar", "hondenbelasting", "betalingsregeling"]),
    ("verhuizing", ["inschrijven", "brp", "uittreksel", "adres", "verhuisdatum"]),
    ("openbare ruimte", ["lantaarnpaal", "stoeptegel", "kuil", "zwerfvuil", "speeltuin"]),
]
STREETS = ["Dorpsstraat", "Kerkstraat", "Molenweg", "Stationsplein", "Julianalaan", "Beatrixstraat",
           "Schoolstraat", "Marktplein", "Nieuwe Gracht", "Oude Haven", "Lindelaan", "Esdoornhof"]
NAMES = ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
         "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker"]
FIRST = ["Jan", "Anna", "Mohamed", "Sanne", "Pieter", "Fatima", "Daan", "Emma", "Lucas", "Noor", "Bram", "Yara"]
OPEN = ["Goedemorgen,", "Beste gemeente,", "Hallo,", "Geachte heer/mevrouw,", "Hoi,", "Goedemiddag,"]
ASK = [
    "Ik wil graag een {t} aanvragen voor {s} {n}.",
    "Wanneer hoor ik iets over mijn {t}? Het gaat om {s} {n}.",
    "Kunt u mij vertellen hoe het zit met de {k} bij de {t}?",
    "Er is een probleem met de {k} aan de {s}. Zaaknummer Z-{y}-{z:06d}.",
    "Mijn {t} is afgewezen, ik wil bezwaar maken. Kenmerk {z:06d}.",
    "Is het mogelijk om de {k} te regelen voor de {t}? Ik woon aan de {s} {n}.",
    "Hoe lang duurt de behandeling van een {t}? Ik heb al {d} weken geen reactie over de {k}.",
    "De {k} bij {s} {n} is nog steeds niet opgelost.",
]
ANSWER = [
    "Dank voor uw bericht over de {t}. We nemen binnen {d} werkdagen contact met u op.",
    "Uw aanvraag voor de {t} is in behandeling onder zaaknummer Z-{y}-{z:06d}.",
    "U kunt de {k} regelen via het formulier op onze website of aan de balie.",
    "Wij hebben de melding over de {k} aan de {s} doorgezet naar de buitendienst.",
    "Voor een {t} heeft u een afspraak nodig. Kies een moment in de agenda.",
]
CLOSE = ["Met vriendelijke groet,", "Groet,", "Alvast bedankt!", "Bvd", ""]


def load_chitchat():
    try:
        import chitchat_dataset as ccc
    except ImportError:
        return []
    out = []
    for _, conv in sorted(ccc.Dataset().items()):
        for turn in conv["messages"]:
            for m in turn:
                t = m.get("text", "").strip()
                if t:
                    out.append(t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000, help="number of messages")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--out", default="target/bench-search")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(SEED)
    chat = load_chitchat()
    start = datetime.datetime(2022, 5, 1, tzinfo=datetime.timezone.utc)
    span_s = 4 * 365 * 24 * 3600
    channels = ["webchat"] * 40 + ["email"] * 35 + ["sms"] * 25
    df = collections.Counter()
    bigrams = []
    n = 0
    with open(os.path.join(a.out, "corpus.jsonl"), "w") as f:
        while n < a.n:
            conv = uuid.UUID(int=rng.getrandbits(128))
            ch = rng.choice(channels)
            who = f"{rng.choice(FIRST)} {rng.choice(NAMES)}"
            if ch == "email":
                addr = f"{who.split()[0].lower()}.{rng.randrange(10**6)}@example.nl"
            elif ch == "sms":
                addr = f"+316{rng.randrange(10**8):08d}"
            else:
                addr = f"chat-{rng.randrange(10**9)}"
            topic, keys = rng.choice(TOPICS)
            subject = f"Vraag over {topic}" if ch == "email" else None
            t0 = rng.randrange(span_s)
            for i in range(rng.randint(1, 12)):
                if n >= a.n:
                    break
                inbound = i % 2 == 0
                v = dict(t=topic, k=rng.choice(keys), s=rng.choice(STREETS), n=rng.randint(1, 250),
                         y=rng.randint(2022, 2026), z=rng.randrange(10**6), d=rng.randint(2, 8))
                if chat and rng.random() < 0.45:
                    text = rng.choice(chat)
                elif inbound:
                    text = " ".join([rng.choice(OPEN), rng.choice(ASK).format(**v), rng.choice(ASK).format(**v) if rng.random() < 0.4 else "", rng.choice(CLOSE), who]).strip()
                else:
                    text = " ".join([rng.choice(OPEN), rng.choice(ANSWER).format(**v), "Team Publiekszaken"])
                ts = start + datetime.timedelta(seconds=t0 + i * rng.randint(60, 86400))
                row = dict(id=str(uuid.UUID(int=rng.getrandbits(128))), conv=str(conv), channel=ch,
                           direction="inbound" if inbound else "outbound",
                           **{"from": addr if inbound else "gemeente@example.nl", "to": "gemeente@example.nl" if inbound else addr},
                           subject=subject, text=text, ts=int(ts.timestamp() * 1_000_000))
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                if n % 10 == 0:  # document frequencies from a 10% sample
                    words = re.findall(r"\w+", text.lower())
                    df.update(set(w for w in words if len(w) > 2 and not w.isdigit()))
                    if len(words) >= 2 and rng.random() < 0.2:
                        j = rng.randrange(len(words) - 1)
                        bigrams.append((words[j], words[j + 1]))
                n += 1
    # query mix: rare / medium / common terms, 20% phrases, 30% with a channel or date filter
    qrng = random.Random(SEED + 1)
    # ties broken by the word itself: Counter.most_common() keeps insertion order for ties,
    # and that order came from set iteration, which Python randomises per process
    ranked = [w for w, c in sorted(df.items(), key=lambda wc: (-wc[1], wc[0])) if w.isalpha()]
    common = ranked[:150]
    medium = ranked[150:3000]
    rare = [w for w in ranked[3000:] if df[w] <= 3]
    qs = []
    for i in range(a.queries):
        kind = i % 3
        pool = [rare, medium, common][kind] or ranked
        q = {"bucket": ["rare", "medium", "common"][kind], "terms": [], "phrase": None, "channel": None, "from": None, "to": None}
        if qrng.random() < 0.20 and bigrams:
            q["phrase"] = list(qrng.choice(bigrams))
        else:
            q["terms"] = [qrng.choice(pool)] + ([qrng.choice(medium or ranked)] if qrng.random() < 0.3 else [])
        r = qrng.random()
        if r < 0.15:
            q["channel"] = qrng.choice(["webchat", "email", "sms"])
        elif r < 0.30:
            d0 = start + datetime.timedelta(days=qrng.randrange(4 * 365 - 200))
            q["from"] = d0.date().isoformat()
            q["to"] = (d0 + datetime.timedelta(days=qrng.choice([30, 90, 180]))).date().isoformat()
        parts = list(q["terms"])
        if q["phrase"]:
            parts.append('"' + " ".join(q["phrase"]) + '"')
        if q["channel"]:
            parts.append("channel:" + q["channel"])
        if q["from"]:
            parts.append(f"date:{q['from']}..{q['to']}")
        q["tantivy"] = " ".join(parts)
        qs.append(q)
    with open(os.path.join(a.out, "queries.jsonl"), "w") as f:
        for q in qs:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(json.dumps({"messages": n, "chitchat_messages_available": len(chat), "queries": len(qs)}))


if __name__ == "__main__":
    main()
