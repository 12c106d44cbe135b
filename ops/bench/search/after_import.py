#!/usr/bin/env python3
"""Search as a user meets it after a large import: `loket import` of a
corpus, then `loket serve`; the query mix runs the moment the index has caught up with
the archive, again while a live writer ingests over HTTP, and twice after a restart.
Memory of the serving process (VmRSS and anonymous apart) is sampled every 100 ms for
the whole time it serves, including the catch-up.

    after_import.py --bin BIN --corpus FILE.jsonl --dir WORKDIR [--db-url URL]
                    [--queries 1348] [--clients 4] [--port 21180]

Prints one JSON object per pass and a final summary object (all times in ms)."""
import argparse, json, os, random, re, resource, signal, subprocess, sys, threading, time
import urllib.parse, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("--corpus", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--db-url", default="")
ap.add_argument("--queries", type=int, default=1348)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--port", type=int, default=21180)
ap.add_argument("--label", default="sqlite")
a = ap.parse_args()

env = dict(os.environ, LOKET_DATA_DIR=a.dir, RUST_LOG="warn",
           LOKET_HTTP__BIND=f"127.0.0.1:{a.port}", LOKET_SMTP__BIND=f"127.0.0.1:{a.port + 1}")
if a.db_url:
    env["LOKET_DATABASE__URL"] = a.db_url
os.makedirs(a.dir, exist_ok=True)
base = f"http://127.0.0.1:{a.port}"
out = {"label": a.label}

def emit(d):
    print(json.dumps(d), flush=True)

# 1. The import.
t = time.time()
subprocess.run([a.bin, "import", "--create-tenants", a.corpus], env=env, check=True,
               stdout=subprocess.DEVNULL)
imp_s = time.time() - t
lines = sum(1 for _ in open(a.corpus, "rb"))
emit({"phase": "import", "label": a.label, "messages": lines, "seconds": round(imp_s, 1),
      "msg_per_s": round(lines / imp_s),
      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)})

tenants = ("bench", "bench-b", "bench-c")
tokens = [subprocess.run([a.bin, "token", "create", "--tenant", tn, "--role", "foi_officer"],
                         env=env, check=True, capture_output=True, text=True).stdout.strip()
          for tn in tenants]
writer_token = subprocess.run([a.bin, "token", "create", "--tenant", "bench", "--role", "admin"],
                              env=env, check=True, capture_output=True, text=True).stdout.strip()

# The query mix over the corpus vocabulary (fixed seed): single words, prefixes, fuzzy
# terms, pairs, phrases, 30 % with a channel filter; top 20 with the exact count.
words = ("vergunning paspoort afspraak parkeren afval container melding gemeente "
         "rijbewijs uittreksel verhuizing subsidie bijstand klacht wachttijd lantaarnpaal "
         "bezwaar aanslag bijlage beslissing binnenstad").split()
rng = random.Random(1348)
queries = []
for i in range(a.queries):
    r = rng.random()
    if r < 0.2: q = '"%s %s"' % (rng.choice(words), rng.choice(words))
    elif r < 0.5: q = "%s %s" % (rng.choice(words), rng.choice(words))
    else: q = rng.choice(words) + rng.choice(["", "", "*", "~1"])
    if rng.random() < 0.3: q += rng.choice([" channel:webchat", " channel:email", " channel:sms"])
    queries.append((q, tokens[i % len(tokens)]))

class Sampler(threading.Thread):
    """VmRSS and RssAnon of the serving process, maximum per phase."""
    def __init__(self):
        super().__init__(daemon=True); self.pid = None; self.phase = "start"; self.max = {}
        self.stop = False
    def run(self):
        while not self.stop:
            pid = self.pid
            if pid:
                try:
                    st = open(f"/proc/{pid}/status").read()
                    rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1)) / 1024
                    anon = int(re.search(r"RssAnon:\s+(\d+)", st).group(1)) / 1024
                    m = self.max.setdefault(self.phase, [0, 0])
                    m[0] = max(m[0], rss); m[1] = max(m[1], anon)
                except (OSError, AttributeError):
                    pass
            time.sleep(0.1)
sampler = Sampler(); sampler.start()

