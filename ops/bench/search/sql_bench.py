#!/usr/bin/env python3
"""PostgreSQL FTS and SQLite FTS5 side of the search benchmark.

Loads <dir>/corpus.jsonl into the engine, then runs <dir>/queries.jsonl with N concurrent
clients. Each request = top-20 by rank + exact count(*), as two statements on one
connection. Prints one JSON object.

PostgreSQL: tsvector('dutch') generated column + GIN, ts_rank_cd; btree on channel and
time for the filters. SQLite: FTS5 (unicode61, diacritics removed; FTS5 has no Dutch
stemmer) joined to a metadata table, bm25().
"""
import argparse, json, os, sqlite3, threading, time, datetime

def pct(xs, p):
    if not xs:
        return 0.0
    return xs[min(len(xs) - 1, round((len(xs) - 1) * p))]

def day_micros(d):
    return int(datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp() * 1_000_000)

def next_day_micros(d):
    return day_micros(d) + 86_400_000_000

def run_clients(queries, clients, do_query):
    lat, errors, counts = [], [0], [0]
    lock = threading.Lock()
    it = iter(list(enumerate(queries)))
    def worker():
        conn_state = {}
        while True:
            with lock:
                nxt = next(it, None)
            if nxt is None:
                return
            t = time.perf_counter()
            try:
                c = do_query(conn_state, nxt[1])
                with lock:
                    counts[0] += c
            except Exception as e:  # a failed query is counted, not fatal
                with lock:
                    errors[0] += 1
                    if errors[0] < 3:
                        print("query error:", nxt[1].get("tantivy"), e, flush=True)
            dt = (time.perf_counter() - t) * 1e3
            with lock:
                lat.append(dt)
    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(clients)]
    for t in ts: t.start()
    for t in ts: t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {"queries": len(lat), "errors": errors[0], "wall_s": wall, "qps": len(lat) / wall,
            "p50_ms": pct(lat, .5), "p90_ms": pct(lat, .9), "p99_ms": pct(lat, .99),
            "max_ms": lat[-1] if lat else 0, "sum_of_counts": counts[0]}

def rows(path):
    with open(path) as f:
        for line in f:
            yield json.loads(line)

def pg(a, queries):
    import psycopg
    url = a.pg_url
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP SCHEMA IF EXISTS bench_search CASCADE")
        c.execute("CREATE SCHEMA bench_search")
        c.execute("""CREATE TABLE bench_search.m (id uuid PRIMARY KEY, conv uuid, channel text, direction text,
            sender text, subject text, body text, received_at timestamptz,
            tsv tsvector GENERATED ALWAYS AS (to_tsvector('dutch', coalesce(subject,'') || ' ' || body)) STORED)""")
        t0 = time.perf_counter()
        with c.cursor() as cur:
            with cur.copy("COPY bench_search.m (id, conv, channel, direction, sender, subject, body, received_at) FROM STDIN") as cp:
                for r in rows(os.path.join(a.dir, "corpus.jsonl")):
                    cp.write_row((r["id"], r["conv"], r["channel"], r["direction"], r["from"], r["subject"], r["text"],
                                  datetime.datetime.fromtimestamp(r["ts"] / 1e6, datetime.timezone.utc)))
        load_s = time.perf_counter() - t0
        c.execute("CREATE INDEX m_tsv ON bench_search.m USING gin (tsv)")
        c.execute("CREATE INDEX m_channel ON bench_search.m (channel)")
        c.execute("CREATE INDEX m_time ON bench_search.m (received_at)")
        c.execute("VACUUM ANALYZE bench_search.m")
        build_s = time.perf_counter() - t0
        size = c.execute("SELECT pg_total_relation_size('bench_search.m')").fetchone()[0]
    def q(state, qq):
        if "c" not in state:
            state["c"] = psycopg.connect(url, autocommit=True)
        conn = state["c"]
        parts, args = [], []
        if qq["terms"]:
            parts.append("plainto_tsquery('dutch', %s)"); args.append(" ".join(qq["terms"]))
        if qq["phrase"]:
            parts.append("phraseto_tsquery('dutch', %s)"); args.append(" ".join(qq["phrase"]))
        tsq = " && ".join(parts)
        where, wargs = "tsv @@ q", []
        if qq["channel"]:
            where += " AND channel = %s"; wargs.append(qq["channel"])
        if qq["from"]:
            where += " AND received_at >= %s AND received_at < %s"
            wargs += [qq["from"], (datetime.date.fromisoformat(qq["to"]) + datetime.timedelta(days=1)).isoformat()]
        top = f"SELECT id FROM bench_search.m, (SELECT {tsq} AS q) t WHERE {where} ORDER BY ts_rank_cd(tsv, q) DESC LIMIT 20"
        cnt = f"SELECT count(*) FROM bench_search.m, (SELECT {tsq} AS q) t WHERE {where}"
        conn.execute(top, args + wargs).fetchall()
        return conn.execute(cnt, args + wargs).fetchone()[0]
    run_clients(queries[:50], a.clients, q)  # warm-up, not measured
    res = run_clients(queries, a.clients, q)
    return {"engine": "PostgreSQL FTS (tsvector dutch + GIN, ts_rank_cd)", "load_s": load_s, "build_s": build_s,
            "table_and_index_bytes": size, "top20_count": res}

