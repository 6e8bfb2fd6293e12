"""Helpers of the command-line tests: real subprocesses, in-process ``main([...])`` runs with a
fake API, and what to check in their output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ticketmaster_async import Settings, TicketmasterClient, cli
from ticketmaster_async.testing import FakeDiscoveryAPI

REPO = Path(__file__).resolve().parent.parent
#: Bounds every subprocess: a hung CLI fails the test instead of the run.
TIMEOUT = 120.0

#: Harry Styles, Birmingham (GB), 2021-03-11 18:00 Europe/London: the spec's own example time.
GB_EVENT_ID = "1AdjZ4UGkBwb746"
#: Durham (US): ``timeTBA`` with a local date and no time.
TBA_EVENT_ID = "Z7r9jZ1Ad4Sf8"
#: A Universe event with no venue at all.
NO_VENUE_EVENT_ID = "LvZ184j83k1A5TPn6ZZgc"
#: Well-formed ids that the fake API does not know.
UNKNOWN_ID = "NoSuchThing123"

#: Environment variables that change how rich draws (width, colour, terminal detection).
TERMINAL_ENV = ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TERM")
_CAMEL_CASE = re.compile(r"[a-z][A-Z]")


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without ``TICKETMASTER_*`` or terminal variables, plus
    ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TICKETMASTER_") and k not in TERMINAL_ENV
    }
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m ticketmaster_async ARGS`` in a real subprocess, bounded by ``TIMEOUT``."""
    return subprocess.run(
        [sys.executable, "-m", "ticketmaster_async", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env=clean_env(**env),
        cwd=REPO,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    """The non-blank lines of ``stderr``."""
    return [line for line in stderr.splitlines() if line.strip()]


def only_warnings(stderr: str) -> bool:
    """Whether every line on stderr is one of the library's warnings (the sandbox's synthetic
    venues carry malformed fields on purpose, and the library says so)."""
    return all(line.startswith("warning: ") for line in error_lines(stderr))


def clear_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``TICKETMASTER_*`` setting and no terminal variable leaks into an in-process run."""
    for name in list(os.environ):
        if name.startswith("TICKETMASTER_") or name in TERMINAL_ENV:
            monkeypatch.delenv(name)


def install_fake(
    monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI | None = None, **client_options: Any
) -> FakeDiscoveryAPI:
    """Make the CLI's client talk to ``api``; ``client_options`` go to every client it builds
    (e.g. ``_sleep``).

    The default fake has no spike arrest: each ``main()`` run builds a new client with its own
    in-memory limiter (as each run of the real command is a new process), so runs in quick
    succession against one fake would trip it.
    """
    api = api if api is not None else FakeDiscoveryAPI(requests_per_second=None)
    real_client = TicketmasterClient

    def client(settings: Settings) -> TicketmasterClient:
        return real_client(settings, transport=api.transport(), **client_options)

    monkeypatch.setattr(cli, "TicketmasterClient", client)
    return api


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``cli.main(args)`` in-process: exit code, stdout, stderr."""
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def widest_line(text: str) -> int:
    """The width of the widest line, in terminal cells."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def keys_of(document: Any) -> Iterator[str]:
    """Every key of every object in a JSON document."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield key
            yield from keys_of(value)
    elif isinstance(document, list):
        for item in document:
            yield from keys_of(item)


def camel_case_keys(document: Any) -> set[str]:
    """The keys of a JSON document spelled in camelCase (the API's, not the models')."""
    return {key for key in keys_of(document) if _CAMEL_CASE.search(key)}


def rendered(renderable: Any, *, width: int = 200) -> list[str]:
    """The lines the CLI would print for a table or block at ``width`` (no colour)."""
    import io

    from rich.console import Console

    from ticketmaster_async._cli.layout import Trimmed

    stream = io.StringIO()
    Console(file=stream, width=width, color_system=None, markup=False).print(Trimmed(renderable))
    return stream.getvalue().splitlines()


SUGGEST_PATH = "/discovery/v2/suggest.json"


def suggest_body(api: FakeDiscoveryAPI, keyword: str, size: int = 5) -> dict[str, Any]:
    """A suggest answer made of the fake's own recorded objects: the events whose name holds
    ``keyword``, and their venues and attractions (no suggest answer was ever recorded)."""
    wanted = keyword.casefold()
    events = [
        raw
        for raw in (api.get_event(event_id) for event_id in api.event_ids())
        if raw is not None and wanted in str(raw.get("name", "")).casefold()
    ][:size]
    venues: dict[str, Any] = {}
    attractions: dict[str, Any] = {}
    for raw in events:
        embedded = raw.get("_embedded", {})
        venues.update((venue["id"], venue) for venue in embedded.get("venues", []))
        attractions.update((item["id"], item) for item in embedded.get("attractions", []))
    return {
        "_links": {"self": {"href": f"{SUGGEST_PATH}?keyword={keyword}"}},
        "_embedded": {
            "attractions": list(attractions.values())[:size],
            "venues": list(venues.values())[:size],
            "events": events,
        },
    }


class SuggestingTransport(httpx.AsyncBaseTransport):
    """The fake API's transport, with ``suggest`` answered by :func:`suggest_body` (the fake
    of this version does not serve it yet)."""

    def __init__(self, api: FakeDiscoveryAPI, log: list[dict[str, str]] | None = None) -> None:
        self.api = api
        self.log = log if log is not None else []
        self._inner = api.transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """``suggest`` from the fake's data; anything else from the fake."""
        if request.url.path == SUGGEST_PATH:
            self.log.append(dict(request.url.params))
            return httpx.Response(200, json=suggest_body(self.api, request.url.params["keyword"]))
        return await self._inner.handle_async_request(request)


def install_suggesting_fake(
    monkeypatch: pytest.MonkeyPatch,
    api: FakeDiscoveryAPI | None = None,
    log: list[dict[str, str]] | None = None,
) -> FakeDiscoveryAPI:
    """As :func:`install_fake`, with ``suggest`` answered (see :class:`SuggestingTransport`;
    the query of each suggest request goes to ``log``)."""
    api = api if api is not None else FakeDiscoveryAPI(requests_per_second=None)
    real_client = TicketmasterClient

    def client(settings: Settings) -> TicketmasterClient:
        return real_client(settings, transport=SuggestingTransport(api, log))

    monkeypatch.setattr(cli, "TicketmasterClient", client)
    return api


def main_with_suggest(argv: list[str]) -> int:
    """``cli.main(argv)`` with ``suggest`` answered: what the subprocess tests run."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        install_suggesting_fake(monkeypatch)
        return cli.main(argv)


if __name__ == "__main__":  # python -m tests.cli_support ARGS: the CLI with suggest answered
    raise SystemExit(main_with_suggest(sys.argv[1:]))
