#!/usr/bin/env python3
"""Inbox benchmark.

1. Conversation list with 100,000 conversations in the tenant: latency of the first page
   (50 rows) with filters, over HTTP against a running `loket serve`, on SQLite and on
   PostgreSQL. Target: p99 <= 50 ms.
2. Inbound message -> visible in an open inbox: POST /api/v1/messages, wait for its
   event on the inbox's SSE stream (/inbox/events), then fetch the first list page (what
   the inbox's script does) and check the conversation is in it. Target: p99 <= 500 ms.

The 100,000 conversations (one contact and one inbound message each) are bulk-loaded
with SQL for speed; everything measured goes through the real server.

Usage: bench.py --bin target/debug/loket --backend sqlite|postgres
       [--conversations 100000] [--requests 300] [--live 200]
"""
import argparse, http.client, json, os, random, shutil, signal, socket, sqlite3, subprocess
import sys, tempfile, threading, time, uuid
from datetime import datetime, timedelta, timezone

PG_BASE = os.environ.get("LOKET_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DB = "loket_bench_inbox"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def rows(tenant, n, seed=7):
    rnd = random.Random(seed)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    channels = ["webchat", "email", "sms"]
    contacts, convs, msgs = [], [], []
    for i in range(n):
        ch = channels[i % 3]
        cid, vid, mid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        at = (now - timedelta(seconds=rnd.randint(60, 2 * 365 * 86400))).strftime("%Y-%m-%d %H:%M:%S.%f")
        addr = {"webchat": f"chat:{i}", "email": f"burger{i}@example.nl", "sms": f"+3161{i:07d}"}[ch]
        r = rnd.random()
        status = "closed" if r < 0.6 else ("open" if r < 0.9 else "waiting")
        contacts.append((cid, tenant, ch, addr, None, at))
        convs.append((vid, tenant, cid, ch, f"B{i:07d}", f"Vraag {i}" if ch == "email" else None, status, None, at, at))
        body = f"Goedendag, ik heb een vraag over mijn aanvraag nummer {i}."
        msgs.append((mid, tenant, vid, cid, "inbound", ch, f"bench-{i}", None, None, addr, None, "[]",
                     None, body, None, None, at, "0" * 64, len(body), "application/json", "[]", "[]", None))
    return contacts, convs, msgs


MSG_COLS = ("id, tenant_id, conversation_id, contact_id, direction, channel, idempotency_key, "
            "provider_message_id, rfc_message_id, from_address, from_name, to_json, subject, body_text, "
            "body_html, sent_at, received_at, raw_sha256, raw_size, raw_content_type, flags_json, "
            "parse_warnings_json, author")


def seed_sqlite(path, tenant, n):
    c = sqlite3.connect(path, timeout=60)
    contacts, convs, msgs = rows(tenant, n)
    with c:
        c.executemany("INSERT INTO contacts VALUES (?,?,?,?,?,?)", contacts)
        c.executemany("INSERT INTO conversations VALUES (?,?,?,?,?,?,?,?,?,?)", convs)
        c.executemany(f"INSERT INTO messages ({MSG_COLS}) VALUES ({','.join('?' * 23)})", msgs)
    c.execute("ANALYZE")
    c.close()


def psql(url, sql, stdin=None):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], input=stdin,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return r.stdout


