/*! loket web chat widget — EUPL-1.2. Plain JavaScript written for loket; loads nothing
 * from any origin but loket's own, and writes nothing to cookies or storage before the
 * citizen sends a first message. Protocol: docs/webchat-protocol.md. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.loketChat) return;

  /* ---- All user-visible strings, Dutch and English, in one place. ---- */
  var STRINGS = {
    nl: {
      launcher: 'Chat met de gemeente',
      launcherUnread: function (n) { return n === 1 ? '1 nieuw bericht' : n + ' nieuwe berichten'; },
      title: function (name) { return 'Chat met ' + name; },
      municipality: 'de gemeente',
      close: 'Chat sluiten',
      online: 'Er is iemand online',
      offline: 'Niemand online',
      privacy: 'Lees de privacyverklaring',
      log: 'Berichten',
      you: 'U',
      them: 'Gemeente',
      youWrote: 'U schreef:',
      theyWrote: 'De gemeente schreef:',
      message: 'Uw bericht',
      messageHint: 'Enter verstuurt, Shift+Enter begint een nieuwe regel.',
      replyTo: 'E-mailadres of telefoonnummer voor het antwoord (niet verplicht)',
      send: 'Versturen',
      attach: 'Bijlage toevoegen (PDF, JPEG of PNG)',
      sending: 'Wordt verstuurd…',
      waiting: 'Wacht op verbinding…',
      delivered: 'Bezorgd',
      failed: 'Niet verstuurd',
      retry: 'Opnieuw proberen',
      connecting: 'Verbinden…',
      disconnected: 'De verbinding is verbroken. Berichten die u nu stuurt, worden verstuurd zodra de verbinding terug is.',
      reconnected: 'De verbinding is hersteld.',
      unavailable: 'De chat is op dit moment niet beschikbaar.',
      count: function (n, max) { return n + ' van ' + max + ' tekens'; },
      attachment: 'Bijlage',
      errors: {
        empty: 'Uw bericht is leeg. Typ eerst een bericht.',
        too_long: function (n, max) { return 'Uw bericht is te lang (' + n + ' tekens). Het maximum is ' + max + ' tekens.'; },
        too_large: function (max) { return 'Het bestand is te groot. Het maximum is ' + max + '.'; },
        unsupported_type: 'Dit bestand kan niet worden verstuurd. Alleen PDF-, JPEG- en PNG-bestanden zijn toegestaan.',
        rate_limited: 'U stuurt te veel berichten achter elkaar. Wacht even en probeer het opnieuw.',
        bad_reply_to: 'Vul een geldig e-mailadres of telefoonnummer in, of laat het veld leeg.',
        unavailable: 'Uw bericht kon nu niet worden opgeslagen. Probeer het zo opnieuw.',
        unknown_tenant: 'De chat is op dit moment niet beschikbaar.',
        generic: 'Uw bericht kon niet worden verstuurd.'
      }
    },
    en: {
      launcher: 'Chat with the municipality',
      launcherUnread: function (n) { return n === 1 ? '1 new message' : n + ' new messages'; },
      title: function (name) { return 'Chat with ' + name; },
      municipality: 'the municipality',
      close: 'Close chat',
      online: 'Someone is online',
      offline: 'Nobody online',
      privacy: 'Read the privacy statement',
      log: 'Messages',
      you: 'You',
      them: 'Municipality',
      youWrote: 'You wrote:',
      theyWrote: 'The municipality wrote:',
      message: 'Your message',
      messageHint: 'Enter sends, Shift+Enter starts a new line.',
      replyTo: 'Email address or phone number for the answer (optional)',
      send: 'Send',
      attach: 'Add attachment (PDF, JPEG or PNG)',
      sending: 'Sending…',
      waiting: 'Waiting for connection…',
      delivered: 'Delivered',
      failed: 'Not sent',
      retry: 'Retry',
      connecting: 'Connecting…',
      disconnected: 'The connection was lost. Messages you send now will be sent as soon as it is back.',
      reconnected: 'The connection is back.',
      unavailable: 'The chat is not available right now.',
      count: function (n, max) { return n + ' of ' + max + ' characters'; },
      attachment: 'Attachment',
      errors: {
        empty: 'Your message is empty. Type a message first.',
        too_long: function (n, max) { return 'Your message is too long (' + n + ' characters). The maximum is ' + max + ' characters.'; },
        too_large: function (max) { return 'The file is too large. The maximum is ' + max + '.'; },
        unsupported_type: 'This file cannot be sent. Only PDF, JPEG and PNG files are allowed.',
        rate_limited: 'You are sending too many messages in a row. Wait a moment and try again.',
        bad_reply_to: 'Fill in a valid email address or phone number, or leave the field empty.',
        unavailable: 'Your message could not be stored right now. Try again shortly.',
        unknown_tenant: 'The chat is not available right now.',
        generic: 'Your message could not be sent.'
      }
    }
  };

  var tenant = script.getAttribute('data-tenant') || '';
  var origin = new URL(script.src, location.href).origin;
  var pageLang = (script.getAttribute('data-lang') || document.documentElement.lang || 'nl').toLowerCase();
  var lang = pageLang.indexOf('en') === 0 ? 'en' : 'nl';
  var T = STRINGS[lang];
  var forceSse = script.getAttribute('data-transport') === 'sse';
  var privacyAttr = script.getAttribute('data-privacy-url') || '';
  var KEY = 'loket-chat:' + tenant;
  var q = '?tenant=' + encodeURIComponent(tenant);

  /* ---- State ---- */
  var session = null;       // the secret; created at the first send
  var messages = [];        // {cid, mid, dir, text, at, status, raw, el, file}
  var info = null;
  var limits = { max_text_chars: 4000, max_attachment_bytes: 10485760 };
  var online = true;
  var ready = false;        // welcome received on the current transport
  var ws = null, sseAbort = null, transport = null;
  var failures = 0, wsWorked = false, useSse = forceSse, retryTimer = null, closedForGood = false;
  var replyToSent = '';
  var unread = 0;
  var open = false;
  var wasDisconnected = false;

  /* ---- Storage: read freely, write only once a session exists. ---- */
  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function load() {
    var s = storage();
    if (!s) return;
    try {
      var v = JSON.parse(s.getItem(KEY) || 'null');
      if (v && typeof v.session === 'string') {
        session = v.session;
        replyToSent = v.replyTo || '';
        (v.pending || []).forEach(function (p) {
          messages.push({ cid: p.cid, dir: 'in', text: p.text, raw: p.raw, status: 'sending', at: p.at });
        });
        open = !!v.open;
      }
    } catch (e) { /* unreadable: start afresh */ }
  }
  function persist() {
    var s = storage();
    if (!s || !session) return;
    var pending = messages.filter(function (m) { return m.raw && m.status !== 'delivered'; })
      .map(function (m) { return { cid: m.cid, text: m.text, raw: m.raw, at: m.at }; });
    try {
      s.setItem(KEY, JSON.stringify({ session: session, pending: pending, open: open, replyTo: replyToSent }));
    } catch (e) { /* quota or privacy mode: the page keeps working without resume */ }
  }

  function randomBytes(n) {
    var a = new Uint8Array(n);
    crypto.getRandomValues(a);
    return a;
  }
  function b64url(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function newId() {
    var b = randomBytes(16), h = '';
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1);
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function ensureSession() {
    if (!session) session = b64url(randomBytes(32));
  }
  function chars(s) { return Array.from(s).length; }
  function fmtBytes(n) {
    return n >= 1048576 ? Math.round(n / 104857.6) / 10 + ' MB' : Math.round(n / 102.4) / 10 + ' kB';
  }

  /* ---- DOM (in a shadow root, so the host page's styles do not leak in) ---- */
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) {
      if (attrs[k] === true) e.setAttribute(k, '');
      else if (attrs[k] !== false && attrs[k] != null) e.setAttribute(k, attrs[k]);
    }
    if (text != null) e.textContent = text;
    return e;
  }

  var host = el('div', { id: 'loket-chat', 'data-loket-widget': '' });
  var root = host.attachShadow({ mode: 'open' });
  var css = el('link', { rel: 'stylesheet', href: origin + '/widget.css' });
  var wrap = el('div', { 'class': 'lw', hidden: true, lang: lang });
  css.addEventListener('load', function () { wrap.hidden = false; });
  css.addEventListener('error', function () { wrap.hidden = false; });

  var launcher = el('button', { type: 'button', 'class': 'lw-launcher', 'aria-expanded': 'false', 'aria-controls': 'lw-panel' });
  var launcherText = el('span', null, T.launcher);
  var badge = el('span', { 'class': 'lw-badge', hidden: true, 'aria-hidden': 'true' });
  launcher.appendChild(svgChat());
  launcher.appendChild(launcherText);
  launcher.appendChild(badge);

  var panel = el('section', { id: 'lw-panel', 'class': 'lw-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'lw-title', hidden: true });
  var head = el('div', { 'class': 'lw-head' });
  var title = el('h2', { id: 'lw-title', 'class': 'lw-title' }, T.title(T.municipality));
  var presence = el('p', { 'class': 'lw-presence' });
  var closeBtn = el('button', { type: 'button', 'class': 'lw-close', 'aria-label': T.close });
  closeBtn.appendChild(el('span', { 'aria-hidden': 'true' }, '\u00d7'));
  var headText = el('div', { 'class': 'lw-head-text' });
  headText.appendChild(title);
  headText.appendChild(presence);
  head.appendChild(headText);
  head.appendChild(closeBtn);

  var body = el('div', { 'class': 'lw-body' });
  var notice = el('div', { id: 'lw-notice', 'class': 'lw-notice' });
  var noticeText = el('p', null, '');
  var privacyLink = el('a', { href: '#', target: '_blank', rel: 'noopener noreferrer' }, T.privacy);
  notice.appendChild(noticeText);
  notice.appendChild(el('p')).appendChild(privacyLink);
  var offline = el('p', { id: 'lw-offline', 'class': 'lw-offline', hidden: true });
  var log = el('div', { 'class': 'lw-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': T.log });
  body.appendChild(notice);
  body.appendChild(offline);
  body.appendChild(log);

  var conn = el('p', { 'class': 'lw-conn', role: 'status' });
  var alertBox = el('p', { 'class': 'lw-alert', role: 'alert' });

  var form = el('form', { 'class': 'lw-form', novalidate: true });
  var replyWrap = el('div', { 'class': 'lw-field lw-reply', hidden: true });
  var replyLabel = el('label', { 'for': 'lw-reply' }, T.replyTo);
  var replyInput = el('input', { id: 'lw-reply', type: 'text', autocomplete: 'email', maxlength: '254' });
  replyWrap.appendChild(replyLabel);
  replyWrap.appendChild(replyInput);
  var textLabel = el('label', { 'for': 'lw-text' }, T.message);
  var hint = el('span', { id: 'lw-hint', 'class': 'lw-vh' }, T.messageHint);
  var textarea = el('textarea', { id: 'lw-text', rows: '3', 'aria-describedby': 'lw-hint lw-count lw-notice' });
  var row = el('div', { 'class': 'lw-row' });
  var fileInput = el('input', { id: 'lw-file', type: 'file', 'class': 'lw-file', accept: '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png' });
  var fileLabel = el('label', { 'for': 'lw-file', 'class': 'lw-attach', title: T.attach });
  fileLabel.appendChild(svgClip());
  fileLabel.appendChild(el('span', { 'class': 'lw-vh' }, T.attach));
  var count = el('span', { id: 'lw-count', 'class': 'lw-count', 'aria-live': 'polite' });
  var sendBtn = el('button', { type: 'submit', 'class': 'lw-send' }, T.send);
  row.appendChild(fileInput);
  row.appendChild(fileLabel);
  row.appendChild(count);
  row.appendChild(sendBtn);
  var textField = el('div', { 'class': 'lw-field' });
  textField.appendChild(textLabel);
  textField.appendChild(hint);
  textField.appendChild(textarea);
  form.appendChild(replyWrap);
  form.appendChild(textField);
  form.appendChild(row);

  panel.appendChild(head);
  panel.appendChild(body);
  panel.appendChild(conn);
  panel.appendChild(alertBox);
  panel.appendChild(form);
  wrap.appendChild(panel);
  wrap.appendChild(launcher);
  root.appendChild(css);
  root.appendChild(wrap);

  function svg(path) {
    var ns = 'http://www.w3.org/2000/svg';
    var s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    var p = document.createElementNS(ns, 'path');
    p.setAttribute('d', path);
    s.appendChild(p);
    return s;
  }
  function svgChat() { return svg('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'); }
  function svgClip() { return svg('M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z'); }

  /* ---- Rendering ---- */
  function renderInfo() {
    var name = info && info.tenant ? info.tenant.name : T.municipality;
    title.textContent = T.title(name);
    var n = info && info.notice ? info.notice[lang] : '';
    noticeText.textContent = n || '';
    var fromServer = !!(info && info.privacy_url);
    var url = fromServer ? info.privacy_url : privacyAttr;
    if (url) {
      privacyLink.href = new URL(url, fromServer ? origin : location.href).href;
      privacyLink.parentNode.hidden = false;
    } else {
      privacyLink.parentNode.hidden = true;
    }
    renderPresence();
  }
  function renderPresence() {
    presence.textContent = online ? T.online : T.offline;
    presence.className = 'lw-presence ' + (online ? 'is-online' : 'is-offline');
    var off = !online && info && info.offline ? info.offline[lang] : '';
    offline.textContent = off || '';
    offline.hidden = online || !off;
    replyWrap.hidden = online;
    notice.hidden = messages.length > 0;
  }
  function statusText(m) {
    if (m.dir === 'out') return '';
    if (m.status === 'delivered') return T.delivered;
    if (m.status === 'failed') return T.failed;
    return ready ? T.sending : T.waiting;
  }
  function timeText(at) {
    try {
      return new Date(at).toLocaleTimeString(lang === 'nl' ? 'nl-NL' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
    } catch (e) { return ''; }
  }
  function renderMessage(m) {
    var li = m.el;
    if (!li) {
      li = m.el = el('div', { 'class': 'lw-msg ' + (m.dir === 'in' ? 'lw-in' : 'lw-out') });
      li.appendChild(el('span', { 'class': 'lw-vh' }, m.dir === 'in' ? T.youWrote : T.theyWrote));
      var p = el('p', { 'class': 'lw-text' });
      p.textContent = m.text; // always text, never HTML
      li.appendChild(p);
      (m.attachments || []).forEach(function (a) {
        li.appendChild(el('p', { 'class': 'lw-file-name' }, T.attachment + ': ' + (a.filename || a.content_type) + ' (' + fmtBytes(a.size) + ')'));
      });
      li.appendChild(el('p', { 'class': 'lw-meta' }));
      log.appendChild(li);
    }
    if (m.mid) li.setAttribute('data-id', m.mid);
    var meta = li.lastChild;
    meta.textContent = '';
    var who = m.dir === 'in' ? T.you : T.them;
    var parts = [who, timeText(m.at)];
    var st = statusText(m);
    if (st) parts.push(st);
    meta.appendChild(document.createTextNode(parts.filter(Boolean).join(' \u00b7 ')));
    li.classList.toggle('is-failed', m.status === 'failed');
    if (m.status === 'failed' && (m.raw || m.file)) {
      var b = el('button', { type: 'button', 'class': 'lw-retry' }, T.retry);
      b.addEventListener('click', function () { retry(m); });
      meta.appendChild(document.createTextNode(' '));
      meta.appendChild(b);
    }
    if (m.error) meta.appendChild(el('span', { 'class': 'lw-error' }, ' ' + m.error));
  }
  function scrollDown() { body.scrollTop = body.scrollHeight; }
  function renderAll() { messages.forEach(renderMessage); renderPresence(); scrollDown(); }
  function updateCount() {
    var n = chars(textarea.value);
    count.textContent = n > limits.max_text_chars * 0.8 ? T.count(n, limits.max_text_chars) : '';
    count.classList.toggle('is-over', n > limits.max_text_chars);
  }
  function setAlert(text) { alertBox.textContent = text || ''; }
  function setUnread(n) {
    unread = n;
    badge.hidden = n === 0;
    badge.textContent = n ? String(n) : '';
    launcher.setAttribute('aria-label', n ? T.launcher + ', ' + T.launcherUnread(n) : T.launcher);
    if (!n) launcher.removeAttribute('aria-label');
  }

  /* ---- Panel open / close, keyboard ---- */
  function openPanel(restoring) {
    if (open && !panel.hidden) return;
    open = true;
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    setUnread(0);
    if (!info) fetchInfo();
    renderAll();
    if (restoring !== true) textarea.focus();
    persist();
    if (session && !ws && !sseAbort) connect();
  }
  function closePanel() {
    open = false;
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
    persist();
  }
  launcher.addEventListener('click', function () { if (panel.hidden) openPanel(false); else closePanel(); });
  closeBtn.addEventListener('click', closePanel);
  wrap.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && !panel.hidden) { e.preventDefault(); closePanel(); }
  });
  textarea.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  textarea.addEventListener('input', updateCount);
  form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
  fileInput.addEventListener('change', function () {
    var f = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (f) sendFile(f);
  });

  /* ---- Sending ---- */
  function submit() {
    var text = textarea.value;
    setAlert('');
    if (!text.trim()) { setAlert(T.errors.empty); textarea.focus(); return; }
    var n = chars(text);
    if (n > limits.max_text_chars) { setAlert(T.errors.too_long(n, limits.max_text_chars)); textarea.focus(); return; }
    var reply = online ? '' : replyInput.value.trim();
    ensureSession();
    var m = { cid: newId(), dir: 'in', text: text, status: 'sending', at: new Date().toISOString() };
    var frame = { type: 'message', id: m.cid, text: text };
    if (reply && reply !== replyToSent) { frame.reply_to = reply; replyToSent = reply; }
    m.raw = JSON.stringify(frame); // resent byte-identically, so the server sees one message
    messages.push(m);
    textarea.value = '';
    updateCount();
    renderMessage(m);
    renderPresence();
    scrollDown();
    persist();
    if (ready) transmit(m); else if (!ws && !sseAbort) connect();
    textarea.focus();
  }
  function transmit(m) {
    if (!ready || m.status === 'delivered') return;
    if (m.file) return upload(m);
    if (transport === 'ws' && ws && ws.readyState === 1) {
      ws.send(m.raw);
    } else if (transport === 'sse') {
      post('/webchat/v1/messages', m.raw, 'application/json').then(function (r) {
        return r.json().then(function (j) { handle(r.ok ? j : refusalOf(j, m.cid)); });
      }).catch(function () { /* stays pending; resent after reconnect */ });
    }
  }
  function refusalOf(problem, cid) {
    return { type: 'refused', id: problem.id || cid, code: problem.code, detail: problem.detail, retry_after_ms: problem.retry_after_ms };
  }
  function retry(m) {
    m.status = 'sending';
    m.error = '';
    renderMessage(m);
    persist();
    if (ready) transmit(m); else if (!ws && !sseAbort) connect();
  }
  function sendFile(f) {
    setAlert('');
    if (f.size > limits.max_attachment_bytes) { setAlert(T.errors.too_large(fmtBytes(limits.max_attachment_bytes))); return; }
    ensureSession();
    var m = { cid: newId(), dir: 'in', text: f.name, status: 'sending', at: new Date().toISOString(), file: f,
      attachments: [{ filename: f.name, content_type: f.type, size: f.size }] };
    messages.push(m);
    renderMessage(m);
    renderPresence();
    scrollDown();
    persist();
    if (ready) upload(m); else if (!ws && !sseAbort) connect();
  }
  function upload(m) {
    var url = '/webchat/v1/attachments' + q + '&id=' + encodeURIComponent(m.cid) + '&name=' + encodeURIComponent(m.file.name);
    fetch(origin + url, { method: 'POST', body: m.file, headers: { 'X-Loket-Session': session }, cache: 'no-store', credentials: 'omit' })
      .then(function (r) { return r.json().then(function (j) { handle(r.ok ? j : refusalOf(j, m.cid)); }); })
      .catch(function () { m.status = 'failed'; renderMessage(m); });
  }
  function post(path, bodyText, type) {
    return fetch(origin + path + q, { method: 'POST', body: bodyText, headers: { 'Content-Type': type, 'X-Loket-Session': session }, cache: 'no-store', credentials: 'omit' });
  }
  function ackReceived(ids) {
    if (!ids.length) return;
    var frame = JSON.stringify({ type: 'received', ids: ids });
    if (transport === 'ws' && ws && ws.readyState === 1) ws.send(frame);
    else if (transport === 'sse') post('/webchat/v1/received', JSON.stringify({ ids: ids }), 'application/json').catch(function () {});
  }

  /* ---- Incoming frames ---- */
  function find(cid, mid) {
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      if ((cid && m.cid === cid) || (mid && m.mid === mid)) return m;
    }
    return null;
  }
  function addServerMessage(sm, announce) {
    var m = find(sm.client_id, sm.id);
    if (m) {
      m.mid = sm.id;
      if (m.dir === 'in' && m.status !== 'delivered') { m.status = 'delivered'; m.raw = null; m.file = null; renderMessage(m); }
      return null;
    }
    m = { mid: sm.id, cid: sm.client_id, dir: sm.direction, text: sm.text, at: sm.at, status: sm.direction === 'in' ? 'delivered' : sm.status, attachments: sm.attachments };
    messages.push(m);
    renderMessage(m);
    if (announce && m.dir === 'out' && (!open || panel.hidden)) setUnread(unread + 1);
    return m;
  }
  function handle(f) {
    if (!f || !f.type) return;
    if (f.type === 'welcome') {
      ready = true;
      if (transport === 'ws') wsWorked = true; // later failures are outages, not a blocking proxy
      failures = 0;
      limits = f.limits || limits;
      online = !!f.online;
      var acks = [];
      (f.messages || []).forEach(function (sm) {
        addServerMessage(sm, false);
        if (sm.direction === 'out' && sm.status !== 'delivered' && sm.status !== 'read') acks.push(sm.id);
      });
      renderAll();
      conn.textContent = wasDisconnected ? T.reconnected : '';
      wasDisconnected = false;
      ackReceived(acks);
      messages.forEach(function (m) { if (m.dir === 'in' && m.status === 'sending') transmit(m); });
      persist();
    } else if (f.type === 'stored') {
      var m = find(f.id, null);
      if (m) {
        m.mid = f.message_id;
        m.status = 'delivered';
        m.error = '';
        m.raw = null;
        m.file = null;
        renderMessage(m);
        persist();
      }
    } else if (f.type === 'refused') {
      var r = f.id && find(f.id, null);
      var text = explain(f, r);
      if (r && f.code === 'unavailable') {
        // Not stored; retried automatically after a pause.
        setTimeout(function () { if (r.status === 'sending') transmit(r); }, 3000);
      } else if (r) {
        r.status = 'failed';
        r.error = text;
        renderMessage(r);
        persist();
      }
      setAlert(text);
    } else if (f.type === 'message') {
      var added = addServerMessage(f.message, true);
      scrollDown();
      if (added && added.dir === 'out') ackReceived([added.mid]);
    } else if (f.type === 'presence') {
      online = !!f.online;
      renderPresence();
    }
  }
  function explain(f, m) {
    var e = T.errors[f.code];
    if (typeof e === 'function') {
      if (f.code === 'too_large') return e(fmtBytes(limits.max_attachment_bytes));
      return e(m ? chars(m.text) : '?', limits.max_text_chars);
    }
    return e || T.errors.generic;
  }

  /* ---- Transport: WebSocket, with reconnect and an SSE/REST fallback ---- */
  function connect() {
    if (closedForGood || !session) return;
    clearTimeout(retryTimer);
    if (useSse) return connectSse();
    transport = 'ws';
    var sock;
    try {
      sock = new WebSocket(origin.replace(/^http/, 'ws') + '/webchat/v1/ws' + q);
    } catch (e) { return connectSse(); }
    ws = sock;
    sock.onopen = function () {
      sock.send(JSON.stringify({ type: 'hello', session: session, lang: lang }));
      // An open socket without a welcome (a proxy that swallows frames) counts as failed.
      setTimeout(function () { if (ws === sock && !ready) sock.close(4000, 'no welcome'); }, 10000);
    };
    sock.onmessage = function (e) {
      var f;
      try { f = JSON.parse(e.data); } catch (x) { return; }
      handle(f);
    };
    sock.onclose = function (e) {
      if (ws !== sock) return;
      ws = null;
      lost();
      if (e.code === 4404) { closedForGood = true; conn.textContent = T.unavailable; return; }
      failures++;
      // Three failed attempts without ever getting a welcome: WebSockets are blocked on
      // this network; use the SSE/REST fallback for the rest of this page.
      if (!wsWorked && failures >= 3) useSse = true;
      schedule(e.code === 4429 ? 30000 : 0);
    };
  }
  function lost() {
    if (ready) { wasDisconnected = true; conn.textContent = T.disconnected; }
    ready = false;
    messages.forEach(function (m) { if (m.status === 'sending') renderMessage(m); });
  }
  function schedule(min) {
    var delay = Math.max(min, Math.min(15000, 500 * Math.pow(2, Math.min(failures, 6))) * (0.5 + Math.random() / 2));
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }
  function connectSse() {
    transport = 'sse';
    var ctrl = new AbortController();
    sseAbort = ctrl;
    fetch(origin + '/webchat/v1/events' + q, { headers: { 'X-Loket-Session': session }, signal: ctrl.signal, cache: 'no-store', credentials: 'omit' })
      .then(function (r) {
        if (r.status === 404) { closedForGood = true; conn.textContent = T.unavailable; throw new Error('gone'); }
        if (!r.ok || !r.body) throw new Error('status ' + r.status);
        var reader = r.body.getReader(), dec = new TextDecoder(), buf = '';
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buf += dec.decode(chunk.value, { stream: true });
            var i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              var block = buf.slice(0, i); buf = buf.slice(i + 2);
              var data = block.split('\n').filter(function (l) { return l.indexOf('data:') === 0; })
                .map(function (l) { return l.slice(5).replace(/^ /, ''); }).join('\n');
              if (data) { try { handle(JSON.parse(data)); } catch (x) { /* ignore */ } }
            }
            return pump();
          });
        }
        return pump();
      })
      .then(function () {
        if (sseAbort !== ctrl) return;
        sseAbort = null; ready = false; failures = 0;
        if (!closedForGood) retryTimer = setTimeout(connect, 100); // the server ends streams after a minute
      }, function () {
        if (sseAbort !== ctrl) return;
        sseAbort = null;
        lost();
        failures++;
        if (!closedForGood) schedule(0);
      });
  }
  // Application-level keep-alive (browsers do not expose WebSocket pings).
  setInterval(function () {
    if (ws && ws.readyState === 1) ws.send('{"type":"ping"}');
  }, 25000);
  window.addEventListener('online', function () { if (!ws && !sseAbort && session) { failures = 0; connect(); } });

  function fetchInfo() {
    fetch(origin + '/webchat/v1/info' + q, { cache: 'no-store', credentials: 'omit' })
      .then(function (r) {
        if (!r.ok) { if (r.status === 404) { closedForGood = true; conn.textContent = T.unavailable; } throw new Error('info'); }
        return r.json();
      })
      .then(function (j) {
        info = j;
        online = !!j.online;
        if (j.limits) limits = j.limits;
        renderInfo();
      })
      .catch(function () { renderInfo(); });
  }

  /* ---- Start ---- */
  load();
  function mount() {
    document.body.appendChild(host);
    renderInfo();
    if (session) {
      // A reload within the session: resume the conversation at once.
      fetchInfo();
      connect();
      if (open) { open = false; openPanel(true); }
    }
  }
  window.loketChat = { open: function () { openPanel(false); }, close: closePanel, version: 1,
    state: function () { return { transport: transport, ready: ready, session: !!session }; } };
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
