#!/usr/bin/env node
// server.js: a deliberately BAD OpenID Provider for spiderpig's login tests.
//
// It speaks the authorization code flow well enough for the relying party
// (cgi/login.c + lib/oidc_login.c + lib/oidc_jwt.c) to get all the way to ID token verification,
// then hands it an ID token that is wrong in exactly one way, chosen by the
// current MODE. Node built-ins only (http, crypto); loopback only.
//
//   BADIDP_CLIENT_SECRET=s3cret node t/badidp/server.js [PORT]
//
// PORT: argument, else $BADIDP_PORT, else 0 (any free port). The issuer is
// http://127.0.0.1:PORT; once listening it prints "READY <issuer>" on stdout.
// Environment: BADIDP_CLIENT_ID (spiderpig), BADIDP_CLIENT_SECRET (required),
// BADIDP_MODE (good), BADIDP_MAX_LIFETIME (seconds, 600; 0 = no cap).
// Every request is logged to stderr.
//
// Endpoints for the relying party:
//   GET  /.well-known/openid-configuration   (iss parameter flag, S256 only)
//   GET  /jwks                                (counted)
//   GET  /authorize   302 straight back to redirect_uri with code, state, iss;
//                     remembers the nonce and the PKCE challenge
//   POST /token       client_secret_basic (or _post), single-use code, exact
//                     redirect_uri, PKCE S256 verifier; then an ID token
//                     built according to the mode
// Endpoints for the test (not part of OIDC):
//   POST /mode  {"mode": M, "username": U?, "sub": S?, "groups": ANY?,
//               "jwks_max_age": N?}  -> stats
//               (username, sub and groups stay until changed again; sub
//               defaults to "sub-" + username, and "sub": null goes back
//               to that; jwks_max_age N >= 0 makes /jwks answer
//               "Cache-Control: max-age=N" instead of no-store, null
//               goes back to no-store)
//               mode "rotate" generates a new RSA key (new kid) that signs
//               from now on; the JWKS then lists the new and the old key.
//   GET  /stats -> {mode, hits: {path: n}, jwks_ms_ago, tokens_issued,
//                   last_kid, kids}
//
// Modes (each token is otherwise correct):
//   good              RS256, correct claims, groups [deployers]
//   rotate            like good, after switching to a new key (see above)
//   alg_none          unsigned ("alg":"none", empty signature)
//   hs256_pubkey      HS256 with the RSA public key PEM as the HMAC secret
//   wrong_iss         iss is another issuer
//   wrong_aud         aud is another client
//   multi_aud_no_azp  aud [us, other] without azp
//   wrong_azp         aud [us, other] with azp = other
//   expired           exp 10 minutes ago
//   iat_future        iat 10 minutes ahead
//   nbf_future        nbf 10 minutes ahead
//   bad_nonce         nonce is not the one the RP sent
//   unknown_kid       RS256 by a key whose kid is in no JWKS this server served
//   bad_signature     signed good token with the payload swapped afterwards
//                     (preferred_username mallory, groups [sre-admins])
//   wrong_iss_param   good token, but the callback's iss parameter is another
//                     issuer (RFC 9207): the RP must stop before /token
//   no_iss_param      good token, callback without iss although advertised
//   es256_with_rsa_kid  ES256 signed by the EC key in the JWKS, but the header
//                     names the RSA key's kid (kty mismatch)
//   token_error       not a bad token but a provider hiccup: /token answers
//                     500 (server_error); the next good login must still work
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

const MODES = new Set([
  'good', 'rotate', 'alg_none', 'hs256_pubkey', 'wrong_iss', 'wrong_aud',
  'multi_aud_no_azp', 'wrong_azp', 'expired', 'iat_future', 'nbf_future',
  'bad_nonce', 'unknown_kid', 'bad_signature', 'wrong_iss_param',
  'no_iss_param', 'es256_with_rsa_kid', 'token_error',
]);

