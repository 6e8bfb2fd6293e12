"""Watches through the public API: new / changed / gone, restarts, budgets, outages, request
counts and price history; on the memory, SQLite and Redis stores. Time is a fake clock that
runs scripted changes of the fake API as it passes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from ticketmaster_async import (
    ConfigurationError,
    EventChange,
    EventStatus,
    PriceRange,
    TicketmasterClient,
)
from ticketmaster_async.testing import FakeDiscoveryAPI

from .clients import FakeClock, make_client
from .redis_server import session_redis_server, unique_prefix

UTC = timezone.utc
EVERY = 600.0
WATCHED = ["1AdjZ4UGkBwb746", "1AMZA-pGkdxdIu7", "G5diZfkn0B-bh"]


class Stop(Exception):
    """Raised by the scripted clock when a test has seen enough rounds."""


class ScriptedClock(FakeClock):
    """A fake clock whose sleeps run the actions scheduled for the time they reach, and stop
    the test's watch after ``max_sleeps`` sleeps (every loop in a test is bounded)."""

    def __init__(self, *, max_sleeps: int = 400) -> None:
        super().__init__()
        self.max_sleeps = max_sleeps
        self.sleeps = 0
        self.actions: list[tuple[float, Callable[[], None]]] = []

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        self.actions.append((self.now + seconds, action))

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if self.sleeps > self.max_sleeps:
            raise Stop
        await super().sleep(seconds)
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would
        due = [entry for entry in self.actions if entry[0] <= self.now]
        self.actions = [entry for entry in self.actions if entry[0] > self.now]
        for _, action in due:
            action()


class FastClock(FakeClock):
    """Real time, ``speed`` times faster: every task's time passes at once (I/O included), as
    for processes sharing a store. Sleeps end after ``stop_after`` real seconds with Stop."""

    def __init__(self, *, speed: float = 1000.0, stop_after: float = 10.0) -> None:
        super().__init__()
        self.speed = speed
        self.started = time.monotonic()
        self.deadline = self.started + stop_after

    def __call__(self) -> float:
        return self.now + (time.monotonic() - self.started) * self.speed

    async def sleep(self, seconds: float) -> None:
        if time.monotonic() >= self.deadline:
            raise Stop
        await asyncio.sleep(max(0.0, seconds) / self.speed)
        if time.monotonic() >= self.deadline:
            raise Stop

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        asyncio.get_running_loop().call_later(seconds / self.speed, action)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings that put the client's state in each kind of store."""
    if request.param == "memory":
        return {"db_path": ":memory:"}
    if request.param == "sqlite":
        return {"db_path": str(tmp_path / "state.sqlite3")}
    server = session_redis_server(request.config)
    return {"redis_url": server.url, "redis_prefix": unique_prefix("watch")}


