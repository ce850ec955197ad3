"""Interop peer: a Python `websockets` server for tests/tests/interop.rs.

Run with: python websockets_server.py --port 0 [--subprotocol NAME] [--cert PEM --key PEM]

Binds 127.0.0.1 only. Prints `LISTENING <port>` once bound, then one line per connection
that ends: `CLOSED <path> <code> <reason>` with the close code and reason it received from the
client (`none` when no close frame came). Behaviour by path after the upgrade:

  /close/<code>/<reason>   close with that code and (URL-decoded) reason
  anything else            echo every text and binary message back as it came
"""

import argparse
import asyncio
import ssl
import sys
from urllib.parse import unquote

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


def say(line):
    print(line, flush=True)


async def handler(connection):
    path = connection.request.path
    parts = path.strip("/").split("/")
    try:
        if parts[0] == "close" and len(parts) >= 2:
            reason = unquote(parts[2]) if len(parts) > 2 else ""
            await connection.close(int(parts[1]), reason)
        else:
            async for message in connection:
                await connection.send(message)
    except ConnectionClosed:
        pass
    await connection.wait_closed()
    received = connection.protocol.close_rcvd
    if received is None:
        say(f"CLOSED {path} none")
    else:
        say(f"CLOSED {path} {received.code} {received.reason}")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--subprotocol", action="append", default=[])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    async with serve(
        handler,
        "127.0.0.1",
        args.port,
        ssl=context,
        subprotocols=args.subprotocol or None,
        # The default limit, 1 MiB, refuses the JSON echo carrying 1 MiB (1009).
        max_size=None,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        say(f"LISTENING {port}")
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
