// bench.js OPTIONS: options.clients sockets watching options.deployment
// from options.after (concurrency 50 handshakes). Prints READY once all are
// subscribed; records when each socket receives each seq; on stdin
// "COMMIT <seq> <epoch ms>" lines, then "END", waits (up to options.ms) for
// every socket to reach the last seq and prints {"clients", "ms": [every
// (socket, seq) latency from commit to receipt], "missing"}.
'use strict';
const readline = require('readline');
const { options, connect, onMessage, until, pool, done, seqsOf } = require('./lib');

(async () => {
  const o = options();
  const commits = new Map();
  let end = false, lastSeq = 0;
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    const m = /^COMMIT (\d+) (\d+(?:\.\d+)?)$/.exec(l);
    if (m) { commits.set(Number(m[1]), Number(m[2])); lastSeq = Math.max(lastSeq, Number(m[1])); }
    if (l === 'END') end = true;
  });
  const socks = Array.from({ length: o.clients }, () => ({ sub: false, got: new Map(), last: 0 }));
  const sockets = await pool(socks.map((st) => async () => {
    const ws = await connect(o);
    onMessage(ws, (m) => {
      if (m.type === 'deployment') st.sub = true;
      if (m.type !== 'lines') return;
      const now = Date.now();
      for (const s of seqsOf(m)) st.got.set(s, now);
      st.last = m.last_seq;
    });
    ws.send(JSON.stringify({ type: 'subscribe', deployment: o.deployment, after: o.after || 0 }));
    return ws;
  }), 50);
  await until(() => socks.every((st) => st.sub), 30000);
  process.stdout.write('READY\n');
  await until(() => end, 600000);
  await until(() => socks.every((st) => st.last >= lastSeq), o.ms || 30000);
  const ms = [];
  let missing = 0;
  for (const st of socks) {
    for (const [seq, t] of commits) {
      if (st.got.has(seq)) ms.push(st.got.get(seq) - t);
      else missing++;
    }
  }
  for (const ws of sockets) ws.terminate();
  done({ clients: sockets.length, ms, missing });
})();
