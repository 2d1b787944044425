#!/usr/bin/env node
// login_deploy.js: the whole browser login and a deployment, in Debian's
// Chromium driven by playwright-core; prints TAP. Run by
// t/630-browser-login-deploy.t, which starts the stack and the real test
// provider (idp/provider.js):
//
//   node t/browser/login_deploy.js --base https://127.0.0.1:PORT \
//     --issuer http://127.0.0.1:PORT2 --out DIR [--user alice] [--patch 56789]
//     [--position N]
//
// Steps: open / (self-signed TLS accepted), land on the provider's login
// form, sign in (any password), consent, land on /totp, read the otpauth
// secret off the page, submit a wrong code (refused, the same secret shown
// again), compute the code (RFC 6238), submit it, land on the
// dashboard with an AAL2 session cookie, submit the patch in the deploy
// form, see the deployment listed with its queue position. On any failure
// a screenshot and the page's HTML go to DIR (failure.png, failure.html).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { tap, launch, totp } = require('./lib.js');

function args() {
  const a = { user: 'alice', password: 'any-password', patch: '56789', position: null, timeout: 120 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (!(k in a) && !['base', 'issuer', 'out'].includes(k)) throw new Error(`unknown option ${v[i]}`);
    a[k] = v[i + 1];
  }
  for (const k of ['base', 'issuer', 'out']) if (!a[k]) throw new Error(`--${k} is required`);
  return a;
}

const opt = args();
const t = tap();
const base = new URL(opt.base);
const issuer = new URL(opt.issuer);
let page, browser;

// A hard cap, whatever Chromium does.
const watchdog = setTimeout(async () => {
  t.ok(false, `the browser test finished within ${opt.timeout} s`);
  await failureArtifacts('watchdog');
  t.done();
  process.exit(1);
}, Number(opt.timeout) * 1000);

async function failureArtifacts(why) {
  if (!page) return;
  try {
    fs.mkdirSync(opt.out, { recursive: true });
    const png = path.join(opt.out, 'failure.png');
    await page.screenshot({ path: png, fullPage: true, timeout: 5000 });
    fs.writeFileSync(path.join(opt.out, 'failure.html'), await page.content());
    const text = (await page.locator('body').innerText({ timeout: 5000 }).catch(() => '')).slice(0, 500);
    t.diag(`${why}: at ${page.url()}; screenshot ${png}\npage text: ${text}`);
  } catch (e) {
    t.diag(`no screenshot: ${e.message}`);
  }
}

// <button> without a type submits its form.
const SUBMIT = 'button[type="submit"], button:not([type]), input[type="submit"]';
const onSite = () => new URL(page.url()).origin === base.origin;
const onProvider = () => new URL(page.url()).origin === issuer.origin;

// Click a submit button and wait for the navigation it starts (the document
// after any redirects, which may have the same URL as before) to load.
async function submitAndWait(button) {
  const nav = page.waitForEvent('framenavigated', {
    predicate: (f) => f === page.mainFrame(), timeout: 15000,
  });
  await button.click();
  await nav;
  await page.waitForLoadState('load');
}

