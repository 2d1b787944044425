#!/usr/bin/env node
// selftest.js: checks the bad provider itself, with no spiderpig involved,
// and prints TAP. Every mode must yield a token that is wrong in exactly the
// one way the mode names (checked by an independent verifier here), so that
// when t/620 sees the relying party refuse a token, the refusal can only be
// for that reason. Also: the provider's own checks (client auth, PKCE,
// single-use code, exact redirect_uri) work like a real provider's.
//
//   node t/badidp/selftest.js
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const path = require('node:path');

let n = 0, failed = 0;
function ok(cond, name, diag) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && diag !== undefined) console.log(`# ${String(diag).replace(/\n/g, '\n# ')}`);
  return cond;
}
const isDeep = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const b64u = (b) => Buffer.from(b).toString('base64url');

const SECRET = `selftest-${crypto.randomBytes(8).toString('hex')}`;
const REDIRECT = 'https://127.0.0.1:9/login/callback';

async function startServer() {
  const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), '0'], {
    env: { ...process.env, BADIDP_CLIENT_SECRET: SECRET, BADIDP_MAX_LIFETIME: '60' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const issuer = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no READY in 10 s')), 10000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^READY (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.on('exit', (c) => { clearTimeout(t); reject(new Error(`exited ${c}`)); });
  });
  return { child, issuer, log: () => log };
}

async function fetchT(url, opts = {}) {
  return fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10000), ...opts });
}

