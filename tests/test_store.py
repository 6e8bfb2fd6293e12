"""The Store interface, run against every backend, then what only SQLite does."""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import math
import os
import sqlite3
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from tests.store_backends import (  # noqa: F401
    StoreFactory,
    store_factory_fixture,
    store_fixture,
    write_limiter_row,
)
from ticketmaster_async._constants import (
    DAILY_WINDOW_SECONDS,
    LOGGER_NAME,
    QUOTA_RESET_MAX_AHEAD_SECONDS,
    SQLITE_LOOP_MAX_BODY_BYTES,
)
from ticketmaster_async._store import sqlite as sqlite_module
from ticketmaster_async._store._time import UtcDays, plausible_reset, utc_day, utc_from_epoch
from ticketmaster_async._store._worker import make_quiet_daemon, quiet_worker
from ticketmaster_async._store.base import CacheEntry, Store
from ticketmaster_async._store.memory import MemoryStore
from ticketmaster_async._store.sqlite import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLiteStore,
    UnsupportedSchemaError,
)

NOW = 1_700_000_000.0
INTERVAL = 0.2
LIMIT = 10
#: Float slack for sums of epoch seconds (an ulp at 1.7e9 is 2.4e-7 s).
EPSILON = 1e-6


def near(expected: float) -> Any:
    """Absolute tolerance only: a relative one would be ~30 minutes at epoch magnitudes."""
    return pytest.approx(expected, rel=0, abs=EPSILON)


def files(directory: Path, pattern: str = "*") -> list[Path]:
    """Files in ``directory`` matching ``pattern`` (sync: pathlib blocks)."""
    return sorted(directory.glob(pattern))


def file_bytes(path: Path) -> int:
    """Size of ``path`` (sync, like :func:`files`)."""
    return path.stat().st_size


def entry(
    key: str,
    *,
    stored_at: float = NOW,
    ttl: float = 60.0,
    body: bytes = b'{"ok": true}',
    status: int = 200,
) -> CacheEntry:
    return CacheEntry(
        key=key,
        status=status,
        body=body,
        stored_at=stored_at,
        expires_at=stored_at + ttl,
        headers={"content-type": "application/json"},
    )


# -- cache ---------------------------------------------------------------------------------------


async def test_cache_round_trip_and_miss(store: Store) -> None:
    assert await store.cache_get("GET /a") is None
    await store.cache_set(entry("GET /a", body=b"\x00binary\xff"), keep=10.0)

    got = await store.cache_get("GET /a")

    assert got == entry("GET /a", body=b"\x00binary\xff")
    assert got is not None
    assert got.is_fresh(NOW + 59.0)
    assert not got.is_fresh(NOW + 60.0)
    assert await store.cache_count() == 1


async def test_cache_get_returns_expired_entries(store: Store) -> None:
    await store.cache_set(entry("k", ttl=1.0), keep=0.0)

    got = await store.cache_get("k")

    assert got is not None
    assert not got.is_fresh(NOW + 100.0)
    assert got.age(NOW + 100.0) == 100.0


async def test_cache_set_replaces_entry_and_its_tags(store: Store) -> None:
    await store.cache_set(entry("k", body=b"old"), tags=["event:1", "venue:9"], keep=1.0)
    await store.cache_set(entry("k", body=b"new", status=404), tags=["event:2"], keep=1.0)

    got = await store.cache_get("k")
    assert got is not None
    assert (got.body, got.status) == (b"new", 404)
    assert await store.cache_count() == 1
    assert await store.cache_invalidate_tag("event:1") == 0
    assert await store.cache_invalidate_tag("venue:9") == 0
    assert await store.cache_invalidate_tag("event:2") == 1
    assert await store.cache_get("k") is None


async def test_cache_invalidate_tag_drops_only_tagged_entries(store: Store) -> None:
    await store.cache_set(entry("details"), tags=["event:1", "event:1"], keep=1.0)
    await store.cache_set(entry("prices"), tags=["event:1"], keep=1.0)
    await store.cache_set(entry("other"), tags=["event:2"], keep=1.0)
    await store.cache_set(entry("untagged"), keep=1.0)

    assert await store.cache_invalidate_tag("event:1") == 2
    assert await store.cache_invalidate_tag("event:1") == 0
    assert await store.cache_invalidate_tag("no-such-tag") == 0
    assert await store.cache_get("details") is None
    assert await store.cache_get("prices") is None
    assert await store.cache_get("other") is not None
    assert await store.cache_count() == 2


async def test_cache_delete_also_forgets_tags(store: Store) -> None:
    await store.cache_set(entry("a"), tags=["t"], keep=1.0)
    await store.cache_set(entry("b"), tags=["t"], keep=1.0)

    await store.cache_delete("a")
    await store.cache_delete("missing")

    assert await store.cache_get("a") is None
    assert await store.cache_invalidate_tag("t") == 1


@pytest.mark.parametrize("how", ["delete", "invalidate", "purge", "clear", "evict", "replace"])
async def test_a_key_written_again_does_not_inherit_old_tags(
    store_factory: StoreFactory, how: str
) -> None:
    bounded = await store_factory(max_entries=1)
    await bounded.cache_set(entry("k", ttl=1.0), tags=["old"], keep=0.0)
    if how == "delete":
        await bounded.cache_delete("k")
    elif how == "invalidate":
        assert await bounded.cache_invalidate_tag("old") == 1
    elif how == "purge":
        assert await bounded.cache_purge(now=NOW + 2.0) == 1
    elif how == "clear":
        assert await bounded.cache_clear() == 1
    elif how == "evict":
        await bounded.cache_set(entry("newer", stored_at=NOW + 1.0), keep=0.0)
        assert await bounded.cache_get("k") is None
        await bounded.cache_delete("newer")

    await bounded.cache_set(entry("k", stored_at=NOW + 3.0), tags=["new"], keep=0.0)

    assert await bounded.cache_invalidate_tag("old") == 0
    assert await bounded.cache_get("k") is not None
    assert await bounded.cache_invalidate_tag("new") == 1


async def test_backend_names_its_kind_and_sqlite_picks_its_admit_path(store: Store) -> None:
    assert store.kind in {"memory", "sqlite", "redis"}
    if isinstance(store, SQLiteStore):
        assert store.uses_returning is (sqlite3.sqlite_version_info >= (3, 35))


async def test_cache_clear_keeps_quota_usage_and_flags(store: Store) -> None:
    for key in ("a", "b", "c"):
        await store.cache_set(entry(key), tags=["t"], keep=1.0)
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await store.usage_add("2024-01-01", {"requests": 1})
    await store.flag_set("commerce", until=NOW + 10)

    assert await store.cache_clear() == 3

    assert await store.cache_count() == 0
    assert await store.cache_invalidate_tag("t") == 0
    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).used == 1
    assert await store.usage_get("2024-01-01") == {"requests": 1}
    assert await store.flag_get("commerce", now=NOW) == NOW + 10
    assert await store.cache_clear() == 0


