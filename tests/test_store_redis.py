"""What only the Redis store and its fallback do. The Store behaviour every backend shares runs on
Redis too, in ``tests/test_store.py`` (the "redis" backend of ``tests/store_backends.py``)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis_asyncio
from redis import exceptions as redis_errors

from tests import redis_server as redis_server_module
from tests.redis_server import (  # noqa: F401
    RedisServer,
    free_port,
    make_store_fixture,
    raw_fixture,
    redis_server_fixture,
    unique_prefix,
)
from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async._constants import DAILY_WINDOW_SECONDS, LOGGER_NAME
from ticketmaster_async._exceptions import ConfigurationError
from ticketmaster_async._store import fallback as fallback_module
from ticketmaster_async._store import redis as redis_module
from ticketmaster_async._store._time import utc_day
from ticketmaster_async._store.base import CacheEntry
from ticketmaster_async._store.fallback import FallbackStore, is_unavailable
from ticketmaster_async._store.memory import MemoryStore
from ticketmaster_async._store.redis import (
    EXPIRY_SLACK_SECONDS,
    FALLBACK_MAX_ENTRIES,
    INSTALL_HINT,
    RedisStore,
    make_redis_store,
)

NOW = 1_700_000_000.0
INTERVAL = 0.2
LIMIT = 10
#: Float slack for sums of epoch seconds (an ulp at 1.7e9 is 2.4e-7 s).
EPSILON = 1e-6
#: How far Redis's clock (TIME) and this process's may be apart: the same machine.
CLOCK_SLACK = 2.0
DOWN = redis_errors.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


def entry(
    key: str, *, stored_at: float = NOW, ttl: float = 60.0, body: bytes = b"{}"
) -> CacheEntry:
    return CacheEntry(
        key=key, status=200, body=body, stored_at=stored_at, expires_at=stored_at + ttl
    )


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == LOGGER_NAME
    ]


class FakeClock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def keys_of(raw: redis_asyncio.Redis, prefix: str) -> list[bytes]:
    return sorted([key async for key in raw.scan_iter(match=f"{prefix}:*")])


async def exercise(store: RedisStore, *, now: float) -> None:
    """One write of every kind."""
    await store.cache_set(entry("GET /a", stored_at=now), tags=["event:1"], keep=100.0)
    await store.admit(now=now, interval=INTERVAL, daily_limit=LIMIT)
    await store.usage_add("2024-03-10", {"requests": 1})
    await store.flag_set("commerce", until=now + 3600.0)


# -- key space -----------------------------------------------------------------------------------


async def test_the_prefix_keeps_two_apps_apart(make_store: Any, raw: redis_asyncio.Redis) -> None:
    # Glob characters in a prefix must not make one app's SCAN match the other's keys.
    first = await make_store(prefix=f"{unique_prefix()}[a]*", use_server_time=False)
    second = await make_store(prefix=first.prefix.replace("[a]*", "a-b"), use_server_time=False)
    for store in (first, second):
        await exercise(store, now=NOW)

    assert await first.cache_clear() == 1
    assert await first.cache_invalidate_tag("event:1") == 0

    assert await second.cache_get("GET /a") is not None
    assert await second.cache_invalidate_tag("event:1") == 1
    assert (await second.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).slot == (
        NOW + INTERVAL
    )  # its own limiter: one slot taken before, not two
    assert (await first.quota_state(now=NOW, daily_limit=LIMIT)).used == 1
    assert (await second.quota_state(now=NOW, daily_limit=LIMIT)).used == 2
    assert await first.usage_get("2024-03-10") == {"requests": 1}
    await first.flag_set("top_picks", until=NOW + 1.0)
    assert await second.flag_get("top_picks", now=NOW) is None
    for key in await keys_of(raw, first.prefix.replace("[", "\\[").replace("*", "\\*")):
        assert key.startswith(f"{first.prefix}:".encode())


async def test_cache_keys_expire_and_limiter_quota_usage_keys_never_do(
    make_store: Any, raw: redis_asyncio.Redis
) -> None:
    # Under maxmemory-policy volatile-* Redis evicts only keys with an expiry: the limiter,
    # quota and usage keys must have none, or memory pressure restarts the daily budget.
    store = await make_store()
    now = time.time()
    await exercise(store, now=now)
    await store.cache_set(entry("GET /b", stored_at=now, ttl=10.0), keep=5.0)
    today = time.strftime("%Y-%m-%d", time.gmtime(now))

    keys = await keys_of(raw, store.prefix)
    # lim, 2 entries, 1 tag, 3 indexes, 2 usage days (one from the admission) + days, flag
    assert len(keys) == 11
    ttls = {key.decode().removeprefix(store.prefix + ":"): await raw.pttl(key) for key in keys}
    slack_ms = EXPIRY_SLACK_SECONDS * 1000

    def about(ms: float) -> Any:
        return pytest.approx(ms, abs=CLOCK_SLACK * 1000)

    assert ttls["c:e:GET /a"] == about(160_000 + slack_ms)  # expires_at + keep - stored_at
    assert ttls["c:e:GET /b"] == about(15_000 + slack_ms)
    assert ttls["c:t:event:1"] == about(160_000 + slack_ms)
    assert ttls["c:i:age"] == about(160_000 + slack_ms)
    assert ttls["f:commerce"] == about(3_600_000 + slack_ms)
    no_expiry = ["lim", "u:days", "u:d:2024-03-10", f"u:d:{today}"]
    assert {name: ttls[name] for name in no_expiry} == dict.fromkeys(no_expiry, -1)


async def test_a_server_refusing_config_get_is_noted_at_debug(
    redis_server: RedisServer, raw: redis_asyncio.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # Managed Redis and ACL'd users often may not run CONFIG: the store goes on.
    user = unique_prefix("noconfig")
    await raw.acl_setuser(
        user,
        enabled=True,
        passwords=["+pw"],
        keys=["*"],
        channels=["*"],
        commands=["+@all", "-config"],
    )
    url = redis_server.url.replace("redis://", f"redis://{user}:pw@")
    store = RedisStore(url, prefix=unique_prefix(), max_entries=10)
    try:
        with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
            await store.open()
            admitted = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    finally:
        await store.aclose()
        await raw.acl_deluser(user)
    assert admitted.admitted
    assert warnings_of(caplog) == []
    assert any("cannot read Redis maxmemory-policy" in r.getMessage() for r in caplog.records)


async def test_an_expiry_left_by_an_older_version_is_dropped(
    make_store: Any, raw: redis_asyncio.Redis
) -> None:
    store = await make_store()
    now = time.time()
    await exercise(store, now=now)
    names = ["lim", "u:days", "u:d:2024-03-10"]
    for name in names:
        assert await raw.pexpire(f"{store.prefix}:{name}", 3_600_000)

    await store.admit(now=now, interval=INTERVAL, daily_limit=LIMIT)
    await store.usage_add("2024-03-10", {"cache_hits": 1})

    assert [await raw.pttl(f"{store.prefix}:{name}") for name in names] == [-1, -1, -1]


async def test_entries_redis_expired_leave_the_indexes(
    make_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_module, "EXPIRY_SLACK_SECONDS", 0.0)
    store = await make_store()
    await store.cache_set(entry("long", ttl=60.0), tags=["t"], keep=0.0)
    await store.cache_set(entry("short", ttl=0.05), tags=["t"], keep=0.0)  # Redis drops it
    await asyncio.sleep(0.15)

    assert await store.cache_get("short") is None
    assert await store.cache_count() == 1
    # Written again without the tag: the tag set's dangling member must not count it.
    await store.cache_set(entry("short", ttl=60.0), tags=["other"], keep=0.0)
    assert await store.cache_invalidate_tag("t") == 1
    assert await store.cache_get("short") is not None
    assert await store.cache_count() == 1


async def test_cache_clear_and_purge_work_in_batches(
    make_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_module, "_BATCH", 3)
    store = await make_store()
    for i in range(10):
        await store.cache_set(entry(f"k{i}", ttl=float(i)), tags=["t"], keep=0.0)

    assert await store.cache_purge(now=NOW + 7.5) == 8  # k0..k7
    assert await store.cache_count() == 2
    for i in range(10, 17):
        await store.cache_set(entry(f"k{i}"), keep=0.0)
    assert await store.cache_clear() == 9
    assert await store.cache_count() == 0
    assert await store.cache_invalidate_tag("t") == 0


@pytest.mark.parametrize(("ci", "outcome"), [("true", "fail"), ("", "skip")])
def test_without_redis_server_ci_fails_and_elsewhere_skips(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="redis-server is not installed"):
        redis_server_module.redis_server_path()


# -- Lua and server time -------------------------------------------------------------------------


async def test_admit_uses_redis_time_whatever_the_caller_says(make_store: Any) -> None:
    store = await make_store()  # use_server_time=True: the default
    before = time.time()
    wrong_nows = [0.0, 1e12, -5.0]
    admissions = [await store.admit(now=now, interval=10.0, daily_limit=5) for now in wrong_nows]
    after = time.time()

    first, second, third = admissions
    assert before - CLOCK_SLACK <= first.slot <= after + CLOCK_SLACK
    assert second.slot - first.slot == pytest.approx(10.0, abs=EPSILON)
    assert third.slot - second.slot == pytest.approx(10.0, abs=EPSILON)
    # Relative to the call, on Redis's clock: never to the caller's wrong now.
    assert 0.0 <= first.wait < CLOCK_SLACK
    assert 10.0 - CLOCK_SLACK < second.wait < 10.0 + CLOCK_SLACK
    assert 20.0 - CLOCK_SLACK < third.wait < 20.0 + CLOCK_SLACK
    assert first.reset_at is not None
    assert first.reset_at == pytest.approx(before + DAILY_WINDOW_SECONDS, abs=CLOCK_SLACK)
    assert [a.quota_remaining for a in admissions] == [4, 3, 2]

    # A caller far in the future still sees the running window (the reset is Redis time).
    state = await store.quota_state(now=1e12, daily_limit=5)
    assert (state.used, state.reset_at) == (3, first.reset_at)
    # A reset 100 s ahead of Redis's clock is in the future, though "past" for this caller.
    await store.quota_sync(now=1e12, daily_limit=5, available=None, reset_at=before + 100.0)
    assert (await store.quota_state(now=0.0, daily_limit=5)).reset_at == before + 100.0
    # Slot tokens are Redis time: the compare-and-set still finds the last one.
    await store.release_slot(slot=third.slot, interval=10.0)
    again = await store.admit(now=0.0, interval=10.0, daily_limit=5)
    assert again.slot == third.slot
    reset = await store.quota_mark_spent(now=0.0, daily_limit=5, reset_at=None)
    assert reset == before + 100.0
    refused = await store.admit(now=1e12, interval=10.0, daily_limit=5)
    assert (refused.admitted, refused.quota_remaining, refused.reset_at) == (False, 0, reset)


async def test_a_reset_already_past_in_redis_time_is_ignored(make_store: Any) -> None:
    store = await make_store()
    await store.admit(now=0.0, interval=INTERVAL, daily_limit=2)
    before = time.time()
    await store.quota_sync(now=1e12, daily_limit=2, available=0, reset_at=before - 10.0)
    state = await store.quota_state(now=1e12, daily_limit=2)
    assert state.used == 2
    assert state.reset_at == pytest.approx(before + DAILY_WINDOW_SECONDS, abs=CLOCK_SLACK)


async def test_a_slow_round_trip_never_sends_a_request_before_its_slot(
    make_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await make_store()
    client = store._client
    assert client is not None
    real = client.execute_command

    async def slow(*args: Any, **options: Any) -> Any:
        await asyncio.sleep(0.05)  # a reconnection, a loaded server or event loop
        return await real(*args, **options)

    monkeypatch.setattr(client, "execute_command", slow)
    admission = await store.admit(now=time.time(), interval=INTERVAL, daily_limit=LIMIT)

    # The slot began when the script ran, 50 ms into the call: ``wait`` (counted from the call)
    # must reach it, or this request would leave 50 ms early and squeeze the one before.
    assert 0.045 <= admission.wait <= 0.05 + CLOCK_SLACK


def test_the_clock_offset_keeps_the_most_precise_measurement() -> None:
    store = RedisStore("redis://127.0.0.1:1", prefix="p", max_entries=1)
    store._learn_offset(1000.0, 10.0, 10.002)  # +-1 ms
    assert store._offset == pytest.approx(1000.0 - 10.001)
    store._learn_offset(2000.0, 11.0, 11.1)  # +-50 ms, 1 s later: ignored
    assert store._offset == pytest.approx(1000.0 - 10.001)
    later = 10.002 + 600.0  # 10 min on, the old measurement may have drifted 60 ms
    store._learn_offset(3000.0, later - 0.1, later)
    assert store._offset == pytest.approx(3000.0 - (later - 0.05))


async def test_admit_is_one_evalsha(make_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = await make_store()
    client = store._client
    assert client is not None
    commands: list[Any] = []
    real = client.execute_command

    async def spy(*args: Any, **options: Any) -> Any:
        commands.append(args[0])
        return await real(*args, **options)

    monkeypatch.setattr(client, "execute_command", spy)

    assert (await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted

    assert commands == ["EVALSHA"]


async def test_scripts_are_reloaded_after_a_script_flush(
    make_store: Any, raw: redis_asyncio.Redis
) -> None:
    store = await make_store()
    assert (await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted
    await raw.script_flush()
    assert (await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted


# -- connection ----------------------------------------------------------------------------------


async def test_an_unreachable_redis_raises_connection_errors_and_is_retried(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path / "redis", port=free_port())
    store = RedisStore(server.url, prefix=unique_prefix(), max_entries=10, connect_timeout=1.0)
    assert "127.0.0.1" not in repr(store)

    with pytest.raises(redis_errors.ConnectionError):
        await store.open()
    with pytest.raises(redis_errors.ConnectionError):
        await store.cache_get("k")  # opened lazily: tried again

    with server:
        assert await store.cache_get("k") is None
        await store.aclose()


def test_an_empty_prefix_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="prefix"):
        RedisStore("redis://127.0.0.1:1", prefix="", max_entries=1)


def test_without_the_redis_package_the_store_asks_for_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # "import redis.asyncio" fails
    settings = Settings(api_key="k", redis_url="redis://127.0.0.1:1/0")

    for build in (
        lambda: RedisStore("redis://127.0.0.1:1", prefix="tm", max_entries=1),
        lambda: make_redis_store(settings),
        lambda: TicketmasterClient(settings),
    ):
        with pytest.raises(ConfigurationError) as info:
            build()
        assert 'pip install "ticketmaster-async[redis]"' in str(info.value)
        assert str(info.value) == INSTALL_HINT


async def test_make_redis_store_falls_back_to_a_small_memory_store() -> None:
    settings = Settings(api_key="k", redis_url="redis://127.0.0.1:1/0", redis_prefix="app1")
    store = make_redis_store(settings)

    assert isinstance(store, FallbackStore)
    assert store.kind == "redis"
    assert isinstance(store.primary, RedisStore)
    assert store.primary.prefix == "app1"
    assert isinstance(store.fallback, MemoryStore)
    assert store.fallback._max_entries == FALLBACK_MAX_ENTRIES
    await store.aclose()

    with pytest.raises(ConfigurationError, match="redis_url"):
        make_redis_store(Settings(api_key="k"))


# -- FallbackStore: unit -------------------------------------------------------------------------


class FlakyStore(MemoryStore):
    """A MemoryStore standing in for Redis that can be made unreachable (every call raises)."""

    kind = "redis"

    def __init__(self, *, max_entries: int = 100) -> None:
        super().__init__(max_entries=max_entries)
        self.down = False
        self.calls = 0
        self.error: Exception = DOWN

    def _check_open(self) -> None:
        self.calls += 1
        if self.down:
            raise self.error
        super()._check_open()


@pytest.fixture(name="flaky")
async def flaky_fixture() -> AsyncIterator[tuple[FallbackStore, FlakyStore, FakeClock]]:
    primary = FlakyStore()
    clock = FakeClock()
    store = FallbackStore(
        primary, fallback=MemoryStore(max_entries=10), retry_after=30.0, clock=clock
    )
    await store.open()
    yield store, primary, clock
    await store.aclose()


Flaky = tuple[FallbackStore, FlakyStore, FakeClock]


async def test_fallback_serves_every_call_and_warns_once(
    flaky: Flaky, caplog: pytest.LogCaptureFixture
) -> None:
    store, primary, _ = flaky
    await store.cache_set(entry("shared"), keep=1.0)
    calls = primary.calls
    primary.down = True

    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        assert await store.cache_get("shared") is None  # uncached: the private cache is empty
        assert store.degraded
        assert store.kind == "redis (fallback: memory)"
        await store.cache_set(entry("private"), tags=["t"], keep=1.0)
        assert await store.cache_get("private") == entry("private")
        assert await store.cache_count() == 1
        assert await store.cache_purge(now=NOW) == 0
        assert await store.cache_invalidate_tag("t") == 1
        await store.cache_delete("private")
        assert await store.cache_clear() == 0
        admission = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
        assert admission.admitted
        await store.release_slot(slot=admission.slot, interval=INTERVAL)
        await store.quota_sync(now=NOW, daily_limit=LIMIT, available=8, reset_at=None)
        assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).remaining == 8
        assert await store.quota_mark_spent(now=NOW, daily_limit=LIMIT, reset_at=None) == (
            NOW + DAILY_WINDOW_SECONDS
        )
        await store.usage_add("2024-03-10", {"requests": 2})
        assert await store.usage_get("2024-03-10") == {"requests": 2}
        await store.flag_set("commerce", until=NOW + 10.0)
        assert await store.flag_get("commerce", now=NOW) == NOW + 10.0

    assert primary.calls == calls + 1  # only the call that found it down
    (warning,) = warnings_of(caplog)
    assert warning.startswith(
        "Redis unreachable: falling back to an in-process limiter and quota, no shared cache"
    )
    assert "ConnectionError" in warning


async def test_fallback_keeps_the_quota_and_the_rate(flaky: Flaky) -> None:
    store, primary, _ = flaky
    for _ in range(3):
        assert (await store.admit(now=NOW, interval=INTERVAL, daily_limit=5)).admitted
    primary.down = True

    later = NOW + 10.0
    admissions = [await store.admit(now=later, interval=INTERVAL, daily_limit=5) for _ in range(3)]

    assert [a.admitted for a in admissions] == [True, True, False]  # 3 + 2 = the daily limit
    assert [a.quota_remaining for a in admissions] == [1, 0, 0]
    assert admissions[1].slot - admissions[0].slot == pytest.approx(INTERVAL, abs=EPSILON)
    assert admissions[0].reset_at == NOW + DAILY_WINDOW_SECONDS  # the primary's window


async def test_fallback_quota_starts_from_the_last_quota_read(flaky: Flaky) -> None:
    store, primary, _ = flaky
    await primary.quota_sync(now=NOW, daily_limit=LIMIT, available=1, reset_at=NOW + 60.0)
    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).remaining == 1
    primary.down = True

    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).remaining == 1
    assert (await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted
    refused = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    assert (refused.admitted, refused.reset_at) == (False, NOW + 60.0)


async def test_primary_is_retried_after_retry_after_and_learns_the_outage(
    flaky: Flaky, caplog: pytest.LogCaptureFixture
) -> None:
    store, primary, clock = flaky
    await store.cache_set(entry("details"), tags=["event:1"], keep=1.0)
    await store.cache_set(entry("gone"), keep=1.0)
    await store.cache_set(entry("kept"), keep=1.0)
    primary.down = True
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        await store.cache_invalidate_tag("event:1")
        await store.cache_delete("gone")
        await store.flag_set("commerce", until=NOW + 50.0)
        await store.usage_add("2024-03-10", {"requests": 2})
        await store.usage_add("2024-03-10", {"requests": 1, "cache_hits": 4})
        await store.quota_mark_spent(now=NOW, daily_limit=LIMIT, reset_at=NOW + 600.0)
        await store.cache_set(entry("private"), keep=1.0)
        primary.down = False

        clock.now = 29.9
        assert await store.cache_get("kept") is None  # not yet: still the fallback
        assert store.degraded
        calls = primary.calls
        clock.now = 30.0
        assert await store.cache_get("kept") == entry("kept")

    assert not store.degraded
    assert store.kind == "redis"
    assert primary.calls > calls
    assert await primary.cache_get("details") is None
    assert await primary.cache_get("gone") is None
    assert await primary.flag_get("commerce", now=NOW) == NOW + 50.0
    assert await primary.usage_get("2024-03-10") == {"requests": 3, "cache_hits": 4}
    spent = await primary.quota_state(now=NOW, daily_limit=LIMIT)
    assert (spent.remaining, spent.reset_at) == (0, NOW + 600.0)
    assert await store.fallback.cache_count() == 0  # private answers dropped
    assert warnings_of(caplog)[-1] == (
        "Redis reachable again: back to the shared limiter, quota and cache"
    )
    assert len(warnings_of(caplog)) == 2


async def test_a_failed_probe_stays_on_the_fallback_quietly(
    flaky: Flaky, caplog: pytest.LogCaptureFixture
) -> None:
    store, primary, clock = flaky
    primary.down = True
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        await store.usage_add("2024-03-10", {"requests": 1})
        clock.now = 31.0
        calls = primary.calls
        await store.usage_add("2024-03-10", {"requests": 1})  # probe: replay fails
        assert primary.calls == calls + 1
        clock.now = 60.0
        assert await store.usage_get("2024-03-10") == {"requests": 2}
        assert primary.calls == calls + 1  # the next probe is 30 s after the failed one
    assert len(warnings_of(caplog)) == 1
    assert store.degraded


async def test_invalidations_beyond_the_bound_become_a_clear(
    flaky: Flaky, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fallback_module, "MAX_PENDING_INVALIDATIONS", 2)
    store, primary, clock = flaky
    await store.cache_set(entry("untagged"), keep=1.0)
    primary.down = True
    for tag in ("a", "b", "c"):
        await store.cache_invalidate_tag(tag)
    await store.cache_delete("x")  # after the clear: nothing more to remember
    await store.cache_invalidate_tag("d")
    assert (store._cleared, store._invalidated_tags, store._deleted_keys) == (True, set(), set())
    primary.down = False
    clock.now = 30.0

    assert await store.cache_count() == 0
    assert await primary.cache_get("untagged") is None


async def test_slots_go_back_to_the_store_that_gave_them(flaky: Flaky) -> None:
    store, primary, clock = flaky
    shared = await store.admit(now=NOW - 5.0, interval=INTERVAL, daily_limit=LIMIT)
    primary.down = True
    private = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    await store.release_slot(slot=private.slot, interval=INTERVAL)
    await store.release_slot(slot=shared.slot, interval=INTERVAL)  # unreachable: dropped

    assert (await store.fallback.quota_state(now=NOW, daily_limit=LIMIT)).used == 1  # seeded
    again = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    assert again.slot == private.slot
    primary.down = False
    clock.now = 30.0
    await store.release_slot(slot=shared.slot, interval=INTERVAL)
    assert (await primary.quota_state(now=NOW, daily_limit=LIMIT)).used == 0
    assert (await primary.admit(now=NOW - 5.0, interval=INTERVAL, daily_limit=LIMIT)).slot == (
        shared.slot
    )


async def test_requests_admitted_during_an_outage_are_counted_and_replayed(flaky: Flaky) -> None:
    store, primary, clock = flaky
    day = utc_day(NOW)
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    primary.down = True
    private = [await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT) for _ in range(3)]
    await store.release_slot(slot=private[2].slot, interval=INTERVAL, day=private[2].day)

    assert await store.usage_get(day) == {"requests": 2}  # this process's, while degraded
    primary.down = False
    clock.now = 30.0
    assert await store.usage_get(day) == {"requests": 3}  # 1 before + 2 replayed


async def test_concurrent_calls_during_a_probe_use_the_fallback(flaky: Flaky) -> None:
    store, primary, clock = flaky
    primary.down = True
    await store.cache_set(entry("private"), keep=1.0)
    primary.down = False
    clock.now = 30.0
    release = asyncio.Event()
    real_flag_set = primary.flag_set

    async def slow_flag_set(name: str, *, until: float) -> None:
        await release.wait()
        await real_flag_set(name, until=until)

    primary.flag_set = slow_flag_set  # type: ignore[method-assign]
    probe = asyncio.ensure_future(store.flag_set("commerce", until=NOW + 5.0))
    await asyncio.sleep(0)
    assert await store.cache_get("private") is not None  # served by the fallback meanwhile
    release.set()
    await probe
    assert await store.cache_get("private") is None
    assert await store.flag_get("commerce", now=NOW) == NOW + 5.0


async def test_pending_usage_keeps_a_week(flaky: Flaky) -> None:
    store, primary, _ = flaky
    primary.down = True
    await store.usage_add("2024-03-01", {"requests": 1})
    await store.usage_add("2024-03-03", {})
    await store.usage_add("2024-03-10", {"requests": 1})
    assert await store.usage_get("2024-03-01") == {}
    assert await store.usage_get("2024-03-10") == {"requests": 1}


async def test_other_errors_are_not_swallowed(flaky: Flaky) -> None:
    store, primary, _ = flaky
    primary.down = True
    primary.error = redis_errors.ResponseError("ERR bad script")
    with pytest.raises(redis_errors.ResponseError):
        await store.cache_get("k")
    assert not store.degraded

    await store.aclose()
    await store.aclose()
    with pytest.raises(RuntimeError):
        await store.cache_get("k")
    with pytest.raises(RuntimeError):
        await store.release_slot(slot=NOW, interval=INTERVAL)
    with pytest.raises(RuntimeError):
        await store.open()


async def test_open_with_an_unreachable_primary_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary = FlakyStore()
    primary.down = True
    store = FallbackStore(primary, fallback=MemoryStore(max_entries=1))
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        await store.open()
        assert (await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted
    assert store.degraded
    assert len(warnings_of(caplog)) == 1
    await store.aclose()


@pytest.mark.parametrize("error", [DOWN, ValueError("bug")], ids=["unreachable", "bug"])
async def test_aclose_tolerates_only_an_unreachable_primary(error: Exception) -> None:
    class Failing(FlakyStore):
        async def aclose(self) -> None:
            await super().aclose()
            raise error

    fallback = MemoryStore(max_entries=1)
    store = FallbackStore(Failing(), fallback=fallback)
    if isinstance(error, ValueError):
        with pytest.raises(ValueError, match="bug"):
            await store.aclose()
    else:
        await store.aclose()
    with pytest.raises(RuntimeError):
        await fallback.cache_count()  # closed either way


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (redis_errors.ConnectionError("refused"), True),
        (redis_errors.TimeoutError("slow"), True),
        (redis_errors.BusyLoadingError("LOADING"), True),
        (redis_errors.AuthenticationError("WRONGPASS"), True),
        (redis_errors.ReadOnlyError("READONLY"), True),
        (redis_errors.OutOfMemoryError("OOM"), True),
        (redis_errors.MasterDownError("MASTERDOWN"), True),
        (ConnectionRefusedError(), True),
        (asyncio.TimeoutError(), True),
        (sqlite3.OperationalError("unable to open database file"), True),
        (sqlite3.OperationalError("disk I/O error"), True),
        (sqlite3.OperationalError("database or disk is full"), True),
        (sqlite3.OperationalError("attempt to write a readonly database"), True),
        (sqlite3.OperationalError("database is locked"), False),
        (sqlite3.OperationalError("no such table: cache"), False),
        (sqlite3.DatabaseError("file is not a database"), False),
        (redis_errors.ResponseError("ERR wrong number of arguments"), False),
        (redis_errors.NoScriptError("NOSCRIPT"), False),
        (RuntimeError("closed"), False),
        (ValueError("bug"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_what_counts_as_unreachable(error: BaseException, expected: bool) -> None:
    assert is_unavailable(error) is expected


# -- FallbackStore over a real redis-server that dies --------------------------------------------


async def test_redis_killed_mid_run_then_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    with RedisServer(tmp_path / "redis") as server:
        primary = RedisStore(server.url, prefix=unique_prefix(), max_entries=100)
        store = FallbackStore(
            primary, fallback=MemoryStore(max_entries=10), retry_after=30.0, clock=clock
        )
        try:
            with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
                await _outage_and_return(store, server, clock, caplog)
        finally:
            await store.aclose()
    messages = warnings_of(caplog)
    assert len(messages) == 2
    assert messages[0].startswith("Redis unreachable")
    assert messages[1].startswith("Redis reachable again")


async def _outage_and_return(
    store: FallbackStore, server: RedisServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time()
    for _ in range(2):
        assert (await store.admit(now=now, interval=INTERVAL, daily_limit=4)).admitted
    await store.cache_set(entry("GET /a", stored_at=now), tags=["event:1"], keep=10.0)
    assert await store.cache_get("GET /a") is not None
    assert warnings_of(caplog) == []

    server.kill()
    assert await store.cache_get("GET /a") is None  # uncached, no exception
    assert store.kind == "redis (fallback: memory)"
    late = [await store.admit(now=now, interval=INTERVAL, daily_limit=4) for _ in range(3)]
    assert [a.admitted for a in late] == [True, True, False]  # 2 + 2 = the limit
    assert late[1].slot - late[0].slot == pytest.approx(INTERVAL, abs=EPSILON)
    await store.cache_set(entry("GET /b", stored_at=now), keep=10.0)
    assert await store.cache_get("GET /b") is not None
    await store.usage_add("2024-03-10", {"requests": 2})
    await store.cache_invalidate_tag("event:1")
    assert len(warnings_of(caplog)) == 1

    server.start()  # same port, empty: no persistence
    clock.now = 29.0
    assert await store.cache_get("GET /b") is not None  # still private
    clock.now = 30.0
    assert await store.cache_get("GET /b") is None  # shared again
    assert store.kind == "redis"
    assert await store.usage_get("2024-03-10") == {"requests": 2}  # replayed
    fresh = await store.admit(now=now, interval=INTERVAL, daily_limit=4)
    # Redis came back empty (no persistence): the budget does not restart from zero, but from
    # the 2 requests this process saw spent on it before the outage.
    assert (fresh.admitted, fresh.quota_remaining) == (True, 1)
