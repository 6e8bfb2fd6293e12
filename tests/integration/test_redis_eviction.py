"""A Redis under memory pressure never restarts the daily budget.

A real ``redis-server`` with ``--maxmemory`` and an evicting ``maxmemory-policy`` is filled until
it evicts, while other keys of the same server stay hot (another application's). Under
``volatile-*`` Redis evicts only keys with an expiry: the limiter, quota and usage keys have none.
Under ``allkeys-*`` it may evict them too: the client says so at WARNING when it connects, and a
process never lets the budget restart below what it has itself seen spent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis_asyncio

from tests.clients import TEST_KEY
from tests.redis_server import RedisServer, unique_prefix
from ticketmaster_async import QuotaExceededError, Settings, TicketmasterClient
from ticketmaster_async._constants import LOGGER_NAME
from ticketmaster_async.testing import FakeDiscoveryAPI

pytestmark = pytest.mark.integration

MAXMEMORY = "2mb"
DAILY_LIMIT = 30
CALLS = 120
#: Another application's keys: large, with an expiry, read between our calls (hot).
HOT_KEYS = 24
HOT_VALUE = b"h" * 32_768
#: Filler written until Redis has evicted this many keys (bounded).
MAX_FILLER_KEYS = 400
FILLER_VALUE = b"f" * 32_768


Pressured = tuple[RedisServer, redis_asyncio.Redis, str]


@pytest.fixture(name="pressured")
async def pressured_fixture(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Pressured]:
    policy: str = request.param
    with RedisServer(
        tmp_path / "redis", extra_args=("--maxmemory", MAXMEMORY, "--maxmemory-policy", policy)
    ) as server:
        raw = redis_asyncio.Redis.from_url(server.url)
        try:
            yield server, raw, policy
        finally:
            await raw.aclose()


async def evicted_keys(raw: redis_asyncio.Redis) -> int:
    stats: dict[str, Any] = await raw.info("stats")
    return int(stats["evicted_keys"])


async def fill_until_it_evicts(raw: redis_asyncio.Redis) -> None:
    for n in range(MAX_FILLER_KEYS):
        await raw.set(f"other-app:filler:{n}", FILLER_VALUE, ex=3600)
        if await evicted_keys(raw) > 0:
            return
    pytest.fail(f"Redis did not evict after {MAX_FILLER_KEYS} keys")


async def touch_hot_keys(raw: redis_asyncio.Redis) -> None:
    """Keep another application's keys more recently used than ours."""
    for n in range(HOT_KEYS):
        if await raw.get(f"other-app:hot:{n}") is None:
            await raw.set(f"other-app:hot:{n}", HOT_VALUE, ex=3600)


@pytest.mark.parametrize(
    "pressured", ["volatile-lru", "allkeys-lru"], indirect=True, ids=lambda p: str(p)
)
async def test_memory_pressure_never_restarts_the_daily_budget(
    pressured: Pressured, caplog: pytest.LogCaptureFixture
) -> None:
    server, raw, policy = pressured
    api = FakeDiscoveryAPI(requests_per_second=None)
    settings = Settings(
        api_key=TEST_KEY,
        db_path=":memory:",
        redis_url=server.url,
        redis_prefix=unique_prefix("evict"),
        offers=False,
        daily_limit=DAILY_LIMIT,
        requests_per_second=1000.0,
        max_retries=0,
    )
    await touch_hot_keys(raw)
    await fill_until_it_evicts(raw)
    evicted_before = await evicted_keys(raw)
    refused = 0
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        async with TicketmasterClient(settings, transport=api.transport()) as tm:
            for n in range(CALLS):
                try:
                    await tm.search_events(f"q{n}")
                except QuotaExceededError:
                    refused += 1
                await touch_hot_keys(raw)
                await raw.set(f"other-app:filler:more:{n}", FILLER_VALUE, ex=3600)

    assert await evicted_keys(raw) > evicted_before  # the pressure lasted the whole run
    assert api.request_count == DAILY_LIMIT
    assert refused == CALLS - DAILY_LIMIT
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if policy.startswith("allkeys-"):
        assert len(warnings) == 1
        assert f"maxmemory-policy is {policy}" in warnings[0]
    else:
        assert warnings == []
