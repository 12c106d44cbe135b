// The real `loket serve` for the inbox's browser tests: a data directory of its own,
// people added with `loket user add`, conversations seeded through the JSON API with
// the demo tenant's admin token, and a clerk's login.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from './server.mjs';

const here = new URL('.', import.meta.url).pathname;
const target = process.env.CARGO_TARGET_DIR || resolve(here, '../../../target');
export const bin = process.env.LOKET_BIN && existsSync(process.env.LOKET_BIN)
  ? process.env.LOKET_BIN : join(target, 'debug/loket');
export const PASSWORD = 'correct horse battery staple';

export class Inbox {
  async start() {
    this.dir = mkdtempSync(join(tmpdir(), 'loket-inbox-browser-'));
    const port = await freePort();
    this.origin = `http://127.0.0.1:${port}`;
    this.env = {
      ...process.env,
      RUST_LOG: 'warn',
      LOKET_DATA_DIR: this.dir,
      LOKET_HTTP__BIND: `127.0.0.1:${port}`,
      LOKET_SMTP__BIND: `127.0.0.1:${await freePort()}`,
      LOKET_HTTP__SHUTDOWN_TIMEOUT_SECS: '2',
    };
    this.out = '';
    this.proc = spawn(bin, ['serve'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => { this.out += d; });
    this.proc.stderr.on('data', (d) => { this.out += d; });
    await waitFor(async () => {
      const r = await fetch(`${this.origin}/health/ready`).catch(() => null);
      return r && r.ok;
    }, { timeout: 60000, what: 'loket serve' });
    this.token = readFileSync(join(this.dir, 'demo-admin-token'), 'utf8').trim();
  }

  addUser(username, role, name) {
    const r = spawnSync(bin, ['user', 'add', '--tenant', 'demo', '--username', username, '--role', role, '--name', name],
      { env: { ...this.env, LOKET_USER_PASSWORD: PASSWORD }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`loket user add: ${r.stdout} ${r.stderr}`);
  }

  async api(path, init = {}) {
    const r = await fetch(`${this.origin}${path}`, {
      ...init, headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...(init.headers || {}) },
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : r.json();
  }

  /** One inbound message (a new conversation unless `conversation_id` is given). */
  message(body) {
    return this.api('/api/v1/messages', { method: 'POST', body: JSON.stringify(body) });
  }

  async stop() {
    const p = this.proc;
    if (p && p.exitCode === null) {
      await new Promise((ok) => { p.on('exit', ok); p.kill('SIGTERM'); setTimeout(() => p.kill('SIGKILL'), 10000); });
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Logs `username` in on a new page of `context`; resolves when the list is shown. */
export async function login(context, origin, username) {
  const page = await context.newPage();
  await page.goto(`${origin}/inbox/login`);
  await page.getByLabel('Gebruikersnaam').fill(username);
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL(/\/inbox(\/search|\/audit)?$/);
  return page;
}
