"""The store operations of version 0.2 (batched cache writes, watch state, leases, price history),
run against every backend, then what only SQLite and the fallback store do.

Batches and histories are built from the events of recorded search pages (``tests/fixtures/``),
the way the client warms the per-event cache from a search page and records prices.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.store_backends import StoreFactory, store_factory_fixture, store_fixture  # noqa: F401
from ticketmaster_async._exceptions import ConfigurationError
from ticketmaster_async._store.base import CacheEntry, Store
from ticketmaster_async._store.fallback import FallbackStore
from ticketmaster_async._store.memory import MemoryStore
from ticketmaster_async._store.sqlite import SQLiteStore

FIXTURES = Path(__file__).parent / "fixtures"
SEARCH_PAGES = (
    "search_us_page0_2017.json",
    "search_gb_page0_cancelled_rescheduled_fees_2020.json",
    "search_us_page0_mixed_status_rescheduled_offsale_2019.json",
    "search_us_page1_nba_suns_timetba_2023.json",
)
NOW = 1_700_000_000.0
TTL = 300.0
KEEP = 600.0
LEASE_TTL = 30.0


def page_events(name: str) -> list[dict[str, Any]]:
    """The raw events of one recorded search page."""
    raw = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    events: list[dict[str, Any]] = raw["_embedded"]["events"]
    return events


ALL_EVENTS = [event for page in SEARCH_PAGES for event in page_events(page)]


def details_key(event_id: str) -> str:
    return f"GET /discovery/v2/events/{event_id}.json"


def warm_items(
    events: Sequence[dict[str, Any]], *, stored_at: float = NOW
) -> list[tuple[CacheEntry, list[str]]]:
    """What a search page warms: each event under its details key, tagged with its id."""
    return [
        (
            CacheEntry(
                key=details_key(event["id"]),
                status=200,
                body=json.dumps(event).encode(),
                stored_at=stored_at,
                expires_at=stored_at + TTL,
                headers={"content-type": "application/json"},
            ),
            [f"event:{event['id']}"],
        )
        for event in events
    ]


def price_payload(event: dict[str, Any]) -> str:
    """What a price history point records of an event: its status and price ranges."""
    return json.dumps(
        {"status": event["dates"]["status"]["code"], "priceRanges": event.get("priceRanges", [])},
        sort_keys=True,
    )


def snapshot(event: dict[str, Any]) -> str:
    """A watch snapshot of an event: the compared fields, as JSON."""
    venues = event.get("_embedded", {}).get("venues", [])
    return json.dumps(
        {
            "name": event["name"],
            "status": event["dates"]["status"]["code"],
            "start": event["dates"]["start"],
            "venue": venues[0]["id"] if venues else None,
            "price_ranges": event.get("priceRanges", []),
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def entry(key: str, *, stored_at: float = NOW, body: bytes = b"{}") -> CacheEntry:
    return CacheEntry(
        key=key, status=200, body=body, stored_at=stored_at, expires_at=stored_at + TTL
    )


# -- cache_set_many --------------------------------------------------------------------------------


async def test_a_warmed_page_reads_back_entry_by_entry(store: Store) -> None:
    events = page_events(SEARCH_PAGES[0])
    items = warm_items(events)

    await store.cache_set_many(items, keep=KEEP)

    assert await store.cache_count() == len(events)
    for event in events:
        got = await store.cache_get(details_key(event["id"]))
        assert got is not None
        assert json.loads(got.body) == event
        assert got.status == 200
        assert got.headers == {"content-type": "application/json"}
        assert (got.stored_at, got.expires_at) == (NOW, NOW + TTL)


async def test_invalidating_an_event_drops_its_warmed_entry_only(store: Store) -> None:
    events = page_events(SEARCH_PAGES[1])
    await store.cache_set_many(warm_items(events), keep=KEEP)
    victim = events[3]["id"]
    # Prices of the same event, written on their own: one tag finds both.
    await store.cache_set(entry(f"GET /prices/{victim}"), tags=[f"event:{victim}"], keep=KEEP)

    assert await store.cache_invalidate_tag(f"event:{victim}") == 2

    assert await store.cache_get(details_key(victim)) is None
    survivors = [e["id"] for e in events if e["id"] != victim]
    for event_id in survivors:
        assert await store.cache_get(details_key(event_id)) is not None
    assert await store.cache_count() == len(survivors)


async def test_a_batch_replaces_entries_and_the_last_copy_of_a_key_wins(store: Store) -> None:
    await store.cache_set(entry("k", body=b"before"), tags=["old"], keep=KEEP)

    await store.cache_set_many(
        [
            (entry("k", body=b"first", stored_at=NOW + 1), ["t1", "t1"]),
            (entry("other"), ["t2"]),
            (entry("k", body=b"last", stored_at=NOW + 2), ["t3"]),
        ],
        keep=KEEP,
    )

    got = await store.cache_get("k")
    assert got is not None
    assert (got.body, got.stored_at) == (b"last", NOW + 2)
    assert await store.cache_count() == 2
    assert await store.cache_invalidate_tag("old") == 0
    assert await store.cache_invalidate_tag("t1") == 0
    assert await store.cache_invalidate_tag("t3") == 1
    assert await store.cache_invalidate_tag("t2") == 1


async def test_a_batch_keeps_entries_until_expiry_plus_keep(store: Store) -> None:
    await store.cache_set_many(warm_items(ALL_EVENTS[:3]), keep=KEEP)

    assert await store.cache_purge(now=NOW + TTL + KEEP) == 0  # the keep time itself counts
    assert await store.cache_purge(now=NOW + TTL + KEEP + 1) == 3
    assert await store.cache_count() == 0


async def test_the_bound_holds_after_a_batch(store_factory: StoreFactory) -> None:
    bound = 5
    bounded = await store_factory(max_entries=bound)
    await bounded.cache_set(entry("old-a", stored_at=NOW - 10), keep=KEEP)
    await bounded.cache_set(entry("new-b", stored_at=NOW + 10), keep=KEEP)
    ages = {"old-a": NOW - 10, "new-b": NOW + 10}
    batch = []
    for i, event in enumerate(ALL_EVENTS[:6]):
        stored_at = NOW + (i * 7) % 11  # out of order: eviction goes by age, not write order
        batch.append((entry(details_key(event["id"]), stored_at=stored_at), [event["id"]]))
        ages[details_key(event["id"])] = stored_at

    await bounded.cache_set_many(batch, keep=KEEP)

    expected = sorted(ages, key=lambda key: (ages[key], key))[-bound:]
    assert await bounded.cache_count() == bound
    kept = [key for key in ages if await bounded.cache_get(key) is not None]
    assert sorted(kept) == sorted(expected)


async def test_an_empty_batch_does_nothing(store_factory: StoreFactory) -> None:
    store = await store_factory(max_entries=1)
    await store.cache_set(entry("only"), tags=["t"], keep=KEEP)

    await store.cache_set_many([], keep=KEEP)

    assert await store.cache_count() == 1
    assert await store.cache_get("only") == entry("only")


# -- watch state -----------------------------------------------------------------------------------


async def test_watch_state_saves_loads_and_deletes(store: Store) -> None:
    a, b, c = ALL_EVENTS[0], ALL_EVENTS[25], ALL_EVENTS[50]
    assert await store.watch_load("tour") == {}

    await store.watch_save("tour", {a["id"]: snapshot(a), b["id"]: snapshot(b)})
    assert await store.watch_load("tour") == {a["id"]: snapshot(a), b["id"]: snapshot(b)}

    changed = snapshot({**a, "name": a["name"] + " (moved)"})
    await store.watch_save(
        "tour", {a["id"]: changed, b["id"]: None, c["id"]: snapshot(c), "never-seen": None}
    )
    assert await store.watch_load("tour") == {a["id"]: changed, c["id"]: snapshot(c)}

    await store.watch_save("tour", {})
    assert await store.watch_load("tour") == {a["id"]: changed, c["id"]: snapshot(c)}
    await store.watch_save("tour", {a["id"]: None, c["id"]: None})
    assert await store.watch_load("tour") == {}


async def test_watches_are_kept_apart_by_name(store: Store) -> None:
    a, b = ALL_EVENTS[1], ALL_EVENTS[2]
    await store.watch_save("tour", {a["id"]: snapshot(a)})
    await store.watch_save("london-rock", {a["id"]: "other view", b["id"]: snapshot(b)})

    await store.watch_save("tour", {a["id"]: None})
    assert await store.watch_load("tour") == {}
    assert await store.watch_load("london-rock") == {a["id"]: "other view", b["id"]: snapshot(b)}

    await store.watch_save("tour", {a["id"]: snapshot(a)})
    await store.watch_forget("london-rock")
    await store.watch_forget("never-existed")
    assert await store.watch_load("london-rock") == {}
    assert await store.watch_load("tour") == {a["id"]: snapshot(a)}


# -- leases ----------------------------------------------------------------------------------------


async def test_a_lease_is_taken_renewed_refused_and_expires(store: Store) -> None:
    assert await store.lease_acquire("tour", "A", now=NOW, ttl=LEASE_TTL)
    assert not await store.lease_acquire("tour", "B", now=NOW + 10, ttl=LEASE_TTL)
    # Renewed at NOW + 20: now held until NOW + 50.
    assert await store.lease_acquire("tour", "A", now=NOW + 20, ttl=LEASE_TTL)
    assert not await store.lease_acquire("tour", "B", now=NOW + 49.5, ttl=LEASE_TTL)
    # Its time ran out (expires_at <= now): another owner takes it over.
    assert await store.lease_acquire("tour", "B", now=NOW + 50, ttl=LEASE_TTL)
    assert not await store.lease_acquire("tour", "A", now=NOW + 51, ttl=LEASE_TTL)
    # Other names are other leases.
    assert await store.lease_acquire("london-rock", "A", now=NOW + 51, ttl=LEASE_TTL)


async def test_a_refused_lease_changes_nothing(store: Store) -> None:
    assert await store.lease_acquire("tour", "A", now=NOW, ttl=LEASE_TTL)

    assert not await store.lease_acquire("tour", "B", now=NOW + 29, ttl=1000.0)

    # Still A's, still ending at NOW + 30.
    assert not await store.lease_acquire("tour", "C", now=NOW + 29.5, ttl=LEASE_TTL)
    assert await store.lease_acquire("tour", "C", now=NOW + 30, ttl=LEASE_TTL)


async def test_only_the_holder_releases_a_lease(store: Store) -> None:
    assert await store.lease_acquire("tour", "A", now=NOW, ttl=LEASE_TTL)

    await store.lease_release("tour", "B")
    await store.lease_release("unknown", "A")
    assert not await store.lease_acquire("tour", "B", now=NOW + 1, ttl=LEASE_TTL)

    await store.lease_release("tour", "A")
    assert await store.lease_acquire("tour", "B", now=NOW + 2, ttl=LEASE_TTL)


async def test_two_stores_on_one_file_or_prefix_compete_for_a_lease(
    store_factory: StoreFactory,
) -> None:
    first = await store_factory(name="shared")
    second = await store_factory(name="shared")
    if first.kind == "memory":
        # Each memory store is a world of its own: both win. That is what "in-process" means.
        assert await first.lease_acquire("tour", "A", now=NOW, ttl=LEASE_TTL)
        assert await second.lease_acquire("tour", "B", now=NOW, ttl=LEASE_TTL)
        return

    assert await first.lease_acquire("tour", "A", now=NOW, ttl=LEASE_TTL)
    assert not await second.lease_acquire("tour", "B", now=NOW + 1, ttl=LEASE_TTL)
    assert await second.lease_acquire("tour", "B", now=NOW + LEASE_TTL, ttl=LEASE_TTL)
    assert not await first.lease_acquire("tour", "A", now=NOW + LEASE_TTL + 1, ttl=LEASE_TTL)
    await first.lease_release("tour", "A")  # not A's any more: nothing happens
    assert not await first.lease_acquire("tour", "A", now=NOW + LEASE_TTL + 2, ttl=LEASE_TTL)
    await second.lease_release("tour", "B")
    assert await first.lease_acquire("tour", "A", now=NOW + LEASE_TTL + 3, ttl=LEASE_TTL)


@pytest.mark.parametrize("ttl", [0.0, -1.0, math.nan, math.inf])
async def test_a_lease_needs_a_positive_duration(store: Store, ttl: float) -> None:
    with pytest.raises(ConfigurationError, match="positive number of seconds"):
        await store.lease_acquire("tour", "A", now=NOW, ttl=ttl)
    assert await store.lease_acquire("tour", "B", now=NOW, ttl=LEASE_TTL)  # nothing was taken


# -- price history ---------------------------------------------------------------------------------


def changing_payloads(count: int) -> list[str]:
    """``count`` distinct payloads, each a real event's status and prices."""
    payloads = list(dict.fromkeys(price_payload(event) for event in ALL_EVENTS))
    assert len(payloads) >= count
    return payloads[:count]


