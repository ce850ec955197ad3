// Interop peer: a Node `ws` server for tests/tests/interop.rs.
//
// Run with: NODE_PATH=target/peers/node/node_modules node ws_server.js --port 0
//           [--subprotocol NAME] [--cert PEM --key PEM]
//
// Binds 127.0.0.1 only. Prints `LISTENING <port>` once bound, then one line per connection
// that ends: `CLOSED <path> <code> <reason>` with the close code and reason it received from
// the client (`none` when no close frame came). Behaviour by path after the upgrade:
//
//   /close/<code>/<reason>   close with that code and (URL-decoded) reason
//   anything else            echo every text and binary message back as it came
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

function option(name) {
  const values = [];
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name && i + 1 < args.length) values.push(args[++i]);
  }
  return values;
}

const port = Number(option('--port')[0] || 0);
const subprotocols = option('--subprotocol');
const cert = option('--cert')[0];
const key = option('--key')[0];

const server = cert
  ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) })
  : http.createServer();
const wss = new WebSocketServer({
  server,
  handleProtocols: (offered) => subprotocols.find((name) => offered.has(name)) || false,
});
server.listen(port, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));

wss.on('connection', (ws, request) => {
  const path = request.url;
  let received = null;
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => {
    received = code === 1006 ? null : [code, reason.toString()];
    console.log(received ? `CLOSED ${path} ${received[0]} ${received[1]}` : `CLOSED ${path} none`);
  });
  ws.on('error', () => {});
  const parts = path.replace(/^\/+|\/+$/g, '').split('/');
  if (parts[0] === 'close' && parts.length >= 2) {
    ws.close(Number(parts[1]), parts.length > 2 ? decodeURIComponent(parts[2]) : '');
  }
});
