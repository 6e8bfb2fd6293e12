"""What only the Redis store does with the version 0.2 operations: its key layout and expiries,
one script per batch, and leases on Redis ``TIME``. The behaviour every backend shares runs on
Redis too, in ``tests/test_store_ext.py``."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis.asyncio as redis_asyncio

from tests.redis_server import (  # noqa: F401
    RedisServer,
    make_store_fixture,
    raw_fixture,
    redis_server_fixture,
    unique_prefix,
)
from ticketmaster_async._store import redis as redis_module
from ticketmaster_async._store.base import CacheEntry
from ticketmaster_async._store.redis import EXPIRY_SLACK_SECONDS

NOW = 1_700_000_000.0
#: How far Redis's clock (TIME) and this process's may be apart: the same machine.
CLOCK_SLACK_MS = 2000.0


def entry(key: str, *, stored_at: float, ttl: float = 60.0) -> CacheEntry:
    return CacheEntry(
        key=key, status=200, body=b'{"id": 1}', stored_at=stored_at, expires_at=stored_at + ttl
    )


async def ttls_of(raw: redis_asyncio.Redis, prefix: str) -> dict[str, int]:
    """Every key under ``prefix`` (without it) and its PTTL (-1: none)."""
    keys = [key async for key in raw.scan_iter(match=f"{prefix}:*")]
    return {key.decode().removeprefix(prefix + ":"): await raw.pttl(key) for key in keys}


async def test_watch_state_and_history_never_expire_but_leases_do(
    make_store: Any, raw: redis_asyncio.Redis
) -> None:
    store = await make_store()
    await store.watch_save("tour", {"E1": '{"status": "onsale"}'})
    await store.history_append([("E1", NOW, "p1")], max_points=10)
    assert await store.lease_acquire("tour", "me", now=time.time(), ttl=30.0)

    ttls = await ttls_of(raw, store.prefix)

    assert set(ttls) == {"w:s:tour", "h:p:E1", "h:last", "w:l:tour"}
    assert ttls["w:s:tour"] == ttls["h:p:E1"] == ttls["h:last"] == -1
    lease_ms = (30.0 + EXPIRY_SLACK_SECONDS) * 1000
    assert lease_ms - CLOCK_SLACK_MS < ttls["w:l:tour"] <= lease_ms
    assert await raw.hgetall(f"{store.prefix}:w:s:tour") == {b"E1": b'{"status": "onsale"}'}


async def test_a_batch_expires_its_entries_as_cache_set_does(
    make_store: Any, raw: redis_asyncio.Redis
) -> None:
    store = await make_store()
    now = time.time()
    await store.cache_set(entry("single", stored_at=now, ttl=10.0), tags=["event:1"], keep=5.0)
    await store.cache_set_many(
        [
            (entry("short", stored_at=now, ttl=10.0), ["event:1"]),
            (entry("long", stored_at=now, ttl=100.0), ["event:2", "venue:9"]),
        ],
        keep=5.0,
    )

    ttls = await ttls_of(raw, store.prefix)

    slack_ms = EXPIRY_SLACK_SECONDS * 1000

    def about(ms: float) -> Any:
        return pytest.approx(ms, abs=CLOCK_SLACK_MS)

    assert ttls["c:e:short"] == about(ttls["c:e:single"])
    assert ttls["c:e:short"] == about(15_000 + slack_ms)
    assert ttls["c:e:long"] == about(105_000 + slack_ms)
    assert ttls["c:t:event:1"] == about(15_000 + slack_ms)
    assert ttls["c:t:venue:9"] == about(105_000 + slack_ms)
    for index in ("age", "keep", "gone"):
        assert ttls[f"c:i:{index}"] == about(105_000 + slack_ms)


async def test_a_batch_is_one_evalsha(make_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = await make_store(max_entries=5)
    client = store._client
    assert client is not None
    commands: list[Any] = []
    real = client.execute_command

    async def spy(*args: Any, **options: Any) -> Any:
        commands.append(args[0])
        return await real(*args, **options)

    monkeypatch.setattr(client, "execute_command", spy)

    items = [(entry(f"k{i}", stored_at=NOW + i), [f"event:{i}"]) for i in range(8)]
    await store.cache_set_many(items, keep=0.0)

    assert commands == ["EVALSHA"]
    assert await store.cache_count() == 5


async def test_cache_clear_leaves_the_durable_keys(
    make_store: Any, raw: redis_asyncio.Redis
) -> None:
    store = await make_store()
    await store.watch_save("tour", {"E1": "s"})
    await store.history_append([("E1", NOW, "p1")], max_points=10)
    assert await store.lease_acquire("tour", "me", now=NOW, ttl=30.0)
    before = set(await ttls_of(raw, store.prefix))
    await store.cache_set_many([(entry("k", stored_at=NOW), ["event:E1"])], keep=0.0)

    assert await store.cache_clear() == 1

    after = {key for key in await ttls_of(raw, store.prefix) if not key.startswith("c:")}
    assert after == before


async def test_a_lease_decides_on_redis_time_whatever_the_caller_says(make_store: Any) -> None:
    prefix = unique_prefix()
    first = await make_store(prefix)
    second = await make_store(prefix)

    # Caller clocks far apart: Redis TIME alone decides, so the lease is still running.
    assert await first.lease_acquire("tour", "A", now=0.0, ttl=30.0)
    assert not await second.lease_acquire("tour", "B", now=NOW * 1000, ttl=30.0)
    assert await first.lease_acquire("tour", "A", now=-5.0, ttl=30.0)


async def test_history_purge_works_in_batches(
    make_store: Any, raw: redis_asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_module, "_BATCH", 2)
    store = await make_store()
    points = [(f"E{i}", NOW + i, "p") for i in range(7)]
    assert await store.history_append(points, max_points=10) == 7

    assert await store.history_purge(before=NOW + 5) == 5  # E0..E4

    assert set(await ttls_of(raw, store.prefix)) == {"h:p:E5", "h:p:E6", "h:last"}
    assert await store.history_purge(before=NOW + 100) == 2
    assert await ttls_of(raw, store.prefix) == {}
