// collect.js OPTIONS: subscribe to options.deployment (after, reveal) and
// print every frame for it until a "lines" frame reaches options.last_seq,
// an error frame arrives or options.ms pass. Prints {"frames": [...]}.
// With options.ready, prints READY once subscribed (the deployment frame).
'use strict';
const { options, connect, onMessage, until, done } = require('./lib');

(async () => {
  const o = options();
  let ws;
  try {
    ws = await connect(o);
  } catch (e) {
    return done(e);
  }
  const frames = [];
  let last = 0, error = null, subscribed = false;
  onMessage(ws, (m) => {
    if (m.type === 'error') error = m;
    if (m.deployment === undefined || m.type === 'overview') return;
    frames.push(m);
    if (m.type === 'deployment' && !subscribed) {
      subscribed = true;
      if (o.ready) process.stdout.write('READY\n');
    }
    if (m.type === 'lines') last = m.last_seq;
  });
  ws.send(JSON.stringify({ type: 'subscribe', deployment: o.deployment,
    after: o.after || 0, reveal: !!o.reveal }));
  await until(() => error || last >= o.last_seq, o.ms || 10000);
  ws.close();
  done({ frames, last, error });
})();
