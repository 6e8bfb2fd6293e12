"""In-process :class:`~ticketmaster_async._store.base.Store` made of dicts.

Used for ``":memory:"``-like settings and as the fallback when Redis cannot be reached. It has
exactly the semantics of the SQLite store, but only this process sees its state. Every method
runs without awaiting anything, so each one is atomic for the tasks of the event loop.

The limiter and quota decisions live here as pure functions over a :class:`LimiterRow`; the
SQLite store uses the same functions on the rare path where its SQLite lacks ``RETURNING``, and
its SQL statements mirror them.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from .._constants import DAILY_WINDOW_SECONDS, QUOTA_RESET_MAX_AHEAD_SECONDS, USAGE_KEEP_DAYS
from .._exceptions import ConfigurationError
from ._time import UtcDays, plausible_reset
from .base import Admission, CacheEntry, QuotaState, Store

__all__ = [
    "LimiterRow",
    "MemoryStore",
    "add_usage",
    "admit_row",
    "append_history",
    "apply_watch_changes",
    "check_lease_ttl",
    "check_max_points",
    "mark_spent_row",
    "quota_state_row",
    "refusal",
    "release_slot_row",
    "sync_row",
    "usage_cutoff_day",
    "with_day_requests",
]


@dataclass
class LimiterRow:
    """The single row of limiter + quota state shared by every caller of one store.

    ``next_free``: the earliest start of the next per-second slot (GCRA theoretical arrival
    time). ``quota_used`` counts requests of the window that ends at ``reset_at`` (None: no
    window yet). ``last_now``: the latest clock reading an admission saw (to notice a clock
    stepped back). ``day_requests``: admissions counted under the UTC ``day``.
    """

    next_free: float = 0.0
    quota_used: int = 0
    reset_at: float | None = None
    last_now: float = 0.0
    day: str | None = None
    day_requests: int = 0

    def window_open(self, now: float) -> bool:
        """A quota window is running at ``now`` (it started and its reset has not passed)."""
        return self.reset_at is not None and now < self.reset_at

    def used_at(self, now: float) -> int:
        """Requests counted in the window running at ``now`` (0 once its reset passed)."""
        return self.quota_used if self.window_open(now) else 0

    def reset_or_new_window(self, now: float) -> float:
        """The reset of the running window (never read as more than
        ``QUOTA_RESET_MAX_AHEAD_SECONDS`` ahead), or that of a window starting at ``now``."""
        if self.reset_at is not None and self.window_open(now):
            return min(self.reset_at, now + QUOTA_RESET_MAX_AHEAD_SECONDS)
        return now + DAILY_WINDOW_SECONDS


def admit_row(
    row: LimiterRow,
    *,
    now: float,
    interval: float,
    daily_limit: int,
    day: str,
    fresh: float | None = None,
) -> Admission:
    """:meth:`Store.admit` on ``row`` (mutated only when admitted).

    ``fresh``: the clock at the moment the row is decided, when ``now`` may have been read
    earlier (a caller that waited for a lock); it is what is compared with ``last_now``.
    """
    used = row.used_at(now)
    if used >= daily_limit:
        return refusal(row, now=now, daily_limit=daily_limit)
    seen = now if fresh is None else fresh
    row.reset_at = row.reset_or_new_window(now)
    row.quota_used = used + 1
    if seen < row.last_now - interval:
        # The clock was stepped back: move the schedule back with it.
        row.next_free -= row.last_now - seen
        row.last_now = seen
    else:
        row.last_now = max(row.last_now, seen)
    start = max(row.next_free, now)
    row.next_free = start + interval
    if row.day != day:
        row.day, row.day_requests = day, 0
    row.day_requests += 1
    return Admission(
        admitted=True,
        wait=start - now,
        slot=start,
        quota_remaining=daily_limit - row.quota_used,
        reset_at=row.reset_at,
        day=day,
    )


def refusal(row: LimiterRow, *, now: float, daily_limit: int) -> Admission:
    """The not-admitted answer for the quota state of ``row``: nothing counted or reserved."""
    state = quota_state_row(row, now=now, daily_limit=daily_limit)
    return Admission(
        admitted=False,
        wait=0.0,
        slot=0.0,
        quota_remaining=state.remaining,
        reset_at=state.reset_at,
    )


def release_slot_row(
    row: LimiterRow, *, slot: float, interval: float, day: str | None = None
) -> None:
    """:meth:`Store.release_slot` on ``row``: compare-and-set of ``next_free``, quota unit back,
    and the day's request count back while the row still counts that day."""
    if row.next_free == slot + interval:
        row.next_free = slot
    row.quota_used = max(row.quota_used - 1, 0)
    if day is not None and row.day == day:
        row.day_requests = max(row.day_requests - 1, 0)


