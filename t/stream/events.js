// events.js OPTIONS: watch options.deployment; print READY once
// subscribed, then record every frame until "STOP" on stdin, or until a
// "lines" frame reaches N after "UNTIL N". Prints {"frames": [...]}.
'use strict';
const readline = require('readline');
const { options, connect, onMessage, until, done } = require('./lib');

(async () => {
  const o = options();
  let stop = false, subscribed = false, until_seq = null, last = 0;
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    if (l === 'STOP') stop = true;
    const m = /^UNTIL (\d+)$/.exec(l);
    if (m) until_seq = Number(m[1]);
  });
  const frames = [];
  const ws = await connect(o);
  onMessage(ws, (m) => {
    frames.push(m);
    if (m.type === 'deployment') subscribed = true;
    if (m.type === 'lines') last = m.last_seq;
  });
  ws.send(JSON.stringify({ type: 'subscribe', deployment: o.deployment }));
  await until(() => subscribed, 10000);
  process.stdout.write('READY\n');
  await until(() => stop || (until_seq !== null && last >= until_seq),
    o.ms || 30000);
  ws.close();
  done({ frames });
})();
