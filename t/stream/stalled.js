// stalled.js OPTIONS: options.clients readers and one socket that stops
// reading (ws.pause(): its socket stops reading) right after subscribing, all watching
// options.deployment from options.after. Prints READY, then waits until
// every reader has a "lines" frame reaching options.total (prints
// READERS_DONE), and for RESUME on stdin; then reads again on the stalled
// socket and waits for its close. Prints {"readers_done",
// "readers_ms" (from stdin "GO"), "stalled": {"code", "reason", "last"}}.
'use strict';
const readline = require('readline');
const { options, connect, onMessage, until, done } = require('./lib');

(async () => {
  const o = options();
  let go = null, resume = false;
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    if (l === 'GO') go = Date.now();
    if (l === 'RESUME') resume = true;
  });
  const sub = JSON.stringify({ type: 'subscribe', deployment: o.deployment,
    after: o.after || 0 });

  const readers = [];
  for (let i = 0; i < o.clients; i++) {
    const r = { last: 0, doneAt: null, subscribed: false };
    r.ws = await connect(o);
    onMessage(r.ws, (m) => {
      if (m.type === 'deployment') r.subscribed = true;
      if (m.type !== 'lines') return;
      r.last = m.last_seq;
      if (r.last >= o.total && r.doneAt === null) r.doneAt = Date.now();
    });
    r.ws.send(sub);
    readers.push(r);
  }

  const st = { last: 0, code: null, reason: null, subscribed: false };
  const ws = await connect(o);
  onMessage(ws, (m) => {
    if (m.type === 'deployment') {
      st.subscribed = true;
      ws.pause();                 // reads nothing more until resumed
    }
    if (m.type === 'lines') st.last = m.last_seq;
  });
  ws.on('close', (code, reason) => {
    st.code = code;
    st.reason = reason.toString();
  });
  ws.send(sub);
  await until(() => st.subscribed && readers.every((r) => r.subscribed), 10000);
  process.stdout.write('READY\n');

  await until(() => readers.every((r) => r.doneAt !== null), o.ms || 30000);
  process.stdout.write('READERS_DONE\n');
  await until(() => resume, o.ms || 30000);
  const lastBeforeResume = st.last;
  ws.resume();
  await until(() => st.code !== null, 10000);
  for (const r of readers) r.ws.terminate();
  done({
    readers_done: readers.filter((r) => r.doneAt !== null).length,
    readers_ms: readers.map((r) => (r.doneAt !== null && go !== null ? r.doneAt - go : null)),
    stalled: { code: st.code, reason: st.reason, last: st.last,
      last_before_resume: lastBeforeResume },
  });
})();