@pytest.fixture(params=["sqlite", "redis"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings of a store that outlives a client and is shared by several: a SQLite file, a
    Redis server (each test under its own key prefix)."""
    if request.param == "sqlite":
        return {"db_path": str(tmp_path / "state.sqlite3")}
    server = session_redis_server(request.config)
    return {"redis_url": server.url, "redis_prefix": unique_prefix("watch")}


@asynccontextmanager
async def client(
    api: FakeDiscoveryAPI, clock: FakeClock, **settings: Any
) -> AsyncIterator[TicketmasterClient]:
    async with make_client(clock=clock, transport=api.transport(), **settings) as tm:
        yield tm


async def collect(changes: AsyncIterator[EventChange], limit: int = 1000) -> list[EventChange]:
    """Every change until the scripted clock stops the watch (or ``limit`` changes)."""
    seen: list[EventChange] = []
    try:
        async for change in changes:
            seen.append(change)
            if len(seen) >= limit:
                break
    except Stop:
        pass
    return seen


def raw(api: FakeDiscoveryAPI, event_id: str) -> dict[str, Any]:
    found = api.get_event(event_id)
    assert found is not None
    return found


# -- new / changed / gone -----------------------------------------------------------------------


async def test_the_first_round_reports_every_event_as_new(store_settings: dict[str, Any]) -> None:
    clock = ScriptedClock(max_sleeps=30)
    api = FakeDiscoveryAPI(clock=clock)
    async with client(api, clock, **store_settings) as tm:
        changes = await collect(tm.watch_events(WATCHED, every=EVERY, name="tour"))
    assert [(c.kind, c.event.id) for c in changes] == [("new", i) for i in WATCHED]
    assert [c.event.name for c in changes] == [raw(api, i)["name"] for i in WATCHED]
    assert all(c.previous is None and c.changes == [] for c in changes)


Update = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]
CHANGES: list[tuple[str, Update, Callable[[dict[str, Any]], Any]]] = [
    ("name", {"name": "Renamed Tour"}, lambda e: "Renamed Tour"),
    ("status", {"status": "cancelled"}, lambda e: EventStatus.CANCELLED),
    (
        "start",
        {"start": datetime(2031, 7, 1, 19, 30, tzinfo=UTC)},
        lambda e: datetime(2031, 7, 1, 19, 30, tzinfo=UTC),
    ),
    (
        "price_ranges",
        {"price_ranges": [{"type": "standard", "currency": "GBP", "min": 10, "max": 99.5}]},
        lambda e: [
            PriceRange(type="standard", currency="GBP", min=Decimal(10), max=Decimal("99.5"))
        ],
    ),
    (
        "onsale",
        {"onsale_start": datetime(2030, 1, 1, 10, tzinfo=UTC)},
        lambda e: datetime(2030, 1, 1, 10, tzinfo=UTC),
    ),
    (
        "venue",
        {"_embedded": {"venues": [{"id": "KovZpZA7AAEA", "name": "Madison Square Garden"}]}},
        lambda e: "KovZpZA7AAEA",
    ),
    (
        "presales",
        lambda current: {
            "sales": {
                **current.get("sales", {}),
                "presales": [
                    {
                        "name": "Fan presale",
                        "startDateTime": "2030-01-01T09:00:00Z",
                        "endDateTime": "2030-01-02T09:00:00Z",
                    }
                ],
            }
        },
        lambda e: [
            (
                "Fan presale",
                datetime(2030, 1, 1, 9, tzinfo=UTC),
                datetime(2030, 1, 2, 9, tzinfo=UTC),
            )
        ],
    ),
]


@pytest.mark.parametrize(("field", "update", "expected"), CHANGES, ids=[c[0] for c in CHANGES])
async def test_each_compared_field_is_reported_as_changed(
    field: str,
    update: Update,
    expected: Callable[[dict[str, Any]], Any],
    store_settings: dict[str, Any],
) -> None:
    clock = ScriptedClock(max_sleeps=12)
    api = FakeDiscoveryAPI(clock=clock)
    target = WATCHED[0]

    def apply_update() -> None:
        changes = update(raw(api, target)) if callable(update) else update
        api.update_event(target, **changes)

    clock.after(EVERY * 1.5, apply_update)
    async with client(api, clock, **store_settings) as tm:
        changes = await collect(tm.watch_events(WATCHED, every=EVERY, name=f"field-{field}"))
    later = [c for c in changes if c.kind != "new"]
    assert len(later) == 1, later
    [change] = later
    assert (change.kind, change.event.id) == ("changed", target)
    assert [c.field for c in change.changes] == [field]
    after = change.changes[0].after
    if field == "onsale":
        after = after[0]
    assert after == expected(raw(api, target))
    assert change.previous is not None and change.previous.id == target


async def test_a_removed_event_is_gone_with_its_last_seen_version(
    store_settings: dict[str, Any],
) -> None:
    clock = ScriptedClock(max_sleeps=12)
    api = FakeDiscoveryAPI(clock=clock)
    target = WATCHED[1]
    name = raw(api, target)["name"]
    clock.after(EVERY * 1.5, lambda: api.remove_event(target))
    async with client(api, clock, **store_settings) as tm:
        changes = await collect(tm.watch_events(WATCHED, every=EVERY, name="gone"))
    gone = [c for c in changes if c.kind == "gone"]
    assert [(c.event.id, c.event.name) for c in gone] == [(target, name)]
    assert len([c for c in changes if c.kind == "new"]) == 3


async def test_watch_search_reports_new_matches_and_ones_that_stop_matching(
    store_settings: dict[str, Any],
) -> None:
    clock = ScriptedClock(max_sleeps=20)
    api = FakeDiscoveryAPI(clock=clock)
    start = datetime.fromtimestamp(clock.now, tz=UTC) + timedelta(days=10)
    ids = api.generate_events(5, start=start, end=start + timedelta(days=5), seed=4)
    extra = api.generate_events(1, start=start, end=start + timedelta(days=5), seed=5)[0]
    api.remove_event(extra)  # it appears in the second round
    template = raw(api, ids[0])

    def script() -> None:
        api.add_event(dict(template, id="ArrivesLater1"))
        api.remove_event(ids[4])

    clock.after(EVERY * 1.5, script)
    async with client(api, clock, **store_settings) as tm:
        changes = await collect(tm.watch_search(city="Fakeville", every=EVERY, name="fakeville"))
    assert sorted(c.event.id for c in changes if c.kind == "new") == sorted([*ids, "ArrivesLater1"])
    assert [(c.kind, c.event.id) for c in changes[5:]] == [
        ("new", "ArrivesLater1"),
        ("gone", ids[4]),
    ]


# -- restarts, processes ------------------------------------------------------------------------


async def test_nothing_is_reported_twice_across_a_restart(shared_store: dict[str, Any]) -> None:
    clock = ScriptedClock(max_sleeps=10)
    api = FakeDiscoveryAPI(clock=clock)
    async with client(api, clock, **shared_store) as tm:
        first = await collect(tm.watch_events(WATCHED, every=EVERY, name="tour"))
    assert [c.kind for c in first] == ["new"] * 3
    api.update_event(WATCHED[2], name="Changed while nobody watched")
    clock.max_sleeps = clock.sleeps + 10
    async with client(api, clock, **shared_store) as again:  # a new client on the same file
        second = await collect(again.watch_events(WATCHED, every=EVERY, name="tour"))
    assert [(c.kind, c.event.id, [f.field for f in c.changes]) for c in second] == [
        ("changed", WATCHED[2], ["name"])
    ]


async def test_a_consumer_that_breaks_early_gets_the_rest_next_time(
    shared_store: dict[str, Any],
) -> None:
    clock = ScriptedClock(max_sleeps=10)
    api = FakeDiscoveryAPI(clock=clock)
    async with client(api, clock, **shared_store) as tm:
        first = await collect(tm.watch_events(WATCHED, every=EVERY, name="tour"), limit=1)
        rest = await collect(tm.watch_events(WATCHED, every=EVERY, name="tour"))
    assert [c.event.id for c in first] == WATCHED[:1]
    assert [c.event.id for c in rest] == WATCHED[1:]


async def test_two_clients_on_one_store_never_both_poll(shared_store: dict[str, Any]) -> None:
    clock = FastClock(stop_after=4.0)  # 600 s rounds: 0.6 s here, about six of them
    api = FakeDiscoveryAPI(clock=clock, requests_per_second=None)
    async with client(api, clock, **shared_store) as one, client(api, clock, **shared_store) as two:
        clock.after(EVERY * 2.5, lambda: api.update_event(WATCHED[0], name="Seen once"))
        seen = await asyncio.gather(
            collect(one.watch_events(WATCHED, every=EVERY, name="shared")),
            collect(two.watch_events(WATCHED, every=EVERY, name="shared")),
        )
    polled = [changes for changes in seen if changes]
    assert len(polled) == 1  # one poller; the other stood by
    assert [(c.kind, c.event.id) for c in polled[0]] == [
        *[("new", i) for i in WATCHED],
        ("changed", WATCHED[0]),
    ]
    times = [request.time for request in api.requests]
    assert len(times) >= 4
    assert min(b - a for a, b in pairwise(times)) > EVERY * 0.9  # one request a round


async def test_a_stopped_poller_is_taken_over(shared_store: dict[str, Any]) -> None:
    clock = FastClock(stop_after=6.0)
    api = FakeDiscoveryAPI(clock=clock, requests_per_second=None)
    async with client(api, clock, **shared_store) as one, client(api, clock, **shared_store) as two:
        first = asyncio.ensure_future(collect(one.watch_events(WATCHED, every=EVERY, name="s")))
        await asyncio.sleep(0.3)  # the first round is done
        second = asyncio.ensure_future(collect(two.watch_events(WATCHED, every=EVERY, name="s")))
        await asyncio.sleep(1.0)  # the second stands by
        first.cancel()  # the poller stops; its lease is released on the way out
        stopped_at = clock()
        before = api.request_count
        api.update_event(WATCHED[2], name="Renamed after the takeover")
        taken_over = await second
    times = [request.time for request in api.requests]
    assert min(b - a for a, b in pairwise(times[:before])) > EVERY * 0.9
    assert [(c.kind, c.event.id) for c in taken_over] == [("changed", WATCHED[2])]
    assert times[before] - stopped_at < 2 * EVERY


# -- budget, outages, cost ----------------------------------------------------------------------


async def test_the_interval_is_stretched_to_the_budget_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ScriptedClock(max_sleeps=40)
    api = FakeDiscoveryAPI(clock=clock, requests_per_second=None)
    ids = api.generate_events(
        450,
        start=datetime.fromtimestamp(clock.now, tz=UTC) + timedelta(days=1),
        end=datetime.fromtimestamp(clock.now, tz=UTC) + timedelta(days=30),
    )
    async with client(api, clock, daily_limit=1000, requests_per_second=1e6) as tm:
        with caplog.at_level(logging.WARNING):
            await collect(tm.watch_events(ids, every=60, name="big", budget=0.5))
    rounds = sorted({request.time for request in api.requests})
    # 450 ids cost 3 requests a round; 3 x 86400 / (0.5 x 1000) = 518.4 s between rounds.
    starts = [t for n, t in enumerate(rounds) if n % 3 == 0]
    assert len(starts) >= 3
    # (plus the limiter's microsecond slots at requests_per_second=1e6)
    assert [round(b - a, 3) for a, b in pairwise(starts)] == [518.4] * (len(starts) - 1)
    warnings = [r.getMessage() for r in caplog.records if "polling every" in r.getMessage()]
    assert len(warnings) == 1 and "518" in warnings[0]
    assert all(len(api.requests[n : n + 3]) == 3 for n in range(0, len(api.requests), 3))


async def test_450_watched_ids_cost_three_requests_a_round() -> None:
    clock = ScriptedClock(max_sleeps=20)
    api = FakeDiscoveryAPI(clock=clock, requests_per_second=None)
    now = datetime.fromtimestamp(clock.now, tz=UTC)
    ids = api.generate_events(450, start=now + timedelta(days=1), end=now + timedelta(days=9))
    async with client(api, clock, requests_per_second=1e6) as tm:
        await collect(tm.watch_events(ids, every=EVERY, name="many"))
    by_round: dict[int, int] = {}
    for request in api.requests:
        by_round[int((request.time - api.requests[0].time) // EVERY)] = (
            by_round.get(int((request.time - api.requests[0].time) // EVERY), 0) + 1
        )
    assert len(by_round) >= 3 and set(by_round.values()) == {3}


async def test_a_round_during_an_outage_yields_nothing_and_the_next_catches_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ScriptedClock(max_sleeps=30)
    api = FakeDiscoveryAPI(clock=clock)
    clock.after(EVERY * 0.5, lambda: api.always_fail(503))
    clock.after(EVERY * 0.6, lambda: api.update_event(WATCHED[0], status="postponed"))
    clock.after(EVERY * 1.5, api.stop_failing)
    async with client(api, clock, max_retries=1, retry_max_wait=1) as tm:
        with caplog.at_level(logging.WARNING):
            changes = await collect(tm.watch_events(WATCHED, every=EVERY, name="outage"))
    later = [(c.kind, c.event.id, c.changes[0].after) for c in changes if c.kind == "changed"]
    assert later == [("changed", WATCHED[0], EventStatus.POSTPONED)]
    assert any("round skipped" in r.getMessage() for r in caplog.records)


async def test_a_spent_quota_skips_rounds_without_raising() -> None:
    clock = ScriptedClock(max_sleeps=20)
    api = FakeDiscoveryAPI(clock=clock, daily_limit=1)  # the server's quota: one request
    async with client(api, clock) as tm:
        changes = await collect(tm.watch_events(WATCHED, every=EVERY, name="broke"))
        stats = await tm.usage()
    assert [c.kind for c in changes] == ["new"] * 3  # round one; then only skipped rounds
    # The server's Rate-Limit-Available said the quota was spent: no later round sent anything.
    assert [r.status for r in api.requests] == [200]
    assert stats.quota_remaining == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every": 0}, "every"),
        ({"every": -5}, "every"),
        ({"budget": 0}, "budget"),
        ({"budget": 1.5}, "budget"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_options_raise_before_any_request(kwargs: dict[str, Any], message: str) -> None:
    clock = ScriptedClock()
    api = FakeDiscoveryAPI(clock=clock)
    options = {"every": EVERY, "name": "x", **kwargs}
    async with client(api, clock) as tm:
        with pytest.raises(ConfigurationError, match=message):
            await collect(tm.watch_events(WATCHED, **options))
        with pytest.raises(ConfigurationError):
            await collect(tm.watch_events("G5diZfkn0B-bh", every=EVERY, name="x"))
        with pytest.raises(ConfigurationError):
            await collect(tm.watch_search("rock", every=EVERY, name="x", sort="name,asc"))
    assert api.request_count == 0


# -- price history ----------------------------------------------------------------------------


async def test_price_history_appends_a_point_only_on_difference(
    store_settings: dict[str, Any],
) -> None:
    clock = FakeClock()
    api = FakeDiscoveryAPI(clock=clock)
    target = "1AdjZ4UGkBwb746"
    async with client(api, clock, **store_settings) as tm:
        assert await tm.price_history(target) == []
        await tm.get_event_details(target)
        await tm.get_event_details(target, refresh=True)  # same prices and status
        await tm.search_events(city="Birmingham")  # sees it again, unchanged
        await tm.get_events([target], refresh=True)
        api.update_event(
            target, price_ranges=[{"type": "standard", "currency": "GBP", "min": 50, "max": 60}]
        )
        clock.now += 10
        await tm.get_event_details(target, refresh=True)
        api.update_event(target, status="cancelled")
        clock.now += 10
        await tm.search_events(city="Birmingham", refresh=True)
        await tm.usage()  # lets background writes finish
        history = await tm.price_history(target)
    recorded = raw(api, target)
    assert [p.status for p in history] == [
        EventStatus.RESCHEDULED,
        EventStatus.RESCHEDULED,
        EventStatus.CANCELLED,
    ]
    assert [[(r.min, r.max) for r in p.price_ranges] for p in history][1:] == [
        [(Decimal(50), Decimal(60))]
    ] * 2
    assert history[0].at < history[1].at < history[2].at
    assert recorded["dates"]["status"]["code"] == "cancelled"


async def test_price_history_is_bounded_per_event() -> None:
    clock = FakeClock()
    api = FakeDiscoveryAPI(clock=clock, requests_per_second=None)
    target = "1AdjZ4UGkBwb746"
    async with client(api, clock, requests_per_second=1e6, daily_limit=10_000) as tm:
        for n in range(1003):
            api.update_event(
                target, price_ranges=[{"type": "standard", "currency": "GBP", "min": n, "max": n}]
            )
            clock.now += 1
            await tm.get_event_details(target, refresh=True)
        await tm.usage()
        history = await tm.price_history(target)
    assert len(history) == 1000
    assert history[-1].price_ranges[0].min == Decimal(1002)
    assert history[0].price_ranges[0].min == Decimal(3)
