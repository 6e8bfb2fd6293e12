"""A :class:`~ticketmaster_async._store.base.Store` that keeps the client working while its shared
backend (Redis, or the SQLite file) is unreachable or cannot take writes.

:class:`FallbackStore` delegates every call to the primary store. When a call fails because the
primary cannot be reached (:func:`is_unavailable`), it logs ONE warning and serves that call and
every following one from an in-process fallback store (a small :class:`MemoryStore`), so:

- the per-second limiter stays in force at the configured rate, but per process: several
  processes together may exceed it until Redis is back (the gateway's 429 spike arrests are
  retried);
- the daily quota stays in force: the fallback starts from the last quota the primary reported
  (remaining and reset), and server ``Rate-Limit-*`` headers keep lowering it;
- the cache is private to the process and small (no shared cache); usage counters (with the
  requests the fallback admitted) and flags are kept in the process.

For SQLite, "unavailable" means the file cannot be opened or written: a bad path, a full disk
(``SQLITE_FULL``), an I/O error, a read-only file system; never a busy or locked file (that is
waited for) nor a corrupt one (moved aside and rebuilt by the store).

No connection failure of the primary ever reaches the caller. Every ``retry_after`` seconds one
call probes the primary again (other calls keep using the fallback meanwhile). When it answers,
what the process did meanwhile that others must know is replayed first — cache invalidations
and clears, usage counters, flags, a spent quota with a known reset — then the store switches
back, logs a warning saying so, and empties the private cache. Requests counted by the fallback
are not added to the shared quota: the server's ``Rate-Limit-Available`` header, applied after
the next response, brings the shared count in line.

Version 0.2 state (batched cache writes, watch state, leases, price history) follows the same
rule, with these choices:

- ``cache_set_many`` goes to the private cache while degraded, like ``cache_set``.
- Watch state is mirrored: what the primary returns from ``watch_load`` and accepts in
  ``watch_save`` is also kept in the fallback, so a watch that loads its state during an outage
  still sees what it had seen, instead of reporting every event as new. Saves and forgets made
  while degraded go to that mirror and are held per watch (merged: only the latest snapshot of
  an id), then replayed on the primary before the next successful ``watch_*``,
  ``lease_acquire`` or ``history_*`` call.
- Leases are taken from the fallback while degraded, so they only keep this process's tasks
  apart: a degraded process may poll a watch that another process, which still reaches the
  store, polls too (a shared lease cannot be taken from an unreachable store). Nothing about
  leases is replayed: once the primary answers, the next ``lease_acquire`` decides again. The
  replayed snapshots (this process's view) replace what such another process saved meanwhile:
  a change it reported may be reported again, and if an event went back to what this process
  last saw, that return goes unreported.
- Price history points seen while degraded go to the fallback (``history_get`` then shows only
  those) and are held (the newest ``FALLBACK_PENDING_HISTORY_POINTS``), then appended to the
  primary in order, with its append-on-difference rule, at the same moment as watch state.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from .._constants import FALLBACK_PENDING_HISTORY_POINTS, LOGGER_NAME, PRICE_HISTORY_MAX_POINTS
from ._rows import add_usage
from .base import Admission, CacheEntry, QuotaState, Store

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "MAX_PENDING_INVALIDATIONS",
    "UNAVAILABLE_ERRORS",
    "FallbackStore",
    "is_unavailable",
]

logger = logging.getLogger(LOGGER_NAME)

_T = TypeVar("_T")

#: Seconds between two attempts to reach the primary again.
DEFAULT_RETRY_AFTER = 30.0
#: Cache invalidations (tags + keys) remembered for the primary; beyond, it is cleared instead.
MAX_PENDING_INVALIDATIONS = 1000
#: Slots handed out by the fallback that a release may still refer to.
_FALLBACK_SLOTS_REMEMBERED = 64
#: SQLite result codes (primary) that mean the file cannot be used or written: SQLITE_READONLY,
#: SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN. Not: busy, locked, corrupt.
_SQLITE_UNAVAILABLE_CODES = frozenset({8, 10, 13, 14})
#: The same, by the start of their messages (Python 3.10 has no ``sqlite_errorcode``).
_SQLITE_UNAVAILABLE = (
    "attempt to write a readonly database",
    "disk i/o error",
    "database or disk is full",
    "unable to open",
)
_SQLITE_PRIMARY_CODE_MASK = 0xFF
_LABELS = {"redis": "Redis", "sqlite": "SQLite"}
_REQUESTS = "requests"


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, asyncio.TimeoutError]
    try:
        from redis import exceptions as redis_errors
    except ImportError:  # pragma: no cover - the redis extra is installed where this is tested
        return tuple(errors)
    # ConnectionError covers refused/reset connections, LOADING, authentication and a full pool;
    # the others are a Redis that answers but cannot take writes (a replica after a failover,
    # maxmemory with noeviction, a cluster without a primary).
    errors += [
        redis_errors.ConnectionError,
        redis_errors.TimeoutError,
        redis_errors.ReadOnlyError,
        redis_errors.OutOfMemoryError,
        redis_errors.ClusterDownError,
    ]
    return tuple(errors)


#: Exceptions that mean "the primary cannot be reached or cannot take writes". Anything else (a
#: bug, a closed store, bad data) propagates.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = _unavailable_errors()


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the store cannot be reached, rather than that a call was wrong."""
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code & _SQLITE_PRIMARY_CODE_MASK in _SQLITE_UNAVAILABLE_CODES
        return str(exc).lower().startswith(_SQLITE_UNAVAILABLE)
    return isinstance(exc, UNAVAILABLE_ERRORS)


