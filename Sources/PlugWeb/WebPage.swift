/// The web page: one HTML document and its script, served by plugd-web from memory (no file to
/// install, no CDN: the plug may have no internet). The state arrives live through
/// `GET /api/events` (Server-Sent Events); nothing polls.
public enum WebPage {
    public static let html = Array(
        #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>plugd</title>
        <style>
        :root { color-scheme: light dark; --on: #1f9d55; --off: #777; --warn: #c0392b; }
        body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 32rem; padding: 1rem; }
        header { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; }
        h1 { font-size: 1.4rem; margin: 0; overflow-wrap: anywhere; }
        #link { font-size: .85rem; color: var(--off); }
        #power { display: block; width: 11rem; height: 11rem; margin: 1.5rem auto; border-radius: 50%;
                 border: .4rem solid var(--off); background: transparent; font-size: 2rem; font-weight: 600;
                 color: inherit; cursor: pointer; }
        #power.on { border-color: var(--on); background: var(--on); color: white; }
        #power:disabled { opacity: .5; cursor: default; }
        #facts { display: grid; grid-template-columns: auto 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
        #facts dt { color: var(--off); }
        #facts dd { margin: 0; overflow-wrap: anywhere; }
        section { border-top: 1px solid #8884; padding: .8rem 0; }
        button, input { font: inherit; padding: .5rem .8rem; border-radius: .4rem; border: 1px solid #8888; }
        button { cursor: pointer; background: #8882; color: inherit; }
        .row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
        .row input { flex: 1; min-width: 8rem; }
        .danger { color: var(--warn); border-color: var(--warn); }
        #message { min-height: 1.2rem; color: var(--warn); }
        #events { list-style: none; padding: 0; margin: 0; font-size: .9rem; }
        #events li { padding: .25rem 0; border-bottom: 1px solid #8882; overflow-wrap: anywhere; }
        #events time { color: var(--off); margin-right: .5rem; font-variant-numeric: tabular-nums; }
        .hidden { display: none !important; }
        </style>
        </head>
        <body>
        <header><h1 id="name">plugd</h1><span id="link">connecting…</span></header>
        <button id="power" type="button" disabled aria-label="Switch the plug">…</button>
        <dl id="facts">
          <dt>Relay</dt><dd id="relay">…</dd>
          <dt>Mode</dt><dd id="mode">…</dd>
          <dt>Countdown</dt><dd id="timer">none</dd>
          <dt>Next schedule</dt><dd id="schedule">none</dd>
          <dt>LED</dt><dd id="led">…</dd>
          <dt>Fault</dt><dd id="fault">none</dd>
        </dl>
        <p id="message" role="status"></p>
        <section id="login" class="hidden">
          <form id="login-form" class="row">
            <input id="password" type="password" autocomplete="current-password" placeholder="Password" aria-label="Password">
            <button id="login-button" type="submit">Log in</button>
          </form>
        </section>
        <section id="no-password" class="hidden">
          <p>Read only: no password is set. To switch the plug from here, run
          <code>sudo plugctl web-password</code> on it.</p>
        </section>
        <section id="controls" class="hidden">
          <div class="row">
            <button id="identify" type="button">Identify</button>
            <button id="cancel-timer" type="button" class="hidden">Cancel countdown</button>
            <button id="logout" type="button">Log out</button>
          </div>
          <form id="rename-form" class="row" style="margin-top:.8rem">
            <input id="new-name" maxlength="64" placeholder="New name" aria-label="New name">
            <button id="rename" type="submit">Rename</button>
          </form>
          <details style="margin-top:.8rem">
            <summary>Reset</summary>
            <div class="row" style="margin-top:.5rem">
              <button type="button" class="danger" data-reset="reset">Simple reset…</button>
              <button type="button" class="danger" data-reset="factory-reset">Factory reset…</button>
              <button type="button" class="danger" data-reset="deregister">Deregister…</button>
            </div>
            <div id="confirm" class="hidden" style="margin-top:.5rem">
              <p id="confirm-text"></p>
              <div class="row">
                <button id="confirm-yes" type="button" class="danger">Yes, do it</button>
                <button id="confirm-no" type="button">Cancel</button>
              </div>
            </div>
          </details>
        </section>
        <section>
          <h2 style="font-size:1.1rem;margin:0 0 .5rem">Recent events</h2>
          <ul id="events"></ul>
        </section>
        <script src="/app.js"></script>
        </body>
        </html>

        """#.utf8)

    public static let script = Array(
        #"""
        'use strict';
        const $ = (id) => document.getElementById(id);
        let csrf = null;
        let relayOn = false;
        const resets = {
          'reset': 'Simple reset: the plug goes into setup mode; its name and identity are kept.',
          'factory-reset': 'Factory reset: all state is wiped and the plug starts as a new one. This cannot be undone.',
          'deregister': 'Deregister: the registration is removed and all state is wiped. This cannot be undone.',
        };
        let pendingReset = null;

        function say(text) { $('message').textContent = text || ''; }

        async function post(path, body) {
          const headers = { 'Content-Type': 'application/json' };
          if (csrf) headers['X-CSRF-Token'] = csrf;
          const r = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body || {}), credentials: 'same-origin' });
          let data = null;
          try { data = await r.json(); } catch (e) { data = null; }
          if (r.status === 401) { await session(); }
          if (!r.ok) { say((data && data.error) || ('HTTP ' + r.status)); return null; }
          say('');
          return data;
        }

