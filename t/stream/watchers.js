// watchers.js OPTIONS: one socket per options.watchers entry ({name,
// token, reveal}), each subscribing to options.deployment from seq 0.
// Prints READY once each has its deployment or error frame, then collects
// until each one not refused has a "lines" frame reaching options.last_seq
// (or options.ms pass). Prints {"<name>": {"lines": [...], "errors": [...]}}.
'use strict';
const { options, connect, onMessage, until, done } = require('./lib');

(async () => {
  const o = options();
  const out = {};
  const sockets = [];
  for (const w of o.watchers) {
    const st = { lines: [], errors: [], last: 0, answered: false };
    out[w.name] = st;
    const ws = await connect(Object.assign({}, o, { token: w.token }));
    onMessage(ws, (m) => {
      if (m.type === 'error') { st.errors.push(m); st.answered = true; }
      if (m.type === 'deployment') st.answered = true;
      if (m.type !== 'lines') return;
      for (const l of m.lines) st.lines.push(l);
      st.last = m.last_seq;
    });
    ws.send(JSON.stringify({ type: 'subscribe', deployment: o.deployment,
      after: 0, reveal: !!w.reveal }));
    sockets.push(ws);
  }
  await until(() => Object.values(out).every((st) => st.answered), 10000);
  process.stdout.write('READY\n');
  await until(() => Object.values(out).every((st) =>
    st.errors.length > 0 || st.last >= o.last_seq), o.ms || 10000);
  for (const ws of sockets) ws.terminate();
  for (const st of Object.values(out)) { delete st.answered; }
  done(out);
})();