async def _nothing() -> None:
    return None


class FallbackStore(Store):
    """``primary`` while it can be reached, ``fallback`` (in-process) while it cannot.

    Args:
        primary: the shared store (Redis).
        fallback: an in-process store (a :class:`MemoryStore` with a small ``max_entries``).
        retry_after: seconds between attempts to reach the primary again.
        clock: monotonic seconds (injected so tests control the retry time).
        label: how the primary is named in log messages (default from its ``kind``).

    ``kind`` is the primary's (``"redis"``), or ``"redis (fallback: memory)"`` while the
    fallback serves.
    """

    def __init__(
        self,
        primary: Store,
        *,
        fallback: Store,
        retry_after: float = DEFAULT_RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
        label: str | None = None,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._retry_after = retry_after
        self._clock = clock
        self._label = label if label is not None else _LABELS.get(primary.kind, primary.kind)
        self.kind = primary.kind
        self._closed = False
        self._down = False
        self._retry_at = 0.0
        self._probing = False
        # What the primary last said about the quota: (daily_limit, remaining, reset_at).
        self._last_quota: tuple[int, int, float | None] | None = None
        self._seed_pending = False
        self._fallback_slots: deque[float] = deque(maxlen=_FALLBACK_SLOTS_REMEMBERED)
        # To replay on the primary when it is back.
        self._cleared = False
        self._invalidated_tags: set[str] = set()
        self._deleted_keys: set[str] = set()
        self._usage: dict[str, dict[str, int]] = {}
        self._flags: dict[str, float] = {}
        self._spent: tuple[float, int, float] | None = None

    @property
    def primary(self) -> Store:
        """The shared store."""
        return self._primary

    @property
    def fallback(self) -> Store:
        """The in-process store used while the primary is unreachable."""
        return self._fallback

    @property
    def degraded(self) -> bool:
        """True while the fallback serves."""
        return self._down

    # -- switching -------------------------------------------------------------------------------

    async def _call(
        self,
        on_primary: Callable[[], Awaitable[_T]],
        on_fallback: Callable[[], Awaitable[_T]],
    ) -> _T:
        if self._closed:
            raise RuntimeError("FallbackStore used after aclose()")
        if self._down and (self._probing or self._clock() < self._retry_at):
            return await on_fallback()
        probe = self._down
        if probe:
            self._probing = True
        try:
            if probe:
                await self._replay()
            result = await on_primary()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self._went_down(exc)
            return await on_fallback()
        finally:
            if probe:
                self._probing = False
        if probe:
            await self._came_back()
        return result

    def _went_down(self, exc: BaseException) -> None:
        self._retry_at = self._clock() + self._retry_after
        if self._down:
            logger.debug("%s still unreachable: %s", self._label, type(exc).__name__)
            return
        self._down = True
        self.kind = f"{self._primary.kind} (fallback: {self._fallback.kind})"
        self._seed_pending = self._last_quota is not None
        logger.warning(
            "%s unreachable: falling back to an in-process limiter and quota, no shared cache "
            "(%s: %s); trying again every %g s",
            self._label,
            type(exc).__name__,
            exc,
            self._retry_after,
        )

    async def _came_back(self) -> None:
        self._down = False
        self.kind = self._primary.kind
        logger.warning(
            "%s reachable again: back to the shared limiter, quota and cache", self._label
        )
        # Private answers of the outage: the shared cache may know better by now.
        await self._fallback.cache_clear()

    async def _replay(self) -> None:
        """Tell the primary what it must know about the outage; each item once it succeeded."""
        if self._cleared:
            await self._primary.cache_clear()
            self._cleared = False
        for tag in sorted(self._invalidated_tags):
            await self._primary.cache_invalidate_tag(tag)
            self._invalidated_tags.discard(tag)
        for key in sorted(self._deleted_keys):
            await self._primary.cache_delete(key)
            self._deleted_keys.discard(key)
        for name, until in list(self._flags.items()):
            await self._primary.flag_set(name, until=until)
            del self._flags[name]
        for day, counters in list(self._usage.items()):
            await self._primary.usage_add(day, counters)
            del self._usage[day]
        if self._spent is not None:
            now, daily_limit, reset_at = self._spent
            await self._primary.quota_mark_spent(
                now=now, daily_limit=daily_limit, reset_at=reset_at
            )
            self._spent = None

    async def _seed(self, now: float) -> None:
        """Start the fallback's quota from the primary's last known state (once per outage)."""
        if not self._seed_pending or self._last_quota is None:
            return
        self._seed_pending = False
        daily_limit, remaining, reset_at = self._last_quota
        await self._fallback.quota_sync(
            now=now, daily_limit=daily_limit, available=remaining, reset_at=reset_at
        )

    def _remember_invalidation(self) -> None:
        if len(self._invalidated_tags) + len(self._deleted_keys) > MAX_PENDING_INVALIDATIONS:
            self._cleared = True
            self._invalidated_tags.clear()
            self._deleted_keys.clear()

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the fallback, then the primary (an unreachable primary is not an error).

        Raises:
            RuntimeError: the store was closed.
        """
        if self._closed:
            raise RuntimeError("FallbackStore used after aclose()")
        await self._fallback.open()
        await self._call(self._primary.open, _nothing)

    async def aclose(self) -> None:
        """Close both stores. Idempotent; the store cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._primary.aclose()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
        finally:
            await self._fallback.aclose()

    # -- cache -------------------------------------------------------------------------------

    async def cache_get(self, key: str) -> CacheEntry | None:
        """The entry under ``key`` (from the private cache while the primary is unreachable)."""
        return await self._call(
            lambda: self._primary.cache_get(key), lambda: self._fallback.cache_get(key)
        )

    async def cache_set(self, entry: CacheEntry, *, tags: Sequence[str] = (), keep: float) -> None:
        """Store ``entry`` (in the private cache while the primary is unreachable)."""
        await self._call(
            lambda: self._primary.cache_set(entry, tags=tags, keep=keep),
            lambda: self._fallback.cache_set(entry, tags=tags, keep=keep),
        )

    async def cache_invalidate_tag(self, tag: str) -> int:
        """Drop every entry under ``tag`` (replayed on the primary when it is back)."""

        async def on_fallback() -> int:
            if not self._cleared:
                self._invalidated_tags.add(tag)
                self._remember_invalidation()
            return await self._fallback.cache_invalidate_tag(tag)

        return await self._call(lambda: self._primary.cache_invalidate_tag(tag), on_fallback)

    async def cache_delete(self, key: str) -> None:
        """Drop one entry (replayed on the primary when it is back)."""

        async def on_fallback() -> None:
            if not self._cleared:
                self._deleted_keys.add(key)
                self._remember_invalidation()
            await self._fallback.cache_delete(key)

        await self._call(lambda: self._primary.cache_delete(key), on_fallback)

    async def cache_clear(self) -> int:
        """Drop every cached response (replayed on the primary when it is back)."""

        async def on_fallback() -> int:
            self._cleared = True
            self._invalidated_tags.clear()
            self._deleted_keys.clear()
            return await self._fallback.cache_clear()

        return await self._call(self._primary.cache_clear, on_fallback)

    async def cache_purge(self, *, now: float) -> int:
        """Drop entries past their keep time."""
        return await self._call(
            lambda: self._primary.cache_purge(now=now),
            lambda: self._fallback.cache_purge(now=now),
        )

    async def cache_count(self) -> int:
        """How many entries are stored (in the private cache while degraded)."""
        return await self._call(self._primary.cache_count, self._fallback.cache_count)

    # -- per-second limiter + daily quota -----------------------------------------------------

    async def admit(self, *, now: float, interval: float, daily_limit: int) -> Admission:
        """Count one request and reserve a slot: shared, or in-process while degraded."""

        async def on_primary() -> Admission:
            admission = await self._primary.admit(
                now=now, interval=interval, daily_limit=daily_limit
            )
            self._last_quota = (daily_limit, admission.quota_remaining, admission.reset_at)
            return admission

        async def on_fallback() -> Admission:
            await self._seed(now)
            admission = await self._fallback.admit(
                now=now, interval=interval, daily_limit=daily_limit
            )
            if admission.admitted:
                self._fallback_slots.append(admission.slot)
                if admission.day is not None:  # replayed on the primary's usage when it is back
                    add_usage(self._usage, admission.day, {_REQUESTS: 1})
            return admission

        return await self._call(on_primary, on_fallback)

    async def release_slot(self, *, slot: float, interval: float, day: str | None = None) -> None:
        """Give back a slot to the store that handed it out (a slot of the primary is not given
        back while it is unreachable)."""
        if self._closed:
            raise RuntimeError("FallbackStore used after aclose()")
        if slot in self._fallback_slots:
            self._fallback_slots.remove(slot)
            await self._fallback.release_slot(slot=slot, interval=interval, day=day)
            pending = self._usage.get(day, {}) if day is not None else {}
            if pending.get(_REQUESTS, 0) > 0:
                pending[_REQUESTS] -= 1
            return
        await self._call(
            lambda: self._primary.release_slot(slot=slot, interval=interval, day=day), _nothing
        )

    async def quota_sync(
        self, *, now: float, daily_limit: int, available: int | None, reset_at: float | None
    ) -> None:
        """Apply the server's view of the quota to the store in use."""

        async def on_fallback() -> None:
            await self._seed(now)
            await self._fallback.quota_sync(
                now=now, daily_limit=daily_limit, available=available, reset_at=reset_at
            )

        await self._call(
            lambda: self._primary.quota_sync(
                now=now, daily_limit=daily_limit, available=available, reset_at=reset_at
            ),
            on_fallback,
        )

    async def quota_mark_spent(
        self, *, now: float, daily_limit: int, reset_at: float | None
    ) -> float:
        """Nothing is left until the returned reset (replayed on the primary when the server
        gave the reset)."""

        async def on_fallback() -> float:
            await self._seed(now)
            if reset_at is not None:
                self._spent = (now, daily_limit, reset_at)
            return await self._fallback.quota_mark_spent(
                now=now, daily_limit=daily_limit, reset_at=reset_at
            )

        return await self._call(
            lambda: self._primary.quota_mark_spent(
                now=now, daily_limit=daily_limit, reset_at=reset_at
            ),
            on_fallback,
        )

    async def quota_state(self, *, now: float, daily_limit: int) -> QuotaState:
        """Read the quota of the store in use."""

        async def on_primary() -> QuotaState:
            state = await self._primary.quota_state(now=now, daily_limit=daily_limit)
            self._last_quota = (daily_limit, state.remaining, state.reset_at)
            return state

        async def on_fallback() -> QuotaState:
            await self._seed(now)
            return await self._fallback.quota_state(now=now, daily_limit=daily_limit)

        return await self._call(on_primary, on_fallback)

    # -- usage counters ------------------------------------------------------------------------

    async def usage_add(self, day: str, counters: Mapping[str, int]) -> None:
        """Add ``counters`` to ``day`` (held in the process while degraded, then replayed)."""

        async def on_fallback() -> None:
            add_usage(self._usage, day, counters)

        await self._call(lambda: self._primary.usage_add(day, counters), on_fallback)

    async def usage_get(self, day: str) -> dict[str, int]:
        """The totals of ``day`` (only this process's, not yet replayed, while degraded)."""

        async def on_fallback() -> dict[str, int]:
            return dict(self._usage.get(day, {}))

        return await self._call(lambda: self._primary.usage_get(day), on_fallback)

    # -- flags -----------------------------------------------------------------------------------

    async def flag_set(self, name: str, *, until: float) -> None:
        """Remember ``name`` until ``until`` (replayed on the primary when it is back)."""

        async def on_fallback() -> None:
            self._flags[name] = until
            await self._fallback.flag_set(name, until=until)

        await self._call(lambda: self._primary.flag_set(name, until=until), on_fallback)

    async def flag_get(self, name: str, *, now: float) -> float | None:
        """``until`` of a flag still in force, else None."""
        return await self._call(
            lambda: self._primary.flag_get(name, now=now),
            lambda: self._fallback.flag_get(name, now=now),
        )

    # -- batched cache writes (version 0.2) --------------------------------------------------

    async def cache_set_many(
        self, items: Sequence[tuple[CacheEntry, Sequence[str]]], *, keep: float
    ) -> None:
        """Store the batch (in the private cache while the primary is unreachable)."""
        await self._call(
            lambda: self._primary.cache_set_many(items, keep=keep),
            lambda: self._fallback.cache_set_many(items, keep=keep),
        )

    # -- watch state, leases, price history (version 0.2) -----------------------------------

    @cached_property
    def _pending(self) -> _PendingDurable:
        return _PendingDurable()

    async def _replay_durable(self) -> None:
        """Write what was saved while degraded to the primary; each item once it succeeded."""
        pending = self._pending
        for name in list(pending.watches):
            forgotten, changes = pending.watches[name]
            if forgotten:
                await self._primary.watch_forget(name)
                pending.watches[name] = (False, changes)
            if changes:
                await self._primary.watch_save(name, changes)
            del pending.watches[name]
        if pending.history:
            await self._primary.history_append(
                list(pending.history), max_points=pending.history_max_points
            )
            pending.history.clear()

    async def watch_load(self, name: str) -> dict[str, str]:
        """The watch's snapshots; while degraded, the mirror of what this process last loaded
        or saved."""

        async def on_primary() -> dict[str, str]:
            await self._replay_durable()
            state = await self._primary.watch_load(name)
            await self._fallback.watch_forget(name)
            await self._fallback.watch_save(name, state)
            return state

        return await self._call(on_primary, lambda: self._fallback.watch_load(name))

    async def watch_save(self, name: str, changes: Mapping[str, str | None]) -> None:
        """Save snapshots (to the mirror, and replayed on the primary later, while degraded)."""

        async def on_primary() -> None:
            await self._replay_durable()
            await self._primary.watch_save(name, changes)
            await self._fallback.watch_save(name, changes)

        async def on_fallback() -> None:
            forgotten, held = self._pending.watches.get(name, (False, {}))
            self._pending.watches[name] = (forgotten, {**held, **changes})
            await self._fallback.watch_save(name, changes)

        await self._call(on_primary, on_fallback)

    async def watch_forget(self, name: str) -> None:
        """Drop the watch's snapshots (replayed on the primary when it is back)."""

        async def on_primary() -> None:
            await self._replay_durable()
            await self._primary.watch_forget(name)
            await self._fallback.watch_forget(name)

        async def on_fallback() -> None:
            self._pending.watches[name] = (True, {})
            await self._fallback.watch_forget(name)

        await self._call(on_primary, on_fallback)

    async def lease_acquire(self, name: str, owner: str, *, now: float, ttl: float) -> bool:
        """Take or renew the lease: shared, or in-process only while degraded (see the module
        docstring).

        Raises:
            ConfigurationError: ``ttl`` is not a positive number of seconds.
        """

        async def on_primary() -> bool:
            await self._replay_durable()
            return await self._primary.lease_acquire(name, owner, now=now, ttl=ttl)

        return await self._call(
            on_primary, lambda: self._fallback.lease_acquire(name, owner, now=now, ttl=ttl)
        )

    async def lease_release(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it, in the store in use."""
        await self._call(
            lambda: self._primary.lease_release(name, owner),
            lambda: self._fallback.lease_release(name, owner),
        )

    async def history_append(
        self, points: Sequence[tuple[str, float, str]], *, max_points: int
    ) -> int:
        """Append-on-difference (held in the process and appended to the primary later while
        degraded); returns how many points the store in use appended.

        Raises:
            ConfigurationError: ``max_points`` is below 1.
        """

        async def on_primary() -> int:
            await self._replay_durable()
            return await self._primary.history_append(points, max_points=max_points)

        async def on_fallback() -> int:
            appended = await self._fallback.history_append(points, max_points=max_points)
            self._pending.history.extend(points)
            self._pending.history_max_points = max_points
            return appended

        return await self._call(on_primary, on_fallback)

    async def history_get(self, event_id: str) -> list[tuple[float, str]]:
        """The event's points (only those seen during the outage, while degraded)."""

        async def on_primary() -> list[tuple[float, str]]:
            await self._replay_durable()
            return await self._primary.history_get(event_id)

        return await self._call(on_primary, lambda: self._fallback.history_get(event_id))

    async def history_purge(self, *, before: float) -> int:
        """Drop old histories in the store in use."""

        async def on_primary() -> int:
            await self._replay_durable()
            return await self._primary.history_purge(before=before)

        return await self._call(on_primary, lambda: self._fallback.history_purge(before=before))


@dataclass
class _PendingDurable:
    """What a degraded :class:`FallbackStore` holds for the primary (see the module docstring)."""

    #: watch name -> (forgotten first?, merged snapshot changes)
    watches: dict[str, tuple[bool, dict[str, str | None]]] = field(default_factory=dict)
    history: deque[tuple[str, float, str]] = field(
        default_factory=lambda: deque(maxlen=FALLBACK_PENDING_HISTORY_POINTS)
    )
    history_max_points: int = PRICE_HISTORY_MAX_POINTS
