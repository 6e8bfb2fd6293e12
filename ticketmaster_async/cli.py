"""The ``ticketmaster`` command line: search events, show one event, its prices, a venue, usage.

```
ticketmaster [--json] [--sandbox] [--debug] COMMAND ...

  search [QUERY] [--city C] [--country CC] [--limit N] [--FILTER ...]
                                                       events (default 20); every filter of
                                                       the API is a flag (search --help)
  event ID                                             one event
  prices ID                                            every ticket price of one event
  venue ID                                             one venue
  usage                                                today's requests, quota, cache, errors
  cache clear                                          drop every cached response
```

Settings come from the ``TICKETMASTER_*`` environment variables; ``--sandbox`` uses the
built-in fake API (no key, no network). The global options are accepted before or after the
command. Exit codes: 0 success, 1 API error (or not found), 2 bad usage or configuration,
130 interrupted. Errors are one ``error: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, NoReturn

from ._cli_args import add_filter_flags, filter_values
from ._client import TicketmasterClient
from ._config import Settings
from ._constants import DEFAULT_PAGE_SIZE, LOGGER_NAME, MAX_PAGE_SIZE
from ._endpoints import EVENTS
from ._exceptions import ConfigurationError, TicketmasterError
from .models import Event, PriceRange, TicketPrice, UsageStats, Venue
from .models._base import zone

__all__ = ["build_parser", "main"]

PROG = "ticketmaster"
EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
#: 128 + SIGINT, what shells report for a program stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

ELLIPSIS = "…"
COLUMN_GAP = "  "
NO_VALUE = "-"
TBA = "TBA"
#: Widest a free-text table column may grow before its cells are cut with an ellipsis.
MAX_NAME_WIDTH = 48
MAX_VENUE_WIDTH = 32
MAX_CITY_WIDTH = 20
MAX_SECTION_WIDTH = 36
MAX_TICKET_TYPE_WIDTH = 28
MAX_ZONE_WIDTH = 24
MONEY_PLACES = 2

API_KEY_ENV = "TICKETMASTER_API_KEY"
MISSING_KEY_MESSAGE = (
    f"no API key: set {API_KEY_ENV} to your Ticketmaster Discovery API key, "
    "or pass --sandbox to use the built-in fake API"
)
EPILOG = """\
examples:
  ticketmaster --sandbox search rock
  ticketmaster --sandbox prices G5diZfkn0B-bh
  ticketmaster search "Harry Styles" --country GB --limit 50 --json

exit codes: 0 success, 1 API error or not found, 2 bad usage, 130 interrupted"""
HTTPX_LOGGER_NAME = "httpx"
DEBUG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# -- arguments -------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``error: ...`` line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: <message>`` and a pointer to ``--help`` on stderr; exit 2."""
        self.exit(EXIT_USAGE, f"error: {message} (see '{self.prog} --help')\n")


