"""Interop peer: an `aiohttp` WebSocket server for tests/tests/interop.rs.

Run with: python aiohttp_server.py --port 0 [--subprotocol NAME] [--cert PEM --key PEM]

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

from aiohttp import WSMsgType, web


def say(line):
    print(line, flush=True)


def make_handler(subprotocols):
    async def handler(request):
        # The default message limit (4 MiB) holds every echo.
        ws = web.WebSocketResponse(protocols=subprotocols)
        await ws.prepare(request)
        path = request.path
        parts = path.strip("/").split("/")
        received = None
        if parts[0] == "close" and len(parts) >= 2:
            reason = unquote(parts[2]) if len(parts) > 2 else ""
            await ws.close(code=int(parts[1]), message=reason.encode())
            received = (ws.close_code, "")
        else:
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.TEXT:
                    await ws.send_str(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await ws.send_bytes(msg.data)
                elif msg.type == WSMsgType.CLOSE:
                    received = (msg.data, msg.extra or "")
                    break
                elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
        if received is None:
            say(f"CLOSED {path} none")
        else:
            say(f"CLOSED {path} {received[0]} {received[1]}")
        return ws

    return handler


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
    app = web.Application()
    app.router.add_get("/{tail:.*}", make_handler(tuple(args.subprotocol)))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    say(f"LISTENING {port}")
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