// The enrolment page: the otpauth URI's parameters and the code form; TAP
// checks of its content when full. undefined when the page is not one.
async function readEnrolment(full) {
  const html = await page.content();
  const m = /otpauth:\/\/totp\/[^"'<>\s]+/.exec(html);
  if (!t.ok(m, 'the enrolment page shows an otpauth:// URI', `at ${page.url()}`)) return undefined;
  const uri = new URL(m[0].replace(/&amp;/g, '&'));
  const secret = uri.searchParams.get('secret') || '';
  if (full) {
    t.ok(/^[A-Z2-7]{32,}$/.test(secret), 'the secret is base32 of at least 160 bits', secret.length);
    t.ok(decodeURIComponent(uri.pathname).includes(opt.user), 'the URI names the user', uri.pathname);
    t.ok(await page.locator('img[src^="data:image/svg+xml"], svg').count() >= 1, 'the page has a QR code (SVG)');
  }
  const form = page.locator('form:has(input:not([type="hidden"]))').filter({
    has: page.locator('input[name="code"], input[name="otp"], input[name="totp"], input[inputmode="numeric"], input[autocomplete="one-time-code"]'),
  }).first();
  if (!t.ok(await form.count() === 1, 'the page has a form for the code')) return undefined;
  return {
    secret, form,
    input: form.locator('input:not([type="hidden"]):not([type="submit"])').first(),
    algo: (uri.searchParams.get('algorithm') || 'SHA1').toLowerCase(),
    digits: Number(uri.searchParams.get('digits') || 6),
    period: Number(uri.searchParams.get('period') || 30),
  };
}

async function main() {
  browser = await launch();
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  // Our pages only (the provider's dev pages try to load outside fonts).
  page.on('console', (m) => {
    if (m.type() === 'error' && onSite()) consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => { if (onSite()) consoleErrors.push(`${page.url()}: ${e.message}`); });

  // 1. Anonymous: / sends the browser to the provider.
  await page.goto(new URL('/', base).href, { waitUntil: 'load' });
  if (!t.ok(onProvider(), 'GET / takes an anonymous browser to the identity provider', `at ${page.url()}`)) return;

  // 2. The provider's dev login form, then its consent form.
  const login = page.locator('input[name="login"]');
  if (!t.ok(await login.count() === 1, 'the provider shows its login form')) return;
  await login.fill(opt.user);
  await page.locator('input[name="password"]').fill(opt.password);
  await submitAndWait(page.locator('form:has(input[name="login"])').locator(SUBMIT).first());
  for (let i = 0; i < 3 && onProvider(); i++) {
    const consent = page.locator('form:has(input[name="prompt"][value="consent"])').locator(SUBMIT).first();
    if (await consent.count() !== 1) break;
    await submitAndWait(consent);
  }
  if (!t.ok(onSite(), 'signed in and consented: back at spiderpig', `at ${page.url()}`)) return;

  // 3. The second factor: enrolment shows the otpauth URI.
  await page.waitForURL((u) => u.pathname === '/totp', { timeout: 15000 }).catch(() => {});
  if (!t.is(new URL(page.url()).pathname, '/totp', 'the callback leads to /totp')) return;
  let e = await readEnrolment(true);
  if (!e) return;

  // A wrong code first (none of the codes valid now): refused, no way on.
  const valid = new Set([-1, 0, 1].map((k) => totp(e.secret, {
    algorithm: e.algo, digits: e.digits, step: e.period, time: Date.now() / 1000 + k * e.period,
  })));
  let wrong = '000000';
  while (valid.has(wrong)) wrong = String((Number(wrong) + 111111) % 1000000).padStart(6, '0');
  await e.input.fill(wrong);
  const answer = page.waitForResponse((r) => r.request().method() === 'POST'
    && new URL(r.url()).pathname === '/totp', { timeout: 15000 });
  await submitAndWait(e.form.locator(SUBMIT).first());
  const status = (await answer).status();
  const body = await page.locator('body').innerText();
  t.ok(status === 401 && /wrong/i.test(body) && new URL(page.url()).pathname === '/totp',
    'a wrong code is refused (401, "wrong code", still at /totp)', `${status} at ${page.url()}: ${body.slice(0, 200)}`);

  // The refusal is the enrolment page again, with the same secret (what
  // the app holds does not change while the user retries), the key as text
  // for typing by hand, and the problem next to the input.
  const first = e.secret;
  e = await readEnrolment(false);
  if (!e) return;
  t.is(e.secret, first, 'the secret stays the same after a wrong code');
  t.ok((await page.locator('code.secret').innerText()).replace(/\s/g, '') === first,
    'the key is shown as text for manual entry');
  t.ok(await page.locator('input[name="code"][aria-invalid="true"]').count() === 1,
    'the wrong code is marked next to its input');
  // And again after a reload of /totp.
  await page.goto(new URL('/totp?return_to=/', base).href, { waitUntil: 'load' });
  e = await readEnrolment(false);
  if (!e) return;
  t.is(e.secret, first, 'and after going back to /totp');
  // Not in the last seconds of a step: the code must still be current when
  // the server checks it.
  const left = e.period - ((Date.now() / 1000) % e.period);
  if (left < 3) await page.waitForTimeout((left + 0.5) * 1000);
  await e.input.fill(totp(e.secret, { algorithm: e.algo, digits: e.digits, step: e.period }));
  await submitAndWait(e.form.locator(SUBMIT).first());
  if (!t.is(new URL(page.url()).pathname, '/', 'a correct code leads to the dashboard')) return;
  const cookies = await context.cookies(base.href);
  const sess = cookies.find((c) => c.name === '__Host-spiderpig_session');
  t.ok(sess && sess.secure && sess.httpOnly && sess.sameSite === 'Strict' && sess.path === '/',
    'the AAL2 session cookie is __Host-, Secure, HttpOnly, SameSite=Strict', JSON.stringify(sess));
  t.ok(!cookies.some((c) => c.name === '__Host-spiderpig_login'), 'the login binding cookie is gone',
    JSON.stringify(cookies.map((c) => c.name)));

  // 4. Deploy a patch from the dashboard form.
  const deploy = page.locator('form[action$="/ui/deployments"]').first();
  if (!t.ok(await deploy.count() === 1, 'the dashboard has the deploy form')) return;
  const field = deploy.locator('input[type="text"], input:not([type]), textarea').first();
  await field.fill(opt.patch);
  await submitAndWait(deploy.locator(SUBMIT).first());
  t.ok(onSite(), 'the deploy form posts back to spiderpig', `at ${page.url()}`);
  if (new URL(page.url()).pathname !== '/') await page.goto(new URL('/', base).href, { waitUntil: 'load' });
  const text = await page.locator('body').innerText();
  if (!t.ok(text.includes(opt.patch), `the dashboard lists patch ${opt.patch}`)) return;
  if (opt.position !== null) {
    // The queue table: Position, ID, State, Requester, Patches.
    const rows = page.locator('tr').filter({ hasText: opt.patch });
    const cells = [];
    for (let i = 0; i < await rows.count(); i++) {
      cells.push((await rows.nth(i).locator('td').allInnerTexts()).map((c) => c.trim()));
    }
    t.ok(cells.some((c) => c[0] === String(opt.position) && c.includes(opt.user)),
      `its queue row shows position ${opt.position} and requester ${opt.user}`, JSON.stringify(cells));
  }
  if (consoleErrors.length) t.diag(`browser console errors:\n${consoleErrors.join('\n')}`);
}

main()
  .catch((e) => t.ok(false, `no exception in the browser run`, e.stack || String(e)))
  .then(async () => {
    if (t.failed) await failureArtifacts('failed');
    clearTimeout(watchdog);
    if (browser) await browser.close().catch(() => {});
    process.exitCode = t.done() ? 1 : 0;
  });