def _add_global_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    # Subcommands see the same options with a SUPPRESSed default, so an option given before the
    # command is not reset by the subcommand's own default.
    default: Any = False if top_level else argparse.SUPPRESS
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--json",
        action="store_true",
        default=default,
        help="machine output: one JSON document on stdout",
    )
    group.add_argument(
        "--sandbox",
        action="store_true",
        default=default,
        help="use the built-in fake API (no key, no network)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="log requests at DEBUG level to stderr (the API key is never shown)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ticketmaster`` command."""
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description=(
            "Query the Ticketmaster Discovery API.\n"
            "Settings come from TICKETMASTER_* environment variables\n"
            "(TICKETMASTER_API_KEY at least, unless --sandbox)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, top_level=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _add_global_options(sub, top_level=False)
        return sub

    search = command("search", "search events (every filter of the API is a flag)")
    search.add_argument(
        "query", metavar="QUERY", nargs="?", help="keyword, e.g. an artist or team (optional)"
    )
    search.add_argument(
        "--limit",
        metavar="N",
        type=_positive_int,
        default=DEFAULT_PAGE_SIZE,
        help=f"at most N events, following pages (default {DEFAULT_PAGE_SIZE})",
    )
    add_filter_flags(search, EVENTS, skip=("query", "size", "page"))
    command("event", "show one event").add_argument("id", metavar="ID", help="event id")
    command("prices", "show the ticket prices of one event").add_argument(
        "id", metavar="ID", help="event id"
    )
    command("venue", "show one venue").add_argument("id", metavar="ID", help="venue id")
    command("usage", "show today's requests, quota, cache and error statistics")
    cache = command("cache", "manage the response cache")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    clear = cache_commands.add_parser(
        "clear", help="drop every cached response", description="drop every cached response"
    )
    _add_global_options(clear, top_level=False)
    return parser


# -- formatting ------------------------------------------------------------------------------


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when it was cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    max_widths: Sequence[int | None] | None = None,
    right: Sequence[int] = (),
) -> list[str]:
    """An aligned text table: each column as wide as its widest cell (or header).

    Args:
        headers: the column titles.
        rows: the cells, as text.
        max_widths: per column, the widest it may be (``None``: unbounded); longer cells are
            cut with an ellipsis.
        right: indexes of the columns aligned to the right (numbers).

    Returns:
        The lines, header first, without trailing spaces.
    """
    limits = list(max_widths) if max_widths is not None else [None] * len(headers)
    cells = [
        [
            cell if limit is None else truncate(cell, limit)
            for cell, limit in zip(row, limits, strict=True)
        ]
        for row in rows
    ]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if index in right else value.ljust(width)
            for index, (value, width) in enumerate(zip(values, widths, strict=True))
        ]
        return COLUMN_GAP.join(parts).rstrip()

    return [line(headers), *(line(row) for row in cells)]


def format_key_values(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """``key  value`` lines with the values aligned; a multi-line value is indented."""
    width = max((len(key) for key, _ in pairs), default=0)
    lines: list[str] = []
    for key, value in pairs:
        first, *rest = value.split("\n") if value else [NO_VALUE]
        lines.append(f"{key.ljust(width)}{COLUMN_GAP}{first}".rstrip())
        lines.extend(f"{'':{width}}{COLUMN_GAP}{more}".rstrip() for more in rest)
    return lines


def format_start(event: Event) -> str:
    """The event's start in its venue's local time with the zone abbreviation
    (``2021-03-11 18:00 GMT``); ``TBA`` (after the date, when known) when there is no time."""
    if event.start is None:
        return f"{event.local_date.isoformat()} {TBA}" if event.local_date else TBA
    tz = zone(event.venue.timezone if event.venue else None) or zone(event.timezone)
    local = event.start.astimezone(tz) if tz is not None else event.start
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"


def format_money(amount: Decimal | None) -> str:
    """A money amount with at least two decimal places (more only when the API gave more)."""
    if amount is None:
        return NO_VALUE
    exponent = amount.as_tuple().exponent
    places = max(MONEY_PLACES, -exponent) if isinstance(exponent, int) else MONEY_PLACES
    return f"{amount:.{places}f}"


def format_range(low: Decimal | None, high: Decimal | None) -> str:
    """``low`` alone when both ends are equal, else ``low–high``."""
    if low is None and high is None:
        return NO_VALUE
    if low == high or high is None:
        return format_money(low)
    return f"{format_money(low)}–{format_money(high)}"


def format_place(venue: Venue | None) -> str:
    """``City, CC`` (or what is known of it)."""
    if venue is None:
        return NO_VALUE
    parts = [part for part in (venue.city, venue.state_code, venue.country_code) if part]
    return ", ".join(parts) if parts else NO_VALUE


def format_price_range(price_range: PriceRange) -> str:
    """``standard: GBP 40.00–159.50``."""
    amounts = format_range(price_range.min, price_range.max)
    return f"{price_range.type}: {price_range.currency} {amounts}"


def events_table(events: Sequence[Event]) -> list[str]:
    """The search results as a table: when (venue time), name, venue, place, status, id."""
    rows = [
        [
            format_start(event),
            event.name or NO_VALUE,
            (event.venue.name if event.venue else None) or NO_VALUE,
            format_place(event.venue),
            event.status.value,
            event.id,
        ]
        for event in events
    ]
    return format_table(
        ["WHEN", "NAME", "VENUE", "PLACE", "STATUS", "ID"],
        rows,
        max_widths=[None, MAX_NAME_WIDTH, MAX_VENUE_WIDTH, MAX_CITY_WIDTH, None, None],
    )


def event_block(event: Event) -> list[str]:
    """One event as a key/value block."""
    venue = event.venue
    venue_text = NO_VALUE
    if venue is not None:
        venue_text = f"{venue.name or NO_VALUE} ({venue.id})"
    prices = "\n".join(format_price_range(pr) for pr in event.price_ranges)
    return format_key_values(
        [
            ("name", event.name or NO_VALUE),
            ("id", event.id),
            ("status", event.status.value),
            ("when", format_start(event)),
            ("venue", venue_text),
            ("city", format_place(venue)),
            ("url", event.url or NO_VALUE),
            ("prices", prices),
        ]
    )


def _fees(price: TicketPrice) -> str:
    if price.fees is not None:
        return format_money(price.fees)
    return "incl." if price.includes_fees else NO_VALUE


def _zone_of(price: TicketPrice) -> str:
    place = price.price_zone or price.area or ""
    if price.row:
        place = f"{place} row {price.row}".strip()
    return place or NO_VALUE


def prices_table(prices: Sequence[TicketPrice]) -> list[str]:
    """Ticket prices as a table: section, ticket type, market, price, fees, currency, source.

    A ZONE column (Commerce price zone, or Top Picks area and row) follows the section when any
    price has one: without it, rows of the same section in different zones look duplicated.
    """
    with_zone = any(price.price_zone or price.area or price.row for price in prices)
    headers = ["SECTION", "TICKET TYPE", "MARKET", "PRICE", "FEES", "CURRENCY", "SOURCE"]
    max_widths: list[int | None] = [MAX_SECTION_WIDTH, MAX_TICKET_TYPE_WIDTH]
    max_widths += [None] * (len(headers) - len(max_widths))
    rows = [
        [
            price.section or NO_VALUE,
            price.ticket_type,
            price.market,
            format_range(price.min, price.max),
            _fees(price),
            price.currency,
            price.source,
        ]
        for price in prices
    ]
    if with_zone:
        headers.insert(1, "ZONE")
        max_widths.insert(1, MAX_ZONE_WIDTH)
        for row, price in zip(rows, prices, strict=True):
            row.insert(1, _zone_of(price))
    price_column = headers.index("PRICE")
    return format_table(
        headers, rows, max_widths=max_widths, right=(price_column, price_column + 1)
    )


def venue_block(venue: Venue) -> list[str]:
    """One venue as a key/value block."""
    location = NO_VALUE
    if venue.latitude is not None and venue.longitude is not None:
        location = f"{venue.latitude}, {venue.longitude}"
    address = "\n".join(venue.address_lines) if venue.address_lines else venue.address
    return format_key_values(
        [
            ("name", venue.name or NO_VALUE),
            ("id", venue.id),
            ("address", address or NO_VALUE),
            ("city", venue.city or NO_VALUE),
            ("state", venue.state_code or NO_VALUE),
            ("postal code", venue.postal_code or NO_VALUE),
            ("country", venue.country_code or NO_VALUE),
            ("time zone", venue.timezone or NO_VALUE),
            ("location", location),
            ("url", venue.url or NO_VALUE),
        ]
    )


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return NO_VALUE
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def usage_block(stats: UsageStats) -> list[str]:
    """Usage statistics as a key/value block."""
    errors = ", ".join(f"{name} {count}" for name, count in stats.errors.items()) or "none"
    latency = (
        "  ".join(f"{name} {value:.1f} ms" for name, value in stats.latency_ms.items())
        or "no requests yet"
    )
    return format_key_values(
        [
            ("requests today", str(stats.requests_today)),
            ("daily limit", str(stats.daily_limit)),
            ("quota remaining", str(stats.quota_remaining)),
            ("quota resets at", _utc(stats.quota_resets_at)),
            ("cache hits", str(stats.cache_hits)),
            ("cache misses", str(stats.cache_misses)),
            ("cache hit rate", _percent(stats.cache_hit_rate)),
            ("stale served", str(stats.stale_served)),
            ("coalesced", str(stats.coalesced)),
            ("errors", errors),
            ("error rate", _percent(stats.error_rate)),
            ("latency", latency),
            ("circuit breaker", stats.breaker_state),
        ]
    )


# -- commands --------------------------------------------------------------------------------


def _print_lines(lines: Sequence[str]) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _not_found(resource_id: str) -> int:
    sys.stderr.write(f"not found: {resource_id}\n")
    return EXIT_API_ERROR


class _Progress:
    """``fetched N events…`` on stderr after each full page, only on a terminal."""

    def __init__(self, *, limit: int) -> None:
        self.enabled = limit > MAX_PAGE_SIZE and sys.stderr.isatty()
        self.shown = False

    def update(self, count: int) -> None:
        if self.enabled and count % MAX_PAGE_SIZE == 0:
            sys.stderr.write(f"\rfetched {count} events{ELLIPSIS}")
            sys.stderr.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


async def _search(tm: TicketmasterClient, args: argparse.Namespace) -> int:
    events: list[Event] = []
    progress = _Progress(limit=args.limit)
    try:
        async for event in tm.iter_events(
            args.query, limit=args.limit, **filter_values(args, EVENTS, skip=("query",))
        ):
            events.append(event)
            progress.update(len(events))
    finally:
        progress.done()
    if args.json:
        _print_json([event.model_dump(mode="json") for event in events])
    elif events:
        _print_lines(events_table(events))
    else:
        _print_lines(["no events found"])
    return EXIT_OK


async def _event(tm: TicketmasterClient, args: argparse.Namespace) -> int:
    event = await tm.get_event_details(args.id)
    if event is None:
        return _not_found(args.id)
    if args.json:
        _print_json(event.model_dump(mode="json"))
    else:
        _print_lines(event_block(event))
    return EXIT_OK


async def _prices(tm: TicketmasterClient, args: argparse.Namespace) -> int:
    # The event first: its name and venue head the table, and an unknown id is "not found"
    # rather than an error. get_ticket_prices then reads it from the cache.
    event = await tm.get_event_details(args.id)
    if event is None:
        return _not_found(args.id)
    prices = await tm.get_ticket_prices(args.id)
    if args.json:
        _print_json([price.model_dump(mode="json") for price in prices])
        return EXIT_OK
    venue = event.venue
    heading = [
        event.name or event.id,
        f"{(venue.name if venue else None) or NO_VALUE} · {format_place(venue)}",
        format_start(event),
        "",
    ]
    if prices:
        _print_lines([*heading, *prices_table(prices)])
    else:
        _print_lines([*heading, "no price information for this event"])
    return EXIT_OK


async def _venue(tm: TicketmasterClient, args: argparse.Namespace) -> int:
    venue = await tm.get_venue(args.id)
    if venue is None:
        return _not_found(args.id)
    if args.json:
        _print_json(venue.model_dump(mode="json"))
    else:
        _print_lines(venue_block(venue))
    return EXIT_OK


async def _usage(tm: TicketmasterClient, args: argparse.Namespace) -> int:
    stats = await tm.usage()
    if args.json:
        _print_json(stats.model_dump(mode="json"))
    else:
        _print_lines(usage_block(stats))
    return EXIT_OK


async def _cache(tm: TicketmasterClient, args: argparse.Namespace) -> int:
    # "clear" is the only action; argparse refuses anything else.
    cleared = await tm.clear_cache()
    if args.json:
        _print_json({"cleared": cleared})
    else:
        _print_lines([f"cleared {cleared} cached response{'' if cleared == 1 else 's'}"])
    return EXIT_OK


Command = Callable[[TicketmasterClient, argparse.Namespace], Awaitable[int]]
COMMANDS: dict[str, Command] = {
    "search": _search,
    "event": _event,
    "prices": _prices,
    "venue": _venue,
    "usage": _usage,
    "cache": _cache,
}


# -- running ---------------------------------------------------------------------------------


def make_settings(*, sandbox: bool, debug: bool) -> Settings:
    """Settings from the ``TICKETMASTER_*`` environment, with the command-line overrides.

    Raises:
        ConfigurationError: invalid settings; a missing key names both remedies.
    """
    overrides: dict[str, Any] = {}
    if sandbox:
        overrides["environment"] = "sandbox"
    if debug:
        overrides["debug"] = True
    try:
        return Settings(**overrides)
    except ConfigurationError as exc:
        if "API key" in str(exc) and not os.environ.get(API_KEY_ENV, "").strip():
            raise ConfigurationError(MISSING_KEY_MESSAGE) from None
        raise


async def _run(args: argparse.Namespace) -> int:
    settings = make_settings(sandbox=args.sandbox, debug=args.debug)
    async with TicketmasterClient(settings) as tm:
        return await COMMANDS[args.command](tm, args)


@contextlib.contextmanager
def _debug_logging(enabled: bool) -> Iterator[None]:
    """With ``--debug``, log to stderr while the command runs: this library at DEBUG, httpx's
    request lines at INFO, anything else at WARNING (other libraries' DEBUG output, such as
    aiosqlite's SQL, would drown the requests). Everything is restored afterwards."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(DEBUG_FORMAT))
    root = logging.getLogger()
    loggers = {LOGGER_NAME: logging.DEBUG, HTTPX_LOGGER_NAME: logging.INFO}
    saved = {name: logging.getLogger(name).level for name in loggers}
    root.addHandler(handler)
    for name, level in loggers.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def _exit_code(code: object) -> int:
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_USAGE


def _silence_stdout() -> None:
    # After a broken pipe (``ticketmaster search rock | head``), point stdout at devnull so
    # the interpreter's final flush does not complain.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ticketmaster`` command.

    Args:
        argv: the arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns:
        The exit code: 0 success, 1 API error or not found, 2 bad usage or configuration,
        130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, or a usage error
        return _exit_code(exc.code)
    with _debug_logging(args.debug):
        try:
            return asyncio.run(_run(args))
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_API_ERROR
        except ConfigurationError as exc:
            _error(_one_line(exc))
            return EXIT_USAGE
        except TicketmasterError as exc:
            _error(_one_line(exc))
            return EXIT_API_ERROR
        except Exception as exc:  # a bug or the environment (disk, permissions): still one line
            logging.getLogger(LOGGER_NAME).debug("unexpected failure", exc_info=True)
            hint = "" if args.debug else " (run with --debug for details)"
            _error(f"{type(exc).__name__}: {_one_line(exc)}{hint}")
            return EXIT_API_ERROR


if __name__ == "__main__":  # pragma: no cover - the console script and __main__.py call main()
    raise SystemExit(main())