def metrics():
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        t = r.read().decode()
    head = int(float(re.search(r"^loket_outbox_head_seq (\S+)", t, re.M).group(1)))
    idx = int(float(re.search(r"^loket_search_indexed_seq (\S+)", t, re.M).group(1)))
    return head, idx

def start():
    p = subprocess.Popen([a.bin, "serve"], env=env, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(a.dir, "serve.log"), "a"))
    sampler.pid = p.pid
    t0 = time.time()
    while True:
        try:
            urllib.request.urlopen(base + "/health/ready", timeout=2); break
        except OSError:
            if p.poll() is not None: sys.exit("serve exited; see serve.log")
            time.sleep(0.1)
    return p, t0

def wait_caught_up(t0):
    while True:
        try:
            head, idx = metrics()
            if head > 0 and idx >= head:
                return time.time() - t0
        except (OSError, AttributeError):
            pass
        time.sleep(0.2)

def search_pass(name, live_writer=False):
    sampler.phase = name
    lat, lock, nxt, errors = [], threading.Lock(), [0], [0]
    stop_writer = [False]; written = [0]
    def worker():
        while True:
            with lock:
                i = nxt[0]; nxt[0] += 1
            if i >= len(queries): return
            q, tok = queries[i]
            url = base + "/api/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 20})
            req = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    body = json.load(r)
                    assert isinstance(body, dict)
            except Exception:
                with lock: errors[0] += 1
                continue
            d = (time.perf_counter() - t) * 1000
            with lock: lat.append(d)
    def writer():
        # About 100 messages/s of chat, each durable before the next is sent.
        n = 0
        while not stop_writer[0]:
            n += 1
            body = json.dumps({"channel": "webchat", "from": {"address": f"session:live{n % 50}"},
                               "text": f"Live bericht {n} over de vergunning en het paspoort",
                               "provider_message_id": f"live-{name}-{n}"}).encode()
            req = urllib.request.Request(base + "/api/v1/messages", data=body, method="POST",
                                         headers={"Authorization": "Bearer " + writer_token,
                                                  "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(req, timeout=30).read(); written[0] += 1
            except Exception:
                errors[0] += 1
            time.sleep(0.01)
    w = threading.Thread(target=writer) if live_writer else None
    if w: w.start()
    ts = [threading.Thread(target=worker) for _ in range(a.clients)]
    t0 = time.perf_counter()
    [t.start() for t in ts]; [t.join() for t in ts]
    wall = time.perf_counter() - t0
    stop_writer[0] = True
    if w: w.join()
    lat.sort()
    mx = sampler.max.get(name, [0, 0])
    d = {"phase": name, "label": a.label, "queries": len(lat), "errors": errors[0],
         "q_per_s": round(len(lat) / wall), "p50_ms": round(lat[len(lat) // 2], 1),
         "p99_ms": round(lat[int(len(lat) * 0.99)], 1), "max_ms": round(lat[-1], 1),
         "vmrss_max_mib": round(mx[0]), "anon_max_mib": round(mx[1])}
    if live_writer: d["live_messages_written"] = written[0]
    emit(d); return d

# 2. Serve right after the import: catch up, then the passes.
sampler.phase = "catch-up"
p, t0 = start()
caught = wait_caught_up(t0)
mx = sampler.max.get("catch-up", [0, 0])
emit({"phase": "catch-up", "label": a.label, "seconds": round(caught, 1),
      "vmrss_max_mib": round(mx[0]), "anon_max_mib": round(mx[1])})
passes = [search_pass("after-import-1"), search_pass("after-import-2"),
          search_pass("live-writer", live_writer=True)]
sampler.phase = "idle"; time.sleep(2)
p.send_signal(signal.SIGTERM); p.wait(timeout=120)

# 3. After a restart.
sampler.phase = "restart-catch-up"
p, t0 = start()
wait_caught_up(t0)
passes += [search_pass("after-restart-1"), search_pass("after-restart-2")]
p.send_signal(signal.SIGTERM); p.wait(timeout=120)
sampler.stop = True
allmax = [max(v[0] for v in sampler.max.values()), max(v[1] for v in sampler.max.values())]
emit({"phase": "summary", "label": a.label,
      "worst_p99_ms": max(x["p99_ms"] for x in passes), "worst_max_ms": max(x["max_ms"] for x in passes),
      "vmrss_max_mib": round(allmax[0]), "anon_max_mib": round(allmax[1])})