def sync_row(
    row: LimiterRow,
    *,
    now: float,
    daily_limit: int,
    available: int | None,
    reset_at: float | None,
) -> None:
    """:meth:`Store.quota_sync` on ``row``: the server can only lower what is left."""
    used = row.used_at(now)
    if available is not None:
        used = max(used, daily_limit - available)
    row.quota_used = used
    reset = plausible_reset(reset_at, now)
    row.reset_at = reset if reset is not None else row.reset_or_new_window(now)


def mark_spent_row(
    row: LimiterRow, *, now: float, daily_limit: int, reset_at: float | None
) -> float:
    """:meth:`Store.quota_mark_spent` on ``row``; returns the reset in force."""
    row.quota_used = daily_limit
    reset = plausible_reset(reset_at, now)
    row.reset_at = reset if reset is not None else row.reset_or_new_window(now)
    return row.reset_at


def quota_state_row(row: LimiterRow, *, now: float, daily_limit: int) -> QuotaState:
    """:meth:`Store.quota_state` of ``row`` (a window whose reset passed reads as fresh)."""
    used = row.used_at(now)
    return QuotaState(
        used=used,
        daily_limit=daily_limit,
        remaining=max(0, daily_limit - used),
        reset_at=row.reset_or_new_window(now) if row.window_open(now) else None,
    )


def with_day_requests(totals: dict[str, int], row: LimiterRow, day: str) -> dict[str, int]:
    """``totals`` of ``day`` plus the admissions ``row`` still counts for that day."""
    if row.day == day and row.day_requests > 0:
        totals["requests"] = totals.get("requests", 0) + row.day_requests
    return totals


def usage_cutoff_day(day: str) -> str:
    """The oldest ``YYYY-MM-DD`` day still kept when counters are added to ``day``."""
    return (date.fromisoformat(day) - timedelta(days=USAGE_KEEP_DAYS)).isoformat()


def add_usage(usage: dict[str, dict[str, int]], day: str, counters: Mapping[str, int]) -> None:
    """Add ``counters`` to ``usage[day]`` in place; the first counters of a new day drop the
    days older than the keep period."""
    if not counters:
        return
    if day not in usage:
        cutoff = usage_cutoff_day(day)
        for old in [d for d in usage if d < cutoff]:
            del usage[old]
    totals = usage.setdefault(day, {})
    for name, value in counters.items():
        totals[name] = totals.get(name, 0) + value


@dataclass
class _Cached:
    entry: CacheEntry
    keep_until: float
    tags: tuple[str, ...]
    seq: int


@dataclass(order=True)
class _AgeMark:
    """Heap item: the age of one version of one entry (stale once the entry changed)."""

    stored_at: float
    key: str
    seq: int = field(compare=False)


