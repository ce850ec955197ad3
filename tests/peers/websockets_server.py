"""Interop peer: a Python `websockets` server for tests/tests/interop.rs.

Run with: python websockets_server.py --port 0 [--subprotocol NAME] [--cert PEM --key PEM]

Output and paths as peer_common.py describes: `/close/<code>/<reason>` closes with that code
and (URL-decoded) reason; any other path echoes every text and binary message as it came.
"""

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from peer_common import close_target, parse_args, report_closed, run, say, tls_context


async def handler(connection):
    path = connection.request.path
    target = close_target(path)
    try:
        if target is not None:
            await connection.close(*target)
        else:
            async for message in connection:
                await connection.send(message)
    except ConnectionClosed:
        pass
    await connection.wait_closed()
    received = connection.protocol.close_rcvd
    report_closed(path, None if received is None else (received.code, received.reason))


async def main():
    args = parse_args()
    async with serve(
        handler,
        "127.0.0.1",
        args.port,
        ssl=tls_context(args),
        subprotocols=args.subprotocol or None,
        # The default limit, 1 MiB, refuses the JSON echo carrying 1 MiB (1009).
        max_size=None,
    ) as server:
        say(f"LISTENING {next(iter(server.sockets)).getsockname()[1]}")
        await server.serve_forever()


if __name__ == "__main__":
    run(main)
