"""The request pipeline under faults, through the client: implausible stored quota resets,
callers that give up while queued, requests that never reached the API, and the Commerce API's
"event not found" 500."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis_asyncio
import respx

from tests.clients import TEST_KEY, FakeClock, make_client
from tests.conftest import fixture_bytes
from tests.redis_server import RedisServer, free_port, redis_server_fixture, unique_prefix  # noqa: F401
from tests.store_backends import write_limiter_row
from ticketmaster_async import (
    APIConnectionError,
    QuotaExceededError,
    Settings,
    TicketmasterClient,
)
from ticketmaster_async._cache import cache_key
from ticketmaster_async._constants import (
    LOGGER_NAME,
    NEGATIVE_CACHE_TTL,
    QUOTA_RESET_MAX_AHEAD_SECONDS,
)
from ticketmaster_async._store.memory import MemoryStore
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

BASE = "https://app.ticketmaster.com"
EVENTS = f"{BASE}/discovery/v2/events.json"
#: ``Rate-Limit-Reset: 99999999999999999`` (epoch ms), seen from a hostile server.
FAR_FUTURE_RESET_MS = "99999999999999999"
START = 1_700_000_000.0
#: Seconds of real time after which a queued caller gives up (the queue itself is in virtual
#: time, which only moves when the test says so).
GIVE_UP_AFTER = 0.05
ABANDONING_CALLERS = 60
EPSILON = 1e-6


# -- virtual time ----------------------------------------------------------------------------------


class VirtualTime:
    """Wall clock and sleep of a client: sleeps wait until :meth:`run` reaches their deadline."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, delay), next(self._order), future))
        await future

    async def run(self, tasks: list[asyncio.Future[Any]], *, max_steps: int = 1000) -> None:
        """Jump from one deadline to the next until every task is done."""
        for _ in range(max_steps):
            await settle()
            if all(task.done() for task in tasks):
                return
            deadline, _, future = heapq.heappop(self._timers)
            self.now = max(self.now, deadline)
            if not future.done():
                future.set_result(None)
        raise AssertionError(f"tasks still running after {max_steps} timers")

    async def run_out(self, *, max_steps: int = 100) -> None:
        """Fire every sleep, in deadline order, until none is left."""
        for _ in range(max_steps):
            await settle()
            self._timers = [timer for timer in self._timers if not timer[2].done()]
            if not self._timers:
                return
            heapq.heapify(self._timers)
            deadline, _, future = heapq.heappop(self._timers)
            self.now = max(self.now, deadline)
            future.set_result(None)
        raise AssertionError(f"sleeps still pending after {max_steps} timers")

    def pending(self) -> int:
        """Sleeps still waiting (a cancelled one is not)."""
        return sum(1 for _, _, future in self._timers if not future.done())


async def settle(turns: int = 20) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


@asynccontextmanager
async def virtual_client(
    vt: VirtualTime, transport: httpx.AsyncBaseTransport, **settings: Any
) -> AsyncIterator[TicketmasterClient]:
    values: dict[str, Any] = {
        "api_key": TEST_KEY,
        "db_path": ":memory:",
        "offers": False,
        "requests_per_second": 5.0,
    }
    values.update(settings)
    client = TicketmasterClient(
        Settings(**values), transport=transport, _clock=vt, _monotonic=vt, _sleep=vt.sleep
    )
    try:
        yield client
    finally:
        await client.aclose()


