// The inbox's layout holds at a desktop (1280×800) and a phone (390×844) size, on the
// list and on a conversation, with 50 conversations of every channel whose contacts,
// subjects and texts are long: no horizontal scrolling, no table cell narrower than
// 80 px, no text wider than its cell unless an ellipsis cuts it inside the cell; axe-core
// finds no WCAG 2.1 A/AA violation; no 64-hex string (a chat session's hash) is visible
// text on any inbox page. Screenshots go to tests/browser/artifacts/ (ignored by git).
//
// Run: cargo build -p loket && cd tests/browser && node --test inbox_layout.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, axe } from './lib/browser.mjs';
import { Inbox, login } from './lib/inbox.mjs';

const artifacts = join(new URL('.', import.meta.url).pathname, 'artifacts');
const CHANNELS = ['webchat', 'email', 'sms', 'whatsapp_import', 'sms_import'];
const PER_CHANNEL = 50;
const SIZES = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
const HEX64 = /[0-9a-f]{64}/i;

let inbox, browser, chatConversation;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  inbox = new Inbox();
  await inbox.start();
  inbox.addUser('kees', 'clerk', 'Kees de Vries-van Oldenbarnevelt');
  inbox.addUser('anna', 'admin', 'Anna Beheer');
  // Channels interleaved, so every page of the list has each of them.
  for (let i = 0; i < PER_CHANNEL; i++) {
    for (const channel of CHANNELS) {
      const hash = createHash('sha256').update(`${channel}-${i}`).digest('hex');
      const from = {
        webchat: { address: `session:${hash}` },
        email: i % 2
          ? { address: `mevrouw.anna.maria.theodora.van.der.berg.scholten.${i}@een-gemeente-met-een-zeer-lange-naam.example` }
          : { address: `burger${i}@example.org`, name: `Anna Maria Theodora van der Berg-Scholten ${i}` },
        sms: { address: `+3161234${String(i).padStart(4, '0')}` },
        whatsapp_import: { address: `+3162345${String(i).padStart(4, '0')}`, name: i % 3 ? null : `Jan ${i}` },
        sms_import: { address: `+3163456${String(i).padStart(4, '0')}` },
      }[channel];
      const r = await inbox.message({
        channel,
        from,
        subject: channel === 'email' ? `Aanvraag omgevingsvergunning voor het plaatsen van een dakkapel aan de achterzijde ${i}` : null,
        text: `Goedemiddag, ik heb een vraag over de afvalinzameling in onze straat die al drie weken niet is geweest ${i}\n`
          + `Tweede regel.\n${'x'.repeat(300)}`,
        provider_message_id: `${channel}-${i}`,
      });
      if (channel === 'webchat' && i === PER_CHANNEL - 1) chatConversation = r.conversation_id;
    }
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await inbox?.stop();
});

/** What breaks the layout on the current page, as readable problems (none is good). */
function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth) {
      problems.push(`horizontal scrolling: scrollWidth ${doc.scrollWidth} > innerWidth ${window.innerWidth}`);
    }
    // Visually hidden text (screen-reader only, a visually hidden header row) is
    // clipped to a 1 px box by design.
    const hidden = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const r = e.getBoundingClientRect();
        if (r.width <= 1 || r.height <= 1 || getComputedStyle(e).display === 'none') return true;
      }
      return false;
    };
    const describe = (el) => `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 40)}"`;
    const cells = [...document.querySelectorAll('td, th')].filter((c) => !hidden(c));
    for (const cell of cells) {
      const w = cell.getBoundingClientRect().width;
      if (w < 80) problems.push(`cell ${Math.round(w)} px wide: ${describe(cell)}`);
    }
    const boxes = [...cells, ...document.querySelectorAll('.pane-list li, .msg, .contact-panel, .meta')]
      .filter((b) => !hidden(b));
    for (const box of boxes) {
      const outer = box.getBoundingClientRect();
      const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.textContent.trim() || hidden(n.parentElement)) continue;
        // Text may run past its box only inside an element of the box that cuts it
        // with an ellipsis (the reader sees "…"); that element must fit the box.
        let cut = null;
        for (let e = n.parentElement; e && e !== box; e = e.parentElement) {
          const cs = getComputedStyle(e);
          if (cs.textOverflow === 'ellipsis' && cs.overflowX !== 'visible') { cut = e.getBoundingClientRect(); break; }
        }
        const range = document.createRange();
        range.selectNodeContents(n);
        for (const r of range.getClientRects()) {
          const left = cut ? Math.max(r.left, cut.left) : r.left;
          const right = cut ? Math.min(r.right, cut.right) : r.right;
          if (left < outer.left - 1 || right > outer.right + 1) {
            problems.push(`text wider than its ${describe(box)}: "${n.textContent.trim().slice(0, 40)}" `
              + `${Math.round(left)}–${Math.round(right)} outside ${Math.round(outer.left)}–${Math.round(outer.right)}`);
            break;
          }
        }
      }
    }
    return problems;
  });
}

