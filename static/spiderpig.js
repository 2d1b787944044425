// spiderpig.js: progressive enhancement of the server-rendered pages. Every
// page works without it; with it:
//  - times show in the viewer's own zone, durations and deadlines tick;
//  - the log becomes a terminal view: ANSI colours (text escaped first, then
//    spans with fixed classes), only the visible lines in the DOM so 100k
//    lines stay smooth, search, copy, sensitive runs with "show"; it never
//    listens for keystrokes outside its own search box;
//  - the dashboard, admin and deployment pages follow the stream
//    (/api/v1/stream, see spiderpig-stream(8)): on a change the page's own
//    HTML is fetched again and its live parts swapped in, so the server
//    stays the one place that renders (and escapes) them; without the
//    stream it polls instead;
//  - browser notifications, once allowed: a prompt waiting for you, your
//    deployment ending.
'use strict';

(function () {
  const TERMINAL = ['done', 'rolled_back', 'rollback_failed', 'cancelled', 'expired'];
  const me = document.body.dataset.user || null;

  // ---- times and durations -------------------------------------------------

  function fmtDuration(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
    return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  }

  function localTimes(root) {
    for (const t of root.querySelectorAll('time[datetime]:not(.countdown)')) {
      if (t.dataset.local) continue;
      const d = new Date(t.getAttribute('datetime'));
      if (isNaN(d)) continue;
      t.title = d.toISOString();
      t.textContent = d.toLocaleString(undefined, {
        year: 'numeric', month: 'short', day: 'numeric',
        hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
      });
      t.dataset.local = '1';
    }
  }

  const started = Date.now();
  function tick() {
    for (const el of document.querySelectorAll('.duration[data-running="1"]')) {
      const base = Number(el.dataset.seconds);
      if (!isNaN(base)) el.textContent = fmtDuration(base + (Date.now() - started) / 1000);
    }
    for (const t of document.querySelectorAll('time.countdown')) {
      const end = new Date(t.getAttribute('datetime'));
      if (isNaN(end)) continue;
      const left = (end - Date.now()) / 1000;
      t.textContent = left > 0 ? `in ${fmtDuration(left)}` : 'now';
      t.title = end.toLocaleString();
    }
  }

  // ---- notifications ------------------------------------------------------

  function notify(title, body, url) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(title, { body, tag: `${title}:${body}` });
      if (url) n.onclick = () => { window.focus(); location.href = url; };
    } catch (e) { /* some browsers allow notifications only from a worker */ }
  }

  function notifyButton() {
    const b = document.getElementById('notify');
    if (!b || !('Notification' in window) || Notification.permission !== 'default') return;
    b.hidden = false;
    b.addEventListener('click', async () => {
      await Notification.requestPermission();
      b.hidden = true;
    });
  }

  // ---- ANSI: escape first, then colour spans with fixed class names ---------

  const ESC_RE = /\x1b\[([0-9;]*)([A-Za-z])|\x1b[^[]?/g;
  const esc = (s) => s.replace(/[&<>"']/g, (c) => (
    { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  function stripAnsi(s) { return s.replace(ESC_RE, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ''); }

  function ansiHtml(s) {
    let out = '', open = false, last = 0, m;
    let st = { b: 0, d: 0, i: 0, u: 0, fg: 0, bg: 0 };
    const classes = () => {
      const c = [];
      if (st.b) c.push('a-b'); if (st.d) c.push('a-d');
      if (st.i) c.push('a-i'); if (st.u) c.push('a-u');
      if (st.fg) c.push(`a-${st.fg}`); if (st.bg) c.push(`ab-${st.bg}`);
      return c.join(' ');
    };
    const text = (t) => esc(t.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ''));
    ESC_RE.lastIndex = 0;
    while ((m = ESC_RE.exec(s)) !== null) {
      out += text(s.slice(last, m.index));
      last = ESC_RE.lastIndex;
      if (m[2] !== 'm') continue;
      for (const p of (m[1] === '' ? ['0'] : m[1].split(';')).map(Number)) {
        if (p === 0) st = { b: 0, d: 0, i: 0, u: 0, fg: 0, bg: 0 };
        else if (p === 1) st.b = 1; else if (p === 2) st.d = 1;
        else if (p === 3) st.i = 1; else if (p === 4) st.u = 1;
        else if (p === 22) st.b = st.d = 0; else if (p === 23) st.i = 0;
        else if (p === 24) st.u = 0; else if (p === 39) st.fg = 0;
        else if (p === 49) st.bg = 0;
        else if ((p >= 30 && p <= 37) || (p >= 90 && p <= 97)) st.fg = p;
        else if (p >= 40 && p <= 47) st.bg = p;
      }
      if (open) out += '</span>';
      const c = classes();
      open = c !== '';
      if (open) out += `<span class="${c}">`;
    }
    out += text(s.slice(last));
    if (open) out += '</span>';
    return out;
  }

  // ---- the terminal view -----------------------------------------------------

  // Lines live in an array; the <pre> holds a spacer above, the visible
  // window of lines (plus a margin) and a spacer below, redrawn on scroll
  // and on new output at most once per animation frame.
  class Terminal {
    constructor(pre) {
      this.pre = pre;
      this.id = pre.dataset.deployment;
      this.mayReveal = pre.dataset.mayReveal === '1';
      this.reveal = pre.dataset.reveal === '1';
      this.lines = [];          // {seq, last, text, sens}
      this.bySeq = new Map();
      this.lastSeq = 0;
      this.lineH = 0;
      this.hits = [];
      this.hit = -1;
      this.follow = true;
      this.pending = false;
      this.tools();
      pre.textContent = '';
      this.top = document.createElement('div');
      this.win = document.createElement('div');
      this.bottom = document.createElement('div');
      pre.append(this.top, this.win, this.bottom);
      pre.addEventListener('scroll', () => {
        this.follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        this.draw();
      });
      pre.addEventListener('click', (e) => {
        const b = e.target.closest('button[data-show]');
        if (b) this.showSensitive(Number(b.dataset.show), Number(b.dataset.last));
      });
      pre.addEventListener('copy', (e) => this.onCopy(e));
    }

    tools() {
      const bar = document.createElement('div');
      bar.className = 'term-tools';
      bar.innerHTML = '<label class="field"><span>Search the log</span>' +
        '<input type="search" class="term-search" autocomplete="off"></label>' +
        '<button type="button" class="prev" aria-label="Previous match">&#8593;</button>' +
        '<button type="button" class="next" aria-label="Next match">&#8595;</button>' +
        '<span class="count" aria-live="polite"></span>' +
        '<button type="button" class="copy">Copy the whole log</button>' +
        '<button type="button" class="end">Follow the end</button>';
      this.pre.before(bar);
      const q = bar.querySelector('input');
      let timer = 0;
      q.addEventListener('input', () => {
        clearTimeout(timer);
        timer = setTimeout(() => this.search(q.value), 150);
      });
      q.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { e.preventDefault(); this.step(e.shiftKey ? -1 : 1); }
      });
      bar.querySelector('.prev').addEventListener('click', () => this.step(-1));
      bar.querySelector('.next').addEventListener('click', () => this.step(1));
      bar.querySelector('.copy').addEventListener('click', () => this.copyAll());
      bar.querySelector('.end').addEventListener('click', () => { this.follow = true; this.draw(true); });
      this.count = bar.querySelector('.count');
      this.query = '';
    }

    add(lines) {
      for (const l of lines) {
        const last = l.last_seq || l.seq;
        if (last <= this.lastSeq) continue;   // already have it: no duplicate
        const line = { seq: l.seq, last, text: l.text, sens: !!l.sensitive };
        this.lines.push(line);
        this.lastSeq = last;
        if (this.query && stripAnsi(l.text).toLowerCase().includes(this.query)) this.hits.push(this.lines.length - 1);
      }
      this.schedule();
    }

    schedule() {
      if (this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.draw(); });
    }

    measure() {
      if (this.lineH) return this.lineH;
      const probe = document.createElement('span');
      probe.className = 'line';
      probe.textContent = 'x';
      this.win.append(probe);
      this.lineH = probe.getBoundingClientRect().height || 16;
      probe.remove();
      return this.lineH;
    }

    lineHtml(i) {
      const l = this.lines[i];
      const cls = `line${l.sens ? ' sensitive' : ''}${this.hits.length && this.hits[this.hit] === i ? ' hit current' : ''}`;
      let body = ansiHtml(l.text);
      if (l.sens && this.mayReveal && l.text === '<sensitive information hidden>') {
        body += ` <button type="button" data-show="${l.seq}" data-last="${l.last}">show</button>`;
      }
      return `<span class="${cls}" data-i="${i}">${body || ' '}</span>`;
    }

    draw(toEnd) {
      const h = this.measure();
      const n = this.lines.length;
      if (this.follow || toEnd) this.pre.scrollTop = n * h;
      const first = Math.max(0, Math.floor(this.pre.scrollTop / h) - 50);
      const last = Math.min(n, first + Math.ceil(this.pre.clientHeight / h) + 100);
      this.top.style.height = `${first * h}px`;
      this.bottom.style.height = `${(n - last) * h}px`;
      let html = '';
      for (let i = first; i < last; i++) html += this.lineHtml(i);
      this.win.innerHTML = html;
      if (n === 0) this.win.innerHTML = '<span class="line">(no output yet)</span>';
      if (this.follow || toEnd) this.pre.scrollTop = this.pre.scrollHeight;
    }

    search(q) {
      this.query = q.trim().toLowerCase();
      this.hits = [];
      this.hit = -1;
      if (this.query) {
        this.lines.forEach((l, i) => {
          if (stripAnsi(l.text).toLowerCase().includes(this.query)) this.hits.push(i);
        });
      }
      this.count.textContent = this.query ? `${this.hits.length} matching lines` : '';
      if (this.hits.length) this.step(1); else this.draw();
    }

    step(d) {
      if (!this.hits.length) return;
      this.hit = (this.hit + d + this.hits.length) % this.hits.length;
      this.follow = false;
      const h = this.measure();
      this.pre.scrollTop = Math.max(0, this.hits[this.hit] * h - this.pre.clientHeight / 2);
      this.count.textContent = `${this.hit + 1} of ${this.hits.length} matching lines`;
      this.draw();
    }

    text() { return this.lines.map((l) => stripAnsi(l.text)).join('\n') + '\n'; }

    async copyAll() {
      try {
        await navigator.clipboard.writeText(this.text());
        this.count.textContent = `copied ${this.lines.length} lines`;
      } catch (e) {
        this.count.textContent = 'the browser refused to copy; select the text instead';
      }
    }

    // A selection inside the view copies plain text, colours stripped.
    onCopy(e) {
      const sel = document.getSelection();
      if (!sel || sel.isCollapsed) return;
      e.clipboardData.setData('text/plain', stripAnsi(sel.toString()));
      e.preventDefault();
    }

    async showSensitive(seq, last) {
      const r = await fetch(`/api/v1/deployments/${this.id}/log?after=${seq - 1}` +
        `&limit=${Math.min(5000, last - seq + 1)}&sensitive=1`, { credentials: 'same-origin' });
      if (!r.ok) return;
      const page = await r.json();
      const i = this.lines.findIndex((l) => l.seq === seq);
      if (i < 0) return;
      const got = page.lines.filter((l) => l.seq >= seq && l.seq <= last)
        .map((l) => ({ seq: l.seq, last: l.seq, text: l.text, sens: true }));
      this.lines.splice(i, 1, ...got);
      this.search(this.query);
      this.draw();
    }

    // Everything after lastSeq through the log API, page by page.
    async backfill() {
      for (;;) {
        const r = await fetch(`/api/v1/deployments/${this.id}/log?after=${this.lastSeq}&limit=5000` +
          (this.reveal ? '&sensitive=1' : ''), { credentials: 'same-origin' });
        if (!r.ok) return false;
        const page = await r.json();
        this.add(page.lines);
        if (!page.more || page.lines.length === 0) return true;
      }
    }
  }

  // ---- live parts, swapped in from the page's own HTML ------------------------

  const LIVE = ['#freeze-banner', '#active', '#queue', '#mine', '#state', '#prompt',
    '#stages', '#actions', '#error-rate', '#users', '#tokens'];

  // ---- the error-rate chart: drawn with uPlot (static/vendor) from the
  // samples' table the server renders, which stays for those without it.
  let chartPlot = null;
  window.addEventListener('resize', () => {
    const box = document.getElementById('error-chart');
    if (chartPlot && box) chartPlot.setSize({ width: Math.min(box.clientWidth || 600, 900), height: 240 });
  });

  function drawChart(redraw) {
    const table = document.getElementById('error-samples');
    const box = document.getElementById('error-chart');
    if (!table || !box || !window.uPlot) return;
    const x = [], canary = [], control = [];
    for (const tr of table.querySelectorAll('tbody tr')) {
      const v = [...tr.querySelectorAll('td')].map((td) => (td.dataset.value === undefined ? null : Number(td.dataset.value)));
      x.push(v[1]); canary.push(v[2]); control.push(v[3]);
    }
    if (box.querySelector('.uplot') && !redraw) return;
    if (chartPlot) chartPlot.destroy();
    chartPlot = null;
    box.textContent = '';
    box.setAttribute('role', 'img');
    box.setAttribute('aria-label', `Error rate over ${x.length} samples: canary against control, in percent; the table below has the numbers`);
    const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    const ink = dark ? '#e8e8ea' : '#1d1d1f', grid = dark ? '#3a3d44' : '#d0d0d7';
    const axis = { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid } };
    const width = () => Math.min(box.clientWidth || 600, 900);
    chartPlot = new window.uPlot({
      width: width(), height: 240,
      scales: { x: { time: false } },
      series: [{ label: 'seconds in' },
        { label: 'canary %', stroke: '#d93025', width: 2 },
        { label: 'control %', stroke: '#1a73e8', width: 2 }],
      axes: [{ ...axis, label: 'seconds' }, { ...axis, label: 'errors %' }],
    }, [x, canary, control], box);
  }
  let refreshing = null, again = false;
  // Each live part's HTML as the server last sent it (as the page came,
  // before the times were made local, then as swapped in). A part whose
  // new HTML is the same is left alone: swapping an identical prompt under
  // a pointer in the middle of a click would swallow the click.
  const served = new Map();
  function rememberServed() {
    for (const sel of LIVE) {
      const el = document.querySelector(sel);
      if (el) served.set(sel, el.outerHTML);
    }
  }

  function rowStates(root) {
    const m = new Map();
    for (const tr of root.querySelectorAll('#mine tbody tr[data-id]')) {
      const st = tr.querySelector('.state');
      if (st) m.set(tr.dataset.id, st.title);
    }
    const s = root.querySelector('#state');
    const dep = root.querySelector('#deployment');
    if (s && dep && dep.dataset.requester === me) m.set(dep.dataset.id, s.dataset.state);
    return m;
  }

  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = (async () => {
      try {
        const r = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
        if (r.redirected || !r.ok) return;
        const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
        const before = rowStates(document), oldTitle = document.title;
        const hadPrompt = !!document.querySelector('#prompt .buttons');
        for (const sel of LIVE) {
          const cur = document.querySelector(sel), nu = doc.querySelector(sel);
          if (!cur || !nu || served.get(sel) === nu.outerHTML) continue;
          served.set(sel, nu.outerHTML);
          cur.replaceWith(document.importNode(nu, true));
        }
        document.title = doc.title;
        drawChart(true);
        localTimes(document);
        tick();
        if (/^Your answer is needed/.test(doc.title) && !/^Your answer is needed/.test(oldTitle)) {
          notify('spiderpig: your answer is needed', 'A deployment of yours waits for your answer.', '/');
        }
        const after = rowStates(document);
        for (const [id, st] of after) {
          if (TERMINAL.includes(st) && before.has(id) && before.get(id) !== st) {
            notify(`spiderpig: deployment ${id} ended`, st.replace(/_/g, ' '), `/deployments/${id}`);
          }
        }
        if (hadPrompt === false && document.querySelector('#prompt .buttons')) {
          notify('spiderpig: your answer is needed',
            document.querySelector('#prompt .question')?.textContent || '', location.href);
        }
      } catch (e) { /* the next change tries again */ }
    })();
    await refreshing;
    refreshing = null;
    if (again) { again = false; refresh(); }
  }

  let refreshTimer = 0;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 50);
  }

  // ---- the stream ---------------------------------------------------------

  function connect(term, depId) {
    let delay = 500, ws = null, stopped = false, pollTimer = 0;
    const status = document.createElement('p');
    status.className = 'sr-only';
    status.setAttribute('role', 'status');
    document.querySelector('main')?.append(status);

    function poll() {
      clearTimeout(pollTimer);
      pollTimer = setTimeout(async () => {
        if (term) await term.backfill();
        await refresh();
        poll();
      }, depId ? 2000 : 5000);
    }

    function open() {
      if (stopped) return;
      const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/stream`;
      try { ws = new WebSocket(url); } catch (e) { poll(); return; }
      let hello = false;
      ws.onmessage = (ev) => {
        let m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === 'hello') {
          hello = true;
          delay = 500;
          clearTimeout(pollTimer);
          window.spiderpigStream = ws;
          if (depId) {
            ws.send(JSON.stringify({ type: 'subscribe', deployment: Number(depId),
              after: term ? term.lastSeq : 0, reveal: !!(term && term.reveal) }));
          }
        } else if (m.type === 'overview' || m.type === 'deployment') {
          refreshSoon();
        } else if (m.type === 'lines' && term && String(m.deployment) === String(depId)) {
          term.add(m.lines);
        }
      };
      ws.onclose = (ev) => {
        window.spiderpigStream = null;
        if (ev.code === 4001 || ev.code === 4003) {
          stopped = true;
          status.textContent = ev.code === 4003 ? 'You were banned.' : 'You were signed out.';
          document.body.dataset.streamClosed = String(ev.code);
          return;
        }
        if (!hello) poll();
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 15000);
      };
    }
    open();
  }

  // ---- start --------------------------------------------------------------

  async function start() {
    rememberServed();
    localTimes(document);
    tick();
    setInterval(tick, 1000);
    notifyButton();
    drawChart(false);
    const pre = document.getElementById('log');
    const dep = document.getElementById('deployment');
    let term = null;
    if (pre) {
      term = new Terminal(pre);
      window.spiderpigTerminal = term;
      if (await term.backfill()) document.querySelector('.log-note')?.remove();
      term.draw(true);
    }
    if (document.body.dataset.user && document.querySelector('#freeze-banner, #deployment')) {
      connect(term, dep ? dep.dataset.id : null);
    }
  }

  // uPlot comes after this script (both deferred): draw once all loaded.
  window.addEventListener('load', () => drawChart());
  // The chart's colours follow the scheme: draw again when it changes.
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => drawChart(true));
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
