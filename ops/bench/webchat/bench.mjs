// Web chat load test: N concurrent WebSockets, a total message rate R for D seconds,
// durable-ack latency (send -> `stored`, which the server sends only after the commit)
// and the server's memory. Traffic goes to 127.0.0.1 only; every loop is bounded.
//
//   node --experimental-websocket ops/bench/webchat/bench.mjs \
//     [--bin target/release/loket | --test-server target/release/examples/webchat_test_server] \
//     [--sockets 2000] [--rate 200] [--seconds 30]
//
// Starts the server itself on a free port with a fresh data directory and the rate limits
// raised for one client address (all sockets come from 127.0.0.1), prints a JSON report.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
  return acc;
}, []));
const SOCKETS = Number(args.sockets || 2000);
const RATE = Number(args.rate || 200);
const SECONDS = Number(args.seconds || 30);

const freePort = () => new Promise((ok) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const rate = {
  session_per_minute: 600, session_burst: 100,
  prefix_per_minute: 1000000, prefix_burst: 100000,
  prefix_max_connections: 100000, max_refusals_in_a_row: 20,
};
const dir = mkdtempSync(join(tmpdir(), 'loket-webchat-bench-'));
const port = await freePort();
let proc;
if (args.bin) {
  const env = { ...process.env, LOKET_HTTP__BIND: `127.0.0.1:${port}`, LOKET_SMTP__BIND: `127.0.0.1:${await freePort()}`, LOKET_DATA_DIR: dir, RUST_LOG: 'warn', LOKET_WEBCHAT__DEFAULTS__ONLINE_RULE: 'always' };
  for (const [k, v] of Object.entries(rate)) env[`LOKET_WEBCHAT__RATE__${k.toUpperCase()}`] = String(v);
  proc = spawn(args.bin, ['serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
} else {
  const bin = args['test-server'] || join(process.env.CARGO_TARGET_DIR || 'target', 'release/examples/webchat_test_server');
  proc = spawn(bin, [], { env: { ...process.env, WEBCHAT_TEST_DATA: dir, WEBCHAT_TEST_PORT: String(port), WEBCHAT_TEST_CONFIG: JSON.stringify({ rate, defaults: { online_rule: 'always' } }) }, stdio: ['ignore', 'ignore', 'inherit'] });
}
const origin = `127.0.0.1:${port}`;
for (let i = 0; i < 600; i++) {
  const ok = await fetch(`http://${origin}/webchat/v1/info?tenant=demo`).then((r) => r.ok, () => false);
  if (ok) break;
  await sleep(100);
}

function mem() {
  const s = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [0, 0])[1]);
  return { vmrss_mib: +(kb('VmRSS') / 1024).toFixed(1), rss_anon_mib: +(kb('RssAnon') / 1024).toFixed(1), rss_file_mib: +(kb('RssFile') / 1024).toFixed(1) };
}
const idle = mem();

// Open the sockets (in batches, so the accept queue is not flooded).
const socks = [];
const pending = new Map(); // client id -> [t0, resolve]
let refused = 0, errors = 0, closed = 0;
function open(i) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://${origin}/webchat/v1/ws?tenant=demo`);
    const secret = Buffer.from(`bench-session-${i}-${'x'.repeat(24)}`).toString('base64url').slice(0, 43);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', session: secret }));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === 'welcome') ok(ws);
      else if (f.type === 'stored') { const p = pending.get(f.id); if (p) { pending.delete(f.id); p(performance.now()); } }
      else if (f.type === 'refused') { refused++; const p = pending.get(f.id); if (p) { pending.delete(f.id); p(null); } }
    };
    ws.onerror = () => { errors++; fail(new Error('socket error')); };
    ws.onclose = () => { closed++; };
  });
}
const t0 = performance.now();
for (let i = 0; i < SOCKETS; i += 100) {
  const batch = [];
  for (let j = i; j < Math.min(SOCKETS, i + 100); j++) batch.push(open(j));
  socks.push(...await Promise.all(batch));
}
const connectSecs = (performance.now() - t0) / 1000;
const connected = mem();

// Send at a steady total rate; every message goes to a random socket.
const lat = [];
const total = RATE * SECONDS;
const sends = [];
const start = performance.now();
for (let n = 0; n < total; n++) {
  const due = start + (n * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
  const ws = socks[Math.floor(Math.random() * socks.length)];
  const id = `b-${n}`;
  const sent = performance.now();
  sends.push(new Promise((ok) => pending.set(id, (at) => { if (at !== null) lat.push(at - sent); ok(); })));
  ws.send(JSON.stringify({ type: 'message', id, text: `Benchmarkbericht ${n}: wanneer wordt het grofvuil opgehaald?` }));
}
const sendSecs = (performance.now() - start) / 1000;
await Promise.race([Promise.all(sends), sleep(30000)]);
const loaded = mem();
lat.sort((a, b) => a - b);
const pct = (p) => +(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] || 0).toFixed(1);
const report = {
  server: args.bin ? `${args.bin} serve` : 'webchat_test_server (crate example)',
  sockets: socks.length, target_rate_per_s: RATE, seconds: SECONDS,
  achieved_rate_per_s: +(total / sendSecs).toFixed(1),
  sent: total, acked: lat.length, refused, socket_errors: errors, sockets_closed: closed,
  connect_secs: +connectSecs.toFixed(1),
  ack_latency_ms: { p50: pct(50), p90: pct(90), p99: pct(99), max: +(lat[lat.length - 1] || 0).toFixed(1) },
  memory: { idle, connected, after_load: loaded },
  rate_limits: rate,
};
console.log(JSON.stringify(report, null, 2));
for (const ws of socks) ws.close();
proc.kill('SIGTERM');
await sleep(500);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
