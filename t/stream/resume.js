// resume.js OPTIONS: watch options.deployment from seq 0; once a frame
// reaches options.drop_at, drop the connection without a close handshake,
// wait options.gap_ms, reconnect and subscribe with after = the last seq
// received. Stops at options.total. Prints READY once first subscribed,
// then {"seqs": [every seq received, in order], "dropped_at": SEQ}.
'use strict';
const { options, connect, onMessage, until, done, seqsOf } = require('./lib');

(async () => {
  const o = options();
  const seqs = [];
  let last = 0, droppedAt = null, first = true, errors = [];

  async function watch(after) {
    const ws = await connect(o);
    onMessage(ws, (m) => {
      if (m.type === 'error') errors.push(m);
      if (m.type === 'deployment' && first) {
        first = false;
        process.stdout.write('READY\n');
      }
      if (m.type !== 'lines' || m.deployment !== o.deployment) return;
      for (const s of seqsOf(m)) seqs.push(s);
      last = m.last_seq;
    });
    ws.send(JSON.stringify({ type: 'subscribe', deployment: o.deployment, after }));
    return ws;
  }

  let ws = await watch(0);
  await until(() => last >= o.drop_at, o.ms || 20000);
  ws.terminate();
  droppedAt = last;
  await new Promise((r) => setTimeout(r, o.gap_ms || 300));
  ws = await watch(last);
  await until(() => last >= o.total, o.ms || 20000);
  ws.close();
  done({ seqs, dropped_at: droppedAt, errors });
})();
