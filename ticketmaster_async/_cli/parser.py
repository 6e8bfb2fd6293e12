"""The arguments of the ``ticketmaster`` command: global options, commands and their flags
(every API filter is a flag generated from the endpoint descriptions, see :mod:`.._cli_args`)."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from .._cli_args import add_filter_flags, value_reader
from .._constants import DEFAULT_PAGE_SIZE
from .._endpoints import EVENTS, SUGGEST
from .._params import IdList

__all__ = [
    "EPILOG",
    "EXIT_USAGE",
    "LOCAL_COMMANDS",
    "PROG",
    "RAW_COMMANDS",
    "UsageParser",
    "build_parser",
    "usage_problem",
]

PROG = "ticketmaster"
EXIT_USAGE = 2
#: Commands that read only the local store (cache, usage, history): no API key needed.
LOCAL_COMMANDS = frozenset({"usage", "cache", "history"})
#: Commands that show objects of the API, whose JSON ``--raw`` prints as sent.
RAW_COMMANDS = frozenset({"search", "event", "venue", "suggest"})

EPILOG = """\
commands:
  search [QUERY] [--FILTER ...]  events (20; --limit N, --all: every match)
  event ID                       one event
  prices ID                      every ticket price of one event
  venue ID                       one venue
  suggest QUERY [--FILTER ...]   what matches a few letters
  watch (--ids A,B | [QUERY] [--FILTER ...]) [--every S] [--name N]
                                 one line per new, changed, gone event (Ctrl-C)
  history ID                     an event's prices and status as they changed
  usage                          requests, quota, cache, errors (no key needed)
  cache clear                    drop every cached response (no key needed)

examples:
  ticketmaster --sandbox search rock
  ticketmaster --sandbox prices G5diZfkn0B-bh
  ticketmaster search --city London --from 2026-12-05 --to 2026-12-06
  ticketmaster search "Harry Styles" --country GB --limit 50 --json
  ticketmaster watch --ids G5vYZ4F1pE4G1,vvG1zZ9KbsbPCD --every 600 --json

--json prints the models (snake_case; API objects also carry fetched_at and
stale); --raw the API's JSON as sent. Tables mark stale rows (served from the
cache because the API was unavailable) with *.

exit codes: 0 success, 1 API error or not found, 2 bad usage, 130 interrupted"""


class UsageParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``error: ...`` line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: <message>`` and a pointer to ``--help`` on stderr; exit 2."""
        self.exit(EXIT_USAGE, f"error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _add_global_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    # Subcommands see the same options with a SUPPRESSed default, so an option given before the
    # command is not reset by the subcommand's own default.
    default: Any = False if top_level else argparse.SUPPRESS
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--json",
        action="store_true",
        default=default,
        help="machine output: the models as JSON on stdout (watch: one object per line)",
    )
    group.add_argument(
        "--raw",
        action="store_true",
        default=default,
        help="the API's own JSON, as sent (search, event, venue, suggest)",
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
    from .. import __version__

    parser = UsageParser(
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
        default=None,
        help=f"at most N events, following pages (default {DEFAULT_PAGE_SIZE}; with --all: "
        "every match)",
    )
    search.add_argument(
        "--all",
        action="store_true",
        help="every match, even past the API's 1000-result cap (sorted by date, from now to "
        "two years ahead unless --start/--end or --from/--to say otherwise)",
    )
    add_filter_flags(search, EVENTS, skip=("query",))
    for name, text, what in (
        ("event", "show one event", "event"),
        ("prices", "show the ticket prices of one event", "event"),
        ("venue", "show one venue", "venue"),
    ):
        command(name, text).add_argument("id", metavar="ID", help=f"{what} id")
    suggest = command("suggest", "attractions, venues and events matching a few letters")
    suggest.add_argument("query", metavar="QUERY", help="the text typed so far")
    add_filter_flags(suggest, SUGGEST, skip=("query",))
    _add_watch(command("watch", "report new, changed and gone events until interrupted"))
    command(
        "history", "show the prices and status of one event each time they changed"
    ).add_argument("id", metavar="ID", help="event id")
    command("usage", "show today's requests, quota, cache and error statistics")
    cache = command("cache", "manage the response cache")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    clear = cache_commands.add_parser(
        "clear", help="drop every cached response", description="drop every cached response"
    )
    _add_global_options(clear, top_level=False)
    return parser


def _add_watch(watch: argparse.ArgumentParser) -> None:
    watch.add_argument(
        "query", metavar="QUERY", nargs="?", help="watch the events of this search (optional)"
    )
    what = watch.add_argument_group("watch")
    what.add_argument(
        "--ids",
        metavar="ID,ID",
        type=value_reader(IdList(allow_single=False)),
        help="watch these events (not combined with a search); gone = the API says 404",
    )
    what.add_argument(
        "--every",
        metavar="SECONDS",
        type=_number,
        help="seconds between rounds (default 900 for --ids, 3600 for a search); stretched, "
        "with a warning, when the rounds would spend more than the budget",
    )
    what.add_argument(
        "--name",
        metavar="NAME",
        help="the watch's name in the store: a restart reports only what changed since "
        "(default: derived from the ids or the search)",
    )
    what.add_argument(
        "--budget",
        metavar="B",
        type=_number,
        default=0.5,
        help="share of the daily limit the watch may spend, (0, 1] (default 0.5)",
    )
    add_filter_flags(watch, EVENTS, skip=("query", "ids", "page"), title="search filters")


def usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with a combination of options argparse cannot see, or ``None``."""
    if args.json and args.raw:
        return "--json and --raw cannot be combined"
    if args.raw and args.command not in RAW_COMMANDS:
        return f"--raw is only for {', '.join(sorted(RAW_COMMANDS))}"
    return None
