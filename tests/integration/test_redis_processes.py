"""Real OS processes sharing one Redis: the spike arrest is never tripped, the cache is shared,
the API key never reaches Redis, and a client without Redis keeps working.

The workers are this module run as a script (``python -m tests.integration.<this> ...``), so they
use exactly the installed package, in processes of their own, each with its own in-memory
``db_path`` (nothing shared but Redis).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sys
import time
from collections.abc import Awaitable

import httpx
import pytest
import redis.asyncio as redis_asyncio

from tests.redis_server import RedisServer, free_port, redis_server_fixture, unique_prefix  # noqa: F401
from ticketmaster_async import QuotaExceededError, Settings, TicketmasterClient
from ticketmaster_async._constants import LOGGER_NAME
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

from .loopback import KEY, server_process, serving
from .workers import READY, run_together, start_worker

pytestmark = pytest.mark.integration

MODULE = "tests.integration.test_redis_processes"
PROCESSES = 3
SEARCHES_PER_PROCESS = 6
#: The real gateway's rate, enforced by the fake as a spike arrest (see test_limits.py).
RATE = 5.0
#: Arrival jitter the fake forgives here: half an interval (the real gateway: about 10 %,
#: what the benchmarks measure against). A limiter that did not space requests would still
#: be arrested at once; a test process delayed by a loaded machine is not.
SPIKE_TOLERANCE = "0.5"
DEFAULT_QUOTA = 5000


# -- worker (runs in a child process) ------------------------------------------------------------


async def _worker(url: str, redis_url: str, prefix: str, tag: str, count: int) -> None:
    settings = Settings(
        api_key=KEY,
        base_url=url,
        redis_url=redis_url,
        redis_prefix=prefix,
        db_path=":memory:",
        offers=False,
        requests_per_second=RATE,
        max_retries=0,  # a single 429 fails the worker
    )
    async with TicketmasterClient(settings) as tm:
        print(READY, flush=True)
        sys.stdin.readline()  # "go": every worker starts at once
        calls: list[Awaitable[object]] = [
            tm.search_events(f"{tag}-{i}", size=1) for i in range(count)
        ]
        if tag == "w0":
            calls.append(tm.get_event_details(SANDBOX_EVENT_ID))
        answered = await asyncio.gather(*(_answered_at(call) for call in calls))
    print(json.dumps(answered), flush=True)


async def _answered_at(call: Awaitable[object]) -> float:
    await call
    return time.time()


def main(argv: list[str]) -> None:
    url, redis_url, prefix, tag, count = argv
    asyncio.run(_worker(url, redis_url, prefix, tag, int(count)))


# -- tests ---------------------------------------------------------------------------------------


def _run_workers(url: str, redis_url: str, prefix: str) -> list[float]:
    """Run the workers at once; when each of their calls was answered (epoch s)."""
    outputs = run_together(
        [
            start_worker(MODULE, url, redis_url, prefix, f"w{n}", str(SEARCHES_PER_PROCESS))
            for n in range(PROCESSES)
        ]
    )
    return sorted(answered for out, _ in outputs for answered in json.loads(out))


async def _usage_and_details(settings: Settings) -> tuple[int, int, int, int]:
    """(requests, cache hits) before and after this process asks for the details w0 fetched."""
    async with TicketmasterClient(settings) as tm:
        before = await tm.usage()
        event = await tm.get_event_details(SANDBOX_EVENT_ID)
        after = await tm.usage()
    assert event is not None
    return before.requests_today, before.cache_hits, after.requests_today, after.cache_hits


def test_three_processes_share_one_redis_with_zero_429s(redis_server: RedisServer) -> None:
    prefix = unique_prefix("procs")
    total = PROCESSES * SEARCHES_PER_PROCESS + 1  # + w0's details
    with server_process("--rate", str(RATE), "--spike-tolerance", SPIKE_TOLERANCE) as url:
        # Workers run with max_retries=0: a single spike-arrest 429 fails a worker.
        answered = _run_workers(url, redis_server.url, prefix)
        settings = Settings(
            api_key=KEY,
            base_url=url,
            redis_url=redis_server.url,
            redis_prefix=prefix,
            db_path=":memory:",
            offers=False,
            max_retries=0,
        )
        requests, hits, requests_after, hits_after = asyncio.run(_usage_and_details(settings))
        time.sleep(1 / RATE)  # the probe must not be spike-arrested itself
        with httpx.Client(base_url=url) as http:
            probe = http.get("/discovery/v2/events.json", params={"apikey": KEY, "size": 1})

    assert probe.status_code == 200
    assert DEFAULT_QUOTA - int(probe.headers["Rate-Limit-Available"]) == total + 1
    # Every process's requests, counted in Redis; this process's call was a hit on w0's answer.
    assert requests == total
    assert (requests_after, hits_after) == (total, hits + 1)
    # The processes together kept close to the allowed rate (answers follow the sends).
    assert len(answered) == total
    gaps_ms = [round((b - a) * 1000) for a, b in itertools.pairwise(answered)]
    assert (total - 1) / RATE / (answered[-1] - answered[0]) >= 0.9, gaps_ms


def _as_bytes(value: object) -> bytes:
    assert isinstance(value, bytes), value  # decode_responses is off
    return value


async def _all_redis_bytes(client: redis_asyncio.Redis) -> list[bytes]:
    """Every key on the server and every value under it."""
    found: list[object] = []
    async for key in client.scan_iter(count=500):
        found.append(key)
        kind = await client.type(key)
        if kind == b"string":
            found.append(await client.get(key))
        elif kind == b"hash":
            for field, value in (await client.hgetall(key)).items():
                found += [field, value]
        elif kind == b"set":
            found += list(await client.smembers(key))
        elif kind == b"zset":
            found += list(await client.zrange(key, 0, -1))
        elif kind == b"list":
            found += list(await client.lrange(key, 0, -1))
        else:
            pytest.fail(f"unexpected {kind!r} under {key!r}")
    return [_as_bytes(value) for value in found]


async def test_a_client_on_redis_never_stores_the_api_key(redis_server: RedisServer) -> None:
    prefix = unique_prefix("client")
    api = FakeDiscoveryAPI(requests_per_second=None)
    async with serving(api) as server:
        settings = Settings(
            api_key=KEY,
            base_url=server.url,
            redis_url=redis_server.url,
            redis_prefix=prefix,
            offers=False,
        )
        async with TicketmasterClient(settings) as tm:
            assert "redis" in repr(tm)
            events = await tm.search_events("Radiohead")
            first = await tm.get_event_details(SANDBOX_EVENT_ID)
            again = await tm.get_event_details(SANDBOX_EVENT_ID)
            stats = await tm.usage()
    assert events
    assert first is not None and again is not None and first.id == again.id
    # The search page warmed every event's details: both detail calls were cache hits.
    assert len(api.requests_to(f"/events/{SANDBOX_EVENT_ID}")) == 0
    assert (stats.requests_today, stats.cache_hits) == (1, 2)

    raw = redis_asyncio.Redis.from_url(redis_server.url)
    try:
        stored = await _all_redis_bytes(raw)
        ours = [key async for key in raw.scan_iter(match=f"{prefix}:c:e:*")]
    finally:
        await raw.aclose()
    assert len(ours) == 1 + len(events)  # the search and each event's details are in Redis
    assert any(SANDBOX_EVENT_ID.encode() in value for value in stored)
    assert not [value for value in stored if KEY.encode() in value]


async def test_a_client_without_redis_keeps_working_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    async with serving(api) as server:
        settings = Settings(
            api_key=KEY,
            base_url=server.url,
            redis_url=nobody,
            offers=False,
            daily_limit=2,
            max_retries=0,
        )
        with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
            async with TicketmasterClient(settings) as tm:
                await tm.search_events("one")
                await tm.search_events("one")  # the private cache still answers
                await tm.search_events("two")
                assert "fallback" in repr(tm)
                with pytest.raises(QuotaExceededError):  # the daily limit is still enforced
                    await tm.search_events("three")
                stats = await tm.usage()
    assert api.request_count == 2
    assert (stats.requests_today, stats.cache_hits) == (2, 1)
    unreachable = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "Redis unreachable" in r.getMessage()
    ]
    assert len(unreachable) == 1
    assert nobody not in caplog.text


if __name__ == "__main__":
    main(sys.argv[1:])