async def test_cache_purge_drops_rows_past_keep_time(store: Store) -> None:
    await store.cache_set(entry("short", ttl=10.0), tags=["t"], keep=5.0)  # keep until NOW+15
    await store.cache_set(entry("long", ttl=10.0), tags=["t"], keep=100.0)  # until NOW+110

    assert await store.cache_purge(now=NOW + 15.0) == 0  # the keep time itself still counts
    assert await store.cache_purge(now=NOW + 15.5) == 1

    assert await store.cache_get("short") is None
    assert await store.cache_get("long") is not None
    assert await store.cache_invalidate_tag("t") == 1


async def test_cache_evicts_oldest_beyond_bound(store_factory: StoreFactory) -> None:
    bounded = await store_factory(max_entries=5)
    # Stored out of order: eviction goes by stored_at, not by write order.
    # Key names sort against their ages, so an eviction by key would keep the wrong ones.
    ages = [7, 3, 9, 1, 5, 8, 2, 6, 4, 0]
    for age in ages:
        await bounded.cache_set(entry(f"k{9 - age}", stored_at=NOW + age), tags=["t"], keep=1.0)
        assert await bounded.cache_count() <= 5

    kept = [age for age in range(10) if await bounded.cache_get(f"k{9 - age}") is not None]
    assert kept == [5, 6, 7, 8, 9]
    assert await bounded.cache_invalidate_tag("t") == 5


async def test_memory_store_evicts_by_age_after_many_rewrites() -> None:
    memory = MemoryStore(max_entries=2)
    for version in range(20):  # stale age marks pile up, then get compacted
        await memory.cache_set(entry("a", stored_at=NOW + 10 + version), keep=1.0)
    await memory.cache_set(entry("b", stored_at=NOW + 1), keep=1.0)
    await memory.cache_set(entry("c", stored_at=NOW + 2), keep=1.0)

    assert await memory.cache_get("b") is None
    assert await memory.cache_get("c") is not None
    got = await memory.cache_get("a")
    assert got is not None
    assert got.stored_at == NOW + 29
    assert len(memory._ages) <= 2 * await memory.cache_count() + 2
    await memory.aclose()


async def test_rewritten_entry_is_aged_by_its_new_stored_at(store_factory: StoreFactory) -> None:
    bounded = await store_factory(max_entries=3)
    await bounded.cache_set(entry("a", stored_at=NOW), keep=1.0)
    await bounded.cache_set(entry("a", stored_at=NOW + 10), keep=1.0)  # no longer the oldest
    for age, key in [(5, "b"), (6, "c"), (7, "d")]:
        await bounded.cache_set(entry(key, stored_at=NOW + age), keep=1.0)

    present = [key for key in "abcd" if await bounded.cache_get(key) is not None]
    assert present == ["a", "c", "d"]


async def test_memory_store_bound_survives_many_replacements() -> None:
    memory = MemoryStore(max_entries=3)
    for round_ in range(50):
        for key in ("a", "b", "c", "d"):
            await memory.cache_set(entry(key, stored_at=NOW + round_), keep=1.0)
    assert await memory.cache_count() == 3
    assert await memory.cache_get("d") is not None
    assert await memory.cache_get("a") is None
    await memory.aclose()


# -- limiter + quota -----------------------------------------------------------------------------


async def test_admit_spaces_slots_by_interval(store: Store) -> None:
    admissions = [
        await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT) for _ in range(3)
    ]

    assert [a.admitted for a in admissions] == [True, True, True]
    assert [a.slot for a in admissions] == [NOW, NOW + INTERVAL, NOW + INTERVAL + INTERVAL]
    assert [a.wait for a in admissions] == pytest.approx([0.0, 0.2, 0.4], abs=EPSILON)
    assert [a.quota_remaining for a in admissions] == [9, 8, 7]
    assert {a.reset_at for a in admissions} == {NOW + DAILY_WINDOW_SECONDS}


async def test_admit_after_idle_time_starts_at_now(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    later = await store.admit(now=NOW + 5.0, interval=INTERVAL, daily_limit=LIMIT)

    assert (later.slot, later.wait) == (NOW + 5.0, 0.0)


async def test_concurrent_admits_get_unique_spaced_slots(store: Store) -> None:
    admissions = await asyncio.gather(
        *(store.admit(now=NOW, interval=INTERVAL, daily_limit=100) for _ in range(40))
    )
    slots = sorted(a.slot for a in admissions)
    assert len(set(slots)) == 40
    assert all(b - a == near(INTERVAL) for a, b in itertools.pairwise(slots))
    assert (await store.quota_state(now=NOW, daily_limit=100)).used == 40


async def test_quota_is_never_exceeded_and_refusal_reserves_nothing(store: Store) -> None:
    for _ in range(3):
        assert (await store.admit(now=NOW, interval=INTERVAL, daily_limit=3)).admitted

    refused = await store.admit(now=NOW + 1.0, interval=INTERVAL, daily_limit=3)

    assert not refused.admitted
    assert refused.quota_remaining == 0
    assert refused.reset_at == NOW + DAILY_WINDOW_SECONDS
    assert refused.wait == 0.0
    state = await store.quota_state(now=NOW + 1.0, daily_limit=3)
    assert (state.used, state.remaining) == (3, 0)
    # The refused call reserved no slot: after the reset the next slot is simply "now".
    reset = NOW + DAILY_WINDOW_SECONDS
    assert (await store.admit(now=reset, interval=INTERVAL, daily_limit=3)).wait == 0.0


async def test_quota_window_rolls_over_at_reset(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=2)
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=2)
    reset = NOW + DAILY_WINDOW_SECONDS
    assert not (await store.admit(now=reset - 0.001, interval=INTERVAL, daily_limit=2)).admitted

    rolled = await store.admit(now=reset, interval=INTERVAL, daily_limit=2)

    assert rolled.admitted
    assert rolled.quota_remaining == 1
    assert rolled.reset_at == reset + DAILY_WINDOW_SECONDS


async def test_zero_daily_limit_refuses_without_a_window(store: Store) -> None:
    refused = await store.admit(now=NOW, interval=INTERVAL, daily_limit=0)
    assert (refused.admitted, refused.quota_remaining, refused.reset_at) == (False, 0, None)


async def test_quota_state_reads_fresh_before_first_request_and_after_reset(store: Store) -> None:
    fresh = await store.quota_state(now=NOW, daily_limit=LIMIT)
    assert (fresh.used, fresh.remaining, fresh.daily_limit, fresh.reset_at) == (0, 10, 10, None)

    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    running = await store.quota_state(now=NOW + 1, daily_limit=LIMIT)
    assert (running.used, running.remaining, running.reset_at) == (
        1,
        9,
        NOW + DAILY_WINDOW_SECONDS,
    )

    after = await store.quota_state(now=NOW + DAILY_WINDOW_SECONDS, daily_limit=LIMIT)
    assert (after.used, after.remaining, after.reset_at) == (0, 10, None)


async def test_quota_sync_only_lowers_what_is_left(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    async def remaining() -> int:
        return (await store.quota_state(now=NOW, daily_limit=LIMIT)).remaining

    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=9, reset_at=None)
    assert await remaining() == 8  # the server has seen less than us: keep ours
    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=5, reset_at=None)
    assert await remaining() == 5
    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=7, reset_at=None)
    assert await remaining() == 5  # an older response does not move the counter back
    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=None, reset_at=None)
    assert await remaining() == 5