        function show(s) {
          relayOn = s.relay === 'on';
          $('name').textContent = s.name;
          document.title = s.name + ' — ' + s.relay;
          const power = $('power');
          power.textContent = relayOn ? 'On' : 'Off';
          power.classList.toggle('on', relayOn);
          power.setAttribute('aria-pressed', relayOn ? 'true' : 'false');
          $('relay').textContent = s.relay + (s.relayPending ? ' (' + s.relayPending + ')' : '');
          $('mode').textContent = s.mode + (s.buttonHeld ? ', button held' : '');
          $('timer').textContent = s.timer || 'none';
          $('cancel-timer').classList.toggle('hidden', !s.timer);
          $('schedule').textContent = (s.schedule && s.schedule[0]) || 'none';
          $('led').textContent = s.ledPattern;
          $('fault').textContent = s.fault || 'none';
        }

        function time(ms) {
          const d = ms ? new Date(ms) : new Date();
          return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
        }

        function addEvent(e) {
          const li = document.createElement('li');
          li.dataset.event = e.event;
          const t = document.createElement('time');
          t.textContent = time(e.at);
          li.append(t, document.createTextNode(e.message));
          const list = $('events');
          list.prepend(li);
          while (list.children.length > 30) list.lastChild.remove();
        }

        async function session() {
          const r = await fetch('/api/session', { credentials: 'same-origin' });
          const s = await r.json();
          csrf = s.csrf || null;
          $('login').classList.toggle('hidden', !s.passwordSet || s.loggedIn);
          $('no-password').classList.toggle('hidden', s.passwordSet);
          $('controls').classList.toggle('hidden', !s.loggedIn);
          $('power').disabled = !s.loggedIn;
        }

        async function recent() {
          const r = await fetch('/api/events/recent');
          if (!r.ok) return;
          const data = await r.json();
          $('events').textContent = '';
          for (const e of data.events) addEvent(e);
        }

        function live() {
          const source = new EventSource('/api/events');
          source.addEventListener('status', (m) => show(JSON.parse(m.data)));
          source.addEventListener('plug', (m) => addEvent(JSON.parse(m.data)));
          source.addEventListener('open', () => { $('link').textContent = 'live'; recent(); });
          source.addEventListener('error', () => { $('link').textContent = 'reconnecting…'; });
        }

        $('power').addEventListener('click', () => post('/api/relay', { state: relayOn ? 'off' : 'on' }));
        $('identify').addEventListener('click', () => post('/api/identify'));
        $('cancel-timer').addEventListener('click', () => post('/api/countdown/cancel'));
        $('logout').addEventListener('click', async () => { await post('/api/logout'); await session(); });
        $('login-form').addEventListener('submit', async (e) => {
          e.preventDefault();
          const data = await post('/api/login', { password: $('password').value });
          $('password').value = '';
          if (data) await session();
        });
        $('rename-form').addEventListener('submit', async (e) => {
          e.preventDefault();
          const name = $('new-name').value.trim();
          if (name && await post('/api/setup', { name })) $('new-name').value = '';
        });
        for (const b of document.querySelectorAll('[data-reset]')) {
          b.addEventListener('click', () => {
            pendingReset = b.dataset.reset;
            $('confirm-text').textContent = resets[pendingReset];
            $('confirm').classList.remove('hidden');
          });
        }
        $('confirm-no').addEventListener('click', () => { pendingReset = null; $('confirm').classList.add('hidden'); });
        $('confirm-yes').addEventListener('click', async () => {
          const action = pendingReset;
          $('confirm').classList.add('hidden');
          pendingReset = null;
          if (action) await post('/api/' + action, { confirm: true });
        });

        session().then(live);

        """#.utf8)
}
