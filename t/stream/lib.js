// lib.js: what the stream tests' clients share: connect through nginx with
// an API token and an Origin, read JSON frames, print one JSON result.
'use strict';
const WebSocket = require('ws');

// Options from argv[2] (JSON): url, token, origin, and per script more.
function options() {
  return JSON.parse(process.argv[2] || '{}');
}

// Open one socket; resolves with it once open, rejects with the HTTP
// status of a refused handshake ({status}) or the error.
function connect(o, extra = {}) {
  const headers = Object.assign({}, o.headers || {}, extra.headers || {});
  if (o.token) headers.Authorization = 'Bearer ' + o.token;
  const opts = { headers, rejectUnauthorized: false, perMessageDeflate: false };
  if (o.origin !== undefined && o.origin !== null) opts.origin = o.origin;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(o.url, opts);
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => reject({ status: res.statusCode, body }));
    });
    ws.on('error', (e) => reject({ error: String(e) }));
  });
}

// Call fn(msg) for each JSON frame of ws.
function onMessage(ws, fn) {
  ws.on('message', (data) => fn(JSON.parse(data.toString())));
}

// Wait until pred() or ms pass; resolves with pred()'s last value.
function until(pred, ms) {
  return new Promise((resolve) => {
    const end = Date.now() + ms;
    const tick = () => {
      const v = pred();
      if (v || Date.now() > end) return resolve(v);
      setTimeout(tick, 5);
    };
    tick();
  });
}

// Run up to n promises from makers at once.
async function pool(makers, n) {
  const out = new Array(makers.length);
  let next = 0;
  async function worker() {
    while (next < makers.length) {
      const i = next++;
      out[i] = await makers[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, makers.length) }, worker));
  return out;
}

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

// The seq each line (or placeholder) of a "lines" frame accounts for.
function seqsOf(msg) {
  const out = [];
  for (const l of msg.lines) {
    const last = l.last_seq || l.seq;
    for (let s = l.seq; s <= last; s++) out.push(s);
  }
  return out;
}

module.exports = { options, connect, onMessage, until, pool, done, seqsOf };
