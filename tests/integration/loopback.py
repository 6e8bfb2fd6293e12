"""Helpers for tests against the fake API over real loopback sockets."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async.testing import FakeDiscoveryAPI, FakeServer

KEY = "SECRET-KEY-3f9a7c0e"
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def serving(api: FakeDiscoveryAPI) -> AsyncIterator[FakeServer]:
    """The fake on a free loopback port for the duration of the block."""
    async with FakeServer(api) as server:
        yield server


@asynccontextmanager
async def client_for(server_url: str, **settings: Any) -> AsyncIterator[TicketmasterClient]:
    """A real client (real clock, real sleep) talking to ``server_url``."""
    values: dict[str, Any] = {
        "api_key": KEY,
        "base_url": server_url,
        "db_path": ":memory:",
        "offers": False,
        "retry_max_wait": 0.05,
    }
    values.update(settings)
    async with TicketmasterClient(Settings(**values)) as client:
        yield client


@contextmanager
def server_process(*args: str) -> Iterator[str]:
    """``python -m ticketmaster_async.testing --port 0 ARGS`` as a real process; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ticketmaster_async.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"server did not start: {line!r}"
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if the server hangs
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def wait_until(predicate: Any, *, timeout: float = 10.0, step: float = 0.02) -> None:
    """Poll ``predicate`` (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError("condition not met in time")