async def test_quota_sync_sets_only_a_future_reset(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=None, reset_at=NOW - 1.0)
    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).reset_at == (
        NOW + DAILY_WINDOW_SECONDS
    )
    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=None, reset_at=NOW + 3600.0)
    state = await store.quota_state(now=NOW, daily_limit=LIMIT)
    assert (state.reset_at, state.used) == (NOW + 3600.0, 1)


async def test_quota_sync_before_any_request_starts_a_window(store: Store) -> None:
    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=4, reset_at=None)

    state = await store.quota_state(now=NOW, daily_limit=LIMIT)
    assert (state.used, state.remaining) == (6, 4)
    assert state.reset_at == NOW + DAILY_WINDOW_SECONDS
    admitted = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    assert admitted.quota_remaining == 3


async def test_quota_sync_nothing_given_changes_nothing(store: Store) -> None:
    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=None, reset_at=None)
    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).reset_at is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(NOW + 500.0, NOW + 500.0, id="future-reset-given"),
        pytest.param(NOW - 1.0, NOW - 100.0 + DAILY_WINDOW_SECONDS, id="past-reset-window"),
        pytest.param(None, NOW - 100.0 + DAILY_WINDOW_SECONDS, id="no-reset-window"),
    ],
)
async def test_quota_mark_spent_with_a_window(
    store: Store, given: float | None, expected: float
) -> None:
    await store.admit(now=NOW - 100.0, interval=INTERVAL, daily_limit=LIMIT)

    reset = await store.quota_mark_spent(now=NOW, daily_limit=LIMIT, reset_at=given)

    assert reset == expected
    refused = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    assert (refused.admitted, refused.reset_at, refused.quota_remaining) == (False, expected, 0)


async def test_quota_mark_spent_without_a_window_lasts_a_day(store: Store) -> None:
    reset = await store.quota_mark_spent(now=NOW, daily_limit=LIMIT, reset_at=None)

    assert reset == NOW + DAILY_WINDOW_SECONDS
    state = await store.quota_state(now=NOW, daily_limit=LIMIT)
    assert (state.used, state.remaining) == (LIMIT, 0)
    assert (await store.admit(now=reset, interval=INTERVAL, daily_limit=LIMIT)).admitted


async def test_release_slot_gives_back_the_last_slot_and_its_unit(store: Store) -> None:
    first = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    second = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    await store.release_slot(slot=second.slot, interval=INTERVAL)

    again = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    assert again.slot == second.slot
    assert again.quota_remaining == second.quota_remaining
    assert first.slot < again.slot


async def test_release_slot_is_compare_and_set(store: Store) -> None:
    first = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    second = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    # A later slot exists: the earlier one cannot be handed out again, but its unit comes back.
    await store.release_slot(slot=first.slot, interval=INTERVAL)

    third = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    assert third.slot == near(second.slot + INTERVAL)
    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).used == 2


async def test_release_slot_never_counts_below_zero(store: Store) -> None:
    admitted = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await store.release_slot(slot=admitted.slot, interval=INTERVAL)
    await store.release_slot(slot=admitted.slot, interval=INTERVAL)

    state = await store.quota_state(now=NOW, daily_limit=LIMIT)
    assert (state.used, state.remaining) == (0, LIMIT)


# -- implausible quota resets --------------------------------------------------------------------

#: ``Rate-Limit-Reset: 99999999999999999`` (epoch ms): the year 3170843.
FAR_FUTURE_RESET = 99999999999999999 / 1000
IMPLAUSIBLE_RESETS = [
    pytest.param(FAR_FUTURE_RESET, id="year-3170843"),
    pytest.param(NOW + QUOTA_RESET_MAX_AHEAD_SECONDS + 1.0, id="just-over-48h"),
    pytest.param(math.inf, id="inf"),
    pytest.param(math.nan, id="nan"),
]


@pytest.mark.parametrize("reset", IMPLAUSIBLE_RESETS)
async def test_quota_sync_ignores_an_implausible_reset(store: Store, reset: float) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=6, reset_at=reset)

    state = await store.quota_state(now=NOW, daily_limit=LIMIT)
    assert (state.remaining, state.reset_at) == (6, NOW + DAILY_WINDOW_SECONDS)


@pytest.mark.parametrize("reset", IMPLAUSIBLE_RESETS)
async def test_quota_mark_spent_ignores_an_implausible_reset(store: Store, reset: float) -> None:
    in_force = await store.quota_mark_spent(now=NOW, daily_limit=LIMIT, reset_at=reset)

    assert in_force == NOW + DAILY_WINDOW_SECONDS
    refused = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    assert (refused.admitted, refused.reset_at) == (False, NOW + DAILY_WINDOW_SECONDS)


async def test_a_reset_48_hours_ahead_is_still_plausible(store: Store) -> None:
    limit = NOW + QUOTA_RESET_MAX_AHEAD_SECONDS
    await store.quota_sync(now=NOW, daily_limit=LIMIT, available=3, reset_at=limit)

    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).reset_at == limit


async def test_a_stored_implausible_reset_reads_as_48_hours_ahead(store: Store) -> None:
    # Left by an older version (or another tool) before resets were checked.
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await write_limiter_row(store, quota_used=LIMIT, reset_at=FAR_FUTURE_RESET)
    bound = NOW + QUOTA_RESET_MAX_AHEAD_SECONDS

    refused = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    state = await store.quota_state(now=NOW, daily_limit=LIMIT)
    in_force = await store.quota_mark_spent(now=NOW, daily_limit=LIMIT, reset_at=None)

    assert (refused.admitted, refused.quota_remaining, refused.reset_at) == (False, 0, bound)
    assert (state.used, state.reset_at) == (LIMIT, bound)
    assert in_force == bound
    # The next admission after that bound starts a window of its own: the budget comes back.
    assert (await store.admit(now=bound, interval=INTERVAL, daily_limit=LIMIT)).admitted


