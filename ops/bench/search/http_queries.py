#!/usr/bin/env python3
"""Drives a running `loket serve` with search requests over HTTP, for the memory check of
a real server (docs/benchmarks.md): 4 clients, N queries over the vocabulary of
ops/bench/ingest/gen_jsonl.py (single words, prefixes, fuzzy terms, pairs, phrases, 30 %
with a channel filter), fixed seed. Usage: http_queries.py TOKEN PORT N"""
import json, random, sys, threading, time, urllib.request, urllib.parse
tok, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
words = "vergunning paspoort afspraak parkeren afval container melding gemeente rijbewijs uittreksel verhuizing subsidie bijstand klacht wachttijd".split()
rng = random.Random(7)
qs = []
for i in range(n):
    r = rng.random()
    if r < 0.2: q = '"%s %s"' % (rng.choice(words), rng.choice(words))
    elif r < 0.5: q = "%s %s" % (rng.choice(words), rng.choice(words))
    else: q = rng.choice(words) + rng.choice(["", "*", "~1"])
    if rng.random() < 0.3: q += " channel:webchat"
    qs.append(q)
lat, lock, idx = [], threading.Lock(), [0]
def worker():
    while True:
        with lock:
            i = idx[0]; idx[0] += 1
        if i >= len(qs): return
        url = "http://127.0.0.1:%s/api/v1/search?%s" % (port, urllib.parse.urlencode({"q": qs[i], "limit": 20}))
        req = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
        t = time.perf_counter()
        with urllib.request.urlopen(req) as r:
            body = json.load(r)
        d = (time.perf_counter() - t) * 1000
        with lock: lat.append(d)
ts = [threading.Thread(target=worker) for _ in range(4)]
t0 = time.perf_counter()
[t.start() for t in ts]; [t.join() for t in ts]
lat.sort()
print(json.dumps({"queries": len(lat), "wall_s": round(time.perf_counter() - t0, 2), "p50_ms": round(lat[len(lat)//2], 2), "p99_ms": round(lat[int(len(lat)*0.99)], 2), "max_ms": round(lat[-1], 2)}))
