// The clerk inbox end to end in real headless Chromium against the real
// `loket serve` binary: log in, a web chat message from a second browser context (the
// citizen) arrives live in the list, the clerk answers it, the answer appears in the
// citizen's widget; axe-core finds no WCAG 2.1 A/AA violations on the login page, the
// list and the conversation view.
//
// Run: cargo build -p loket && cd tests/browser && node --test inbox.test.mjs
// (LOKET_BIN overrides target/debug/loket; CHROMIUM overrides /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from './lib/server.mjs';
import { launch, axe } from './lib/browser.mjs';

const here = new URL('.', import.meta.url).pathname;
const target = process.env.CARGO_TARGET_DIR || resolve(here, '../../../target');
const bin = process.env.LOKET_BIN && existsSync(process.env.LOKET_BIN)
  ? process.env.LOKET_BIN : join(target, 'debug/loket');
const PASSWORD = 'correct horse battery staple';

let dir, proc, origin, browser, out = '';
let relay, relayOut = '', smtpPort;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loket-inbox-browser-'));
  const port = await freePort();
  const smtp = await freePort();
  smtpPort = smtp;
  const relayPort = await freePort();
  // A real SMTP server (aiosmtpd) stands in for the municipality's relay and prints what
  // it receives.
  relay = spawn('python3', ['-u', '-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${relayPort}`, '-c', 'aiosmtpd.handlers.Debugging'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  relay.stdout.on('data', (d) => { relayOut += d; });
  relay.stderr.on('data', (d) => { relayOut += d; });
  origin = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    RUST_LOG: 'warn',
    LOKET_DATA_DIR: dir,
    LOKET_HTTP__BIND: `127.0.0.1:${port}`,
    LOKET_SMTP__BIND: `127.0.0.1:${smtp}`,
    LOKET_SMTP__IMAP_POLL_SECS: '1',
    LOKET_SMTP__RELAY__HOST: '127.0.0.1',
    LOKET_SMTP__RELAY__PORT: String(relayPort),
    LOKET_SMTP__RELAY__TLS: 'none',
    LOKET_SMTP__RELAY__RETRY_BASE_SECS: '1',
  };
  proc = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  await waitFor(async () => {
    const r = await fetch(`${origin}/health/ready`).catch(() => null);
    return r && r.ok;
  }, { timeout: 60000, what: 'loket serve' });
  const add = spawnSync(bin, ['user', 'add', '--tenant', 'demo', '--username', 'kees', '--role', 'clerk', '--name', 'Kees de Vries'],
    { env: { ...env, LOKET_USER_PASSWORD: PASSWORD }, encoding: 'utf8' });
  assert.equal(add.status, 0, `loket user add: ${add.stdout} ${add.stderr}`);
  // The demo tenant's email address (no CLI for channel settings yet: written directly
  // with Python's sqlite3 module; the mail directory reloads it within a second).
  const py = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
t = c.execute("SELECT id FROM tenants WHERE slug = 'demo'").fetchone()[0]
with c:
    for k, v in (("addresses", '["info@demodorp.example"]'),
                 ("outbound", '{"from": "info@demodorp.example", "name": "Gemeente Demodorp"}')):
        c.execute("INSERT OR REPLACE INTO channel_settings (tenant_id, channel, key, value_json, updated_at) VALUES (?, 'email', ?, ?, '2026-11-25 00:00:00')", (t, k, v))
`;
  const ins = spawnSync('python3', ['-c', py, join(dir, 'loket.db')], { encoding: 'utf8' });
  assert.equal(ins.status, 0, `settings: ${ins.stderr}`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  relay?.kill('SIGTERM');
  if (proc && proc.exitCode === null) {
    await new Promise((ok) => { proc.on('exit', ok); proc.kill('SIGTERM'); setTimeout(() => proc.kill('SIGKILL'), 10000); });
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function noViolations(page, what) {
  const v = await axe(page);
  assert.deepEqual(v, [], `${what}: ${JSON.stringify(v, null, 1)}`);
}

test('clerk logs in, sees a chat message arrive live, answers; the citizen sees the answer', async () => {
  // bypassCSP only so axe-core can be injected; the CSP itself is tested in Rust.
  const clerkCtx = await browser.newContext({ locale: 'nl-NL', bypassCSP: true });
  const clerk = await clerkCtx.newPage();
  const errors = [];
  clerk.on('pageerror', (e) => errors.push(String(e)));
  const citizenCtx = await browser.newContext({ locale: 'nl-NL' });
  const citizen = await citizenCtx.newPage();
  try {
    await clerk.goto(`${origin}/inbox`);
    assert.match(clerk.url(), /\/inbox\/login$/);
    await noViolations(clerk, 'login page');
    // A wrong password: generic error, still on the login page.
    await clerk.getByLabel('Gebruikersnaam').fill('kees');
    await clerk.getByLabel('Wachtwoord').fill('wrong password');
    await clerk.getByRole('button', { name: 'Inloggen' }).click();
    await clerk.getByRole('alert').getByText('Inloggen is niet gelukt').waitFor();
    await noViolations(clerk, 'login page with error');
    assert.equal(await clerk.getByLabel('Gemeente (code)').inputValue(), 'demo');
    await clerk.getByLabel('Wachtwoord').fill(PASSWORD);
    await clerk.getByRole('button', { name: 'Inloggen' }).click();
    await clerk.waitForURL(`${origin}/inbox`);
    await clerk.getByRole('heading', { name: 'Inbox' }).waitFor();
    // The live stream is open before the citizen writes.
    await waitFor(() => clerk.evaluate(() => document.documentElement.dataset.live === 'open'), { what: 'SSE open' });
    await noViolations(clerk, 'conversation list');

    // The citizen writes through the widget on the demo page.
    const question = `Wanneer wordt het grofvuil opgehaald? ${Date.now()}`;
    await citizen.goto(`${origin}/demo`);
    await citizen.locator('.lw-launcher').click();
    await citizen.locator('#lw-text').waitFor({ state: 'visible' });
    await citizen.locator('#lw-text').fill(question);
    const sentAt = Date.now();
    await citizen.locator('#lw-text').press('Enter');

    // It appears in the clerk's open list without a reload.
    const row = clerk.locator('#rows tr', { hasText: question });
    await row.waitFor({ timeout: 10000 });
    const liveMs = Date.now() - sentAt;
    assert.ok(liveMs < 5000, `visible in the inbox after ${liveMs} ms`);
    assert.equal(await row.locator('.sr-only', { hasText: 'Ongelezen' }).count(), 1);

    await row.getByRole('link').click();
    await clerk.getByRole('heading', { name: 'Berichten' }).waitFor();
    await clerk.locator('#messages .msg.in', { hasText: question }).waitFor();
    await noViolations(clerk, 'conversation view');

    // Answer in the conversation's channel (web chat).
    const answer = `Het grofvuil wordt op dinsdag opgehaald. ${Date.now()}`;
    assert.equal(await clerk.getByLabel('Versturen via').inputValue(), 'webchat');
    await clerk.getByLabel('Tekst').fill(answer);
    await clerk.getByRole('button', { name: 'Versturen' }).click();
    await clerk.locator('#messages .msg.out', { hasText: answer }).waitFor();

    // The citizen's widget shows the answer.
    await citizen.locator('.lw-msg', { hasText: answer }).waitFor({ timeout: 10000 });

    // An internal note does not reach the citizen.
    const note = `Notitie: burger nogmaals bellen ${Date.now()}`;
    await clerk.getByLabel('Interne notitie voor collega\'s').check();
    await clerk.getByLabel('Tekst').fill(note);
    await clerk.getByRole('button', { name: 'Versturen' }).click();
    await clerk.locator('#messages .msg.note', { hasText: note }).waitFor();
    await citizen.waitForTimeout(1000);
    assert.equal(await citizen.locator('.lw-msg', { hasText: note }).count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await clerkCtx.close();
    await citizenCtx.close();
  }
});

/** Sends one email to loket's SMTP receiver with Python's smtplib (a real SMTP client). */
function sendMail(from, subject, body) {
  const py = `
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m['From'] = sys.argv[1]; m['To'] = 'info@demodorp.example'; m['Subject'] = sys.argv[2]
m.set_content(sys.argv[3])
with smtplib.SMTP('127.0.0.1', int(sys.argv[4]), timeout=10) as s:
    s.send_message(m)
`;
  let r;
  for (let i = 0; i < 50; i++) {
    r = spawnSync('python3', ['-c', py, from, subject, body, String(smtpPort)], { encoding: 'utf8' });
    if (r.status === 0) return;
    spawnSync('sleep', ['0.2']);
  }
  throw new Error(`smtp send failed: ${r.stderr}`);
}

test('an email arrives live in the inbox; the answer goes out by SMTP to the citizen', async () => {
  const ctx = await browser.newContext({ locale: 'nl-NL' });
  const clerk = await ctx.newPage();
  try {
    await clerk.goto(`${origin}/inbox/login`);
    await clerk.getByLabel('Gebruikersnaam').fill('kees');
    await clerk.getByLabel('Wachtwoord').fill(PASSWORD);
    await clerk.getByRole('button', { name: 'Inloggen' }).click();
    await clerk.waitForURL(`${origin}/inbox`);
    await waitFor(() => clerk.evaluate(() => document.documentElement.dataset.live === 'open'), { what: 'SSE open' });
    const subject = `Vraag over parkeervergunning ${Date.now()}`;
    sendMail('burger@example.org', subject, 'Hoe vraag ik een parkeervergunning aan?');
    const row = clerk.locator('#rows tr', { hasText: subject });
    await row.waitFor({ timeout: 15000 });
    await row.getByRole('link').click();
    await clerk.locator('#messages .msg.in', { hasText: 'parkeervergunning aan' }).waitFor();
    assert.equal(await clerk.getByLabel('Versturen via').inputValue(), 'email');
    const answer = `U vraagt de vergunning aan via het digitale loket ${Date.now()}`;
    await clerk.getByLabel('Tekst').fill(answer);
    await clerk.getByRole('button', { name: 'Versturen' }).click();
    await clerk.locator('#messages .msg.out', { hasText: answer }).waitFor();
    // The relay (a real SMTP server) receives the reply for the citizen.
    await waitFor(() => relayOut.includes(answer.split(' ').slice(-1)[0]) && relayOut.includes('burger@example.org'),
      { timeout: 30000, what: `reply at the relay (${relayOut.slice(-300)})` });
    // Its delivery status becomes visible in the conversation without a reload.
    await clerk.locator('#messages .msg.out', { hasText: answer }).locator('.status', { hasText: 'sent' }).waitFor({ timeout: 15000 });
  } finally {
    await ctx.close();
  }
});
