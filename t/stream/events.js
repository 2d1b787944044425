// events.js OPTIONS: watch options.deployment; print READY once
// subscribed, then record every frame until "STOP" on stdin. Prints
// {"frames": [...]}.
'use strict';
const readline = require('readline');
const { options, connect, onMessage, until, done } = require('./lib');

(async () => {
  const o = options();
  let stop = false, subscribed = false;
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    if (l === 'STOP') stop = true;
  });
  const frames = [];
  const ws = await connect(o);
  onMessage(ws, (m) => {
    frames.push(m);
    if (m.type === 'deployment') subscribed = true;
  });
  ws.send(JSON.stringify({ type: 'subscribe', deployment: o.deployment }));
  await until(() => subscribed, 10000);
  process.stdout.write('READY\n');
  await until(() => stop, o.ms || 30000);
  ws.close();
  done({ frames });
})();
