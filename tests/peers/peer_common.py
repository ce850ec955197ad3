"""What the Python interop peers share: arguments, TLS, the `/close/...` path, report lines.

Every peer binds 127.0.0.1 only, prints `LISTENING <port>` once bound, then one line per
connection that ends: `CLOSED <path> <code> <reason>` (`none` when no close frame came).
"""

import argparse
import asyncio
import ssl
import sys
from urllib.parse import unquote


def say(line):
    print(line, flush=True)


def parse_args():
    """`--port`, repeatable `--subprotocol`, and `--cert`/`--key` for TLS."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--subprotocol", action="append", default=[])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    return parser.parse_args()


def tls_context(args):
    """A server TLS context from `--cert`/`--key`, or None for plain ws."""
    if not args.cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    return context


def close_target(path):
    """`(code, reason)` for a `/close/<code>/<reason>` path, else None (echo)."""
    parts = path.strip("/").split("/")
    if parts[0] == "close" and len(parts) >= 2:
        return int(parts[1]), unquote(parts[2]) if len(parts) > 2 else ""
    return None


def report_closed(path, received):
    """Reports the close code and reason the client sent (`received` is None without one)."""
    if received is None:
        say(f"CLOSED {path} none")
    else:
        say(f"CLOSED {path} {received[0]} {received[1]}")


def run(main):
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