class MemoryStore(Store):
    """A :class:`Store` held in this process's memory.

    Args:
        max_entries: cache bound; beyond it the oldest entries (by ``stored_at``) are evicted at
            once (no slack).
    """

    kind = "memory"

    def __init__(self, *, max_entries: int) -> None:
        self._max_entries = max_entries
        self._closed = False
        self._cache: dict[str, _Cached] = {}
        self._tags: dict[str, set[str]] = {}
        self._ages: list[_AgeMark] = []
        self._seq = 0
        self._limiter = LimiterRow()
        self._days = UtcDays()
        self._usage: dict[str, dict[str, int]] = {}
        self._flags: dict[str, float] = {}

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("MemoryStore used after aclose()")

    async def open(self) -> None:
        """Nothing to connect; raises RuntimeError after :meth:`aclose`."""
        self._check_open()

    async def aclose(self) -> None:
        """Drop the state. Idempotent; the store cannot be used afterwards."""
        self._closed = True
        self._cache.clear()
        self._tags.clear()
        self._ages.clear()

    # -- cache -------------------------------------------------------------------------------

    async def cache_get(self, key: str) -> CacheEntry | None:
        """The entry under ``key`` even if expired, or None."""
        self._check_open()
        cached = self._cache.get(key)
        return None if cached is None else cached.entry

    async def cache_set(self, entry: CacheEntry, *, tags: Sequence[str] = (), keep: float) -> None:
        """Store ``entry`` under ``tags``, then evict the oldest entries beyond the bound."""
        self._check_open()
        self._remove(entry.key)
        self._seq += 1
        unique_tags = tuple(dict.fromkeys(tags))
        frozen = CacheEntry(
            key=entry.key,
            status=entry.status,
            body=entry.body,
            stored_at=entry.stored_at,
            expires_at=entry.expires_at,
            headers=dict(entry.headers),
        )
        self._cache[entry.key] = _Cached(frozen, entry.expires_at + keep, unique_tags, self._seq)
        for tag in unique_tags:
            self._tags.setdefault(tag, set()).add(entry.key)
        heapq.heappush(self._ages, _AgeMark(entry.stored_at, entry.key, self._seq))
        self._evict()

    def _evict(self) -> None:
        while len(self._cache) > self._max_entries and self._ages:
            mark = heapq.heappop(self._ages)
            cached = self._cache.get(mark.key)
            if cached is not None and cached.seq == mark.seq:
                self._remove(mark.key)
        # Replaced and deleted entries leave stale marks behind: rebuild before they pile up.
        if len(self._ages) > 2 * len(self._cache) + self._max_entries:
            self._ages = [_AgeMark(c.entry.stored_at, k, c.seq) for k, c in self._cache.items()]
            heapq.heapify(self._ages)

    def _remove(self, key: str) -> bool:
        cached = self._cache.pop(key, None)
        if cached is None:
            return False
        for tag in cached.tags:
            keys = self._tags[tag]
            keys.discard(key)
            if not keys:
                del self._tags[tag]
        return True

    async def cache_invalidate_tag(self, tag: str) -> int:
        """Drop every entry indexed under ``tag``; returns how many."""
        self._check_open()
        keys = list(self._tags.get(tag, ()))
        return sum(self._remove(key) for key in keys)

    async def cache_delete(self, key: str) -> None:
        """Drop one entry."""
        self._check_open()
        self._remove(key)

    async def cache_clear(self) -> int:
        """Drop every cached response (never quota, limiter, usage or flags)."""
        self._check_open()
        count = len(self._cache)
        self._cache.clear()
        self._tags.clear()
        self._ages.clear()
        return count

    async def cache_purge(self, *, now: float) -> int:
        """Drop entries whose keep time passed; returns how many."""
        self._check_open()
        expired = [key for key, cached in self._cache.items() if cached.keep_until < now]
        return sum(self._remove(key) for key in expired)

    async def cache_count(self) -> int:
        """How many entries are stored."""
        self._check_open()
        return len(self._cache)

    # -- per-second limiter + daily quota -----------------------------------------------------

    async def admit(self, *, now: float, interval: float, daily_limit: int) -> Admission:
        """Count one request and reserve the next slot unless the quota is spent."""
        self._check_open()
        row = self._limiter
        counted_day, counted = row.day, row.day_requests
        admission = admit_row(
            row, now=now, interval=interval, daily_limit=daily_limit, day=self._days.of(now)
        )
        if counted_day is not None and counted_day != row.day and counted:
            add_usage(self._usage, counted_day, {"requests": counted})
        return admission

    async def release_slot(self, *, slot: float, interval: float, day: str | None = None) -> None:
        """Give back an unused slot (if it is still the last one), its quota unit and its
        request count."""
        self._check_open()
        release_slot_row(self._limiter, slot=slot, interval=interval, day=day)

    async def quota_sync(
        self, *, now: float, daily_limit: int, available: int | None, reset_at: float | None
    ) -> None:
        """Apply the server's view of the quota; it can only lower what is left."""
        self._check_open()
        if available is None and reset_at is None:
            return
        sync_row(
            self._limiter, now=now, daily_limit=daily_limit, available=available, reset_at=reset_at
        )

    async def quota_mark_spent(
        self, *, now: float, daily_limit: int, reset_at: float | None
    ) -> float:
        """Nothing is left until the returned reset time."""
        self._check_open()
        return mark_spent_row(self._limiter, now=now, daily_limit=daily_limit, reset_at=reset_at)

    async def quota_state(self, *, now: float, daily_limit: int) -> QuotaState:
        """Read the quota."""
        self._check_open()
        return quota_state_row(self._limiter, now=now, daily_limit=daily_limit)

    # -- usage counters ------------------------------------------------------------------------

    async def usage_add(self, day: str, counters: Mapping[str, int]) -> None:
        """Add ``counters`` to the totals of ``day``; drops days older than the keep period."""
        self._check_open()
        add_usage(self._usage, day, counters)

    async def usage_get(self, day: str) -> dict[str, int]:
        """The totals of ``day`` (with the requests admitted that day)."""
        self._check_open()
        return with_day_requests(dict(self._usage.get(day, {})), self._limiter, day)

    # -- flags -----------------------------------------------------------------------------------

    async def flag_set(self, name: str, *, until: float) -> None:
        """Remember ``name`` until ``until``."""
        self._check_open()
        self._flags[name] = until

    async def flag_get(self, name: str, *, now: float) -> float | None:
        """``until`` of a flag still in force, else None."""
        self._check_open()
        until = self._flags.get(name)
        return until if until is not None and until > now else None

    # -- batched cache writes (version 0.2) --------------------------------------------------

    async def cache_set_many(
        self, items: Sequence[tuple[CacheEntry, Sequence[str]]], *, keep: float
    ) -> None:
        """Store every ``(entry, tags)`` as :meth:`cache_set` would, then evict the oldest
        beyond the bound once (nothing awaits in between: the batch is atomic for the loop)."""
        self._check_open()
        if not items:
            return
        for entry, tags in items:
            self._put(entry, tags=tags, keep=keep)
        self._evict()

    def _put(self, entry: CacheEntry, *, tags: Sequence[str], keep: float) -> None:
        """:meth:`cache_set` without the eviction."""
        self._remove(entry.key)
        self._seq += 1
        unique_tags = tuple(dict.fromkeys(tags))
        frozen = CacheEntry(
            key=entry.key,
            status=entry.status,
            body=entry.body,
            stored_at=entry.stored_at,
            expires_at=entry.expires_at,
            headers=dict(entry.headers),
        )
        self._cache[entry.key] = _Cached(frozen, entry.expires_at + keep, unique_tags, self._seq)
        for tag in unique_tags:
            self._tags.setdefault(tag, set()).add(entry.key)
        heapq.heappush(self._ages, _AgeMark(entry.stored_at, entry.key, self._seq))

    # -- watch state, leases, price history (version 0.2) -----------------------------------

    @cached_property
    def _durable(self) -> _DurableState:
        return _DurableState()

    async def watch_load(self, name: str) -> dict[str, str]:
        """Every ``event id -> snapshot`` of the watch ``name``."""
        self._check_open()
        return dict(self._durable.watches.get(name, {}))

    async def watch_save(self, name: str, changes: Mapping[str, str | None]) -> None:
        """Upsert the snapshots of ``changes``, delete the ids mapped to None."""
        self._check_open()
        apply_watch_changes(self._durable.watches, name, changes)

    async def watch_forget(self, name: str) -> None:
        """Drop every snapshot of the watch ``name``."""
        self._check_open()
        self._durable.watches.pop(name, None)

    async def lease_acquire(self, name: str, owner: str, *, now: float, ttl: float) -> bool:
        """Take or renew the lease unless another owner holds it past ``now``.

        Raises:
            ConfigurationError: ``ttl`` is not a positive number of seconds.
        """
        check_lease_ttl(ttl)
        self._check_open()
        leases = self._durable.leases
        held = leases.get(name)
        if held is not None and held[0] != owner and held[1] > now:
            return False
        leases[name] = (owner, now + ttl)
        return True

    async def lease_release(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it."""
        self._check_open()
        leases = self._durable.leases
        held = leases.get(name)
        if held is not None and held[0] == owner:
            del leases[name]

    async def history_append(
        self, points: Sequence[tuple[str, float, str]], *, max_points: int
    ) -> int:
        """Append the points whose payload differs from their event's last one; keep the newest
        ``max_points`` of each event. Returns how many were appended.

        Raises:
            ConfigurationError: ``max_points`` is below 1.
        """
        check_max_points(max_points)
        self._check_open()
        return append_history(self._durable.history, points, max_points=max_points)

    async def history_get(self, event_id: str) -> list[tuple[float, str]]:
        """The points of ``event_id``, oldest first."""
        self._check_open()
        return list(self._durable.history.get(event_id, ()))

    async def history_purge(self, *, before: float) -> int:
        """Drop the history of every event whose last point is older than ``before``."""
        self._check_open()
        history = self._durable.history
        old = [event_id for event_id, points in history.items() if points[-1][0] < before]
        for event_id in old:
            del history[event_id]
        return len(old)


@dataclass
class _DurableState:
    """What :class:`MemoryStore` keeps that the cache's bound and ``cache_clear`` never touch."""

    #: watch name -> event id -> snapshot
    watches: dict[str, dict[str, str]] = field(default_factory=dict)
    #: lease name -> (owner, expires_at)
    leases: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: event id -> [(at, payload)], oldest first
    history: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


def check_lease_ttl(ttl: float) -> None:
    """Refuse a lease duration that is not a positive, finite number of seconds.

    Raises:
        ConfigurationError: it is not.
    """
    if not (math.isfinite(ttl) and ttl > 0):
        raise ConfigurationError(f"a lease must last a positive number of seconds, not {ttl!r}")


def check_max_points(max_points: int) -> None:
    """Refuse a price history bound below one point.

    Raises:
        ConfigurationError: it is below 1.
    """
    if max_points < 1:
        raise ConfigurationError(
            f"price history must keep at least 1 point an event, not {max_points!r}"
        )


def apply_watch_changes(
    watches: dict[str, dict[str, str]], name: str, changes: Mapping[str, str | None]
) -> None:
    """:meth:`Store.watch_save` on ``watches`` in place (a watch left empty is dropped)."""
    snapshots = watches.setdefault(name, {})
    for event_id, snapshot in changes.items():
        if snapshot is None:
            snapshots.pop(event_id, None)
        else:
            snapshots[event_id] = snapshot
    if not snapshots:
        del watches[name]


def append_history(
    history: dict[str, list[tuple[float, str]]],
    points: Sequence[tuple[str, float, str]],
    *,
    max_points: int,
) -> int:
    """:meth:`Store.history_append` on ``history`` in place; returns how many were appended."""
    appended = 0
    for event_id, at, payload in points:
        kept = history.setdefault(event_id, [])
        if kept and kept[-1][1] == payload:
            continue
        kept.append((at, payload))
        appended += 1
        if len(kept) > max_points:
            del kept[:-max_points]
    return appended
