"""``python -m ticketmaster_async.testing``: run the fake API as a loopback HTTP server.

Prints one line, ``listening on http://HOST:PORT`` (the real port when ``--port 0``), then
serves until SIGINT or SIGTERM and exits 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import get_args

from .._constants import DEFAULT_DAILY_LIMIT, DEFAULT_REQUESTS_PER_SECOND
from ._api import FakeDiscoveryAPI, SourceMode
from ._server import serve

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ticketmaster_async.testing",
        description="Serve a fake Ticketmaster Discovery API on a loopback port.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (8080)")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_REQUESTS_PER_SECOND,
        help="spike-arrest rate, requests per second per key (%(default)s)",
    )
    parser.add_argument(
        "--no-spike-arrest", action="store_true", help="do not enforce the per-second rate"
    )
    parser.add_argument(
        "--spike-tolerance",
        type=float,
        default=0.1,
        help="fraction of an interval of arrival jitter forgiven by spike arrest (%(default)s)",
    )
    parser.add_argument(
        "--daily-limit", type=int, default=DEFAULT_DAILY_LIMIT, help="quota per key (%(default)s)"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only this key (repeatable); by default any non-empty key is accepted",
    )
    modes = get_args(SourceMode)
    parser.add_argument("--offers", choices=modes, default="ok", help="Commerce offers (ok)")
    parser.add_argument(
        "--top-picks", choices=modes, default="unauthorized", help="Top Picks (unauthorized)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server; returns the process exit code (0 after SIGINT/SIGTERM, 1 on a bind error).

    Bad arguments exit with status 2, as ``argparse`` does.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        api = FakeDiscoveryAPI(
            api_keys=args.api_keys,
            requests_per_second=None if args.no_spike_arrest else args.rate,
            spike_tolerance=args.spike_tolerance,
            daily_limit=args.daily_limit,
            offers=args.offers,
            top_picks=args.top_picks,
        )
    except ValueError as error:
        parser.error(str(error))

    def ready(url: str) -> None:
        print(f"listening on {url}", flush=True)

    try:
        serve(api, host=args.host, port=args.port, on_ready=ready)
    except KeyboardInterrupt:  # pragma: no cover - only where signal handlers are unavailable
        pass
    except OSError as error:
        print(f"error: cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