async def test_history_appends_only_when_the_payload_differs(store: Store) -> None:
    event = ALL_EVENTS[0]
    first = price_payload(event)
    cancelled = price_payload({**event, "dates": {"status": {"code": "cancelled"}}})
    assert first != cancelled

    assert await store.history_append([(event["id"], NOW, first)], max_points=1000) == 1
    assert await store.history_append([(event["id"], NOW + 1, first)], max_points=1000) == 0
    assert await store.history_append([(event["id"], NOW + 2.5, cancelled)], max_points=1000) == 1
    assert await store.history_append([(event["id"], NOW + 3, first)], max_points=1000) == 1

    assert await store.history_get(event["id"]) == [
        (NOW, first),
        (NOW + 2.5, cancelled),
        (NOW + 3, first),
    ]
    assert await store.history_get("never-seen") == []


async def test_several_points_of_one_event_in_a_batch_apply_in_order(store: Store) -> None:
    one, two = changing_payloads(2)
    other = ALL_EVENTS[40]["id"]
    event_id = ALL_EVENTS[0]["id"]
    at = NOW + 0.123456  # fractions of a second survive exactly
    points = [
        (event_id, at, one),
        (other, at, two),
        (event_id, at + 1, one),  # same as the one before it in the batch: skipped
        (event_id, at + 2, two),
        (other, at + 2, two),
        (event_id, at + 3, one),
    ]

    assert await store.history_append(points, max_points=1000) == 4

    assert await store.history_get(event_id) == [(at, one), (at + 2, two), (at + 3, one)]
    assert await store.history_get(other) == [(at, two)]
    assert await store.history_append([], max_points=1000) == 0


