// Starts the server under test and talks to its test routes.
//
// By default this is the web chat crate's test server (crates/webchat/examples/
// webchat_test_server.rs: the same routes as `loket serve`, over a file-backed SQLite
// store, with a demo tenant and an outbox relay). Build it first:
//   cargo build -p loket-webchat --example webchat_test_server
// LOKET_WEBCHAT_SERVER=<path> picks another binary with the same environment contract.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

export class TestServer {
  constructor({ config = { defaults: { online_rule: 'always' } } } = {}) {
    this.config = config;
    this.dir = mkdtempSync(join(tmpdir(), 'loket-webchat-browser-'));
    this.proc = null;
    this.port = null;
  }

  get origin() { return `http://127.0.0.1:${this.port}`; }

  async start() {
    if (!this.port) this.port = await freePort();
    const env = {
      ...process.env,
      WEBCHAT_TEST_DATA: this.dir,
      WEBCHAT_TEST_PORT: String(this.port),
      WEBCHAT_TEST_CONFIG: JSON.stringify(this.config),
      RUST_LOG: process.env.RUST_LOG || 'warn',
    };
    const proc = spawn(serverBin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('error', (e) => { err += String(e); });
    await new Promise((ok, fail) => {
      let out = '';
      const t = setTimeout(() => fail(new Error(`server did not start: ${out} ${err}`)), 30000);
      proc.stdout.on('data', (d) => {
        out += d;
        if (out.includes('LISTENING')) { clearTimeout(t); ok(); }
      });
      proc.on('exit', (code) => { clearTimeout(t); fail(new Error(`server exited ${code}: ${err}`)); });
    });
    proc.removeAllListeners('exit');
  }

  async stop() {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    if (p.exitCode !== null) return;
    await new Promise((ok) => { p.on('exit', ok); p.kill('SIGTERM'); setTimeout(() => p.kill('SIGKILL'), 5000); });
  }

  async restart() { await this.stop(); await this.start(); }

  async dispose() { await this.stop(); rmSync(this.dir, { recursive: true, force: true }); }

  /** Every stored message of the demo tenant. */
  async messages() {
    const r = await fetch(`${this.origin}/test/messages`);
    if (!r.ok) throw new Error(`messages: ${r.status}`);
    return r.json();
  }

  /** A clerk's reply in a conversation (stored `queued`, as the server's reply API does). */
  async reply(conversationId, text) {
    const r = await fetch(`${this.origin}/test/reply/${conversationId}`, { method: 'POST', body: text });
    if (!r.ok) throw new Error(`reply: ${r.status} ${await r.text()}`);
    return r.json();
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
