"""RateLimiter: FIFO order, slot spacing, cancellation and the quota, in virtual time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketmaster_async._constants import DAILY_WINDOW_SECONDS, LOGGER_NAME
from ticketmaster_async._exceptions import ConfigurationError
from ticketmaster_async._limiter import (
    LATE_FLOOR_SECONDS,
    LATE_FRACTION,
    MAX_LATE_RESCHEDULES,
    RateLimiter,
)
from ticketmaster_async._store.base import Admission, Store
from ticketmaster_async._store.memory import MemoryStore

START = 1_700_000_000.0
EPSILON = 1e-6
#: Event-loop turns that let every runnable task reach its next timer (chains are ~4 long).
SETTLE_TURNS = 12


class ManualSleep:
    """A sleep the test ends by hand; ending one advances the clock to its deadline."""

    def __init__(self) -> None:
        self.now = START
        self.pending: list[tuple[float, asyncio.Future[None]]] = []
        self.requested: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.requested.append(delay)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((self.now + delay, future))
        await future

    def wake_first(self) -> None:
        self.pending = [(d, f) for d, f in self.pending if not f.cancelled()]
        deadline, future = self.pending.pop(0)
        self.now = deadline
        future.set_result(None)


class VirtualTime:
    """Timers in a heap; :meth:`run` jumps from one deadline to the next until all tasks end."""

    def __init__(self) -> None:
        self.now = START
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + delay, next(self._order), future))
        await future

    async def run(self, tasks: list[asyncio.Task[None]], *, max_steps: int) -> None:
        for _ in range(max_steps):
            await settle()
            if all(task.done() for task in tasks):
                return
            deadline, _, future = heapq.heappop(self._timers)
            self.now = max(self.now, deadline)
            future.set_result(None)
        raise AssertionError(f"tasks still running after {max_steps} timers")


async def settle() -> None:
    for _ in range(SETTLE_TURNS):
        await asyncio.sleep(0)


class SpyStore(MemoryStore):
    """A MemoryStore that records the calls the limiter makes."""

    def __init__(self, *, fail_release: bool = False) -> None:
        super().__init__(max_entries=10)
        self.admits = 0
        self.released: list[float] = []
        self._fail_release = fail_release

    async def admit(self, *, now: float, interval: float, daily_limit: int) -> Admission:
        self.admits += 1
        return await super().admit(now=now, interval=interval, daily_limit=daily_limit)

    async def release_slot(self, *, slot: float, interval: float, day: str | None = None) -> None:
        self.released.append(slot)
        if self._fail_release:
            raise OSError("store unreachable")
        await super().release_slot(slot=slot, interval=interval, day=day)


async def used(store: Store, now: float) -> int:
    return (await store.quota_state(now=now, daily_limit=1000)).used


@pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, math.nan])
def test_rejects_a_rate_that_is_not_positive_and_finite(rate: float) -> None:
    with pytest.raises(ConfigurationError, match="requests_per_second"):
        RateLimiter(MemoryStore(max_entries=1), requests_per_second=rate, daily_limit=1)


def test_rejects_a_negative_daily_limit() -> None:
    with pytest.raises(ConfigurationError, match="daily_limit"):
        RateLimiter(MemoryStore(max_entries=1), requests_per_second=1.0, daily_limit=-1)


def test_exposes_interval_and_daily_limit() -> None:
    limiter = RateLimiter(MemoryStore(max_entries=1), requests_per_second=4.0, daily_limit=7)
    assert (limiter.interval, limiter.daily_limit) == (0.25, 7)


async def test_sleeps_until_each_slot() -> None:
    time_ = ManualSleep()
    store = MemoryStore(max_entries=1)
    limiter = RateLimiter(
        store, requests_per_second=5.0, daily_limit=100, clock=time_.clock, sleep=time_.sleep
    )

    first = await limiter.acquire()
    second = asyncio.create_task(limiter.acquire())
    await settle()
    assert not second.done()
    time_.wake_first()
    admission = await second

    assert (first.wait, first.slot) == (0.0, START)
    assert admission.wait == pytest.approx(0.2, abs=EPSILON)
    assert time_.requested == [admission.wait]
    assert time_.now == pytest.approx(START + 0.2, rel=0, abs=EPSILON)
    assert await used(store, time_.now) == 2


async def test_waiters_are_served_in_arrival_order_one_reservation_at_a_time() -> None:
    time_ = ManualSleep()
    store = SpyStore()
    limiter = RateLimiter(
        store, requests_per_second=10.0, daily_limit=100, clock=time_.clock, sleep=time_.sleep
    )
    finished: list[int] = []
    slots: list[float] = []

    async def caller(index: int) -> None:
        admission = await limiter.acquire()
        finished.append(index)
        slots.append(admission.slot)

    tasks = [asyncio.create_task(caller(i)) for i in range(6)]
    for served in range(1, 6):
        await settle()
        # Only the sleeping caller holds a reservation; the others queue without one.
        assert store.admits == served + 1
        assert len(time_.pending) == 1
        time_.wake_first()
    await asyncio.gather(*tasks)

    assert finished == [0, 1, 2, 3, 4, 5]
    assert slots == sorted(slots)
    assert all(b - a == pytest.approx(0.1, abs=EPSILON) for a, b in itertools.pairwise(slots))


async def test_cancelled_waiter_gives_its_slot_and_quota_unit_back() -> None:
    time_ = ManualSleep()
    store = SpyStore()
    limiter = RateLimiter(
        store, requests_per_second=5.0, daily_limit=100, clock=time_.clock, sleep=time_.sleep
    )
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await settle()
    assert await used(store, time_.now) == 2

    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert store.released == [pytest.approx(START + 0.2, rel=0, abs=EPSILON)]
    assert await used(store, time_.now) == 1
    again = asyncio.create_task(limiter.acquire())
    await settle()
    time_.wake_first()
    assert (await again).slot == store.released[0]  # the same slot is handed out again


async def test_cancellation_survives_a_failing_release(caplog: pytest.LogCaptureFixture) -> None:
    time_ = ManualSleep()
    store = SpyStore(fail_release=True)
    limiter = RateLimiter(
        store, requests_per_second=5.0, daily_limit=100, clock=time_.clock, sleep=time_.sleep
    )
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await settle()

    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter

    assert len(store.released) == 1
    assert "could not give back" in caplog.text
    assert not limiter._lock.locked()


class OvershootingSleep:
    """A sleep that wakes ``overshoot`` seconds after its deadline (a busy event loop)."""

    def __init__(self, overshoot: float) -> None:
        self.now = START
        self.overshoot = overshoot

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay + self.overshoot
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("overshoot", "rescheduled"),
    [
        pytest.param(0.5 * LATE_FRACTION * 0.2, False, id="within-tolerance"),
        pytest.param(2 * LATE_FRACTION * 0.2, True, id="late"),
    ],
)
async def test_a_late_waiter_takes_a_fresh_slot(overshoot: float, rescheduled: bool) -> None:
    time_ = OvershootingSleep(overshoot)
    store = SpyStore()
    limiter = RateLimiter(
        store, requests_per_second=5.0, daily_limit=100, clock=time_.clock, sleep=time_.sleep
    )
    await limiter.acquire()

    admission = await limiter.acquire()

    missed = START + 0.2
    if rescheduled:
        assert store.released == [pytest.approx(missed, rel=0, abs=EPSILON)]
        assert admission.slot == pytest.approx(missed + overshoot, rel=0, abs=EPSILON)
        assert admission.wait == 0.0
    else:
        assert store.released == []
        assert admission.slot == pytest.approx(missed, rel=0, abs=EPSILON)
    assert await used(store, time_.now) == 2


async def test_an_always_late_waiter_goes_out_after_a_few_fresh_slots() -> None:
    now = START
    drift = 10 * LATE_FLOOR_SECONDS  # every clock read is later: every slot looks missed

    def clock() -> float:
        nonlocal now
        now += drift
        return now

    store = SpyStore()
    limiter = RateLimiter(store, requests_per_second=5.0, daily_limit=100, clock=clock)

    admission = await limiter.acquire()

    assert admission.admitted
    assert len(store.released) == MAX_LATE_RESCHEDULES
    assert store.admits == MAX_LATE_RESCHEDULES + 1
    assert await used(store, now) == 1


async def test_spent_quota_returns_a_refusal_without_sleeping() -> None:
    time_ = ManualSleep()
    store = MemoryStore(max_entries=1)
    limiter = RateLimiter(
        store, requests_per_second=1000.0, daily_limit=2, clock=time_.clock, sleep=time_.sleep
    )
    time_.now = START
    assert (await limiter.acquire()).admitted
    time_.now = START + 1.0
    assert (await limiter.acquire()).admitted

    refused = await limiter.acquire()

    assert not refused.admitted
    assert refused.reset_at == START + DAILY_WINDOW_SECONDS
    assert refused.quota_remaining == 0
    assert time_.requested == []
    assert not limiter._lock.locked()
    assert (await limiter.acquire()).admitted is False  # the lock was released


@pytest.mark.parametrize("step_back", [30.0, 0.5, 0.1])
async def test_a_clock_stepped_back_adds_at_most_one_slot(step_back: float) -> None:
    time_ = ManualSleep()
    store = MemoryStore(max_entries=1)
    limiter = RateLimiter(
        store, requests_per_second=5.0, daily_limit=100, clock=time_.clock, sleep=time_.sleep
    )
    await limiter.acquire()  # at once
    queued = asyncio.create_task(limiter.acquire())
    await settle()
    time_.wake_first()  # the second slot, 0.2 s later
    await queued
    # NTP steps the wall clock back; the queue in real time is one slot (0.2 s).
    time_.now -= step_back

    waiter = asyncio.create_task(limiter.acquire())
    await settle()
    time_.wake_first()
    await waiter

    queue = limiter.interval
    assert time_.requested[-1] <= queue + limiter.interval + EPSILON


async def test_default_clock_and_sleep_are_real_time() -> None:
    limiter = RateLimiter(MemoryStore(max_entries=1), requests_per_second=200.0, daily_limit=10)
    started = time.monotonic()
    admissions = [await limiter.acquire() for _ in range(3)]
    elapsed = time.monotonic() - started

    assert [a.admitted for a in admissions] == [True, True, True]
    assert elapsed >= 2 * limiter.interval * 0.9
    assert elapsed < 1.0


@settings(max_examples=150, deadline=None)
@given(
    requests_per_second=st.floats(min_value=0.5, max_value=50.0),
    arrivals=st.lists(
        st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=8),
        min_size=1,
        max_size=3,
    ),
)
def test_no_window_of_one_second_admits_more_than_the_rate(
    requests_per_second: float, arrivals: list[list[float]]
) -> None:
    """Several limiters (processes) share one store; their callers arrive at any times."""

    async def scenario() -> list[float]:
        time_ = VirtualTime()
        store = MemoryStore(max_entries=1)
        sent: list[float] = []

        async def caller(limiter: RateLimiter, arrival: float) -> None:
            await time_.sleep(arrival)
            admission = await limiter.acquire()
            assert admission.admitted
            sent.append(time_.now)  # the request leaves when the slot's sleep ends

        tasks = []
        for process_arrivals in arrivals:
            limiter = RateLimiter(
                store,
                requests_per_second=requests_per_second,
                daily_limit=1000,
                clock=time_.clock,
                sleep=time_.sleep,
            )
            tasks += [asyncio.create_task(caller(limiter, a)) for a in process_arrivals]
        await time_.run(tasks, max_steps=4 * len(tasks) + 1)
        assert await used(store, time_.now) == len(tasks)
        return sorted(sent)

    sent = asyncio.run(scenario())

    interval = 1.0 / requests_per_second
    assert len(sent) == sum(len(a) for a in arrivals)
    assert all(b - a >= interval - EPSILON for a, b in itertools.pairwise(sent))
    allowed = math.ceil(requests_per_second - EPSILON)  # burst 1: rate r fits ceil(r) per second
    for i, start in enumerate(sent):
        in_window = sum(1 for t in sent[i:] if t < start + 1.0 - EPSILON)
        assert in_window <= allowed