async def test_history_keeps_the_newest_points_of_each_event(store: Store) -> None:
    payloads = changing_payloads(7)
    busy, quiet = ALL_EVENTS[5]["id"], ALL_EVENTS[6]["id"]
    await store.history_append([(quiet, NOW, payloads[0])], max_points=3)
    for i, payload in enumerate(payloads[:4]):
        await store.history_append([(busy, NOW + i, payload)], max_points=3)
    assert await store.history_get(busy) == [(NOW + i, payloads[i]) for i in (1, 2, 3)]

    # A batch longer than the bound keeps its last points too.
    batch = [(busy, NOW + 10 + i, payload) for i, payload in enumerate(payloads)]
    assert await store.history_append(batch, max_points=3) == len(payloads)

    assert await store.history_get(busy) == [(NOW + 10 + i, payloads[i]) for i in (4, 5, 6)]
    assert await store.history_get(quiet) == [(NOW, payloads[0])]


async def test_history_payloads_are_kept_verbatim(store: Store) -> None:
    tricky = ["a payload with spaces", " leading space", "ünïcødé — 🎫", "", "x\ny"]
    points = [("E1", NOW + i, payload) for i, payload in enumerate(tricky)]

    assert await store.history_append(points, max_points=1000) == len(tricky)

    assert await store.history_get("E1") == [(NOW + i, p) for i, p in enumerate(tricky)]


