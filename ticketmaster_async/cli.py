"""The ``ticketmaster`` command line (``python -m ticketmaster_async`` is the same program).

```
ticketmaster [--json | --raw] [--sandbox] [--debug] COMMAND ...

  search [QUERY] [--limit N] [--all] [--FILTER ...]
                            events (default 20); every filter of the API is a flag
                            (search --help); --all reads every match past the 1000 cap
  event ID                  one event
  prices ID                 every ticket price of one event
  venue ID                  one venue
  suggest QUERY [--FILTER ...]
                            attractions, venues and events matching a few letters
  watch (--ids A,B | [QUERY] [--FILTER ...]) [--every S] [--name N] [--budget B]
                            one line per new, changed or gone event until Ctrl-C
                            (--json: one JSON object per line)
  history ID                the prices and status of an event each time they changed
  usage                     today's requests, quota, cache, errors (no API key needed)
  cache clear               drop every cached response (no API key needed)
```

Settings come from the ``TICKETMASTER_*`` environment variables; ``--sandbox`` uses the
built-in fake API (no key, no network). The global options are accepted before or after the
command. Tables fit the terminal's width (or ``COLUMNS``); a pull of several pages shows a
progress bar when stderr is a terminal; the library's warnings are one ``warning: ...`` line
each on stderr. ``--json`` prints the models' clean dumps (API objects also carry
``fetched_at`` and ``stale``), ``--raw`` the API's JSON as sent. Exit codes: 0 success, 1 API
error (or not found), 2 bad usage or configuration, 130 interrupted. Errors are one
``error: ...`` line on stderr.

The tables need ``rich`` (the ``cli`` extra: ``pip install ".[cli]"``); without it the
command says so and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from ._cli.logs import StderrLines, stderr_logging
from ._cli.parser import LOCAL_COMMANDS, build_parser, usage_problem
from ._client import TicketmasterClient
from ._config import Settings
from ._constants import LOGGER_NAME
from ._exceptions import ConfigurationError, TicketmasterError

__all__ = ["build_parser", "main", "make_settings"]

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
#: 128 + SIGINT, what shells report for a program stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

API_KEY_ENV = "TICKETMASTER_API_KEY"
MISSING_KEY_MESSAGE = (
    f"no API key: set {API_KEY_ENV} to your Ticketmaster Discovery API key, "
    "or pass --sandbox to use the built-in fake API"
)
RICH_MISSING_MESSAGE = (
    "the ticketmaster command needs the 'rich' package: pip install rich "
    '(or install this package with its cli extra: pip install ".[cli]")'
)
#: The key of a client that only reads the local store (``usage``, ``cache clear``,
#: ``history``): those commands send no request, so no real key is needed and none is sent.
LOCAL_ONLY_KEY = "local-store-only"


def make_settings(*, sandbox: bool, debug: bool, need_key: bool = True) -> Settings:
    """Settings from the ``TICKETMASTER_*`` environment, with the command-line overrides.

    Args:
        sandbox: use the built-in fake API.
        debug: DEBUG logging of requests.
        need_key: ``False`` for commands that only touch the local store: without a key in
            the environment, a placeholder that is never sent stands in.

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
        if "API key" not in str(exc) or os.environ.get(API_KEY_ENV, "").strip():
            raise
        if not need_key:
            return Settings(api_key=LOCAL_ONLY_KEY, **overrides)
        raise ConfigurationError(MISSING_KEY_MESSAGE) from None


async def _run(args: argparse.Namespace, lines: StderrLines | None) -> int:
    # Imported here: these draw with rich, which main() has checked is installed.
    from ._cli.commands import COMMANDS
    from ._cli.output import Output

    settings = make_settings(
        sandbox=args.sandbox, debug=args.debug, need_key=args.command not in LOCAL_COMMANDS
    )
    if lines is not None:
        for secret in (settings.api_key, settings.redis_url):
            lines.hide(secret.get_secret_value() if secret is not None else None)
    output = Output("json" if args.json else "raw" if args.raw else "text")
    async with TicketmasterClient(settings) as tm:
        return await COMMANDS[args.command](tm, args, output)


async def _interruptible(command: Coroutine[Any, Any, int]) -> int:
    """Run ``command``; Ctrl-C cancels it where it waits and ends as ``KeyboardInterrupt``.

    So every ``finally`` and ``async with`` on the way out runs (a watch gives its lease back,
    the client closes its store) on every Python: before 3.11 ``asyncio.run`` lets SIGINT
    raise wherever the interpreter happens to be, even in the middle of a store write.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    try:
        # asyncio.run runs this coroutine as a task: current_task() is never None here.
        loop.add_signal_handler(signal.SIGINT, task.cancel)  # type: ignore[union-attr]
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        installed = False
    try:
        return await command
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None  # nothing but Ctrl-C cancels the command's task
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)


def _rich_missing() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return True
    return False


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
        The exit code: 0 success, 1 API error or not found, 2 bad usage or configuration
        (or ``rich`` not installed), 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        problem = usage_problem(args)
        if problem is not None:
            parser.error(problem)
    except SystemExit as exc:  # argparse: --help, --version, or a usage error
        return _exit_code(exc.code)
    if _rich_missing():
        _error(RICH_MISSING_MESSAGE)
        return EXIT_USAGE
    with stderr_logging(debug=args.debug) as lines:
        try:
            return asyncio.run(_interruptible(_run(args, lines)))
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