def fts5(a, queries):
    path = os.path.join(a.dir, "fts5.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    c = sqlite3.connect(path)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE meta (rowid INTEGER PRIMARY KEY, id TEXT, conv TEXT, channel TEXT, ts INTEGER)")
    c.execute("CREATE VIRTUAL TABLE fts USING fts5(subject, body, tokenize = 'unicode61 remove_diacritics 2')")
    t0 = time.perf_counter()
    batch_m, batch_f = [], []
    for i, r in enumerate(rows(os.path.join(a.dir, "corpus.jsonl")), start=1):
        batch_m.append((i, r["id"], r["conv"], r["channel"], r["ts"]))
        batch_f.append((i, r["subject"] or "", r["text"]))
        if len(batch_m) >= 10_000:
            c.executemany("INSERT INTO meta VALUES (?,?,?,?,?)", batch_m)
            c.executemany("INSERT INTO fts (rowid, subject, body) VALUES (?,?,?)", batch_f)
            batch_m, batch_f = [], []
    c.executemany("INSERT INTO meta VALUES (?,?,?,?,?)", batch_m)
    c.executemany("INSERT INTO fts (rowid, subject, body) VALUES (?,?,?)", batch_f)
    c.execute("CREATE INDEX meta_channel ON meta(channel)")
    c.execute("CREATE INDEX meta_ts ON meta(ts)")
    c.commit()
    c.execute("INSERT INTO fts(fts) VALUES ('optimize')")
    c.commit()
    build_s = time.perf_counter() - t0
    c.close()
    size = os.path.getsize(path)
    def q(state, qq):
        if "c" not in state:
            state["c"] = sqlite3.connect(path)
        conn = state["c"]
        m = [f'"{t}"' for t in qq["terms"]]
        if qq["phrase"]:
            m.append('"' + " ".join(qq["phrase"]) + '"')
        where, args = "fts MATCH ?", [" ".join(m)]
        if qq["channel"]:
            where += " AND meta.channel = ?"; args.append(qq["channel"])
        if qq["from"]:
            where += " AND meta.ts >= ? AND meta.ts < ?"; args += [day_micros(qq["from"]), next_day_micros(qq["to"])]
        conn.execute(f"SELECT fts.rowid FROM fts CROSS JOIN meta ON meta.rowid = fts.rowid WHERE {where} ORDER BY bm25(fts) LIMIT 20", args).fetchall()
        return conn.execute(f"SELECT count(*) FROM fts CROSS JOIN meta ON meta.rowid = fts.rowid WHERE {where}", args).fetchone()[0]
    run_clients(queries[:50], a.clients, q)
    res = run_clients(queries, a.clients, q)
    return {"engine": f"SQLite FTS5 {sqlite3.sqlite_version} (unicode61, bm25)", "build_s": build_s, "db_bytes": size, "top20_count": res}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("engine", choices=["pg", "sqlite"])
    ap.add_argument("--dir", default="target/bench-search")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--pg-url", default=os.environ.get("LOKET_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    a = ap.parse_args()
    queries = list(rows(os.path.join(a.dir, "queries.jsonl")))
    out = pg(a, queries) if a.engine == "pg" else fts5(a, queries)
    print(json.dumps(out))

if __name__ == "__main__":
    main()