const port = Number(process.argv[2] ?? process.env.BADIDP_PORT ?? 0);
const clientId = process.env.BADIDP_CLIENT_ID || 'spiderpig';
const clientSecret = process.env.BADIDP_CLIENT_SECRET;
let mode = process.env.BADIDP_MODE || 'good';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('badidp: bad port');
  process.exit(2);
}
if (!clientSecret) {
  console.error('badidp: set BADIDP_CLIENT_SECRET');
  process.exit(2);
}
if (!MODES.has(mode)) {
  console.error(`badidp: unknown mode ${mode}`);
  process.exit(2);
}

let identity = { username: 'alice', sub: null, groups: ['deployers'] };
let jwksMaxAge = null;

// ---- keys ----------------------------------------------------------------

let nkey = 0;
function rsaKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: `bad-rsa-${++nkey}-${crypto.randomBytes(4).toString('hex')}`, privateKey, publicKey };
}
let current = rsaKey();           // signs RS256 tokens
let previous = null;              // kept in the JWKS after a rotation
const ec = (() => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: 'bad-ec-1', privateKey, publicKey };
})();
// Never published: signs the unknown_kid tokens.
const stray = rsaKey();
stray.kid = `stray-${crypto.randomBytes(6).toString('hex')}`;

function jwk(k, alg) {
  return { ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg, use: 'sig' };
}
function jwks() {
  const keys = [jwk(current, 'RS256')];
  if (previous) keys.push(jwk(previous, 'RS256'));
  keys.push(jwk(ec, 'ES256'));
  return { keys };
}

// ---- JWT -----------------------------------------------------------------

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const enc = (obj) => b64u(JSON.stringify(obj));

function sign(header, payload, how) {
  const input = `${enc(header)}.${enc(payload)}`;
  let sig;
  switch (how.type) {
    case 'none': sig = Buffer.alloc(0); break;
    case 'rs256': sig = crypto.sign('sha256', Buffer.from(input), how.key); break;
    case 'es256':
      sig = crypto.sign('sha256', Buffer.from(input), { key: how.key, dsaEncoding: 'ieee-p1363' });
      break;
    case 'hs256': sig = crypto.createHmac('sha256', how.secret).update(input).digest(); break;
    default: throw new Error(`sign: ${how.type}`);
  }
  return `${input}.${b64u(sig)}`;
}

let lastKid = null;

function idToken(grant) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer,
    sub: identity.sub ?? `sub-${identity.username}`,
    aud: clientId,
    exp: now + 300,
    iat: now,
    auth_time: now,
    nonce: grant.nonce,
    preferred_username: identity.username,
    groups: identity.groups,
  };
  let header = { alg: 'RS256', typ: 'JWT', kid: current.kid };
  let how = { type: 'rs256', key: current.privateKey };
  switch (grant.mode) {
    case 'good': case 'rotate': case 'wrong_iss_param': case 'no_iss_param':
      break;
    case 'alg_none':
      header = { alg: 'none', typ: 'JWT' };
      how = { type: 'none' };
      break;
    case 'hs256_pubkey':
      header = { alg: 'HS256', typ: 'JWT', kid: current.kid };
      how = { type: 'hs256', secret: current.publicKey.export({ type: 'spki', format: 'pem' }) };
      break;
    case 'wrong_iss': claims.iss = `http://127.0.0.1:1/not-${issuer.replace(/\W+/g, '-')}`; break;
    case 'wrong_aud': claims.aud = 'someone-else'; break;
    case 'multi_aud_no_azp': claims.aud = [clientId, 'someone-else']; break;
    case 'wrong_azp': claims.aud = [clientId, 'someone-else']; claims.azp = 'someone-else'; break;
    case 'expired': claims.iat = now - 1200; claims.auth_time = now - 1200; claims.exp = now - 600; break;
    case 'iat_future': claims.iat = now + 600; claims.exp = now + 900; break;
    case 'nbf_future': claims.nbf = now + 600; break;
    case 'bad_nonce': claims.nonce = b64u(crypto.randomBytes(32)); break;
    case 'unknown_kid':
      header = { alg: 'RS256', typ: 'JWT', kid: stray.kid };
      how = { type: 'rs256', key: stray.privateKey };
      break;
    case 'es256_with_rsa_kid':
      header = { alg: 'ES256', typ: 'JWT', kid: current.kid };
      how = { type: 'es256', key: ec.privateKey };
      break;
    case 'bad_signature': {
      const good = sign(header, claims, how).split('.');
      const forged = { ...claims, preferred_username: 'mallory', sub: 'sub-mallory', groups: ['sre-admins'] };
      lastKid = header.kid;
      return `${good[0]}.${enc(forged)}.${good[2]}`;
    }
    default: throw new Error(`mode ${grant.mode}`);
  }
  lastKid = header.kid ?? null;
  return sign(header, claims, how);
}