// One round trip as a relying party would do it. Returns the callback
// parameters and the token response (parsed).
async function round(issuer, disc, { secret = SECRET, verifierOverride, redirectOverride, reuse } = {}) {
  const verifier = b64u(crypto.randomBytes(32));
  const challenge = b64u(crypto.createHash('sha256').update(verifier).digest());
  const state = b64u(crypto.randomBytes(32));
  const nonce = b64u(crypto.randomBytes(32));
  const u = new URL(disc.authorization_endpoint);
  Object.entries({
    response_type: 'code', client_id: 'spiderpig', redirect_uri: REDIRECT, scope: 'openid',
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256',
  }).forEach(([k, v]) => u.searchParams.set(k, v));
  const r = await fetchT(u);
  const loc = new URL(r.headers.get('location'));
  const cb = { status: r.status, base: `${loc.origin}${loc.pathname}`, code: loc.searchParams.get('code'),
    state: loc.searchParams.get('state'), iss: loc.searchParams.get('iss') };
  const form = new URLSearchParams({
    grant_type: 'authorization_code', code: cb.code,
    redirect_uri: redirectOverride ?? REDIRECT, code_verifier: verifierOverride ?? verifier,
  });
  const basic = Buffer.from(`${encodeURIComponent('spiderpig')}:${encodeURIComponent(secret)}`).toString('base64');
  const post = () => fetchT(disc.token_endpoint, {
    method: 'POST', body: form.toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` },
  });
  const t = await post();
  const tok = { status: t.status, json: await t.json() };
  let again;
  if (reuse) { const t2 = await post(); again = { status: t2.status, json: await t2.json() }; }
  return { cb, tok, state, nonce, again };
}

// An independent ID token check: the list of everything wrong with it.
function problems(jwt, jwks, { issuer, nonce }) {
  const out = [];
  const parts = jwt.split('.');
  if (parts.length !== 3) return ['malformed'];
  const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
  const p = JSON.parse(Buffer.from(parts[1], 'base64url'));
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const want = { RS256: 'RSA', ES256: 'EC' }[header.alg];
  if (!want) {
    out.push('alg');
  } else {
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    if (!jwk) out.push('kid');
    else if (jwk.kty !== want) out.push('kty');
    else {
      const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
      const good = header.alg === 'RS256'
        ? crypto.verify('sha256', input, key, sig)
        : crypto.verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig);
      if (!good) out.push('signature');
    }
  }
  const now = Math.floor(Date.now() / 1000);
  if (p.iss !== issuer) out.push('iss');
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!aud.includes('spiderpig')) out.push('aud');
  if ((aud.length > 1 && p.azp === undefined) || (p.azp !== undefined && p.azp !== 'spiderpig')) out.push('azp');
  if (typeof p.exp !== 'number' || p.exp < now - 120) out.push('exp');
  if (typeof p.iat !== 'number' || p.iat > now + 120) out.push('iat');
  if (p.nbf !== undefined && p.nbf > now + 120) out.push('nbf');
  if (p.nonce !== nonce) out.push('nonce');
  if (!p.sub || p.preferred_username !== 'alice' || !isDeep(p.groups, ['deployers'])) {
    if (!out.includes('signature')) out.push('claims');
  }
  return out;
}

const EXPECT = {
  good: [], rotate: [], wrong_iss_param: [], no_iss_param: [],
  alg_none: ['alg'], hs256_pubkey: ['alg'], wrong_iss: ['iss'], wrong_aud: ['aud'],
  multi_aud_no_azp: ['azp'], wrong_azp: ['azp'], expired: ['exp'], iat_future: ['iat'],
  nbf_future: ['nbf'], bad_nonce: ['nonce'], unknown_kid: ['kid'], bad_signature: ['signature'],
  es256_with_rsa_kid: ['kty'],
};

async function main() {
  const srv = await startServer();
  const { issuer } = srv;
  try {
    const ctl = async (body) => (await fetchT(`${issuer}/mode`, {
      method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
    })).json();
    const stats = async () => (await fetchT(`${issuer}/stats`)).json();
    const disc = await (await fetchT(`${issuer}/.well-known/openid-configuration`)).json();
    ok(disc.issuer === issuer, 'discovery issuer is the server URL');
    ok(disc.authorization_response_iss_parameter_supported === true, 'advertises RFC 9207 iss');
    ok(isDeep(disc.code_challenge_methods_supported, ['S256']), 'PKCE S256 only');

    // The provider's own checks.
    let r = await round(issuer, disc, { secret: 'wrong' });
    ok(r.tok.status === 401 && r.tok.json.error === 'invalid_client', 'wrong client secret: 401 invalid_client');
    r = await round(issuer, disc, { verifierOverride: b64u(crypto.randomBytes(32)) });
    ok(r.tok.status === 400 && /PKCE/.test(r.tok.json.error_description), 'wrong PKCE verifier: 400');
    r = await round(issuer, disc, { redirectOverride: 'https://127.0.0.1:9/other' });
    ok(r.tok.status === 400 && /redirect_uri/.test(r.tok.json.error_description), 'other redirect_uri: 400');
    r = await round(issuer, disc, { reuse: true });
    ok(r.tok.status === 200 && r.again.status === 400, 'a code is good once', JSON.stringify(r.again));
    ok(r.cb.status === 302 && r.cb.base === REDIRECT, '/authorize 302s to redirect_uri');

    await ctl({ mode: 'token_error' });
    r = await round(issuer, disc);
    ok(r.tok.status === 500 && r.tok.json.error === 'server_error', 'token_error: /token answers 500 server_error');

    const order = Object.keys(EXPECT).filter((m) => m !== 'rotate').concat(['rotate', 'good']);
    let kidsBefore;
    for (const mode of order) {
      const st = await ctl({ mode });
      if (mode === 'rotate') {
        ok(st.kids.length === kidsBefore.length + 1 && !kidsBefore.includes(st.kids[0])
          && kidsBefore.every((k) => st.kids.includes(k)),
          'rotate: JWKS gains a new first kid and keeps the old ones', JSON.stringify([kidsBefore, st.kids]));
      }
      kidsBefore = st.kids;
      r = await round(issuer, disc);
      const jwks = await (await fetchT(disc.jwks_uri)).json();
      if (!ok(r.tok.status === 200 && typeof r.tok.json.id_token === 'string', `${mode}: token endpoint answers 200 with an id_token`,
        JSON.stringify(r.tok))) continue;
      ok(r.cb.state === r.state, `${mode}: state echoed`);
      const got = problems(r.tok.json.id_token, jwks, { issuer, nonce: r.nonce });
      ok(isDeep(got, EXPECT[mode]), `${mode}: the token is wrong in exactly [${EXPECT[mode]}]`,
        `got [${got}]`);
      const special = { wrong_iss_param: 'http://127.0.0.1:1/evil', no_iss_param: null };
      const wantIss = mode in special ? special[mode] : issuer;
      ok(r.cb.iss === wantIss, `${mode}: callback iss is ${wantIss}`, `got ${r.cb.iss}`);
      const [h] = r.tok.json.id_token.split('.').map((x) => { try { return JSON.parse(Buffer.from(x, 'base64url')); } catch { return null; } });
      if (mode === 'hs256_pubkey') {
        const pem = crypto.createPublicKey({ key: jwks.keys.find((k) => k.kid === h.kid), format: 'jwk' })
          .export({ type: 'spki', format: 'pem' });
        const [a, b, s] = r.tok.json.id_token.split('.');
        ok(crypto.createHmac('sha256', pem).update(`${a}.${b}`).digest('base64url') === s,
          'hs256_pubkey: HMAC key is the published RSA key PEM (the real confusion attack)');
      }
      if (mode === 'es256_with_rsa_kid') {
        const ecJwk = jwks.keys.find((k) => k.kty === 'EC');
        const [a, b, s] = r.tok.json.id_token.split('.');
        ok(h.alg === 'ES256' && jwks.keys.find((k) => k.kid === h.kid).kty === 'RSA'
          && crypto.verify('sha256', Buffer.from(`${a}.${b}`), { key: crypto.createPublicKey({ key: ecJwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')),
          'es256_with_rsa_kid: valid signature by the published EC key, header names the RSA kid');
      }
      if (mode === 'alg_none') ok(r.tok.json.id_token.endsWith('.'), 'alg_none: empty signature');
      if (mode === 'rotate') ok(h.kid === st.kids[0], 'rotate: signed with the new kid');
    }
    const s = await stats();
    ok(s.hits['/jwks'] > 0 && s.tokens_issued > 0, 'stats count /jwks hits and tokens', JSON.stringify(s));
    const bad = await fetchT(`${issuer}/mode`, { method: 'POST', body: '{"mode":"nope"}' });
    ok(bad.status === 400, 'unknown mode refused');
    ok(/badidp GET \/jwks -> 200/.test(srv.log()), 'requests are logged to stderr');
  } finally {
    srv.child.kill('SIGTERM');
  }
  console.log(`1..${n}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.log(`not ok ${++n} - selftest died: ${e.stack || e}`);
  console.log(`1..${n}`);
  process.exit(1);
});
