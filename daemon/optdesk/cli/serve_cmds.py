"""Commands of the one-click endpoint: serve."""

from __future__ import annotations

import argparse

from optdesk.cli.common import open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve one-click unsubscribe (RFC 8058) on HTTP "
                                     "(behind a TLS reverse proxy: deploy/)")
    p.add_argument("--host", help="address to listen on (default: the setting serve.host, "
                                  "127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: the setting serve.port, 8025)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args, settings) -> int:
    from optdesk.serve.server import serve_forever
    from optdesk.settings import signing_key

    key = signing_key(settings, create=False)  # tokens signed by the daemon's key, or none
    serve_forever(settings, open_store(settings), key, args.host, args.port)
    return 0
