#!/usr/bin/env node
// pages.js: every page in Debian's Chromium (playwright-core), two browsers
// at once (alice and root); prints TAP. Run by t/663-browser-pages.t, which
// starts the stack with a worker and prepares the data:
//
//   node t/browser/pages.js --base URL --issuer URL --shots DIR --out DIR
//     --biglog ID    (a deployment with 100000 coloured log lines)
//     [--stream 1]   (the stream daemon runs: its checks must not be skipped)
//
// - Each page: an axe-core check (no serious or critical violation) in
//   light and dark, no CSP violation in the console, and screenshots at
//   1280 and 390 px, light and dark, into --shots.
// - The terminal: 100k lines load without freezing the page (only a
//   window of them in the DOM), search finds a line, copy gives every line,
//   and no keystroke is taken from the page.
// - Live, without a reload: alice queues and root's dashboard shows her
//   position; alice answers every prompt by clicking, her log lines appear,
//   she rolls back at the finish prompt (which asks to confirm); root
//   freezes and alice's banner appears. These follow the stream when it
//   is there, else the pages' polling.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { tap, launch, totp } = require('./lib.js');

function args() {
  const a = { timeout: 400 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
  for (const k of ['base', 'issuer', 'shots', 'out', 'biglog']) if (!a[k]) throw new Error(`--${k} is required`);
  return a;
}

const opt = args();
const t = tap();
const base = new URL(opt.base);
const issuer = new URL(opt.issuer);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SUBMIT = 'button[type="submit"], button:not([type]), input[type="submit"]';
let browser;
const pages = {};
const cspErrors = [];

const watchdog = setTimeout(async () => {
  t.ok(false, `the browser test finished within ${opt.timeout} s`);
  await artifacts('watchdog');
  t.done();
  process.exit(1);
}, Number(opt.timeout) * 1000);

async function artifacts(why) {
  fs.mkdirSync(opt.out, { recursive: true });
  for (const [who, page] of Object.entries(pages)) {
    try {
      await page.screenshot({ path: path.join(opt.out, `failure-${who}.png`), fullPage: true, timeout: 5000 });
      fs.writeFileSync(path.join(opt.out, `failure-${who}.html`), await page.content());
      t.diag(`${why}: ${who} at ${page.url()}`);
    } catch (e) { t.diag(`no artifacts for ${who}: ${e.message}`); }
  }
}

const url = (p) => new URL(p, base).href;

async function submitAndWait(page, button) {
  const nav = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 15000 });
  await button.click();
  await nav;
  await page.waitForLoadState('load');
}

// Sign in at the provider and enrol the second factor; the enrolment page
// is checked and photographed on the way.
async function login(context, user) {
  const page = await context.newPage();
  pages[user] = page;
  page.setDefaultTimeout(15000);
  page.on('console', (m) => {
    if (new URL(page.url()).origin === base.origin && /Content Security Policy|Refused to/i.test(m.text())) {
      cspErrors.push(`${user} ${page.url()}: ${m.text()}`);
    }
  });
  await page.goto(url('/'), { waitUntil: 'load' });
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('any-password');
  await submitAndWait(page, page.locator('form:has(input[name="login"])').locator(SUBMIT).first());
  for (let i = 0; i < 3 && new URL(page.url()).origin === issuer.origin; i++) {
    const consent = page.locator('form:has(input[name="prompt"][value="consent"])').locator(SUBMIT).first();
    if (await consent.count() !== 1) break;
    await submitAndWait(page, consent);
  }
  await page.waitForURL((u) => u.pathname === '/totp', { timeout: 15000 });
  if (user === 'alice') await checkPage(page, 'totp-enrolment');
  const secret = (await page.locator('code.secret').innerText()).trim();
  const left = 30 - ((Date.now() / 1000) % 30);
  if (left < 3) await page.waitForTimeout((left + 0.5) * 1000);
  await page.locator('input[name="code"]').fill(totp(secret));
  await submitAndWait(page, page.locator('form[action="/totp"]').locator(SUBMIT).first());
  t.is(new URL(page.url()).pathname, '/', `${user} signs in and lands on the dashboard`);
  return page;
}

