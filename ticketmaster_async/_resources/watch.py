"""Watches: events and searches polled within the daily budget, their changes reported once,
across restarts and processes; and the price history every call records.

A watch is an async iterator over rounds. A round asks the API (``get_events`` for a list of
ids, an exhaustive search for a query; ``refresh=True``: a watch must see the API, while its
answers still warm the cache for everyone) and compares each event's watched fields with the
snapshot the store keeps under the watch's ``name``; each difference is saved, then yielded.
So a restart reports only what changed since, and nothing twice. A lease in the store lets one
process poll a ``name`` at a time; the others stand by and take over when the holder dies.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._changes import (
    Snapshot,
    changes_between,
    decode_snapshot,
    encode_snapshot,
    event_from_snapshot,
    price_point,
    snapshot_of,
)
from .._constants import (
    DAILY_WINDOW_SECONDS,
    LOGGER_NAME,
    MAX_PAGE_SIZE,
    WATCH_LEASE_FACTOR,
    WATCH_STANDBY_CHECKS,
)
from .._endpoints import EVENTS, EventFilters
from .._exceptions import (
    APIConnectionError,
    CircuitOpenError,
    ConfigurationError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from .._params import Text, check_id
from ..models import Event, EventChange, PricePoint
from .events import IDS_SEARCH_REFUSED, EventsResource, check_event_ids
from .exhaustive import check_exhaustive, exhaustive_events

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

__all__ = ["WatchResource"]

logger = logging.getLogger(LOGGER_NAME)

#: What a skipped round looks like: the API is unavailable or the quota is spent. The round is
#: tried again at the next interval; any other error ends the watch.
_SKIPPED = (
    APIConnectionError,
    ServerError,
    CircuitOpenError,
    RateLimitError,
    ResponseValidationError,
)
#: Key of the watch's own bookkeeping among its snapshots (no event id contains ``#``).
_META = "#meta"
_NAME = Text(max_length=100)


def _cancel_if_asked() -> None:
    """Raise ``CancelledError`` when this task was asked to stop but the request was lost.

    A store client may swallow a cancellation that lands as its reply arrives (seen with the
    Redis store on Python 3.11, in about one test run in three: the cancelled watch went on
    polling as the lease's holder and its standby never took over). The task still says it was asked
    (``Task.cancelling()``, Python 3.11+), so a watch checks after each lease call and stops
    before it fetches another round.
    """
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError


@dataclass
class _Round:
    """What one round saw: every event found (in order), the ids the API says are gone, and
    what the round cost in requests."""

    events: list[Event] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    requests: int = 0


RoundFetch = Callable[[], Awaitable[_Round]]


def _check_number(value: Any, *, what: str, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and low < number <= high):
        bound = f"in ({low:g}, {high:g}]" if math.isfinite(high) else f"> {low:g}"
        raise ConfigurationError(f"{what} must be {bound}, got {value!r}")
    return number


class WatchResource(EventsResource):
    """``watch_events``, ``watch_search``, ``price_history``."""

    _sleep: Callable[[float], Awaitable[None]]

    async def watch_events(
        self, ids: Iterable[str], *, every: float = 900, name: str, budget: float = 0.5
    ) -> AsyncIterator[EventChange]:
        """Report the changes of these events, forever (cancel the task or ``break``).

        Each round asks for every event with :meth:`get_events` (``refresh=True``; 450 ids
        cost 3 requests, not 450) and yields an :class:`EventChange` per event that is new,
        changed (``status``, ``start``, ``name``, ``venue``, ``price_ranges``, ``onsale``,
        ``presales``; each difference a :class:`FieldChange`) or gone (the details answer
        404). The first round of a new ``name`` reports every event as new; what the watch has
        seen is kept in the store under ``name``, so after a restart only what changed since
        is reported. Two processes on one store never poll one ``name`` at once.

        Args:
            ids: the event ids to watch.
            every: seconds between rounds; stretched (one WARNING says to what) when the rounds
                would spend more than ``budget`` of the daily limit.
            name: the watch's name in the store.
            budget: the share of ``Settings.daily_limit`` the watch may spend a day (0 to 1].

        Raises:
            ConfigurationError: bad ids or options (before any request). A round that fails
                because the API is unavailable or the quota is spent is retried next round;
                the iterator does not raise for that.
        """
        wanted = check_event_ids(ids)
        if not wanted:
            raise ConfigurationError("ids must name at least one event")
        every, name, budget = self._watch_options(every, name, budget)

        async def fetch() -> _Round:
            found, requests = await self._get_events(wanted, refresh=True, extra_params=None)
            return _Round(
                events=[event for event in found.values() if event is not None],
                gone={event_id for event_id, event in found.items() if event is None},
                requests=requests,
            )

        searched = math.ceil(len(wanted) / MAX_PAGE_SIZE)
        async for change in self._watch(
            name,
            fetch,
            every=every,
            budget=budget,
            first_cost=searched,
            missing_is_gone=False,
            refused_cost=len(wanted),
        ):
            yield change

    async def watch_search(
        self,
        query: str | None = None,
        city: str | Sequence[str] | None = None,
        *,
        every: float = 3600,
        name: str,
        budget: float = 0.5,
        **filters: Unpack[EventFilters],
    ) -> AsyncIterator[EventChange]:
        """Report the changes of the events a search finds, forever (cancel or ``break``).

        Each round reads the whole search (``iter_events(..., exhaustive=True)``, so past the
        deep-paging cap; ``refresh=True``) and yields an :class:`EventChange` per event that is
        new, changed or gone (it no longer matches). Otherwise as :meth:`watch_events`.

        Args:
            query: the API's ``keyword``.
            city: one city or several.
            every: seconds between rounds (stretched to stay within ``budget``).
            name: the watch's name in the store.
            budget: the share of ``Settings.daily_limit`` the watch may spend a day (0 to 1].
            **filters: as :meth:`search_events_page` (not ``page``; ``sort`` is by date).

        Raises:
            TypeError / ConfigurationError: bad filters or options, before any request.
        """
        every, name, budget = self._watch_options(every, name, budget)
        values: dict[str, Any] = {"query": query, "city": city, **filters}
        values.pop("refresh", None)
        check_exhaustive(values)
        EVENTS.query("watch_search", values)  # every check before the first request

        async def fetch() -> _Round:
            result = _Round()
            pages = 0

            async def counted(window: dict[str, Any]) -> Any:
                nonlocal pages
                pages += 1
                return await self._search_page(
                    Event, EVENTS, {**window, "refresh": True}, method="watch_search"
                )

            now = datetime.fromtimestamp(self._clock(), tz=timezone.utc)
            async for event in exhaustive_events(counted, values, limit=None, now=now):
                result.events.append(event)
            result.requests = pages
            return result

        async for change in self._watch(
            name, fetch, every=every, budget=budget, first_cost=1, missing_is_gone=True
        ):
            yield change

    async def price_history(self, event_id: str) -> list[PricePoint]:
        """The event's prices and status each time the client saw them differ (details,
        searches, ``get_events``, watches), oldest first; at most 1000 points an event.

        Raises:
            ConfigurationError: a bad id.
        """
        self._check_open()
        event_id = check_id(event_id, what="event id")
        await self._pipeline.drain()  # points of answers seen a moment ago are being written
        points = []
        for at, payload in await self._store.history_get(event_id):
            point = price_point(datetime.fromtimestamp(at, tz=timezone.utc), payload)
            if point is not None:
                points.append(point)
        return points

    # -- the loop ---------------------------------------------------------------------------

    @staticmethod
    def _watch_options(every: Any, name: Any, budget: Any) -> tuple[float, str, float]:
        return (
            _check_number(every, what="every", low=0),
            _NAME.check(name, what="name"),
            _check_number(budget, what="budget", low=0, high=1),
        )

    async def _watch(
        self,
        name: str,
        fetch: RoundFetch,
        *,
        every: float,
        budget: float,
        first_cost: int,
        missing_is_gone: bool,
        refused_cost: int | None = None,
    ) -> AsyncIterator[EventChange]:
        self._check_open()
        owner = secrets.token_hex(8)
        state: dict[str, Snapshot] = {}
        cost = first_cost
        announced: float | None = None
        holding = False
        try:
            while True:
                if refused_cost is not None and await self._flag(IDS_SEARCH_REFUSED):
                    cost = max(cost, refused_cost)
                interval = self._watch_interval(every, budget, cost)
                if interval > every and announced is None:
                    announced = interval
                    logger.warning(
                        "watch %r: a round costs %d request(s); every %g s would spend %.0f a "
                        "day, more than budget %g x %d; polling every %.0f s instead",
                        name,
                        cost,
                        every,
                        cost * DAILY_WINDOW_SECONDS / every,
                        budget,
                        self.settings.daily_limit,
                        interval,
                    )
                if not await self._watch_hold(name, owner, interval):
                    holding = False
                    await self._sleep(interval / WATCH_STANDBY_CHECKS)
                    continue
                if not holding:  # (again) the poller: start from what the store knows
                    state, saved_cost = await self._watch_load(name)
                    cost = max(cost, saved_cost or 0)
                    holding = True
                result = await self._watch_round(name, fetch)
                if result is not None:
                    cost = max(result.requests, 1)
                    async for change in self._watch_report(name, state, result, missing_is_gone):
                        yield change
                    await self._store.watch_save(name, {_META: encode_snapshot({"cost": cost})})
                holding = await self._watch_wait(name, owner, interval)
        finally:
            await self._watch_release(name, owner)

    def _watch_interval(self, every: float, budget: float, cost: int) -> float:
        """``every``, stretched so that ``cost`` requests a round stay within the budget."""
        allowed = budget * self.settings.daily_limit
        return max(every, cost * DAILY_WINDOW_SECONDS / allowed)

    async def _watch_hold(self, name: str, owner: str, interval: float) -> bool:
        try:
            held = await self._store.lease_acquire(
                name, owner, now=self._clock(), ttl=interval * WATCH_LEASE_FACTOR
            )
        except Exception as exc:
            logger.warning("watch %r: could not reach the store for its lease: %s", name, exc)
            held = False
        _cancel_if_asked()
        return held

    async def _watch_wait(self, name: str, owner: str, interval: float) -> bool:
        """Sleep until the next round, renewing the lease on the way; whether it is still
        held at the end."""
        step = interval / WATCH_STANDBY_CHECKS
        for _ in range(WATCH_STANDBY_CHECKS):
            await self._sleep(step)
            if not await self._watch_hold(name, owner, interval):
                return False
        return True

    async def _watch_release(self, name: str, owner: str) -> None:
        try:
            await asyncio.shield(self._store.lease_release(name, owner))
        except Exception as exc:  # closing: the lease runs out by itself
            logger.debug("watch %r: lease not released: %s", name, exc)

    async def _watch_load(self, name: str) -> tuple[dict[str, Snapshot], int | None]:
        state: dict[str, Snapshot] = {}
        cost: int | None = None
        for event_id, text in (await self._store.watch_load(name)).items():
            snapshot = decode_snapshot(text)
            if snapshot is None:
                continue
            if event_id == _META:
                saved = snapshot.get("cost")
                cost = saved if isinstance(saved, int) and saved > 0 else None
            else:
                state[event_id] = snapshot
        return state, cost

    async def _watch_round(self, name: str, fetch: RoundFetch) -> _Round | None:
        try:
            return await fetch()
        except _SKIPPED as exc:
            logger.warning("watch %r: round skipped, trying again next round: %s", name, exc)
            return None

    async def _watch_report(
        self, name: str, state: dict[str, Snapshot], result: _Round, missing_is_gone: bool
    ) -> AsyncIterator[EventChange]:
        """Each change of the round: saved first, then yielded (so it is reported once)."""
        detected_at = datetime.fromtimestamp(self._clock(), tz=timezone.utc)
        seen: set[str] = set()
        for event in result.events:
            seen.add(event.id)
            after = snapshot_of(event)
            before = state.get(event.id)
            if before == after:
                continue
            await self._store.watch_save(name, {event.id: encode_snapshot(after)})
            state[event.id] = after
            if before is None:
                yield EventChange(kind="new", event=event, detected_at=detected_at)
            else:
                yield EventChange(
                    kind="changed",
                    event=event,
                    previous=event_from_snapshot(event.id, before),
                    changes=changes_between(before, after),
                    detected_at=detected_at,
                )
        gone = set(result.gone)
        if missing_is_gone:
            gone |= set(state) - seen
        for event_id in [event_id for event_id in state if event_id in gone]:
            last = state.pop(event_id)
            await self._store.watch_save(name, {event_id: None})
            yield EventChange(
                kind="gone", event=event_from_snapshot(event_id, last), detected_at=detected_at
            )
