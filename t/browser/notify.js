#!/usr/bin/env node
// notify.js: the "your deployment ended" browser notification, in Debian's
// Chromium driven by playwright-core; prints TAP. Run by
// t/993-browser-notify-ended.t, which starts the stack, makes the session
// and ends the deployment:
//
//   node t/browser/notify.js --base https://127.0.0.1:PORT --session TOKEN
//     --user alice --mine ID --other ID
//
// Notifications are allowed for the site and the page's Notification is
// wrapped to record every notification made. Opens the requester's
// deployment page (mine) and the dashboard, prints READY, and after "GO"
// on stdin (the test has ended both deployments: the other one, another
// user's, first) waits for the notification naming mine, then checks that
// none named the other.
'use strict';

const readline = require('node:readline');
const { tap, launch } = require('./lib.js');

function args() {
  const a = { timeout: 90 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (!['base', 'session', 'user', 'mine', 'other', 'timeout'].includes(k)) {
      throw new Error(`unknown option ${v[i]}`);
    }
    a[k] = v[i + 1];
  }
  for (const k of ['base', 'session', 'user', 'mine', 'other']) if (!a[k]) throw new Error(`--${k} is required`);
  return a;
}

const opt = args();
const t = tap();
let browser;

const watchdog = setTimeout(() => {
  t.ok(false, `the browser test finished within ${opt.timeout} s`);
  t.done();
  process.exit(1);
}, Number(opt.timeout) * 1000);

// Each notification the page makes, recorded before the real one is made
// (headless Chromium may refuse to show it; the page catches that).
function spy() {
  const Real = window.Notification;
  window.spNotes = [];
  class Recorded extends Real {
    constructor(title, options) {
      window.spNotes.push({ title, body: options && options.body });
      super(title, options);
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Recorded;
}

function go() {
  return new Promise((resolve) => {
    readline.createInterface({ input: process.stdin }).on('line', (l) => {
      if (l === 'GO') resolve();
    });
  });
}

async function notes(page) {
  return page.evaluate(() => window.spNotes || []);
}

async function waitFor(page, pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const n = await notes(page);
    if (pred(n) || Date.now() > end) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

(async () => {
  const base = new URL(opt.base);
  browser = await launch();
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  await ctx.grantPermissions(['notifications'], { origin: base.origin });
  await ctx.addCookies([{ name: '__Host-spiderpig_session', value: opt.session,
    url: base.origin + '/', secure: true, httpOnly: true, sameSite: 'Lax' }]);
  await ctx.addInitScript(spy);

  const dep = await ctx.newPage();
  await dep.goto(`${base.origin}/deployments/${opt.mine}`, { waitUntil: 'load' });
  t.is(await dep.evaluate(() => document.body.dataset.user), opt.user,
    `the deployment page is ${opt.user}'s`);
  t.is(await dep.evaluate(() => Notification.permission), 'granted', 'notifications are allowed');
  const dash = await ctx.newPage();
  await dash.goto(`${base.origin}/`, { waitUntil: 'load' });
  t.ok(await dash.locator(`#mine tr[data-id="${opt.mine}"]`).count() === 1,
    'the dashboard lists the deployment among the user\'s own');
  // Both pages follow the stream (or poll without it).
  await Promise.all([dep, dash].map((p) => p.waitForFunction(
    () => window.spiderpigStream !== undefined && window.spiderpigStream !== null,
    null, { timeout: 15000 }).catch(() => null)));

  process.stdout.write('READY\n');
  await go();

  const title = `spiderpig: deployment ${opt.mine} ended`;
  for (const [name, page] of [['deployment page', dep], ['dashboard', dash]]) {
    const n = await waitFor(page, (l) => l.some((x) => x.title === title), 30000);
    const hit = n.find((x) => x.title === title);
    t.ok(hit, `${name}: "${title}" was notified`, JSON.stringify(n));
    t.is(hit && hit.body, 'cancelled', `${name}: ... saying how it ended`);
    t.ok(!n.some((x) => x.title.includes(`deployment ${opt.other} `)),
      `${name}: nothing about another user's deployment`, JSON.stringify(n));
  }
})().catch((e) => {
  t.ok(false, `no exception: ${e.message}`);
}).finally(async () => {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
  process.exit(t.done() ? 1 : 0);
});
