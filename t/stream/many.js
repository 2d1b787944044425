// many.js OPTIONS: open options.clients sockets (options.concurrency
// handshakes at a time), each watching options.deployment from
// options.after; print READY once all are subscribed, then wait until every
// socket has a "lines" frame reaching options.seq (or options.ms pass).
// Prints {"opened", "subscribed", "received", "refused": [...],
// "ms": [per socket: ms from the line's commit (stdin "GO <epoch ms>")]}.
'use strict';
const readline = require('readline');
const { options, connect, onMessage, until, pool, done } = require('./lib');

(async () => {
  const o = options();
  const n = o.clients;
  const state = Array.from({ length: n }, () => ({ sub: false, got: null }));
  const refused = [];
  let go = null;
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    const m = /^GO (\d+(?:\.\d+)?)$/.exec(l);
    if (m) go = Number(m[1]);
  });
  const makers = state.map((st) => async () => {
    let ws;
    try {
      ws = await connect(o);
    } catch (e) {
      refused.push(e);
      return null;
    }
    onMessage(ws, (m) => {
      if (m.type === 'deployment') st.sub = true;
      if (m.type === 'lines' && m.last_seq >= o.seq && st.got === null)
        st.got = Date.now();
    });
    ws.send(JSON.stringify({ type: 'subscribe', deployment: o.deployment,
      after: o.after || 0 }));
    return ws;
  });
  const sockets = await pool(makers, o.concurrency || 50);
  const opened = sockets.filter((w) => w).length;
  await until(() => state.every((st, i) => !sockets[i] || st.sub), 20000);
  process.stdout.write('READY\n');
  await until(() => state.every((st, i) => !sockets[i] || st.got !== null),
    o.ms || 20000);
  const ms = state.filter((st) => st.got !== null && go !== null)
    .map((st) => st.got - go);
  for (const w of sockets) if (w) w.terminate();
  done({ opened, subscribed: state.filter((st) => st.sub).length,
    received: state.filter((st) => st.got !== null).length,
    refused: refused.slice(0, 5), nrefused: refused.length, ms });
})();
