// loket inbox: live updates over server-sent events. No inline script anywhere (CSP
// script-src 'self'); every HTML fragment comes from the server, already escaped.
(function () {
  'use strict';
  var rows = document.getElementById('rows');
  var messages = document.getElementById('messages');
  var live = document.getElementById('live');
  if (!rows && !messages) { return; }
  var pending = null;

  function refresh(el) {
    var src = el.getAttribute('data-live-src');
    if (!src) { return; }
    fetch(src, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        el.innerHTML = html;
        if (live) {
          live.textContent = '';
          live.textContent = live.getAttribute('data-text') || '';
        }
      })
      .catch(function () {});
  }

  function schedule(el) {
    if (pending) { return; }
    pending = setTimeout(function () { pending = null; refresh(el); }, 50);
  }

  var es = new EventSource('/inbox/events');
  function onEvent(ev) {
    var data = {};
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    if (rows) { schedule(rows); }
    if (messages && data.conversation_id === messages.getAttribute('data-conversation')) {
      schedule(messages);
    }
  }
  es.addEventListener('message', onEvent);
  es.addEventListener('status', onEvent);
  es.addEventListener('conversation', onEvent);
  document.documentElement.setAttribute('data-live', 'connecting');
  var opened = false;
  es.addEventListener('open', function () {
    document.documentElement.setAttribute('data-live', 'open');
    // Catch up on what happened between rendering the page and (re)connecting the
    // stream (e.g. a reply's `sent` status right after the redirect back here).
    if (opened || messages) {
      if (messages) { schedule(messages); } else if (rows) { schedule(rows); }
    }
    opened = true;
  });
})();