async def test_an_admission_repairs_a_stored_implausible_reset(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await write_limiter_row(store, quota_used=2, reset_at=FAR_FUTURE_RESET)

    admitted = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    assert (admitted.admitted, admitted.quota_remaining) == (True, LIMIT - 3)
    assert admitted.reset_at == NOW + QUOTA_RESET_MAX_AHEAD_SECONDS
    later = NOW + 3600.0  # written back: an hour later the reset has not moved with the clock
    state = await store.quota_state(now=later, daily_limit=LIMIT)
    assert state.reset_at == NOW + QUOTA_RESET_MAX_AHEAD_SECONDS


# -- wall clock stepped back ---------------------------------------------------------------------


class StoreMonotonic:
    """The SQLite store's monotonic clock (how long a statement waited for the lock), by hand."""

    def __init__(self) -> None:
        self.now = 0.0
        self.step = 0.0  # added after every reading

    def monotonic(self) -> float:
        reading = self.now
        self.now += self.step
        return reading


@pytest.fixture(name="store_monotonic")
def store_monotonic_fixture(monkeypatch: pytest.MonkeyPatch) -> StoreMonotonic:
    """Frozen unless told: the tests below compare exact slots with a fake ``now``."""
    clock = StoreMonotonic()
    monkeypatch.setattr(sqlite_module, "time", clock, raising=False)
    return clock


@pytest.mark.usefixtures("store_monotonic")
async def test_a_clock_stepped_back_never_adds_more_than_one_slot(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=100)
    queued = await store.admit(now=NOW, interval=INTERVAL, daily_limit=100)
    queue = queued.wait + INTERVAL  # the next slot is this far from NOW

    back = await store.admit(now=NOW - 30.0, interval=INTERVAL, daily_limit=100)
    after = await store.admit(now=NOW - 30.0, interval=INTERVAL, daily_limit=100)

    assert back.wait == near(queue)  # not 30 s more
    assert after.wait == near(queue + INTERVAL)  # and the spacing holds on the new clock


@pytest.mark.usefixtures("store_monotonic")
async def test_a_step_back_smaller_than_a_slot_is_absorbed(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=100)

    back = await store.admit(now=NOW - INTERVAL / 2, interval=INTERVAL, daily_limit=100)

    assert back.slot == near(NOW + INTERVAL)  # the schedule stays: it waits half a slot more
    assert back.wait == near(1.5 * INTERVAL)


@pytest.mark.usefixtures("store_monotonic")
async def test_small_steps_back_add_up(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=100)
    await store.admit(now=NOW - 0.75 * INTERVAL, interval=INTERVAL, daily_limit=100)

    # 1.5 slots behind the latest reading now: the whole step is taken back at once.
    back = await store.admit(now=NOW - 1.5 * INTERVAL, interval=INTERVAL, daily_limit=100)

    # Two slots were reserved from NOW (real time): the next one is 2 slots from NOW, which
    # the stepped clock calls NOW - 1.5 slots + 2 slots.
    assert back.wait == near(2 * INTERVAL)


@pytest.mark.usefixtures("store_monotonic")
async def test_a_clock_moving_forward_is_not_a_step_back(store: Store) -> None:
    await store.admit(now=NOW, interval=INTERVAL, daily_limit=100)
    ahead = await store.admit(now=NOW + 10.0, interval=INTERVAL, daily_limit=100)
    same = await store.admit(now=NOW + 10.0, interval=INTERVAL, daily_limit=100)

    assert (ahead.wait, same.wait) == (0.0, near(INTERVAL))


@pytest.mark.parametrize("path", ["loop-thread", "worker"])
async def test_sqlite_a_caller_that_waited_for_the_lock_is_not_a_step_back(
    store_monotonic: StoreMonotonic,
    open_sqlite: OpenSQLite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    if path == "worker":
        monkeypatch.setattr(SQLiteStore, "_open_fast", lambda self: None)
    fresh = await open_sqlite(tmp_path / "shared.sqlite3")
    stale = await open_sqlite(tmp_path / "shared.sqlite3")
    first = await fresh.admit(now=NOW + 5.0, interval=INTERVAL, daily_limit=100)
    # ``stale`` read NOW, then waited 5 s for another process's write lock (its monotonic
    # clock moves 5 s between the call and the statement): its NOW is old, not a clock step.
    store_monotonic.step = 5.0

    late = await stale.admit(now=NOW, interval=INTERVAL, daily_limit=100)

    assert late.slot == near(first.slot + INTERVAL)  # after the fresh one, never on top of it
    assert late.wait == near(5.0 + INTERVAL)


# -- requests counted at admission ---------------------------------------------------------------


async def test_admissions_are_counted_in_the_days_requests(store: Store) -> None:
    day = utc_day(NOW)
    admissions = [await store.admit(now=NOW, interval=INTERVAL, daily_limit=3) for _ in range(3)]
    refused = await store.admit(now=NOW, interval=INTERVAL, daily_limit=3)

    assert [a.day for a in admissions] == [day] * 3
    assert (refused.admitted, refused.day) == (False, None)
    assert await store.usage_get(day) == {"requests": 3}
    await store.release_slot(slot=admissions[2].slot, interval=INTERVAL, day=admissions[2].day)
    assert await store.usage_get(day) == {"requests": 2}
    # Counters added by usage_add (a degraded process replaying its outage) add up.
    await store.usage_add(day, {"requests": 1, "cache_hits": 4})
    assert await store.usage_get(day) == {"requests": 3, "cache_hits": 4}


async def test_a_release_without_a_day_keeps_the_request_counted(store: Store) -> None:
    admitted = await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await store.release_slot(slot=admitted.slot, interval=INTERVAL)

    assert await store.usage_get(utc_day(NOW)) == {"requests": 1}
    assert (await store.quota_state(now=NOW, daily_limit=LIMIT)).used == 0


async def test_requests_of_a_finished_day_stay_counted(store: Store) -> None:
    tomorrow = NOW + 86_400.0
    for _ in range(2):
        await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    late = await store.admit(now=tomorrow, interval=INTERVAL, daily_limit=LIMIT)
    await store.admit(now=tomorrow, interval=INTERVAL, daily_limit=LIMIT)

    assert await store.usage_get(utc_day(NOW)) == {"requests": 2}
    assert await store.usage_get(utc_day(tomorrow)) == {"requests": 2}
    await store.release_slot(slot=late.slot, interval=INTERVAL, day=late.day)
    assert await store.usage_get(utc_day(tomorrow)) == {"requests": 1}


# -- usage + flags -------------------------------------------------------------------------------


async def test_usage_add_accumulates_per_day(store: Store) -> None:
    await store.usage_add("2024-03-10", {"requests": 2, "cache_hits": 5})
    await store.usage_add("2024-03-10", {"requests": 3, "errors.timeout": 1})
    await store.usage_add("2024-03-11", {"requests": 1})
    await store.usage_add("2024-03-11", {})

    assert await store.usage_get("2024-03-10") == {
        "requests": 5,
        "cache_hits": 5,
        "errors.timeout": 1,
    }
    assert await store.usage_get("2024-03-11") == {"requests": 1}
    assert await store.usage_get("2024-03-12") == {}


async def test_usage_drops_days_older_than_a_week(store: Store) -> None:
    await store.usage_add("2024-03-01", {"requests": 1})
    await store.usage_add("2024-03-03", {"requests": 1})

    await store.usage_add("2024-03-10", {"requests": 1})

    assert await store.usage_get("2024-03-01") == {}
    assert await store.usage_get("2024-03-03") == {"requests": 1}


async def test_flags_expire(store: Store) -> None:
    assert await store.flag_get("commerce", now=NOW) is None
    await store.flag_set("commerce", until=NOW + 10.0)
    assert await store.flag_get("commerce", now=NOW) == NOW + 10.0
    assert await store.flag_get("commerce", now=NOW + 10.0) is None
    await store.flag_set("commerce", until=NOW + 20.0)
    assert await store.flag_get("commerce", now=NOW + 10.0) == NOW + 20.0
    assert await store.flag_get("top_picks", now=NOW) is None


# -- lifecycle -----------------------------------------------------------------------------------


async def test_open_and_aclose_are_idempotent_and_closed_store_refuses(store: Store) -> None:
    await store.open()
    await store.open()
    await store.aclose()
    await store.aclose()

    with pytest.raises(RuntimeError):
        await store.cache_get("k")
    with pytest.raises(RuntimeError):
        await store.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    with pytest.raises(RuntimeError):
        await store.open()


async def test_stores_are_opened_lazily(tmp_path: Path) -> None:
    lazy = SQLiteStore(tmp_path / "lazy.sqlite3", max_entries=10)
    try:
        results = await asyncio.gather(*(lazy.cache_get("k") for _ in range(5)))
        assert results == [None] * 5
        assert lazy.uses_returning is (sqlite3.sqlite_version_info >= (3, 35))
    finally:
        await lazy.aclose()


async def test_two_sqlite_connections_share_one_file(store_factory: StoreFactory) -> None:
    first = await store_factory(name="shared.sqlite3")
    second = await store_factory(name="shared.sqlite3")
    admissions = await asyncio.gather(
        *(s.admit(now=NOW, interval=INTERVAL, daily_limit=100) for s in [first, second] * 10)
    )
    await first.cache_set(entry("k"), keep=1.0)

    if first.kind == "memory":
        return  # memory stores are private to each instance
    slots = sorted(a.slot for a in admissions)
    assert len(set(slots)) == 20
    assert slots[-1] == near(NOW + 19 * INTERVAL)
    assert await second.cache_get("k") == entry("k")
    assert (await second.quota_state(now=NOW, daily_limit=100)).used == 20


# -- SQLite only ---------------------------------------------------------------------------------


OpenSQLite = Callable[..., Awaitable[SQLiteStore]]


@pytest.fixture(name="open_sqlite")
async def open_sqlite_fixture() -> AsyncIterator[OpenSQLite]:
    """``await open_sqlite(path, **kwargs)``: an opened SQLiteStore, closed after the test even
    when it fails (an unclosed store's worker thread would keep pytest alive at exit)."""
    created: list[SQLiteStore] = []

    async def open_sqlite(path: Path, **kwargs: Any) -> SQLiteStore:
        opened = SQLiteStore(path, max_entries=kwargs.pop("max_entries", 100), **kwargs)
        created.append(opened)
        await opened.open()
        return opened

    yield open_sqlite
    for opened in created:
        await opened.aclose()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
async def test_sqlite_file_is_private_in_a_created_directory(
    open_sqlite: OpenSQLite, tmp_path: Path
) -> None:
    path = tmp_path / "deep" / "er" / "state.sqlite3"
    opened = await open_sqlite(path)
    await opened.cache_set(entry("k"), keep=1.0)

    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    await opened.aclose()


def _readable_wal_file(path: Path) -> sqlite3.Connection:
    """A WAL database written by another tool with mode 0644, its -wal/-shm present (the
    returned connection keeps them); the caller closes it."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("CREATE TABLE notes (x)")
    raw.execute("INSERT INTO notes VALUES (1)")
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        os.chmod(file, 0o644)
    return raw


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
async def test_sqlite_makes_an_existing_readable_file_private(
    open_sqlite: OpenSQLite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite3"
    raw = _readable_wal_file(path)
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
            opened = await open_sqlite(path)
            await opened.cache_set(entry("k"), keep=1.0)
        modes = {
            file.name: stat.S_IMODE(file.stat().st_mode)
            for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        }
    finally:
        raw.close()
    assert modes == dict.fromkeys(modes, 0o600)
    assert caplog.records == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
async def test_sqlite_says_once_when_a_file_cannot_be_made_private(
    open_sqlite: OpenSQLite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "theirs.sqlite3"
    raw = _readable_wal_file(path)

    def not_the_owner(target: object, mode: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted", str(target))

    # Root may chmod anything: "another user's file" is simulated.
    monkeypatch.setattr(os, "chmod", not_the_owner)
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
            opened = await open_sqlite(path)
            await opened.cache_set(entry("k"), keep=1.0)
            assert await opened.cache_get("k") == entry("k")  # it still works
    finally:
        raw.close()
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "cannot make the state file private" in warning
    assert "theirs.sqlite3 (0o644" in warning and "theirs.sqlite3-wal (0o644" in warning
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


async def test_sqlite_uses_wal_and_stores_schema_version(
    open_sqlite: OpenSQLite, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    opened = await open_sqlite(path)
    await opened.aclose()

    reopened = await open_sqlite(path, busy_timeout_ms=1234)
    assert reopened._db is not None
    pragmas = [
        next(iter(await reopened._db.execute_fetchall(f"PRAGMA {name}")))[0]
        for name in ("journal_mode", "synchronous", "busy_timeout")
    ]
    assert pragmas == ["wal", 1, 1234]  # synchronous 1 is NORMAL
    await reopened.aclose()

    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    raw.close()
    assert {"cache", "cache_tags", "limiter", "usage", "flags"} <= tables


async def test_sqlite_refuses_a_newer_schema_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE future_thing (x)")
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    newer = SQLiteStore(path, max_entries=10)

    with pytest.raises(UnsupportedSchemaError, match=f"schema version {SCHEMA_VERSION + 1}"):
        await newer.cache_get("k")
    await newer.aclose()

    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)
    assert raw.execute("SELECT name FROM sqlite_master").fetchall() == [("future_thing",)]
    raw.close()


async def test_sqlite_migrates_forward_from_an_older_version(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    opened = await open_sqlite(path)
    await opened.cache_set(entry("kept"), keep=1.0)
    await opened.aclose()
    step = ("ALTER TABLE flags ADD COLUMN note TEXT",)
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", (*sqlite_module.MIGRATIONS, step))
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)

    reopened = await open_sqlite(path)

    assert await reopened.cache_get("kept") == entry("kept")
    await reopened.aclose()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)
    assert "note" in [r[1] for r in raw.execute("PRAGMA table_info(flags)")]
    raw.close()


def _make_v1_file(path: Path) -> None:
    """A store file as the first schema version left it, with one tagged entry."""
    with sqlite3.connect(path, isolation_level=None) as raw:
        raw.execute("PRAGMA journal_mode = WAL")
        for statement in MIGRATIONS[0]:
            raw.execute(statement)
        raw.execute(
            "INSERT INTO cache (key, status, body, stored_at, expires_at, keep_until, tags) "
            "VALUES ('old', 200, x'7b7d', ?, ?, ?, '[\"event:E1\"]')",
            (NOW, NOW + 60, NOW + 120),
        )
        raw.execute("PRAGMA user_version = 1")
    raw.close()


async def test_sqlite_v1_file_migrates_and_keeps_its_tag_index(
    open_sqlite: OpenSQLite, tmp_path: Path
) -> None:
    path = tmp_path / "v1.sqlite3"
    _make_v1_file(path)

    opened = await open_sqlite(path)
    # Same tags (a refresh): the tag index is left alone; new tags: it follows.
    await opened.cache_set(entry("old"), tags=["event:E1"], keep=60.0)
    await opened.cache_set(entry("moved"), tags=["event:E1"], keep=60.0)
    await opened.cache_set(entry("moved"), tags=["event:E2"], keep=60.0)
    dropped_e1 = await opened.cache_invalidate_tag("event:E1")
    dropped_e2 = await opened.cache_invalidate_tag("event:E2")
    await opened.aclose()

    assert (dropped_e1, dropped_e2) == (1, 1)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    (trigger,) = raw.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'cache_tags_on_update'"
    ).fetchone()
    assert "WHEN old.tags IS NOT new.tags" in trigger
    assert raw.execute("SELECT count(*) FROM cache_tags").fetchone() == (0,)
    raw.close()


async def test_sqlite_v2_file_keeps_its_quota_and_counts_requests_from_now_on(
    open_sqlite: OpenSQLite, tmp_path: Path
) -> None:
    path = tmp_path / "v2.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as raw:
        raw.execute("PRAGMA journal_mode = WAL")
        for step in MIGRATIONS[:2]:
            for statement in step:
                raw.execute(statement)
        raw.execute(
            "UPDATE limiter SET next_free = ?, quota_used = 4, reset_at = ?",
            (NOW + 0.2, NOW + 600.0),
        )
        raw.execute(
            "INSERT INTO usage (day, name, value) VALUES (?, 'requests', 4)", (utc_day(NOW),)
        )
        raw.execute("PRAGMA user_version = 2")
    raw.close()

    opened = await open_sqlite(path)
    admitted = await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    assert (admitted.slot, admitted.quota_remaining) == (NOW + 0.2, LIMIT - 5)
    assert admitted.reset_at == NOW + 600.0
    assert await opened.usage_get(utc_day(NOW)) == {"requests": 5}


async def test_sqlite_a_stored_reset_that_is_not_a_number_never_raises(
    open_sqlite: OpenSQLite, tmp_path: Path
) -> None:
    path = tmp_path / "odd.sqlite3"
    opened = await open_sqlite(path)
    await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE limiter SET reset_at = 'tomorrow'")
    raw.close()

    state = await opened.quota_state(now=NOW, daily_limit=LIMIT)
    admitted = await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)

    assert state.reset_at is None  # read as no window
    assert admitted.admitted
    assert admitted.reset_at == NOW + QUOTA_RESET_MAX_AHEAD_SECONDS  # written back as a number
    assert (await opened.quota_state(now=NOW, daily_limit=LIMIT)).reset_at == admitted.reset_at


async def test_sqlite_failed_migration_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "broken.sqlite3"
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", (("CREATE TABLE a (x)", "NOT SQL"),))
    failing = SQLiteStore(path, max_entries=10)

    with pytest.raises(sqlite3.OperationalError):
        await failing.open()
    await failing.aclose()

    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone() == (0,)
    assert raw.execute("SELECT name FROM sqlite_master").fetchall() == []
    raw.close()
    assert not files(tmp_path, "*.corrupt-*")


async def test_sqlite_corrupt_file_is_moved_aside(
    open_sqlite: OpenSQLite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite3"
    garbage = b"this is not a database, just garbage bytes " * 200
    path.write_bytes(garbage)

    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        opened = await open_sqlite(path)

    await opened.cache_set(entry("k"), keep=1.0)
    assert await opened.cache_get("k") == entry("k")
    assert (await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted
    await opened.aclose()
    (aside,) = files(tmp_path, "state.sqlite3.corrupt-*")
    assert aside.read_bytes() == garbage
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].name == LOGGER_NAME
    assert str(aside) in warnings[0].getMessage()


@pytest.fixture(name="worker_only")
def worker_only_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite stores without their loop-thread connection: every statement goes through the
    aiosqlite worker, where these tests inject their faults. (The loop-thread connection hands
    any error of its own to the worker: see test_sqlite_loop_thread_errors_go_to_the_worker.)"""
    monkeypatch.setattr(SQLiteStore, "_open_fast", lambda self: None)


@pytest.mark.usefixtures("worker_only")
async def test_sqlite_corruption_found_later_rebuilds_the_file(
    open_sqlite: OpenSQLite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "state.sqlite3"
    opened = await open_sqlite(path)
    await opened.cache_set(entry("lost"), keep=1.0)
    real = aiosqlite.Connection.execute_fetchall
    calls = 0

    def corrupt_once(self: aiosqlite.Connection, sql: str, parameters: Any = None) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(self, sql, parameters)

    monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", corrupt_once)

    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME), pytest.raises(sqlite3.DatabaseError):
        await opened.cache_get("lost")

    assert await opened.cache_get("lost") is None  # a fresh file
    await opened.cache_set(entry("new"), keep=1.0)
    assert await opened.cache_count() == 1
    await opened.aclose()
    assert len(files(tmp_path, "state.sqlite3.corrupt-*")) == 1
    assert any("moved it to" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("worker_only")
@pytest.mark.parametrize("replaced", [True, False], ids=["replaced", "deleted"])
async def test_sqlite_never_moves_a_file_another_process_already_replaced(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replaced: bool
) -> None:
    path = tmp_path / "state.sqlite3"
    opened = await open_sqlite(path)
    # Another process found the old file corrupt, moved it and built a fresh one meanwhile.
    fresh = await open_sqlite(tmp_path / "fresh.sqlite3")
    await fresh.cache_set(entry("from-the-other-process"), keep=1.0)
    await fresh.aclose()
    for suffix in ("", "-wal", "-shm"):  # what _move_aside does in the other process
        os.replace(f"{path}{suffix}", tmp_path / f"moved-by-other.sqlite3{suffix}")
    if replaced:
        os.replace(tmp_path / "fresh.sqlite3", path)
    real = aiosqlite.Connection.execute_fetchall

    def corrupt_once(self: aiosqlite.Connection, sql: str, parameters: Any = None) -> Any:
        monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", real)
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", corrupt_once)
    with pytest.raises(sqlite3.DatabaseError):
        await opened.cache_get("k")

    assert (await opened.cache_get("from-the-other-process") is not None) is replaced
    assert not files(tmp_path, "*.corrupt-*")
    await opened.aclose()


@pytest.mark.usefixtures("worker_only")
async def test_sqlite_concurrent_tasks_recover_from_corruption_once(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = await open_sqlite(tmp_path / "state.sqlite3")
    real = aiosqlite.Connection.execute_fetchall
    failures = 2

    async def corrupt_twice(self: aiosqlite.Connection, sql: str, parameters: Any = None) -> Any:
        nonlocal failures
        if failures:
            failures -= 1
            await asyncio.sleep(0)  # both statements are in flight on the old connection
            raise sqlite3.DatabaseError("file is not a database")
        return await real(self, sql, parameters)

    monkeypatch.setattr(aiosqlite.Connection, "execute_fetchall", corrupt_twice)

    results = await asyncio.gather(
        opened.cache_get("a"), opened.cache_get("b"), return_exceptions=True
    )

    assert [type(r) for r in results] == [sqlite3.DatabaseError, sqlite3.DatabaseError]
    assert len(files(tmp_path, "state.sqlite3.corrupt-*")) == 1
    assert await opened.cache_get("a") is None
    await opened.aclose()


async def test_sqlite_busy_errors_never_move_the_file(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.sqlite3"
    opened = await open_sqlite(path, busy_timeout_ms=50)
    await opened.cache_set(entry("kept"), keep=1.0)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await opened.cache_set(entry("blocked"), keep=1.0)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    assert await opened.cache_get("kept") == entry("kept")
    assert not files(tmp_path, "*.corrupt-*")
    await opened.aclose()


@pytest.mark.parametrize(
    ("failures", "message", "raised", "calls"),
    [
        pytest.param(2, "database is locked", None, 3, id="busy-then-ok"),
        pytest.param(99, "database is locked", "locked", 3, id="busy-past-timeout"),
        pytest.param(99, "disk I/O error", "disk", 1, id="other-error-at-once"),
    ],
)
async def test_sqlite_wal_switch_retries_while_peers_hold_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failures: int,
    message: str,
    raised: str | None,
    calls: int,
) -> None:
    real: Callable[..., Any] = aiosqlite.Connection.execute
    attempts = 0

    def contended(self: aiosqlite.Connection, sql: str, parameters: Any = None) -> Any:
        nonlocal attempts
        if "journal_mode" in sql:
            attempts += 1
            if attempts <= failures:
                raise sqlite3.OperationalError(message)
        return real(self, sql, parameters)

    monkeypatch.setattr(aiosqlite.Connection, "execute", contended)
    store = SQLiteStore(tmp_path / "new.sqlite3", max_entries=10, busy_timeout_ms=30)
    try:
        if raised is None:
            await store.open()
            assert await store.cache_get("k") is None
        else:
            with pytest.raises(sqlite3.OperationalError, match=raised):
                await store.open()
    finally:
        await store.aclose()
    assert attempts == calls


async def test_sqlite_in_memory(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = await open_sqlite(Path(":memory:"))
    await opened.cache_set(entry("k"), keep=1.0)
    assert await opened.cache_get("k") == entry("k")
    assert (await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted
    await opened.aclose()
    assert files(tmp_path) == []


def _spy_worker(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement handed to an aiosqlite worker thread from now on, but the cache bound
    check (always the worker's: it counts the table)."""
    calls: list[str] = []
    real_execute: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    def spy(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        if "ORDER BY stored_at" not in str(args[:1]):
            calls.append(str(args[:1]))
        return real_execute(self, fn, *args)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", spy)
    return calls


async def test_sqlite_hot_statements_never_leave_the_loop_thread(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = await open_sqlite(tmp_path / "state.sqlite3")
    if not opened.uses_returning:  # pragma: no cover - only on SQLite < 3.35
        pytest.skip("needs UPDATE ... RETURNING")
    worker = _spy_worker(monkeypatch)

    first = await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    second = await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await opened.cache_set(entry("k"), tags=["event:E1"], keep=1.0)
    got = await opened.cache_get("k")
    await opened.quota_sync(now=NOW, daily_limit=LIMIT, available=5, reset_at=None)
    state = await opened.quota_state(now=NOW, daily_limit=LIMIT)
    await opened.usage_add("2026-11-24", {"requests": 2})
    await opened.flag_set("f", until=NOW + 1)
    invalidated = await opened.cache_invalidate_tag("event:E1")

    assert worker == []  # no thread hop at all
    assert first.admitted and second.admitted and second.slot == pytest.approx(NOW + INTERVAL)
    assert got == entry("k")
    assert state.remaining == 5
    assert await opened.usage_get("2026-11-24") == {"requests": 2}
    assert await opened.flag_get("f", now=NOW) == NOW + 1
    assert invalidated == 1 and await opened.cache_get("k") is None
    monkeypatch.undo()
    await opened.aclose()


async def test_sqlite_price_points_seen_again_unchanged_never_leave_the_loop_thread(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bot sees the same prices over and over: those points append nothing, so they must not
    # cost a worker transaction (the miss path records every detail answer's point).
    opened = await open_sqlite(tmp_path / "state.sqlite3")
    first = [("E1", NOW, '{"p": 1}'), ("E2", NOW, '{"p": 2}')]
    assert await opened.history_append(first, max_points=5) == 2
    worker = _spy_worker(monkeypatch)

    again = [("E2", NOW + 1, '{"p": 2}'), ("E1", NOW + 1, '{"p": 1}'), ("E1", NOW + 2, '{"p": 1}')]
    assert await opened.history_append(again, max_points=5) == 0
    assert worker == []
    # One new payload anywhere in a batch: the worker's transaction decides every point.
    changed = [("E1", NOW + 3, '{"p": 1}'), ("E2", NOW + 3, '{"p": 3}'), ("E3", NOW + 3, "{}")]
    assert await opened.history_append(changed, max_points=5) == 2
    assert len(worker) == 1
    # A return to an earlier payload is a difference from the last point.
    assert await opened.history_append([("E2", NOW + 4, '{"p": 2}')], max_points=5) == 1
    monkeypatch.undo()
    assert [payload for _, payload in await opened.history_get("E2")] == [
        '{"p": 2}',
        '{"p": 3}',
        '{"p": 2}',
    ]
    assert await opened.history_get("E1") == [(NOW, '{"p": 1}')]
    await opened.aclose()


async def test_sqlite_large_bodies_go_through_the_worker(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = await open_sqlite(tmp_path / "state.sqlite3")
    large = entry("large", body=b"x" * (SQLITE_LOOP_MAX_BODY_BYTES + 1))
    small = entry("small", body=b"y" * SQLITE_LOOP_MAX_BODY_BYTES)
    worker = _spy_worker(monkeypatch)

    await opened.cache_set(large, keep=1.0)
    await opened.cache_set(small, keep=1.0)
    assert len(worker) == 1 and "INSERT INTO cache" in worker[0]
    assert await opened.cache_get("large") == large  # the loop thread saw only its length
    assert len(worker) == 2 and "SELECT status, body" in worker[1]
    assert await opened.cache_get("small") == small
    assert len(worker) == 2
    monkeypatch.undo()
    await opened.aclose()


async def test_sqlite_loop_thread_never_waits_for_a_locked_file(
    open_sqlite: OpenSQLite, tmp_path: Path
) -> None:
    # Another process holds the write lock. The loop thread must not wait for it (the holder
    # here releases it from a loop callback: a blocked loop would deadlock until the busy
    # timeout); the statement goes to the worker, which waits, then succeeds.
    path = tmp_path / "state.sqlite3"
    opened = await open_sqlite(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE limiter SET next_free = ? WHERE id = 1", (NOW + 10,))
    loop = asyncio.get_running_loop()
    started = loop.time()
    released_at: list[float] = []

    def release() -> None:
        holder.execute("COMMIT")
        released_at.append(loop.time())

    loop.call_later(0.2, release)
    try:
        admission = await asyncio.wait_for(
            opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT), timeout=3
        )
        await opened.cache_set(entry("k"), keep=1.0)  # free again: back on the loop thread
    finally:
        holder.close()

    assert released_at and released_at[0] - started < 1.0
    assert admission.admitted
    assert admission.slot == pytest.approx(NOW + 10)  # decided after the holder's commit
    assert await opened.cache_get("k") == entry("k")
    await opened.aclose()


class _FailingConnection:
    """A stand-in for the loop-thread connection whose statements fail with ``error``."""

    def __init__(self, real: sqlite3.Connection, error: sqlite3.Error) -> None:
        self.real = real
        self.error = error
        self.calls = 0

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self.calls += 1
        raise self.error

    @property
    def in_transaction(self) -> bool:
        return self.real.in_transaction

    def close(self) -> None:
        self.real.close()


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.DatabaseError("database disk image is malformed"),
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("database is locked"),
    ],
    ids=["corrupt", "io", "locked"],
)
async def test_sqlite_loop_thread_errors_go_to_the_worker(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: sqlite3.Error
) -> None:
    opened = await open_sqlite(tmp_path / "state.sqlite3")
    assert opened._fast is not None
    failing = _FailingConnection(opened._fast, error)
    monkeypatch.setattr(opened, "_fast", failing)
    worker = _spy_worker(monkeypatch)

    admission = await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)
    await opened.cache_set(entry("k"), keep=1.0)

    assert failing.calls == 2  # tried on the loop thread first...
    assert len(worker) == 2  # ...then decided by the worker
    assert admission.admitted
    assert await opened.cache_get("k") == entry("k")
    assert (await opened.quota_state(now=NOW, daily_limit=LIMIT)).used == 1
    monkeypatch.undo()
    await opened.aclose()


@pytest.mark.parametrize("yields", [True, False], ids=["yielding", "tight-loop"])
async def test_sqlite_wal_stays_small_under_loop_thread_writes(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yields: bool
) -> None:
    # The loop-thread connection never checkpoints; the worker does, every so many writes,
    # even when the caller never yields to the event loop (then a write waits for it).
    monkeypatch.setattr(sqlite_module, "SQLITE_LOOP_WAL_CHECK_EVERY", 5)
    monkeypatch.setattr(sqlite_module, "SQLITE_WAL_CHECKPOINT_BYTES", 32 * 1024)
    path = tmp_path / "state.sqlite3"
    opened = await open_sqlite(path)
    wal = Path(f"{path}-wal")
    peak = 0
    for n in range(400):
        await opened.admit(now=NOW + n, interval=INTERVAL, daily_limit=10_000)
        peak = max(peak, file_bytes(wal))
        if yields and n % 20 == 0:
            await asyncio.sleep(0.01)
    assert peak // 4096 < 100  # 400 commits of one page each without checkpoints
    assert (await opened.quota_state(now=NOW + 400, daily_limit=10_000)).used == 400
    await opened.aclose()


async def test_sqlite_eviction_slack_is_bounded(open_sqlite: OpenSQLite, tmp_path: Path) -> None:
    opened = await open_sqlite(tmp_path / "state.sqlite3", max_entries=500)  # check every 5
    for i in range(600):
        await opened.cache_set(entry(f"k{i:04}", stored_at=NOW + i), keep=1.0)
        assert await opened.cache_count() <= 500 + 4
    assert await opened.cache_count() >= 500
    assert await opened.cache_get("k0599") is not None
    assert await opened.cache_get("k0000") is None
    await opened.aclose()


async def test_sqlite_legacy_transaction_rolls_back_on_error(
    open_sqlite: OpenSQLite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 0))
    opened = await open_sqlite(tmp_path / "state.sqlite3")
    assert not opened.uses_returning

    def explode(row: Any) -> None:
        row.quota_used = 99
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await opened._update_limiter(explode)

    assert (await opened.quota_state(now=NOW, daily_limit=LIMIT)).used == 0
    assert (await opened.admit(now=NOW, interval=INTERVAL, daily_limit=LIMIT)).admitted
    await opened.aclose()


async def test_sqlite_store_properties(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    unopened = SQLiteStore(path, max_entries=1)
    assert (unopened.path, unopened.kind) == (os.fspath(path), "sqlite")
    await unopened.aclose()
    assert not path.exists()


async def test_sqlite_first_call_may_be_an_admission(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "lazy.sqlite3", max_entries=10)
    try:
        first = await store.admit(now=1000.0, interval=0.2, daily_limit=5)
        second = await store.admit(now=1000.0, interval=0.2, daily_limit=5)
    finally:
        await store.aclose()
    assert first.admitted and first.wait == 0.0
    assert second.admitted and second.wait == pytest.approx(0.2, abs=1e-9)
    assert second.quota_remaining == 3


# -- time helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "epoch", [None, math.inf, -math.inf, math.nan, FAR_FUTURE_RESET * 1000, -1e20]
)
def test_an_epoch_no_date_can_hold_is_none_never_an_error(epoch: float | None) -> None:
    assert utc_from_epoch(epoch) is None


def test_utc_days() -> None:
    days = UtcDays()
    midnight = 1_700_006_400.0  # 2023-11-15T00:00:00Z
    assert [days.of(t) for t in (midnight - 1, midnight, midnight + 86_399.5, midnight - 1)] == [
        "2023-11-14",
        "2023-11-15",
        "2023-11-15",
        "2023-11-14",
    ]
    assert days.of(math.inf) == utc_day(math.nan) == "0000-00-00"
    assert days.of(midnight) == "2023-11-15"


@pytest.mark.parametrize(
    ("reset", "expected"),
    [
        (None, None),
        (NOW, None),
        (NOW + 1.0, NOW + 1.0),
        (NOW + QUOTA_RESET_MAX_AHEAD_SECONDS, NOW + QUOTA_RESET_MAX_AHEAD_SECONDS),
        (NOW + QUOTA_RESET_MAX_AHEAD_SECONDS + 0.001, None),
        (math.nan, None),
    ],
)
def test_plausible_reset(reset: float | None, expected: float | None) -> None:
    assert plausible_reset(reset, NOW) == expected


# -- the aiosqlite worker thread -----------------------------------------------------------------


def test_the_quiet_worker_drops_results_for_a_closed_loop() -> None:
    import queue
    import threading

    closed = asyncio.new_event_loop()
    orphan: asyncio.Future[int] = closed.create_future()
    closed.close()
    stop = object()
    jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
    ran: list[str] = []

    def fails() -> None:
        ran.append("fails")
        raise sqlite3.OperationalError("database is locked")

    def succeeds() -> int:
        ran.append("result")
        return 1

    jobs.put((orphan, succeeds))
    jobs.put((orphan, fails))
    jobs.put((None, lambda: ran.append("no future")))
    jobs.put((None, lambda: stop))
    worker = threading.Thread(target=quiet_worker, args=(jobs, stop), daemon=True)
    worker.start()
    worker.join(timeout=5.0)

    assert not worker.is_alive()
    assert ran == ["result", "fails", "no future"]
    assert not orphan.done()  # nobody could be told, and nothing was raised in the thread


async def test_an_awaited_connection_is_left_alone(tmp_path: Path) -> None:
    db = await aiosqlite.connect(tmp_path / "x.sqlite3")
    try:
        thread = db._thread
        make_quiet_daemon(db)
        assert db._thread is thread  # already running: not swapped
    finally:
        await db.close()


async def test_the_store_worker_is_a_quiet_daemon(open_sqlite: OpenSQLite, tmp_path: Path) -> None:
    opened = await open_sqlite(tmp_path / "state.sqlite3")
    assert opened._db is not None
    thread = opened._db._thread
    assert thread.daemon
    assert getattr(thread, "_target", None) is quiet_worker
