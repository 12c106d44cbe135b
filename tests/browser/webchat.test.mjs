// Black-box tests of the web chat widget in a real headless Chromium against a real server
// on a random port. Run: `npm test` in tests/browser (after ops/ci/install-browser.sh
// and building the server, see lib/server.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { TestServer, waitFor } from './lib/server.mjs';
import { launch, openPage, storageState, axe } from './lib/browser.mjs';

let server;
let browser;

before(async () => {
  server = new TestServer();
  await server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const deepActive = (page) => page.evaluate(() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? (a.id || a.className || a.tagName) : null;
});

async function openWidget(page) {
  await page.locator('.lw-launcher').click();
  await page.locator('#lw-text').waitFor({ state: 'visible' });
}

async function send(page, text) {
  await page.locator('#lw-text').fill(text);
  await page.locator('#lw-text').press('Enter');
}

/** The widget's entry for the citizen's message with this text. */
const bubble = (page, text) => page.locator('.lw-msg', { hasText: text });

async function delivered(page, text, timeout = 10000) {
  await bubble(page, text).locator('.lw-meta', { hasText: 'Bezorgd' }).waitFor({ timeout });
}

/** The stored message behind a delivered bubble, and every message of its conversation. */
async function stored(page, text) {
  const id = await bubble(page, text).first().getAttribute('data-id');
  assert.ok(id, `bubble "${text}" has a message id`);
  const message = await server.message(id);
  const all = await server.conversationMessages(message.conversation_id);
  return { message, all, same: all.filter((m) => m.text === message.text) };
}

test('widget is small, plain and served by loket', async () => {
  const js = await (await fetch(`${server.origin}/widget.js`)).text();
  const css = await (await fetch(`${server.origin}/widget.css`)).text();
  const gz = gzipSync(js).length + gzipSync(css).length;
  assert.ok(gz < 30 * 1024, `widget is ${gz} bytes gzipped`);
  assert.doesNotMatch(js, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no absolute URLs to other origins');
  const demo = await fetch(`${server.origin}/demo`);
  const csp = demo.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
});

test('citizen reads the notice, sends a message: stored once; no storage before, no other origins', async () => {
  const { context, page, requests, errors } = await openPage(browser, `${server.origin}/demo`);
  try {
    await openWidget(page);
    const notice = page.locator('.lw-notice');
    await notice.getByText('Wet open overheid').waitFor();
    assert.match(await notice.innerText(), /Woo/);
    assert.equal(await page.locator('.lw-notice a').getAttribute('href'), `${server.origin}/demo#privacyverklaring`);
    await page.locator('#lw-text').fill('Wanneer wordt het grofvuil opgehaald?');
    // Opened and typed, not yet sent: nothing written to the browser.
    assert.deepEqual(await storageState(page), { local: 0, session: 0, cookie: '' });
    assert.deepEqual(await context.cookies(), []);
    await page.locator('#lw-text').press('Enter');
    await delivered(page, 'Wanneer wordt het grofvuil opgehaald?');
    const { message, same } = await stored(page, 'Wanneer wordt het grofvuil opgehaald?');
    assert.equal(same.length, 1);
    assert.equal(message.direction, 'inbound');
    assert.equal(message.channel, 'webchat');
    assert.match(message.from.address, /^session:[0-9a-f]{64}$/);
    // After the first send the session lives in this tab's sessionStorage only.
    const st = await storageState(page);
    assert.equal(st.local, 0);
    assert.equal(st.cookie, '');
    assert.equal(st.session, 1);
    assert.deepEqual(await context.cookies(), []);
    const origins = new Set(requests.map((u) => new URL(u).host));
    assert.deepEqual([...origins], [new URL(server.origin).host], `requests: ${requests.join(', ')}`);
    assert.deepEqual(errors, []);
    // A reload within the session resumes the conversation.
    await page.reload();
    await bubble(page, 'Wanneer wordt het grofvuil opgehaald?').waitFor({ state: 'attached' });
  } finally {
    await context.close();
  }
});

test('server restarted mid-conversation: message sent during the outage is delivered exactly once', async () => {
  const { context, page } = await openPage(browser, `${server.origin}/demo`);
  try {
    await openWidget(page);
    await send(page, 'Eerste bericht voor de herstart');
    await delivered(page, 'Eerste bericht voor de herstart');
    await server.stop();
    await page.locator('.lw-conn', { hasText: 'verbinding is verbroken' }).waitFor();
    await send(page, 'Getypt tijdens de storing');
    await bubble(page, 'Getypt tijdens de storing').locator('.lw-meta', { hasText: 'Wacht op verbinding' }).waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    await server.start();
    await delivered(page, 'Getypt tijdens de storing', 30000);
    await page.locator('.lw-conn', { hasText: 'hersteld' }).waitFor();
    const { same } = await stored(page, 'Getypt tijdens de storing');
    assert.equal(same.length, 1);
    // The widget shows it once.
    assert.equal(await bubble(page, 'Getypt tijdens de storing').count(), 1);
  } finally {
    await context.close();
  }
});

test('clerk reply appears in the open widget within a second and is marked delivered', async () => {
  const { context, page } = await openPage(browser, `${server.origin}/demo`);
  try {
    await openWidget(page);
    await send(page, 'Vraag over mijn paspoort');
    await delivered(page, 'Vraag over mijn paspoort');
    const conv = (await stored(page, 'Vraag over mijn paspoort')).message.conversation_id;
    const t0 = Date.now();
    const { id: replyId } = await server.reply(conv, 'U kunt een afspraak maken. <b>Groet</b>');
    await page.locator('.lw-out', { hasText: 'U kunt een afspraak maken.' }).waitFor({ timeout: 5000 });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 1000, `reply took ${elapsed} ms`);
    assert.equal(await page.locator('.lw-out b').count(), 0);
    assert.match(await page.locator('.lw-out').last().innerText(), /<b>Groet<\/b>/);
    await waitFor(async () => (await server.message(replyId)).status === 'delivered', { what: 'delivered status' });
    // Closed widget: the reply is there on return.
    await page.locator('.lw-close').click();
    await server.reply(conv, 'Nog een antwoord terwijl de chat dicht is');
    await page.locator('.lw-badge', { hasText: '1' }).waitFor();
    await page.locator('.lw-launcher').click();
    await page.locator('.lw-out', { hasText: 'Nog een antwoord terwijl de chat dicht is' }).waitFor();
  } finally {
    await context.close();
  }
});

test('HTML and script in a message are shown as text, never run', async () => {
  const { context, page, errors } = await openPage(browser, `${server.origin}/demo`);
  try {
    await openWidget(page);
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>vet</b>';
    await send(page, evil);
    await delivered(page, 'vet');
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('.lw-log img').count(), 0);
    assert.equal(await page.locator('.lw-log b').count(), 0);
    assert.equal(await bubble(page, '<b>vet</b>').locator('.lw-text').innerText(), evil);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('keyboard only: open, type, send, close with Tab, Enter and Escape', async () => {
  const { context, page } = await openPage(browser, `${server.origin}/demo`);
  try {
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = (await deepActive(page)) === 'lw-launcher';
    }
    assert.ok(found, 'the launcher is reachable with Tab');
    await page.keyboard.press('Enter');
    await page.locator('.lw-panel').waitFor({ state: 'visible' });
    assert.equal(await deepActive(page), 'lw-text', 'focus moves into the panel');
    await page.keyboard.type('Met het toetsenbord verstuurd');
    await page.keyboard.press('Enter');
    await delivered(page, 'Met het toetsenbord verstuurd');
    // Tab reaches the attach control and the send button; every focused control is visible.
    const seen = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      seen.push(await deepActive(page));
    }
    assert.ok(seen.includes('lw-send'), `tab order: ${seen}`);
    await page.keyboard.press('Escape');
    await page.locator('.lw-panel').waitFor({ state: 'hidden' });
    assert.equal(await deepActive(page), 'lw-launcher', 'focus returns to the launcher');
    assert.equal(await page.locator('.lw-launcher').getAttribute('aria-expanded'), 'false');
    assert.equal((await stored(page, 'Met het toetsenbord verstuurd')).same.length, 1);
  } finally {
    await context.close();
  }
});

test('axe-core: no WCAG 2.1 A/AA violations, widget closed and open', async () => {
  const { context, page } = await openPage(browser, `${server.origin}/demo`, { bypassCSP: true });
  try {
    await page.locator('.lw-launcher').waitFor();
    assert.deepEqual(await axe(page), [], 'closed');
    await openWidget(page);
    await page.locator('.lw-notice').getByText('Woo').waitFor();
    assert.deepEqual(await axe(page), [], 'open, before the first message');
    await send(page, 'Toegankelijkheidstest');
    await delivered(page, 'Toegankelijkheidstest');
    await page.locator('#lw-text').fill('x'.repeat(5000));
    await page.locator('.lw-send').click();
    await page.locator('.lw-alert', { hasText: 'te lang' }).waitFor();
    assert.deepEqual(await axe(page), [], 'open, with messages and an error');
  } finally {
    await context.close();
  }
});

test('works at 320 px width and at 200% zoom', async () => {
  for (const viewport of [{ width: 320, height: 640 }, { width: 640, height: 400 }]) {
    const { context, page } = await openPage(browser, `${server.origin}/demo`, { viewport });
    try {
      await openWidget(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `horizontal scroll of ${overflow}px at ${viewport.width}px`);
      for (const sel of ['.lw-close', '#lw-text', '.lw-send', '.lw-attach']) {
        const b = await page.locator(sel).boundingBox();
        assert.ok(b && b.x >= 0 && b.y >= 0 && b.x + b.width <= viewport.width + 0.5 && b.y + b.height <= viewport.height + 0.5,
          `${sel} inside the ${viewport.width}x${viewport.height} viewport: ${JSON.stringify(b)}`);
      }
      await send(page, `Smal scherm ${viewport.width}`);
      await delivered(page, `Smal scherm ${viewport.width}`);
    } finally {
      await context.close();
    }
  }
});

test('an attachment is checked from its content; a refusal is explained in the widget', async () => {
  const { context, page } = await openPage(browser, `${server.origin}/demo`);
  try {
    await openWidget(page);
    await send(page, 'Hierbij mijn formulier');
    await delivered(page, 'Hierbij mijn formulier');
    await page.locator('#lw-file').setInputFiles({ name: 'formulier.pdf', mimeType: 'application/pdf', buffer: Buffer.from('MZ this is not a PDF') });
    await page.locator('.lw-alert', { hasText: 'Alleen PDF-, JPEG- en PNG-bestanden' }).waitFor();
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    await page.locator('#lw-file').setInputFiles({ name: 'echt.pdf', mimeType: 'application/pdf', buffer: pdf });
    await delivered(page, 'echt.pdf');
    const { message, all } = await stored(page, 'echt.pdf');
    assert.equal(message.attachments.length, 1);
    assert.equal(message.attachments[0].content_type, 'application/pdf');
    assert.equal(all.filter((m) => m.text === 'echt.pdf').length, 1);
    assert.equal(all.filter((m) => m.text === 'formulier.pdf').length, 0);
    assert.equal(await bubble(page, 'formulier.pdf').getAttribute('data-id'), null);
  } finally {
    await context.close();
  }
});

test('fallback: with WebSockets blocked the widget uses SSE + POST', async () => {
  const context = await browser.newContext({ locale: 'nl-NL' });
  const page = await context.newPage();
  try {
    // Every WebSocket to loket is refused, as a proxy that blocks them would.
    await page.routeWebSocket(/\/webchat\/v1\/ws/, (ws) => ws.close({ code: 1011, reason: 'blocked' }).catch(() => {}));
    await page.goto(`${server.origin}/demo`);
    await openWidget(page);
    await send(page, 'Via de terugvaloptie');
    await delivered(page, 'Via de terugvaloptie', 30000);
    const { message, same } = await stored(page, 'Via de terugvaloptie');
    assert.equal(same.length, 1);
    await server.reply(message.conversation_id, 'Antwoord via SSE');
    await page.locator('.lw-out', { hasText: 'Antwoord via SSE' }).waitFor({ timeout: 5000 });
  } finally {
    await context.close();
  }
});

test('nobody online: the widget says so and the message with a reply address is an ordinary conversation', async () => {
  const offline = new TestServer({ onlineRule: 'never' });
  await offline.start();
  const { context, page } = await openPage(browser, `${offline.origin}/demo`);
  try {
    await openWidget(page);
    await page.locator('.lw-offline', { hasText: 'niemand online' }).waitFor();
    await page.locator('.lw-presence', { hasText: 'Niemand online' }).waitFor();
    const reply = page.getByLabel('E-mailadres of telefoonnummer voor het antwoord (niet verplicht)');
    await reply.fill('geen adres');
    await send(page, 'Mijn vraag buiten kantoortijd');
    await page.locator('.lw-alert', { hasText: 'geldig e-mailadres' }).waitFor();
    await reply.fill('jan@example.nl');
    await bubble(page, 'Mijn vraag buiten kantoortijd').locator('.lw-retry').click();
    // The refused frame carried the bad address; a retry resends it unchanged, so the
    // citizen sends anew with the corrected address.
    await send(page, 'Nogmaals mijn vraag buiten kantoortijd');
    await bubble(page, 'Nogmaals mijn vraag').locator('.lw-meta', { hasText: 'Bezorgd' }).waitFor();
    const id = await bubble(page, 'Nogmaals mijn vraag').getAttribute('data-id');
    const m = await offline.message(id);
    assert.match(m.text, /^Nogmaals mijn vraag buiten kantoortijd/);
    assert.match(m.text, /jan@example\.nl/);
    assert.equal(m.channel, 'webchat');
    assert.equal(m.direction, 'inbound');
  } finally {
    await context.close();
    await offline.dispose();
  }
});

test('themeable with CSS custom properties from the host page', async () => {
  const { context, page } = await openPage(browser, `${server.origin}/demo`, { bypassCSP: true });
  try {
    await page.addStyleTag({ content: ':root { --loket-primary: rgb(0, 80, 0); --loket-radius: 3px; --loket-font: monospace; }' });
    await openWidget(page);
    const style = await page.locator('.lw-send').evaluate((e) => {
      const s = getComputedStyle(e);
      return { bg: s.backgroundColor, font: s.fontFamily };
    });
    assert.equal(style.bg, 'rgb(0, 80, 0)');
    assert.match(style.font, /monospace/);
    assert.equal(await page.locator('.lw-panel').evaluate((e) => getComputedStyle(e).borderTopLeftRadius), '3px');
  } finally {
    await context.close();
  }
});
