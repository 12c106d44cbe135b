// Starts the server under test and talks to its test routes.
//
// By default this is the web chat crate's test server (crates/webchat/examples/
// webchat_test_server.rs: the same routes as `loket serve`, over a file-backed SQLite
// store, with a demo tenant and an outbox relay). Build it first:
//   cargo build -p loket-webchat --example webchat_test_server
// LOKET_WEBCHAT_SERVER=<path> picks another binary with the same environment contract.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';

const here = new URL('.', import.meta.url).pathname;
const target = process.env.CARGO_TARGET_DIR || resolve(here, '../../../target');
export const serverBin = process.env.LOKET_WEBCHAT_SERVER || join(target, 'debug/examples/webchat_test_server');

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
    s.on('error', fail);
  });
}

export const loketBin = process.env.LOKET_BIN && existsSync(process.env.LOKET_BIN) ? process.env.LOKET_BIN : null;

/**
 * The server under test: the real `loket serve` when LOKET_BIN names it (ops/test.sh does),
 * else the crate's webchat_test_server. Both serve the same web chat routes and the API
 * subset used here (GET /api/v1/messages/{id}, GET /api/v1/conversations/{id},
 * POST /api/v1/conversations/{id}/replies).
 */
export class TestServer {
  constructor({ onlineRule = 'always' } = {}) {
    this.onlineRule = onlineRule;
    this.dir = mkdtempSync(join(tmpdir(), 'loket-webchat-browser-'));
    this.proc = null;
    this.port = null;
    this.token = null;
  }

  get origin() { return `http://127.0.0.1:${this.port}`; }

  async start() {
    if (!this.port) { this.port = await freePort(); this.smtpPort = await freePort(); }
    const env = { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' };
    let bin, args;
    if (loketBin) {
      bin = loketBin; args = ['serve'];
      Object.assign(env, {
        LOKET_HTTP__BIND: `127.0.0.1:${this.port}`,
        LOKET_SMTP__BIND: `127.0.0.1:${this.smtpPort}`,
        LOKET_DATA_DIR: this.dir,
        LOKET_WEBCHAT__DEFAULTS__ONLINE_RULE: this.onlineRule,
        LOKET_HTTP__SHUTDOWN_TIMEOUT_SECS: '2',
      });
    } else {
      bin = serverBin; args = [];
      Object.assign(env, {
        WEBCHAT_TEST_DATA: this.dir,
        WEBCHAT_TEST_PORT: String(this.port),
        WEBCHAT_TEST_CONFIG: JSON.stringify({ defaults: { online_rule: this.onlineRule } }),
      });
    }
    const proc = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    let exited = null;
    proc.on('error', (e) => { exited = String(e); });
    proc.on('exit', (code) => { exited = `exit ${code}`; });
    await waitFor(async () => {
      if (exited) throw new Error(`server ${exited}: ${out}`);
      const r = await fetch(`${this.origin}/webchat/v1/info?tenant=demo`).catch(() => null);
      return r && r.ok;
    }, { timeout: 60000, what: `server start (${out.slice(-500)})` }).catch((e) => { if (exited) throw new Error(`server ${exited}: ${out}`); throw e; });
    if (loketBin && !this.token) this.token = readFileSync(join(this.dir, 'demo-admin-token'), 'utf8').trim();
  }

  async stop() {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    if (p.exitCode !== null) return;
    await new Promise((ok) => { p.on('exit', ok); p.kill('SIGTERM'); setTimeout(() => p.kill('SIGKILL'), 10000); });
  }

  async restart() { await this.stop(); await this.start(); }

  async dispose() { await this.stop(); rmSync(this.dir, { recursive: true, force: true }); }

  async api(path, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const r = await fetch(`${this.origin}${path}`, { ...init, headers });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  message(id) { return this.api(`/api/v1/messages/${id}`); }

  async conversationMessages(id) { return (await this.api(`/api/v1/conversations/${id}`)).messages; }

  /** A clerk's reply in a conversation (stored `queued`, then pushed to the widget). */
  reply(conversationId, text) {
    return this.api(`/api/v1/conversations/${conversationId}/replies`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }),
    });
  }
}

export async function waitFor(fn, { timeout = 10000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}