class GateTransport(httpx.AsyncBaseTransport):
    """Holds every request on the wire until :attr:`gate` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.on_the_wire = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.on_the_wire += 1
        await self.gate.wait()
        return await self.inner.handle_async_request(request)


# -- implausible quota resets --------------------------------------------------------------------


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
async def test_an_implausible_stored_reset_never_makes_a_call_raise_a_raw_error(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Stored by an older version (or another process) from one hostile Rate-Limit-Reset.
    api = FakeDiscoveryAPI(requests_per_second=None)
    now = time.time()  # Redis scripts read Redis TIME: the real clock
    settings: dict[str, Any] = {"daily_limit": 5}
    memory = MemoryStore(max_entries=10)
    db = tmp_path / "state.sqlite3"
    prefix = unique_prefix()
    if backend == "sqlite":
        settings["db_path"] = str(db)
    elif backend == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        settings.update(redis_url=server.url, redis_prefix=prefix)
    values: dict[str, Any] = {"api_key": TEST_KEY, "db_path": ":memory:", "offers": False}
    values.update(settings)
    clock = FakeClock(now)
    tm = TicketmasterClient(
        Settings(**values),
        transport=api.transport(),
        _clock=clock,
        _monotonic=clock,
        _sleep=clock.sleep,
        _store=memory if backend == "memory" else None,
    )
    try:
        assert await tm.get_event_details(SANDBOX_EVENT_ID) is not None
        await _write_far_future_reset(backend, memory=memory, db=db, settings=settings)

        with pytest.raises(QuotaExceededError) as info:
            await tm.search_events("rock")
        stats = await tm.usage()
    finally:
        await tm.aclose()

    bound = _utc(now + QUOTA_RESET_MAX_AHEAD_SECONDS + 60.0)  # Redis's clock may be ahead a bit
    assert info.value.reset_at is not None and info.value.reset_at <= bound
    assert "nothing was sent" in str(info.value)
    assert stats.quota_remaining == 0
    assert stats.quota_resets_at is not None and stats.quota_resets_at <= bound
    assert api.request_count == 1


async def _write_far_future_reset(
    backend: str, *, memory: MemoryStore, db: Path, settings: dict[str, Any]
) -> None:
    far = int(FAR_FUTURE_RESET_MS) / 1000
    if backend == "memory":
        await write_limiter_row(memory, quota_used=5, reset_at=far)
    elif backend == "sqlite":
        import sqlite3

        with sqlite3.connect(db) as raw:
            raw.execute("UPDATE limiter SET quota_used = 5, reset_at = ?", (far,))
        raw.close()
    else:
        client = redis_asyncio.Redis.from_url(settings["redis_url"])
        try:
            await client.hset(f"{settings['redis_prefix']}:lim", mapping={"u": "5", "r": repr(far)})
        finally:
            await client.aclose()


async def test_a_hostile_reset_header_is_not_kept() -> None:
    clock = FakeClock(START)
    with respx.mock(assert_all_called=True) as router:
        router.get(EVENTS).respond(
            json={"page": {"number": 0, "totalPages": 0}},
            headers={"Rate-Limit-Available": "0", "Rate-Limit-Reset": FAR_FUTURE_RESET_MS},
        )
        async with make_client(clock=clock, max_retries=0) as tm:
            await tm.search_events("a")
            with pytest.raises(QuotaExceededError) as info:
                await tm.search_events("b")  # the server said nothing is left
            stats = await tm.usage()
    window_end = _utc(START + 86_400.0)  # the reset was ignored: the window's own end
    assert info.value.reset_at == window_end
    assert (stats.quota_remaining, stats.quota_resets_at) == (0, window_end)


# -- callers that give up while queued -----------------------------------------------------------


@pytest.mark.parametrize("give_up", ["wait_for", "cancel"])
async def test_abandoned_callers_send_nothing_and_nobody_queues_behind_them(
    give_up: str,
) -> None:
    vt = VirtualTime()
    api = FakeDiscoveryAPI(requests_per_second=None, clock=vt)
    async with virtual_client(vt, api.transport(), daily_limit=1000) as tm:
        if give_up == "wait_for":
            callers = [
                asyncio.ensure_future(
                    asyncio.wait_for(tm.search_events(f"q{i}"), timeout=GIVE_UP_AFTER)
                )
                for i in range(ABANDONING_CALLERS)
            ]
        else:
            callers = [
                asyncio.ensure_future(tm.search_events(f"q{i}")) for i in range(ABANDONING_CALLERS)
            ]
            await settle()
            for caller in callers[1:]:
                caller.cancel()
        outcomes = await asyncio.gather(*callers, return_exceptions=True)
        await settle()
        # The first went out at once; every other caller gave up while queued for a slot.
        assert not isinstance(outcomes[0], BaseException)
        assert all(
            isinstance(o, (asyncio.TimeoutError, asyncio.CancelledError)) for o in outcomes[1:]
        )
        assert api.request_count == 1
        assert vt.pending() == 0  # no abandoned request is still waiting for its slot

        asked_at = vt.now
        newcomer = asyncio.ensure_future(tm.search_events("new"))
        await vt.run([newcomer])
        await newcomer
        stats = await tm.usage()

    interval = 1 / 5.0
    assert api.request_count == 2  # none of the 59 abandoned requests ever went out
    new_request = api.requests[-1]
    assert new_request.params.get("keyword") == "new"
    assert new_request.time - asked_at <= interval + EPSILON  # the real queue: one slot
    assert (stats.requests_today, stats.quota_remaining) == (2, 998)


async def test_a_request_already_on_the_wire_finishes_and_is_cached() -> None:
    vt = VirtualTime()
    api = FakeDiscoveryAPI(requests_per_second=None, clock=vt)
    gate = GateTransport(api.transport())
    async with virtual_client(vt, gate) as tm:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(tm.get_event_details(SANDBOX_EVENT_ID), timeout=GIVE_UP_AFTER)
        assert gate.on_the_wire == 1
        gate.gate.set()
        await settle()
        await tm._pipeline.drain()

        asked = asyncio.ensure_future(tm.get_event_details(SANDBOX_EVENT_ID))
        await vt.run([asked])
        again = await asked  # answered by the abandoned request, from the cache
        stats = await tm.usage()
    assert again is not None and again.id == SANDBOX_EVENT_ID
    assert api.request_count == 1
    assert (stats.cache_hits, stats.requests_today) == (1, 1)


async def test_no_retry_is_started_once_every_caller_left() -> None:
    vt = VirtualTime()
    api = FakeDiscoveryAPI(requests_per_second=None, clock=vt)
    api.fail_next(1, status=503)
    gate = GateTransport(api.transport())
    async with virtual_client(vt, gate, max_retries=3) as tm:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(tm.get_event_details(SANDBOX_EVENT_ID), timeout=GIVE_UP_AFTER)
        gate.gate.set()
        await vt.run_out()  # the 503, then the retry's backoff: the retry finds nobody waiting
        assert tm._pipeline._inflight == {}
        stats = await tm.usage()
    assert api.request_count == 1  # the 503 was not retried for nobody
    assert stats.requests_today == 1


async def test_a_caller_joining_an_abandoned_request_on_the_wire_gets_its_answer() -> None:
    vt = VirtualTime()
    api = FakeDiscoveryAPI(requests_per_second=None, clock=vt)
    gate = GateTransport(api.transport())
    async with virtual_client(vt, gate) as tm:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(tm.get_event_details(SANDBOX_EVENT_ID), timeout=GIVE_UP_AFTER)
        joined = asyncio.ensure_future(tm.get_event_details(SANDBOX_EVENT_ID))
        await settle()
        gate.gate.set()
        await vt.run([joined])
        page = await joined
        stats = await tm.usage()
    assert page is not None and page.id == SANDBOX_EVENT_ID
    assert api.request_count == 1
    assert stats.coalesced == 1


# -- requests that never reached the API ---------------------------------------------------------


class RefusingTransport(httpx.AsyncBaseTransport):
    """Every connection fails, before (``request_sent=False``) or after sending."""

    def __init__(self, *, request_sent: bool) -> None:
        self.request_sent = request_sent
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        error = APIConnectionError("could not reach the API: Connection refused")
        # The HTTP layer's attribute (set by name: the class may or may not declare it).
        setattr(error, "request_sent", self.request_sent)  # noqa: B010
        raise error


@pytest.mark.parametrize(("request_sent", "units_spent"), [(False, 0), (True, 4)])
async def test_a_request_that_never_connected_gives_its_quota_unit_back(
    request_sent: bool, units_spent: int
) -> None:
    transport = RefusingTransport(request_sent=request_sent)
    async with make_client(transport=transport, max_retries=3, daily_limit=100) as tm:
        with pytest.raises(APIConnectionError):
            await tm.search_events("rock")
        stats = await tm.usage()
    assert transport.attempts == 4  # 1 + 3 retries
    assert stats.quota_remaining == 100 - units_spent
    assert stats.requests_today == units_spent


async def test_a_closed_loopback_port_spends_no_quota() -> None:
    port = free_port()  # nobody listens there
    settings = Settings(
        api_key=TEST_KEY,
        base_url=f"http://127.0.0.1:{port}",
        db_path=":memory:",
        offers=False,
        max_retries=3,
        retry_max_wait=0.01,
        daily_limit=100,
    )
    async with TicketmasterClient(settings) as tm:
        with pytest.raises(APIConnectionError) as info:
            await tm.search_events("rock")
        stats = await tm.usage()
    assert info.value.request_sent is False
    assert (stats.quota_remaining, stats.requests_today) == (100, 0)


# -- Commerce "event not found" ------------------------------------------------------------------


class CommerceNotFound(httpx.AsyncBaseTransport):
    """The fake API, except that Commerce answers its recorded "event not found" 500."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.offers_asked = 0
        self.body = fixture_bytes("commerce_v2_offers_error_500_event_not_found.json")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/commerce/"):
            self.offers_asked += 1
            return httpx.Response(
                500, content=self.body, headers={"content-type": "application/json"}
            )
        return await self.inner.handle_async_request(request)