async def test_history_purge_drops_events_whose_last_point_is_old(store: Store) -> None:
    one, two = changing_payloads(2)
    await store.history_append(
        [
            ("stale", NOW, one),
            ("stale", NOW + 10, two),
            ("lively", NOW, one),
            ("lively", NOW + 100, two),
            ("borderline", NOW + 50, one),
        ],
        max_points=1000,
    )

    assert await store.history_purge(before=NOW + 50) == 1

    assert await store.history_get("stale") == []
    assert await store.history_get("lively") == [(NOW, one), (NOW + 100, two)]
    assert await store.history_get("borderline") == [(NOW + 50, one)]
    assert await store.history_purge(before=NOW + 50) == 0
    # A purged event starts afresh: its first point is appended whatever it says.
    assert await store.history_append([("stale", NOW + 200, two)], max_points=1000) == 1
    assert await store.history_purge(before=NOW + 1000) == 3


@pytest.mark.parametrize("max_points", [0, -1])
async def test_history_needs_room_for_a_point(store: Store, max_points: int) -> None:
    with pytest.raises(ConfigurationError, match="at least 1 point"):
        await store.history_append([("E1", NOW, "p")], max_points=max_points)
    assert await store.history_get("E1") == []


# -- what survives what, and who sees it -----------------------------------------------------------


