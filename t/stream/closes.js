// closes.js OPTIONS: one socket per options.sockets entry ({name, token}
// and optionally headers of its own), each waiting for its hello. Prints READY; after "GO" on stdin, waits up
// to options.ms for sockets to close. Prints {"<name>": {"code", "reason",
// "ms" (from GO to the close, null while open)}}.
'use strict';
const readline = require('readline');
const { options, connect, onMessage, until, done } = require('./lib');

(async () => {
  const o = options();
  let go = null;
  readline.createInterface({ input: process.stdin }).on('line', (l) => {
    if (l === 'GO') go = Date.now();
  });
  const out = {};
  const sockets = [];
  for (const s of o.sockets) {
    const st = { code: null, reason: null, ms: null, hello: false };
    out[s.name] = st;
    const ws = await connect(Object.assign({}, o, { token: s.token }),
      { headers: s.headers || {} });
    onMessage(ws, (m) => { if (m.type === 'hello') st.hello = true; });
    ws.on('close', (code, reason) => {
      st.code = code;
      st.reason = reason.toString();
      st.ms = go === null ? -1 : Date.now() - go;
    });
    sockets.push(ws);
  }
  await until(() => Object.values(out).every((st) => st.hello), 10000);
  process.stdout.write('READY\n');
  await until(() => go !== null, 30000);
  await until(() => o.expect_closed.every((n) => out[n].code !== null), o.ms || 5000);
  await new Promise((r) => setTimeout(r, 300));   // a stray close shows here
  for (const ws of sockets) ws.terminate();
  for (const st of Object.values(out)) delete st.hello;
  done(out);
})();
