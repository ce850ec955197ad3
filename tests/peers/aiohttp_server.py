"""Interop peer: an `aiohttp` WebSocket server for tests/tests/interop.rs.

Run with: python aiohttp_server.py --port 0 [--subprotocol NAME] [--cert PEM --key PEM]

Output and paths as peer_common.py describes: `/close/<code>/<reason>` closes with that code
and (URL-decoded) reason; any other path echoes every text and binary message as it came.
"""

import asyncio

from aiohttp import WSMsgType, web

from peer_common import close_target, parse_args, report_closed, run, say, tls_context


def make_handler(subprotocols):
    async def handler(request):
        # The default message limit (4 MiB) holds every echo.
        ws = web.WebSocketResponse(protocols=subprotocols)
        await ws.prepare(request)
        received = None
        target = close_target(request.path)
        if target is not None:
            await ws.close(code=target[0], message=target[1].encode())
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
        report_closed(request.path, received)
        return ws

    return handler


async def main():
    args = parse_args()
    app = web.Application()
    app.router.add_get("/{tail:.*}", make_handler(tuple(args.subprotocol)))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, ssl_context=tls_context(args))
    await site.start()
    say(f"LISTENING {runner.addresses[0][1]}")
    await asyncio.Event().wait()


if __name__ == "__main__":
    run(main)