async def test_cache_clear_and_purge_leave_watches_leases_and_history(store: Store) -> None:
    event = ALL_EVENTS[0]
    await store.cache_set_many(warm_items(ALL_EVENTS[:4]), keep=0.0)
    await store.watch_save("tour", {event["id"]: snapshot(event)})
    await store.history_append([(event["id"], NOW, price_payload(event))], max_points=1000)
    assert await store.lease_acquire("tour", "A", now=NOW, ttl=LEASE_TTL)

    assert await store.cache_clear() == 4
    assert await store.cache_purge(now=NOW + 10 * TTL) == 0

    assert await store.watch_load("tour") == {event["id"]: snapshot(event)}
    assert await store.history_get(event["id"]) == [(NOW, price_payload(event))]
    assert not await store.lease_acquire("tour", "B", now=NOW + 1, ttl=LEASE_TTL)


async def test_a_second_store_on_the_same_file_or_prefix_sees_it_all(
    store_factory: StoreFactory,
) -> None:
    first = await store_factory(name="shared")
    events = page_events(SEARCH_PAGES[2])
    await first.cache_set_many(warm_items(events), keep=KEEP)
    await first.watch_save("tour", {e["id"]: snapshot(e) for e in events})
    await first.history_append([(e["id"], NOW, price_payload(e)) for e in events], max_points=1000)
    second = await store_factory(name="shared")
    if first.kind == "memory":
        assert await second.watch_load("tour") == {}  # nothing is shared in memory
        return

    for event in events:
        got = await second.cache_get(details_key(event["id"]))
        assert got is not None
        assert json.loads(got.body) == event
        assert await second.history_get(event["id"]) == [(NOW, price_payload(event))]
    assert await second.watch_load("tour") == {e["id"]: snapshot(e) for e in events}
    assert await second.cache_invalidate_tag(f"event:{events[0]['id']}") == 1


# -- SQLite: one transaction per batch -------------------------------------------------------------


@pytest.fixture(name="sqlite_path")
def sqlite_path_fixture(tmp_path: Path) -> Path:
    return tmp_path / "batches.sqlite3"