// ---- state -----------------------------------------------------------------

const grants = new Map();    // code -> {client_id, redirect_uri, nonce, challenge, expires}
const hits = {};
let lastJwksAt = 0;
let tokensIssued = 0;
let issuer;

function stats() {
  return {
    mode, hits, tokens_issued: tokensIssued, last_kid: lastKid,
    jwks_ms_ago: lastJwksAt ? Date.now() - lastJwksAt : null,
    kids: jwks().keys.map((k) => k.kid), stray_kid: stray.kid,
  };
}

// ---- HTTP ------------------------------------------------------------------

function send(res, status, body, headers = {}) {
  const isJson = typeof body !== 'string';
  const data = isJson ? JSON.stringify(body) : body;
  res.writeHead(status, {
    'Content-Type': isJson ? 'application/json' : 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

function oauthError(res, status, error, description, headers) {
  send(res, status, { error, error_description: description }, headers);
}

function readBody(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > limit) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function formDecode(s) {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

function discovery() {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'preferred_username', 'groups'],
    authorization_response_iss_parameter_supported: true,
  };
}

function authorize(req, res, url) {
  const q = url.searchParams;
  const need = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce',
    'code_challenge', 'code_challenge_method'];
  for (const p of need) {
    if (!q.get(p)) return send(res, 400, `authorize: missing ${p}\n`);
  }
  if (q.get('client_id') !== clientId) return send(res, 400, 'authorize: unknown client_id\n');
  if (q.get('response_type') !== 'code') return send(res, 400, 'authorize: response_type must be code\n');
  if (!q.get('scope').split(' ').includes('openid')) return send(res, 400, 'authorize: scope lacks openid\n');
  if (q.get('code_challenge_method') !== 'S256') return send(res, 400, 'authorize: PKCE must be S256\n');
  if (!/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge'))) return send(res, 400, 'authorize: bad code_challenge\n');
  let back;
  try {
    back = new URL(q.get('redirect_uri'));
  } catch {
    return send(res, 400, 'authorize: bad redirect_uri\n');
  }
  const code = b64u(crypto.randomBytes(32));
  grants.set(code, {
    redirect_uri: q.get('redirect_uri'), nonce: q.get('nonce'),
    challenge: q.get('code_challenge'), expires: Date.now() + 60000,
  });
  back.searchParams.set('code', code);
  back.searchParams.set('state', q.get('state'));
  if (mode === 'wrong_iss_param') back.searchParams.set('iss', 'http://127.0.0.1:1/evil');
  else if (mode !== 'no_iss_param') back.searchParams.set('iss', issuer);
  res.writeHead(302, { Location: back.toString(), 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

async function token(req, res) {
  const raw = await readBody(req);
  if (mode === 'token_error') return oauthError(res, 500, 'server_error', 'the provider had a hiccup');
  const form = new URLSearchParams(raw);
  // Client authentication: client_secret_basic (both parts form-encoded,
  // RFC 6749 2.3.1) or client_secret_post.
  let id = null, secret = null;
  const auth = req.headers.authorization || '';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth);
  if (m) {
    const dec = Buffer.from(m[1], 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i >= 0) {
      try {
        id = formDecode(dec.slice(0, i));
        secret = formDecode(dec.slice(i + 1));
      } catch { /* stays null */ }
    }
  } else if (form.get('client_secret') !== null) {
    id = form.get('client_id');
    secret = form.get('client_secret');
  }
  const same = (a, b) => a !== null && Buffer.byteLength(a) === Buffer.byteLength(b)
    && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));
  if (!same(id, clientId) || !same(secret, clientSecret)) {
    return oauthError(res, 401, 'invalid_client', 'client authentication failed',
      { 'WWW-Authenticate': 'Basic realm="badidp"' });
  }
  if (form.get('grant_type') !== 'authorization_code') {
    return oauthError(res, 400, 'unsupported_grant_type', 'only authorization_code');
  }
  const code = form.get('code') || '';
  const g = grants.get(code);
  grants.delete(code);        // single use, even when the rest fails
  if (!g || g.expires < Date.now()) return oauthError(res, 400, 'invalid_grant', 'unknown, used or expired code');
  if (form.get('redirect_uri') !== g.redirect_uri) return oauthError(res, 400, 'invalid_grant', 'redirect_uri mismatch');
  const verifier = form.get('code_verifier') || '';
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return oauthError(res, 400, 'invalid_grant', 'bad code_verifier');
  const challenge = b64u(crypto.createHash('sha256').update(verifier).digest());
  if (challenge !== g.challenge) return oauthError(res, 400, 'invalid_grant', 'PKCE verification failed');
  const idt = idToken({ ...g, mode });
  tokensIssued++;
  return send(res, 200, {
    access_token: b64u(crypto.randomBytes(32)), token_type: 'Bearer', expires_in: 300,
    id_token: idt, scope: 'openid',
  });
}

async function control(req, res) {
  let body;
  try {
    body = JSON.parse(await readBody(req) || '{}');
  } catch {
    return send(res, 400, { error: 'bad JSON' });
  }
  if (!MODES.has(body.mode)) return send(res, 400, { error: `unknown mode ${body.mode}` });
  if (body.mode === 'rotate') {
    previous = current;
    current = rsaKey();
  }
  mode = body.mode;
  if (typeof body.username === 'string') identity.username = body.username;
  if (typeof body.sub === 'string' || body.sub === null) identity.sub = body.sub;
  if (Number.isInteger(body.jwks_max_age) || body.jwks_max_age === null) jwksMaxAge = body.jwks_max_age;
  // Any JSON, so that a test can also send a groups claim of the wrong type.
  if (body.groups !== undefined) identity.groups = body.groups;
  console.error(`badidp: mode ${mode}${mode === 'rotate' ? ` (new kid ${current.kid})` : ''}`);
  return send(res, 200, stats());
}

async function handle(req, res) {
  const url = new URL(req.url, issuer);
  const route = `${req.method} ${url.pathname}`;
  hits[url.pathname] = (hits[url.pathname] || 0) + 1;
  switch (route) {
    case 'GET /.well-known/openid-configuration': return send(res, 200, discovery());
    case 'GET /jwks':
      lastJwksAt = Date.now();
      return send(res, 200, jwks(), jwksMaxAge === null ? {} : { 'Cache-Control': `max-age=${jwksMaxAge}` });
    case 'GET /authorize': return authorize(req, res, url);
    case 'POST /token': return token(req, res);
    case 'POST /mode': return control(req, res);
    case 'GET /stats': return send(res, 200, stats());
    default: return send(res, 404, 'not found\n');
  }
}

const server = http.createServer((req, res) => {
  const t0 = Date.now();
  res.on('close', () => {
    const st = res.writableFinished ? res.statusCode : `${res.statusCode} (aborted)`;
    console.error(`${new Date().toISOString()} badidp ${req.method} ${req.url.split('?')[0]} `
      + `-> ${st} (${Date.now() - t0} ms, mode ${mode})`);
  });
  handle(req, res).catch((e) => {
    console.error(`badidp: ${e.stack || e}`);
    if (!res.headersSent) send(res, 500, 'internal error\n');
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`READY ${issuer}\n`);
});

// In-memory only, so stop at once; a lifetime cap keeps an orphan from
// outliving its test run.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(0));
const lifetime = Number(process.env.BADIDP_MAX_LIFETIME ?? 600);
if (lifetime > 0) setTimeout(() => process.exit(0), lifetime * 1000).unref();
