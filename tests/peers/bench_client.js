// Bench peer: the Node `ws` client (default options), for `cargo xtask bench`
// (bench/src/scripts.rs starts it against the bench's in-process servers).
//
// Run with: NODE_PATH=target/peers/node/node_modules node tests/peers/bench_client.js flood URL COUNT SIZE
//           NODE_PATH=target/peers/node/node_modules node tests/peers/bench_client.js rtt URL WARMUP REQUESTS
//
// Prints one JSON line, measured exactly as the bench measures its own clients
// (docs/performance.md, "What each row measures"):
//
//   flood  {"secs": S, "messages": N, "bytes": B}: the clock runs from just before the connect
//          to the Nth message; B is the payload bytes received (the bench checks N x SIZE).
//   rtt    {"rtt_ns": [..]}: one round trip per recorded request, in nanoseconds, from just
//          before the request is built to the moment its reply frame is received (the reply's
//          id is checked after the clock stops). WARMUP requests go first and are not recorded.
'use strict';

const WebSocket = require('ws');

function fail(message) {
  process.stderr.write(`bench_client.js: ${message}\n`);
  process.exit(1);
}

function flood(url, count, size) {
  return new Promise((resolve) => {
    let received = 0;
    let bytes = 0;
    const started = process.hrtime.bigint();
    const ws = new WebSocket(url);
    ws.on('message', (data) => {
      received += 1;
      bytes += data.length;
      if (received !== count) return;
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      if (bytes !== count * size) fail(`flood: ${received} messages, ${bytes} bytes`);
      ws.close();
      resolve({ secs, messages: received, bytes });
    });
    ws.on('close', () => {
      if (received !== count) fail(`flood: closed after ${received} messages`);
    });
    ws.on('error', (error) => fail(`flood: ${error.message}`));
  });
}

async function rtt(url, warmup, requests) {
  const ws = new WebSocket(url);
  let pending = null;
  ws.on('message', (data) => {
    const reply = pending;
    pending = null;
    if (reply === null) fail(`rtt: unexpected message ${data}`);
    reply(data);
  });
  ws.on('error', (error) => fail(`rtt: ${error.message}`));
  await new Promise((resolve) => ws.once('open', resolve));
  const times = [];
  for (let seq = 0; seq < warmup + requests; seq++) {
    const id = seq + 1;
    const started = process.hrtime.bigint();
    const params = { instrument_name: 'BTC-PERPETUAL', depth: 10, seq };
    const reply = new Promise((resolve) => { pending = resolve; });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params }));
    const data = await reply;
    const took = process.hrtime.bigint() - started;
    if (JSON.parse(data).id !== id) fail(`rtt: reply ${data} to request ${id}`);
    if (seq >= warmup) times.push(Number(took));
  }
  ws.close();
  return { rtt_ns: times };
}

async function main() {
  const [task, url, first, second] = process.argv.slice(2);
  if (!['flood', 'rtt'].includes(task) || second === undefined) {
    fail('usage: bench_client.js flood URL COUNT SIZE | rtt URL WARMUP REQUESTS');
  }
  const run = task === 'flood' ? flood : rtt;
  const result = await run(url, Number(first), Number(second));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => fail(error.stack || String(error)));