// axe-core (no serious or critical violation) in light and dark, then the
// four screenshots.
async function checkPage(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.evaluate(AXE);
    const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    t.ok(bad.length === 0, `axe: no serious or critical violation on ${name} (${scheme})`,
      bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n'));
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await page.screenshot({ path: path.join(opt.shots, `${name}-${width}-${scheme}.png`), fullPage: true });
    }
    if (scheme === 'light') {
      await page.setViewportSize({ width: 390, height: 844 });
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      t.ok(over <= 1, `${name} fits 390 px without sideways scrolling of the page`, `${over}px too wide`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function visit(page, p, name) {
  await page.goto(url(p), { waitUntil: 'load' });
  await checkPage(page, name);
}

// Wait for fn (run in the page) to be true, without reloading.
async function live(page, fn, arg, ms, name) {
  await page.evaluate(() => { window.__noReload = 1; });
  let ok = true;
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
  } catch (e) { ok = false; }
  const same = await page.evaluate(() => window.__noReload === 1).catch(() => false);
  return t.ok(ok && same, name, ok ? 'the page was reloaded' : `not within ${ms} ms`);
}

async function terminal(page) {
  const t0 = Date.now();
  await page.goto(url(`/deployments/${opt.biglog}`), { waitUntil: 'load' });
  const ok = await page.waitForFunction(() => window.spiderpigTerminal &&
    window.spiderpigTerminal.lastSeq >= 100000, null, { timeout: 60000, polling: 100 }).then(() => true, () => false);
  const ms = Date.now() - t0;
  t.ok(ok, `the terminal holds all 100000 lines, the sensitive run as one (${ms} ms from navigation)`);
  const held = await page.evaluate(() => window.spiderpigTerminal.lines.length);
  // The page answers while and after it loads: a timer fires on time.
  const lag = await page.evaluate(() => new Promise((res) => {
    const s = performance.now();
    setTimeout(() => res(performance.now() - s - 50), 50);
  }));
  t.ok(lag < 200, `the tab does not freeze (a 50 ms timer is ${Math.round(lag)} ms late)`);
  const inDom = await page.locator('#log .line').count();
  t.ok(inDom > 0 && inDom < 2000, `only a window of lines is in the DOM (${inDom})`);
  t.ok(await page.locator('#log .a-32, #log .a-31, #log .a-33').count() > 0, 'ANSI colours are drawn as classes');
  const html = await page.locator('#log').innerHTML();
  t.ok(!/\x1b/.test(html) && !/<b>x<\/b>/.test(html), 'no escape bytes or raw markup reach the DOM');
  await page.locator('.term-search').fill('line 99999 ');
  await page.waitForFunction(() => /1 of 1 matching/.test(document.querySelector('.term-tools .count').textContent),
    null, { timeout: 10000 }).catch(() => {});
  t.ok(/1 of 1 matching/.test(await page.locator('.term-tools .count').innerText()), 'search finds the line');
  t.ok(await page.locator('#log .hit.current').count() === 1, 'and shows it');
  // Keystrokes: none is taken from the page (Ctrl-C, letters, slash).
  await page.evaluate(() => {
    window.__prevented = [];
    document.addEventListener('keydown', (e) => { setTimeout(() => { if (e.defaultPrevented) window.__prevented.push(e.key); }); });
  });
  await page.locator('#log').focus();
  for (const k of ['Control+c', 'a', '/', 'Control+f', 'Escape']) await page.keyboard.press(k);
  await page.waitForTimeout(100);
  t.is(JSON.stringify(await page.evaluate(() => window.__prevented)), '[]', 'the terminal captures no keystroke');
  await page.locator('.term-tools .copy').click();
  const clip = await page.evaluate(() => navigator.clipboard.readText()).catch(() => '');
  t.is(clip.split('\n').length - 1, held, `copy gives every line (${held}), colours stripped`);
  t.ok(clip.includes('[100000] line 100000 <b>x</b> bold done'), 'the last one too, as text');
  t.ok(!clip.includes('\x1b'), 'without escape sequences');
}

async function main() {
  fs.mkdirSync(opt.shots, { recursive: true });
  browser = await launch();
  const ctx = (who) => browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write', 'notifications'], locale: 'en-GB',
    timezoneId: who === 'root' ? 'America/New_York' : 'Europe/Berlin' });
  const [ca, cr] = [await ctx('alice'), await ctx('root')];
  const alice = await login(ca, 'alice');
  const root = await login(cr, 'root');

  // Times in the viewer's zone (alice: Berlin, root: New York).
  await alice.goto(url(`/deployments/${opt.biglog}`), { waitUntil: 'load' });
  const shown = await alice.locator('dl.summary time').first().innerText();
  t.ok(/GMT\+1|CET/.test(shown), `times show in the viewer's zone (${shown})`);

  // Every page, both users where they differ.
  await visit(alice, '/', 'dashboard');
  await visit(root, '/admin', 'admin');
  await visit(root, '/admin/audit', 'audit');
  await visit(alice, '/deployments', 'history');
  await visit(alice, '/tokens', 'tokens');
  await visit(alice, `/deployments/${opt.biglog}`, 'deployment');
  t.ok(await alice.locator('#error-chart canvas').count() >= 1, 'the error-rate chart is drawn (uPlot, from static/vendor)');
  await visit(alice, '/no/such/page', 'error-404');
  await root.goto(url('/admin'), { waitUntil: 'load' });
  await submitAndWait(root, root.locator('button[aria-label="Ban bob"]'));
  t.ok(/Confirm: Ban/.test(await root.locator('h1').innerText()), 'ban asks for confirmation on a page of its own');
  await checkPage(root, 'confirm');

  await terminal(alice);

  // Live: alice queues, root's dashboard shows her position.
  await root.goto(url('/'), { waitUntil: 'load' });
  await alice.goto(url('/'), { waitUntil: 'load' });
  await alice.locator('input[name="patches"]').fill('24680');
  await submitAndWait(alice, alice.locator('form[action="/ui/deployments"]').locator(SUBMIT).first());
  t.ok(/Queued/.test(await alice.locator('.flash').innerText()), 'the dashboard says it queued');
  const id = await alice.locator('#mine tbody tr').first().getAttribute('data-id');
  await live(root, (i) => {
    const tr = document.querySelector(`#queue tr[data-id="${i}"]`);
    return tr && /alice/.test(tr.textContent);
  }, id, 15000, `root's dashboard shows alice's deployment ${id} in the queue without a reload`);

  // Notifications, recorded: a stand-in for the browser's (headless shows
  // none) on every page alice opens from here on.
  await alice.addInitScript(() => {
    window.__notes = [];
    window.Notification = class {
      constructor(title) { window.__notes.push(title); }
      static get permission() { return 'granted'; }
      static requestPermission() { return Promise.resolve('granted'); }
    };
  });

  // alice answers every prompt by clicking on her deployment's page.
  await alice.goto(url(`/deployments/${id}`), { waitUntil: 'load' });
  const answer = async (label, next) => {
    const ok = await live(alice, (l) => !!document.querySelector(`#prompt button[aria-label^="${l}:"]`), label, 60000,
      `the "${label}" button appears on alice's page without a reload`);
    if (!ok) return false;
    await submitAndWait(alice, alice.locator(`#prompt button[aria-label^="${label}:"]`));
    if (next) await next();
    return true;
  };
  if (!await answer('Yes')) return;
  await live(alice, () => window.spiderpigTerminal && window.spiderpigTerminal.lines.some((l) => /stage merge/.test(l.text)),
    null, 30000, 'her log lines appear live');
  if (!await answer('Yes')) return;                     // continue
  // A forced reconnect while the canary and production stages print: the
  // log resumes from the last line seen, with no gap and no duplicate.
  const streaming = await alice.waitForFunction(() => !!window.spiderpigStream, null, { timeout: 5000 })
    .then(() => true, () => false);
  if (opt.stream) t.ok(streaming, 'the deployment page is on the stream');
  if (streaming) {
    await alice.evaluate(() => { window.__before = window.spiderpigTerminal.lastSeq; window.spiderpigStream.close(); });
    const back = await alice.waitForFunction(() => window.spiderpigStream && window.spiderpigStream.readyState === 1,
      null, { timeout: 10000 }).then(() => true, () => false);
    t.ok(back, 'the stream reconnects after a forced close');
  }
  if (streaming) {
    await live(alice, () => window.spiderpigTerminal.lastSeq > window.__before, null, 20000,
      'lines printed after the reconnect arrive live');
    const seqs = await alice.evaluate(async (i) => {
      const got = window.spiderpigTerminal.lines.map((l) => `${l.seq}-${l.last}`);
      const all = [];
      let after = 0;
      for (;;) {
        const p = await (await fetch(`/api/v1/deployments/${i}/log?after=${after}&limit=5000`)).json();
        for (const l of p.lines) all.push(`${l.seq}-${l.last_seq || l.seq}`);
        if (!p.more || p.lines.length === 0) break;
        after = p.next_after;
      }
      return { got: got.join(','), all: all.slice(0, got.length).join(','), n: got.length };
    }, id);
    t.is(seqs.got, seqs.all, `after the reconnect every line is there once, in order (${seqs.n} lines)`);
  }
  await alice.waitForFunction(() => window.__notes.some((n) => /your answer is needed/.test(n)), null,
    { timeout: 20000 }).catch(() => {});
  t.ok(await alice.evaluate(() => window.__notes.some((n) => /your answer is needed/.test(n))),
    'a notification says her answer is needed when the finish prompt opens');
  const rolled = await answer('Roll back', async () => {  // finish: roll back, confirmed
    t.ok(/Confirm: Answer/.test(await alice.locator('h1').innerText()), 'rolling back at the finish prompt asks to confirm');
    await checkPage(alice, 'confirm-rollback');
    await submitAndWait(alice, alice.locator('main form button.danger'));
  });
  if (!rolled) return;
  t.is(new URL(alice.url()).pathname, `/deployments/${id}`, 'back on the deployment page');
  await answer('Acknowledge');
  await live(alice, () => /rolled_back|rollback_failed/.test(document.querySelector('#state')?.dataset.state || ''), null, 30000,
    'alice rolled back: the page shows it without a reload');
  await checkPage(alice, 'deployment-rolled-back');

  // root freezes; alice's banner appears.
  await alice.goto(url('/'), { waitUntil: 'load' });
  await root.goto(url('/admin'), { waitUntil: 'load' });
  await root.locator('form[action="/admin/freeze"] input[name="reason"]').fill('browser test freeze');
  await submitAndWait(root, root.locator('form[action="/admin/freeze"]').locator(SUBMIT).first());
  t.ok(/Deployments frozen/.test(await root.locator('.flash').innerText()), 'the admin page says it froze');
  await live(alice, () => /browser test freeze/.test(document.querySelector('#freeze-banner')?.textContent || ''), null, 15000,
    "alice's freeze banner appears without a reload");
  await checkPage(alice, 'dashboard-frozen');

  // root bans alice: her socket closes within a second (stream only).
  const streamed = await alice.waitForFunction(() => !!window.spiderpigStream, null, { timeout: 5000 })
    .then(() => true, () => false);
  if (opt.stream) t.ok(streamed, 'the dashboard is on the stream');
  if (streamed) {
    await root.goto(url('/admin'), { waitUntil: 'load' });
    await submitAndWait(root, root.locator('button[aria-label="Ban alice"]'));
    await root.locator('input[name="reason"]').fill('browser test');
    const t0 = Date.now();
    await submitAndWait(root, root.locator('main form button.danger'));
    const closed = await alice.waitForFunction(() => document.body.dataset.streamClosed === '4003', null,
      { timeout: 3000 }).then(() => true, () => false);
    t.ok(closed && Date.now() - t0 < 1500, `alice's socket closes when she is banned (${Date.now() - t0} ms)`);
  } else {
    t.diag('the stream is not there (/api/v1/stream): the live checks ran on polling; the ban check needs the stream');
  }
  t.ok(cspErrors.length === 0, 'no Content-Security-Policy violation on any page', cspErrors.join('\n'));
}

main()
  .catch((e) => t.ok(false, 'no exception in the browser run', e.stack || String(e)))
  .then(async () => {
    if (t.failed) await artifacts('failed');
    clearTimeout(watchdog);
    if (browser) await browser.close().catch(() => {});
    process.exitCode = t.done() ? 1 : 0;
  });
