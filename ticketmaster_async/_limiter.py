"""The per-second rate limiter in front of every upstream request.

Slots are evenly spaced (GCRA with burst 1) and shared through the :class:`Store` by every
process using it; the store also counts the daily quota in the same atomic step. Within one
process waiters are served first come, first served: an :class:`asyncio.Lock` (FIFO-fair) is held
from the reservation until the slot begins, so this process reserves at most one slot ahead.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

from ._constants import LOGGER_NAME
from ._exceptions import ConfigurationError
from ._store.base import Admission, Store

__all__ = ["LATE_FLOOR_SECONDS", "LATE_FRACTION", "MAX_LATE_RESCHEDULES", "RateLimiter"]

#: A waiter that wakes later than this fraction of the interval after its slot takes a new one
#: (the gateway forgives about 10 % of an interval of arrival jitter)...
LATE_FRACTION = 0.05
#: ...but not for less than a timer's ordinary overshoot on a busy machine.
LATE_FLOOR_SECONDS = 0.002
#: At most this many fresh slots for one request; then it goes out late rather than never.
MAX_LATE_RESCHEDULES = 3

logger = logging.getLogger(LOGGER_NAME)


class RateLimiter:
    """Hands out request slots ``1 / requests_per_second`` apart, counting the daily quota.

    Args:
        store: where the slots and the quota live (shared by every process using it).
        requests_per_second: the spacing of slots; positive.
        daily_limit: requests per quota window; not negative.
        clock: epoch seconds now (injected so tests control time).
        sleep: awaits a number of seconds (injected so tests never wait in real time).

    Raises:
        ConfigurationError: a rate that is not positive and finite, or a negative daily limit.
    """

    def __init__(
        self,
        store: Store,
        *,
        requests_per_second: float,
        daily_limit: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(requests_per_second) and requests_per_second > 0):
            raise ConfigurationError(
                f"requests_per_second must be a positive number, not {requests_per_second!r}"
            )
        if daily_limit < 0:
            raise ConfigurationError(f"daily_limit must not be negative, not {daily_limit!r}")
        self._store = store
        self._interval = 1.0 / requests_per_second
        self._late_tolerance = max(self._interval * LATE_FRACTION, LATE_FLOOR_SECONDS)
        self._daily_limit = daily_limit
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()

    @property
    def interval(self) -> float:
        """Seconds between two slots."""
        return self._interval

    @property
    def daily_limit(self) -> int:
        """Requests allowed per quota window."""
        return self._daily_limit

    async def acquire(self) -> Admission:
        """Wait for this caller's turn and slot.

        Returns:
            The store's :class:`Admission`. When ``admitted`` is true the slot has begun and one
            quota unit is counted: send the request now. When false the daily quota is spent
            until ``reset_at`` and nothing was counted; the caller raises
            ``QuotaExceededError`` (the limiter never sleeps for the quota).

        Raises:
            asyncio.CancelledError: cancelled while waiting; a reserved slot and its quota unit
                are given back to the store (best effort).
        """
        async with self._lock:
            for attempt in range(MAX_LATE_RESCHEDULES + 1):
                asked_at = self._clock()
                admission = await self._store.admit(
                    now=asked_at, interval=self._interval, daily_limit=self._daily_limit
                )
                if not admission.admitted:
                    return admission
                # Sleep to the slot itself, not for `wait` after the store answered: the
                # store round trip is already part of the wait.
                target = asked_at + admission.wait
                delay = target - self._clock()
                if delay > 0:
                    try:
                        await self._sleep(delay)
                    except asyncio.CancelledError:
                        await self.give_back(admission)
                        raise
                late = self._clock() - target
                if late <= self._late_tolerance or attempt == MAX_LATE_RESCHEDULES:
                    return admission
                # Woken too late (the event loop was busy): sending now would squeeze this
                # request against the next slot's holder, who may be on time, and trip the
                # gateway's spike arrest. Give the slot back and take a fresh one.
                logger.debug("woke %.1f ms after its slot; taking a fresh one", late * 1000)
                await self.give_back(admission)
        raise AssertionError("unreachable")  # pragma: no cover

    async def give_back(self, admission: Admission) -> None:
        """Return an admitted request that was not sent (a cancelled waiter, a missed slot, a
        connection that was never established): its quota unit and its count in the day's
        requests go back, and its slot too while no later one was reserved. Best effort: a
        store failure is logged, never raised."""
        try:
            # Shielded: the release must reach the store even though this task is cancelled.
            await asyncio.shield(
                self._store.release_slot(
                    slot=admission.slot, interval=self._interval, day=admission.day
                )
            )
        except Exception:
            logger.warning("could not give back an unused rate-limit slot", exc_info=True)
