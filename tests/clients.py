"""Helpers to build clients for tests: in-memory store, fake clock, no real sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ticketmaster_async import Settings, TicketmasterClient

BASE = "https://app.ticketmaster.com"
TEST_KEY = "SECRET-KEY-3f9a7c0e"


class FakeClock:
    """Wall clock under the test's control; ``sleep`` advances it instead of waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)


@asynccontextmanager
async def make_client(
    *,
    clock: FakeClock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **settings: Any,
) -> AsyncIterator[TicketmasterClient]:
    """A client with an in-memory store whose time (limiter, breaker, cache) is ``clock``."""
    clock = clock or FakeClock()
    values: dict[str, Any] = {"api_key": TEST_KEY, "db_path": ":memory:", "offers": False}
    values.update(settings)
    client = TicketmasterClient(
        Settings(**values),
        transport=transport,
        _clock=clock,
        _monotonic=clock,
        _sleep=clock.sleep,
    )
    try:
        yield client
    finally:
        await client.aclose()
