"""Bench peer: the Python `websockets` client (asyncio API, default settings), for
`cargo xtask bench` (bench/src/scripts.rs starts it against the bench's in-process servers).

Run with: target/peers/venv/bin/python tests/peers/bench_client.py flood URL COUNT SIZE
          target/peers/venv/bin/python tests/peers/bench_client.py rtt URL WARMUP REQUESTS

Prints one JSON line, measured exactly as the bench measures its own clients
(docs/performance.md, "What each row measures"):

  flood  {"secs": S, "messages": N, "bytes": B}: the clock runs from just before the connect
         to the Nth message; B is the payload bytes received (the bench checks N x SIZE).
  rtt    {"rtt_ns": [..]}: one round trip per recorded request, in nanoseconds, from just
         before the request is built to the moment its reply frame is received (the reply's id
         is checked after the clock stops). WARMUP requests go first and are not recorded.
"""

import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect


def fail(message):
    print(f"bench_client.py: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


async def flood(url, count, size):
    received = received_bytes = 0
    started = time.perf_counter_ns()
    async with connect(url) as ws:
        async for message in ws:
            received += 1
            received_bytes += len(message)
            if received == count:
                break
        elapsed = time.perf_counter_ns() - started
    if received != count or received_bytes != count * size:
        fail(f"flood: {received} messages, {received_bytes} bytes")
    return {"secs": elapsed / 1e9, "messages": received, "bytes": received_bytes}


async def rtt(url, warmup, requests):
    times = []
    async with connect(url) as ws:
        for seq in range(warmup + requests):
            request_id = seq + 1
            started = time.perf_counter_ns()
            params = {"instrument_name": "BTC-PERPETUAL", "depth": 10, "seq": seq}
            request = {"jsonrpc": "2.0", "id": request_id, "method": "echo", "params": params}
            await ws.send(json.dumps(request, separators=(",", ":")))
            reply = await ws.recv()
            took = time.perf_counter_ns() - started
            if json.loads(reply).get("id") != request_id:
                fail(f"rtt: reply {reply} to request {request_id}")
            if seq >= warmup:
                times.append(took)
    return {"rtt_ns": times}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("flood", "rtt"):
        fail("usage: bench_client.py flood URL COUNT SIZE | rtt URL WARMUP REQUESTS")
    task, url, first, second = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    run = flood if task == "flood" else rtt
    print(json.dumps(asyncio.run(run(url, first, second))), flush=True)


if __name__ == "__main__":
    main()