async def test_commerce_event_not_found_is_no_offers_and_cached_like_a_404(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    transport = CommerceNotFound(api.transport())
    store = MemoryStore(max_entries=100)
    clock = FakeClock(START)
    tm = TicketmasterClient(
        Settings(api_key=TEST_KEY, db_path=":memory:", offers=True, max_retries=3),
        transport=transport,
        _clock=clock,
        _monotonic=clock,
        _sleep=clock.sleep,
        _store=store,
    )
    path = f"/commerce/v2/events/{SANDBOX_EVENT_ID}/offers.json"
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
            first = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
            second = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        await tm._pipeline.drain()
        cached = await store.cache_get(cache_key(path, {}))
    finally:
        await tm.aclose()

    assert transport.offers_asked == 1  # not retried, not asked again
    assert first == second
    assert cached is not None and cached.status == 404
    assert cached.expires_at - cached.stored_at == pytest.approx(NEGATIVE_CACHE_TTL)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


class CommerceKnowsOneEventNot(CommerceNotFound):
    """Commerce answers "event not found" for one event only; the fake answers the others."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/commerce/v2/events/OnlyInDiscovery1/offers.json":
            return await super().handle_async_request(request)
        return await self.inner.handle_async_request(request)


async def test_one_event_unknown_to_commerce_does_not_turn_offers_off_for_others() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    raw = api.get_event(SANDBOX_EVENT_ID)
    assert raw is not None
    api.add_event(dict(raw, id="OnlyInDiscovery1"))
    transport = CommerceKnowsOneEventNot(api.transport())
    async with make_client(transport=transport, offers=True, max_retries=0) as tm:
        await tm.get_ticket_prices("OnlyInDiscovery1")
        prices = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
    assert transport.offers_asked == 1
    asked = [r.path for r in api.requests if r.path.startswith("/commerce/")]
    assert asked == [f"/commerce/v2/events/{SANDBOX_EVENT_ID}/offers.json"]  # not refused
    assert any(price.source == "offers" for price in prices)