@pytest.fixture(name="sqlite_store")
async def sqlite_store_fixture(sqlite_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(sqlite_path, max_entries=100_000)
    await store.open()
    yield store
    await store.aclose()


def raw_count(path: Path, table: str = "cache") -> int:
    with sqlite3.connect(path) as raw:
        (count,) = raw.execute(f"SELECT count(*) FROM {table}").fetchone()
    raw.close()
    return int(count)


async def test_a_failing_row_rolls_back_the_whole_batch(
    sqlite_store: SQLiteStore, sqlite_path: Path
) -> None:
    await sqlite_store.cache_set(entry("before", body=b"kept"), keep=KEEP)
    items = warm_items(ALL_EVENTS[:5])
    broken = CacheEntry(key="broken", status=None, body=b"", stored_at=NOW, expires_at=NOW)  # type: ignore[arg-type]
    items.insert(3, (broken, []))
    items.append((entry("before", body=b"overwritten"), []))

    with pytest.raises(sqlite3.IntegrityError):
        await sqlite_store.cache_set_many(items, keep=KEEP)

    assert raw_count(sqlite_path) == 1  # seen from another connection: none of the batch
    for event in ALL_EVENTS[:3]:
        assert await sqlite_store.cache_get(details_key(event["id"])) is None
    kept = await sqlite_store.cache_get("before")
    assert kept is not None
    assert kept.body == b"kept"
    # The connection is not left inside a transaction: the next batch lands.
    await sqlite_store.cache_set_many(warm_items(ALL_EVENTS[:5]), keep=KEEP)
    assert raw_count(sqlite_path) == 6


async def test_a_failing_history_or_watch_batch_lands_nothing(
    sqlite_store: SQLiteStore, sqlite_path: Path
) -> None:
    await sqlite_store.watch_save("tour", {"A": "a"})

    with pytest.raises(sqlite3.IntegrityError):
        await sqlite_store.watch_save("tour", {"A": None, "B": "b", None: "no id"})  # type: ignore[dict-item]
    with pytest.raises(sqlite3.IntegrityError):
        await sqlite_store.history_append(
            [("E", NOW, "one"), ("E", NOW + 1, "two"), ("E", None, "three")],  # type: ignore[list-item]
            max_points=1000,
        )

    assert await sqlite_store.watch_load("tour") == {"A": "a"}
    assert raw_count(sqlite_path, "price_history") == 0


async def test_a_statement_sent_during_a_batch_stays_out_of_its_transaction(
    sqlite_store: SQLiteStore, sqlite_path: Path
) -> None:
    # Admissions sent while a batch holds the write lock wait for it on the worker thread; were
    # they run inside the batch's transaction, its rollback would un-count them.
    body = json.dumps(ALL_EVENTS[0]).encode()
    broken = CacheEntry(key="broken", status=None, body=b"", stored_at=NOW, expires_at=NOW)  # type: ignore[arg-type]
    items = [(entry(f"k{i}", body=body), [f"event:{i}"]) for i in range(500)]
    batch = asyncio.create_task(sqlite_store.cache_set_many([*items, (broken, [])], keep=KEEP))
    admitted = 0
    while not batch.done() and admitted < 10_000:
        admission = await sqlite_store.admit(now=NOW, interval=0.0, daily_limit=10**6)
        assert admission.admitted
        admitted += 1
        await asyncio.sleep(0)

    with pytest.raises(sqlite3.IntegrityError):
        await batch

    assert raw_count(sqlite_path) == 0
    with sqlite3.connect(sqlite_path) as raw:
        (used,) = raw.execute("SELECT quota_used FROM limiter").fetchone()
    raw.close()
    assert used == admitted


async def test_readers_never_see_part_of_a_batch(
    sqlite_store: SQLiteStore, sqlite_path: Path
) -> None:
    batch_size, batches = 200, 10
    body = json.dumps(ALL_EVENTS[0]).encode()[:5000]
    seen: list[int] = []
    done = threading.Event()

    def reader() -> None:
        raw = sqlite3.connect(sqlite_path, timeout=5.0)
        try:
            while not done.is_set() and len(seen) < 100_000:
                seen.append(raw.execute("SELECT count(*) FROM cache").fetchone()[0])
            seen.append(raw.execute("SELECT count(*) FROM cache").fetchone()[0])
        finally:
            raw.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for b in range(batches):
            items = [(entry(f"b{b}-{i}", body=body), [f"event:{i}"]) for i in range(batch_size)]
            await sqlite_store.cache_set_many(items, keep=KEEP)
            await asyncio.sleep(0.001)  # let the reader look between batches too
    finally:
        done.set()
        await asyncio.to_thread(thread.join, 10.0)

    assert seen[-1] == batch_size * batches
    partial = sorted({count for count in seen if count % batch_size})
    assert partial == [], partial


async def test_the_new_tables_arrive_by_migration(sqlite_path: Path) -> None:
    from ticketmaster_async._store.sqlite import MIGRATIONS, SCHEMA_VERSION

    with sqlite3.connect(sqlite_path) as raw:
        for step in MIGRATIONS[:-1]:
            for statement in step:
                raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        raw.execute(
            "INSERT INTO cache (key, status, body, stored_at, expires_at, keep_until) "
            "VALUES ('old', 200, x'7b7d', 1, 2, 3)"
        )
    raw.close()
    store = SQLiteStore(sqlite_path, max_entries=10)
    try:
        await store.watch_save("tour", {"A": "a"})
        assert await store.history_append([("A", NOW, "p")], max_points=10) == 1
        assert await store.lease_acquire("tour", "me", now=NOW, ttl=LEASE_TTL)
        assert await store.cache_get("old") is not None
    finally:
        await store.aclose()
    with sqlite3.connect(sqlite_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    raw.close()


# -- FallbackStore -------------------------------------------------------------------------------


class Unreachable(OSError):
    """What a store that cannot be reached raises (an OSError counts as unreachable)."""


class SwitchableStore(MemoryStore):
    """A MemoryStore standing in for the shared store that can be made unreachable."""

    kind = "sqlite"

    def __init__(self) -> None:
        super().__init__(max_entries=100)
        self.down = False

    def _check_open(self) -> None:
        if self.down:
            raise Unreachable("disk I/O error")
        super()._check_open()


class StepClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


Switchable = tuple[FallbackStore, SwitchableStore, StepClock]


@pytest.fixture(name="switchable")
async def switchable_fixture() -> AsyncIterator[Switchable]:
    primary = SwitchableStore()
    clock = StepClock()
    store = FallbackStore(primary, fallback=MemoryStore(max_entries=10), clock=clock)
    await store.open()
    yield store, primary, clock
    await store.aclose()


async def test_a_broken_sqlite_file_sends_everything_to_the_fallback(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database directory should be")
    fallback = MemoryStore(max_entries=10)
    store = FallbackStore(SQLiteStore(blocker / "state.sqlite3", max_entries=10), fallback=fallback)
    await store.open()
    try:
        await store.cache_set_many(warm_items(ALL_EVENTS[:3]), keep=KEEP)
        assert store.degraded
        assert await fallback.cache_count() == 3
        assert await store.cache_get(details_key(ALL_EVENTS[0]["id"])) is not None
        await store.watch_save("tour", {"A": "a", "B": "b"})
        await store.watch_save("tour", {"B": None})
        assert await store.watch_load("tour") == {"A": "a"}
        assert await store.lease_acquire("tour", "me", now=NOW, ttl=LEASE_TTL)
        assert not await store.lease_acquire("tour", "other", now=NOW + 1, ttl=LEASE_TTL)
        await store.lease_release("tour", "me")
        assert await store.lease_acquire("tour", "other", now=NOW + 2, ttl=LEASE_TTL)
        assert await store.history_append([("A", NOW, "p"), ("A", NOW, "p")], max_points=9) == 1
        assert await store.history_get("A") == [(NOW, "p")]
        assert await store.history_purge(before=NOW + 1) == 1
        await store.watch_forget("tour")
        assert await store.watch_load("tour") == {}
        assert await fallback.watch_load("tour") == {}
    finally:
        await store.aclose()


async def test_an_outage_keeps_the_watch_state_it_had_loaded(switchable: Switchable) -> None:
    store, primary, _ = switchable
    a, b = ALL_EVENTS[0], ALL_EVENTS[1]
    await primary.watch_save("tour", {a["id"]: snapshot(a)})  # written by another process
    assert await store.watch_load("tour") == {a["id"]: snapshot(a)}
    await store.watch_save("tour", {b["id"]: snapshot(b)})

    primary.down = True
    state = await store.watch_load("tour")

    assert store.degraded
    assert state == {a["id"]: snapshot(a), b["id"]: snapshot(b)}


async def test_watch_changes_of_an_outage_reach_the_primary_when_it_is_back(
    switchable: Switchable,
) -> None:
    store, primary, clock = switchable
    await store.watch_save("tour", {"A": "a1", "B": "b1"})
    await store.watch_save("gone-watch", {"X": "x"})
    await store.watch_save("forgotten", {"Z": "z"})
    primary.down = True
    await store.watch_forget("forgotten")
    await store.watch_save("tour", {"A": "a2", "B": None})
    await store.watch_save("tour", {"A": "a3", "C": "c1"})
    await store.watch_forget("gone-watch")
    await store.watch_save("gone-watch", {"Y": "y"})

    primary.down = False
    assert await primary.watch_load("tour") == {"A": "a1", "B": "b1"}  # not replayed yet
    clock.now += 31.0  # past retry_after: the next call probes the primary
    assert await store.lease_acquire("tour", "me", now=NOW, ttl=LEASE_TTL)

    assert not store.degraded
    assert await primary.watch_load("tour") == {"A": "a3", "C": "c1"}
    assert await primary.watch_load("gone-watch") == {"Y": "y"}
    assert await primary.watch_load("forgotten") == {}
    # Healthy again: a forget reaches the primary and the mirror at once.
    await store.watch_forget("tour")
    assert await primary.watch_load("tour") == {}
    primary.down = True
    assert await store.watch_load("tour") == {}


async def test_history_seen_during_an_outage_is_appended_when_the_primary_is_back(
    switchable: Switchable,
) -> None:
    store, primary, clock = switchable
    one, two, three = changing_payloads(3)
    await store.history_append([("E", NOW, one)], max_points=1000)
    primary.down = True

    # The fallback knows nothing of E: its first point is new there.
    assert await store.history_append([("E", NOW + 1, one), ("F", NOW + 1, two)], max_points=9) == 2
    assert await store.history_append([("E", NOW + 2, two)], max_points=1000) == 1
    assert await store.history_get("E") == [(NOW + 1, one), (NOW + 2, two)]

    primary.down = False
    clock.now += 31.0
    assert await store.history_append([("E", NOW + 3, three)], max_points=1000) == 1

    assert await store.history_get("E") == [(NOW, one), (NOW + 2, two), (NOW + 3, three)]
    assert await primary.history_get("F") == [(NOW + 1, two)]


async def test_a_degraded_process_takes_a_lease_another_one_holds(
    switchable: Switchable,
) -> None:
    store, primary, _ = switchable
    assert await primary.lease_acquire("tour", "other-process", now=NOW, ttl=LEASE_TTL)
    assert not await store.lease_acquire("tour", "me", now=NOW + 1, ttl=LEASE_TTL)

    primary.down = True
    assert await store.lease_acquire("tour", "me", now=NOW + 2, ttl=LEASE_TTL)  # private lease
    assert not await store.lease_acquire("tour", "my-other-task", now=NOW + 3, ttl=LEASE_TTL)
    await store.lease_release("tour", "me")
    assert await store.lease_acquire("tour", "my-other-task", now=NOW + 4, ttl=LEASE_TTL)


async def test_batches_go_to_the_private_cache_during_an_outage(switchable: Switchable) -> None:
    store, primary, clock = switchable
    await store.cache_set_many(warm_items(ALL_EVENTS[:2]), keep=KEEP)
    assert await primary.cache_count() == 2
    primary.down = True

    await store.cache_set_many(warm_items(ALL_EVENTS[2:4]), keep=KEEP)
    assert await store.cache_count() == 2
    assert await store.cache_get(details_key(ALL_EVENTS[3]["id"])) is not None
    assert await store.history_purge(before=NOW) == 0

    primary.down = False
    clock.now += 31.0
    assert await store.cache_count() == 2
    assert await store.cache_get(details_key(ALL_EVENTS[3]["id"])) is None  # private, dropped
    assert await store.history_purge(before=NOW) == 0
