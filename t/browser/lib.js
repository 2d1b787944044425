// lib.js: shared pieces of the browser tests: TAP output, Debian's
// Chromium through playwright-core (never a downloaded browser), and TOTP.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');

const CHROMIUM = process.env.SP_CHROMIUM || '/usr/bin/chromium';

// Flags for this machine's closed network (doc: .library/env/machines/c.md);
// playwright adds --headless and a fresh temporary --user-data-dir itself.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

function tap() {
  let n = 0, failed = 0;
  const t = {
    ok(cond, name, diag) {
      n++;
      if (!cond) failed++;
      console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
      if (!cond && diag !== undefined) t.diag(diag);
      return !!cond;
    },
    is(got, want, name) {
      return t.ok(got === want, name, `got: ${JSON.stringify(got)}\nwant: ${JSON.stringify(want)}`);
    },
    diag(msg) { console.log(`# ${String(msg).replace(/\n/g, '\n# ')}`); },
    done() { console.log(`1..${n}`); return failed; },
    get failed() { return failed; },
  };
  return t;
}

async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing`);
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000,
  });
}

// RFC 4648 base32 (no padding needed).
function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = s.toUpperCase().replace(/=+$/, '');
  let bits = 0, value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`base32: bad character ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits by default).
function totp(secretBase32, { time = Date.now() / 1000, step = 30, digits = 6, algorithm = 'sha1' } = {}) {
  const counter = Math.floor(time / step);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac(algorithm, base32Decode(secretBase32)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

module.exports = { CHROMIUM, CHROMIUM_ARGS, tap, launch, totp, base32Decode };