async function noHashes(page, what) {
  const text = await page.evaluate(() => document.body.innerText);
  const found = text.match(HEX64);
  assert.equal(found, null, `${what}: a 64-hex string is visible: ${found && found[0]}`);
}

async function check(page, what) {
  const problems = await layoutProblems(page);
  assert.deepEqual(problems, [], `${what}:\n${problems.join('\n')}`);
  const v = await axe(page);
  assert.deepEqual(v, [], `${what}: ${JSON.stringify(v, null, 1)}`);
  await noHashes(page, what);
}

for (const size of SIZES) {
  test(`the list and a conversation hold at ${size.width}×${size.height}`, async () => {
    // bypassCSP only so axe-core can be injected; the CSP itself is tested in Rust.
    const ctx = await browser.newContext({ locale: 'nl-NL', viewport: size, bypassCSP: true });
    try {
      const page = await login(ctx, inbox.origin, 'kees');
      await page.locator('#rows tr').nth(49).waitFor();
      // Every channel is on the page with its name beside its icon.
      const names = await page.$$eval('#rows .channel-name', (cs) => [...new Set(cs.map((c) => c.textContent.trim()))].sort());
      assert.deepEqual(names, ['E-mail', 'Import', 'Sms', 'Webchat'], 'every channel by name');
      assert.ok(await page.locator('#rows svg.icon').count() >= 50, 'channel icons are inline SVG');
      await page.screenshot({ path: join(artifacts, `inbox-list-${size.width}x${size.height}.png`), fullPage: true });
      await check(page, `list at ${size.width}`);

      await page.goto(`${inbox.origin}/inbox/c/${chatConversation}`);
      await page.getByRole('heading', { name: 'Berichten' }).waitFor();
      const title = await page.locator('h1').textContent();
      assert.match(title, /^Inwoner \d+ \(chat\)$/, 'an anonymous chat contact has a readable label');
      await page.screenshot({ path: join(artifacts, `inbox-conversation-${size.width}x${size.height}.png`), fullPage: true });
      await check(page, `conversation at ${size.width}`);
      if (size.width >= 1200) {
        // Wide: the list beside the conversation, this conversation marked.
        assert.ok(await page.locator('nav.pane').isVisible(), 'list beside the conversation');
        assert.equal(await page.locator('.pane-list [aria-current="page"]').count(), 1);
      } else {
        assert.equal(await page.locator('nav.pane').isVisible(), false, 'one column on a phone');
      }
    } finally {
      await ctx.close();
    }
  });
}

test('a clerk names a contact; the name shows in the list; the hash stays in the details', async () => {
  const ctx = await browser.newContext({ locale: 'nl-NL' });
  try {
    const page = await login(ctx, inbox.origin, 'kees');
    await page.goto(`${inbox.origin}/inbox/c/${chatConversation}`);
    const details = page.locator('details.contact-details');
    assert.equal(await details.locator('dd.detail').isVisible(), false, 'the hash is folded away');
    await details.locator('summary').click();
    assert.match(await details.locator('dd.detail').textContent(), /^session:[0-9a-f]{64}$/);
    await page.getByLabel('Naam van het contact').fill('Mevrouw De Groot');
    await page.getByRole('button', { name: 'Naam opslaan' }).click();
    await page.locator('h1', { hasText: 'Mevrouw De Groot' }).waitFor();
    await page.goto(`${inbox.origin}/inbox?channel=webchat`);
    await page.locator('#rows a', { hasText: 'Mevrouw De Groot' }).waitFor();
  } finally {
    await ctx.close();
  }
});

test('no 64-hex string is visible on the admin\'s pages either (audit, search)', async () => {
  const ctx = await browser.newContext({ locale: 'nl-NL' });
  try {
    const page = await login(ctx, inbox.origin, 'anna');
    await page.goto(`${inbox.origin}/inbox/c/${chatConversation}`);
    await noHashes(page, 'conversation (admin)');
    for (const action of ['conversation_viewed', 'contact_changed', 'message_ingested']) {
      await page.goto(`${inbox.origin}/inbox/audit?action=${action}`);
      await noHashes(page, `audit ${action}`);
    }
    await page.goto(`${inbox.origin}/inbox/search?q=afvalinzameling`);
    await page.locator('.totals').waitFor();
    await noHashes(page, 'FOI search');
  } finally {
    await ctx.close();
  }
});
