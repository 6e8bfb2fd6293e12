"""In-process :class:`~ticketmaster_async._store.base.Store` made of dicts.

Used for ``":memory:"``-like settings and as the fallback when Redis cannot be reached. It has
exactly the semantics of the SQLite store, but only this process sees its state. Every method
runs without awaiting anything, so each one is atomic for the tasks of the event loop.

The limiter and quota decisions are the pure functions over a :class:`LimiterRow` of
:mod:`._rows` (shared with the SQLite store), re-exported here.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ._rows import (
    LimiterRow,
    add_usage,
    admit_row,
    check_lease_ttl,
    check_max_points,
    mark_spent_row,
    quota_state_row,
    refusal,
    release_slot_row,
    sync_row,
    usage_cutoff_day,
    with_day_requests,
)
from ._time import UtcDays
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
        self._put(entry, tags=tags, keep=keep)
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
