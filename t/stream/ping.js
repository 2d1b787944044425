// ping.js OPTIONS: one socket that sends nothing for options.ms; prints
// {"pings": N, "open": BOOL} (the ws client answers each ping itself).
'use strict';
const { options, connect, done } = require('./lib');

(async () => {
  const o = options();
  const ws = await connect(o);
  let pings = 0, open = true;
  ws.on('ping', () => { pings++; });
  ws.on('close', () => { open = false; });
  await new Promise((r) => setTimeout(r, o.ms));
  done({ pings, open });
})();