def seed_postgres(url, tenant, n):
    import csv, io
    contacts, convs, msgs = rows(tenant, n)
    for table, data, cols in (("contacts", contacts, None), ("conversations", convs, None), ("messages", msgs, MSG_COLS)):
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in data:
            w.writerow(["\\N" if v is None else v for v in r])
        col = f"({cols})" if cols else ""
        psql(url, f"\\copy {table}{col} FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf.getvalue())
    psql(url, "ANALYZE")


class Server:
    def __init__(self, bin, backend):
        self.dir = tempfile.mkdtemp(prefix="loket-bench-inbox-")
        self.port = free_port()
        env = dict(os.environ, RUST_LOG="warn", LOKET_DATA_DIR=self.dir,
                   LOKET_HTTP__BIND=f"127.0.0.1:{self.port}", LOKET_SMTP__BIND=f"127.0.0.1:{free_port()}")
        if backend == "postgres":
            psql(f"{PG_BASE}/postgres", f"DROP DATABASE IF EXISTS {PG_DB}")
            psql(f"{PG_BASE}/postgres", f"CREATE DATABASE {PG_DB}")
            self.db_url = f"{PG_BASE}/{PG_DB}"
            env["LOKET_DATABASE__URL"] = self.db_url
        else:
            self.db_url = None
        self.proc = subprocess.Popen([bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if self.get("/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        self.token = open(os.path.join(self.dir, "demo-admin-token")).read().strip()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, path, conn=None, token=None):
        c = conn or self.conn()
        h = {"Authorization": f"Bearer {token}"} if token else {}
        c.request("GET", path, headers=h)
        r = c.getresponse()
        return r.status, r.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            # An open SSE stream keeps graceful shutdown waiting for http.shutdown_timeout_secs.
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def tenant_id(srv, backend):
    if backend == "postgres":
        return psql(srv.db_url, "COPY (SELECT id FROM tenants WHERE slug='demo') TO STDOUT").strip()
    c = sqlite3.connect(os.path.join(srv.dir, "loket.db"))
    t = c.execute("SELECT id FROM tenants WHERE slug='demo'").fetchone()[0]
    c.close()
    return t


def sqlite_path(srv):
    for f in os.listdir(srv.dir):
        if f.endswith(".db") or f.endswith(".sqlite"):
            return os.path.join(srv.dir, f)
    raise RuntimeError(f"no SQLite file in {srv.dir}: {os.listdir(srv.dir)}")


FILTERS = [
    ("no filter", ""),
    ("status=open", "status=open"),
    ("status=open&channel=email", "status=open&channel=email"),
    ("status=waiting&channel=sms", "status=waiting&channel=sms"),
    ("assignee=none&status=open", "assignee=none&status=open"),
    ("sort=oldest&status=closed", "sort=oldest&status=closed"),
]


def bench_list(srv, requests):
    conn = srv.conn()
    out = []
    for name, q in FILTERS:
        path = f"/api/v1/conversations?limit=50&{q}"
        for _ in range(20):  # warm-up
            srv.get(path, conn, srv.token)
        lat = []
        for _ in range(requests):
            t = time.perf_counter()
            st, body = srv.get(path, conn, srv.token)
            lat.append((time.perf_counter() - t) * 1000)
            assert st == 200, body
        n = len(json.loads(body)["items"])
        out.append((name, n, pct(lat, 50), pct(lat, 95), pct(lat, 99), max(lat)))
    return out


def bench_live(srv, n):
    events = {}
    ready = threading.Event()

    def reader():
        c = srv.conn()
        c.request("GET", "/inbox/events", headers={"Authorization": f"Bearer {srv.token}"})
        r = c.getresponse()
        ready.set()
        ev = None
        while True:
            line = r.fp.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line.startswith("data: "):
                try:
                    d = json.loads(line[6:])
                except ValueError:
                    continue
                if d.get("type") == "message":
                    events[d["message_id"]] = time.perf_counter()

    threading.Thread(target=reader, daemon=True).start()
    ready.wait(10)
    time.sleep(0.2)
    conn, lconn = srv.conn(), srv.conn()
    to_event, visible = [], []
    for i in range(n):
        body = json.dumps({"channel": "webchat", "from": {"address": f"chat:live-{i}-{uuid.uuid4()}"},
                           "text": f"Live bericht {i}", "provider_message_id": str(uuid.uuid4())})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/messages", body=body,
                     headers={"Authorization": f"Bearer {srv.token}", "Content-Type": "application/json"})
        r = conn.getresponse()
        m = json.loads(r.read())
        assert r.status == 201, m
        while m["id"] not in events:
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("no live event within 10 s")
            time.sleep(0.0005)
        to_event.append((events[m["id"]] - t0) * 1000)
        st, page = srv.get("/api/v1/conversations?limit=50", lconn, srv.token)
        ids = [it["id"] for it in json.loads(page)["items"]]
        assert m["conversation_id"] in ids
        visible.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)
    return to_event, visible


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the loket binary (ops/bench/inbox/run.sh finds it)")
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--live", type=int, default=200)
    a = ap.parse_args()
    srv = Server(a.bin, a.backend)
    try:
        tid = tenant_id(srv, a.backend)
        t = time.time()
        if a.backend == "postgres":
            seed_postgres(srv.db_url, tid, a.conversations)
        else:
            seed_sqlite(sqlite_path(srv), tid, a.conversations)
        print(f"# {a.backend}: seeded {a.conversations} conversations in {time.time() - t:.1f} s")
        print(f"## first page (50 rows), {a.requests} sequential requests per filter, keep-alive, API token")
        print("| filter | rows | p50 ms | p95 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|---|")
        for name, n, p50, p95, p99, mx in bench_list(srv, a.requests):
            print(f"| `{name}` | {n} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {mx:.1f} |")
        ev, vis = bench_live(srv, a.live)
        print(f"## inbound -> visible in an open inbox, {a.live} messages")
        print("| measure | p50 ms | p95 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|")
        print(f"| POST /api/v1/messages -> SSE event | {pct(ev,50):.1f} | {pct(ev,95):.1f} | {pct(ev,99):.1f} | {max(ev):.1f} |")
        print(f"| ... + first list page contains it | {pct(vis,50):.1f} | {pct(vis,95):.1f} | {pct(vis,99):.1f} | {max(vis):.1f} |")
    finally:
        srv.stop()
        if a.backend == "postgres":
            try:
                psql(f"{PG_BASE}/postgres", f"DROP DATABASE IF EXISTS {PG_DB}")
            except RuntimeError as e:
                print(f"cleanup: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
