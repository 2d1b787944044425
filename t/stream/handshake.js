// handshake.js OPTIONS: one handshake with options.origin (null: none) and
// options.headers; prints {"open": true, "hello": FRAME} or {"status": N}.
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
  let hello = null;
  onMessage(ws, (m) => { if (m.type === 'hello') hello = m; });
  await until(() => hello, 5000);
  ws.close();
  done({ open: true, hello });
})();
