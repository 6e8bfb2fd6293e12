"""The one Store interface behind cache, limiter, quota, usage and flags.

Two implementations: SQLite (embedded, default; shared by processes on one machine) and Redis
(shared by every machine using one URL); an in-memory one serves ``":memory:"``-like uses and the
fallback when Redis is unreachable. Every deciding operation (slot + quota) is atomic in the
backend: one statement / one Lua script, never check-then-write.

Times are epoch seconds (float). Callers pass ``now`` from their injected clock; a backend with a
clock of its own that all peers share (Redis ``TIME``) may use that instead. What callers act on
is relative (``Admission.wait``), so the two never need to agree.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Admission", "CacheEntry", "QuotaState", "Store"]


@dataclass(frozen=True)
class CacheEntry:
    """A cached upstream answer. ``body`` never contains the API key."""

    key: str
    status: int
    body: bytes
    stored_at: float
    expires_at: float
    headers: Mapping[str, str] = field(default_factory=dict)

    def is_fresh(self, now: float) -> bool:
        """Still within its TTL."""
        return now < self.expires_at

    def age(self, now: float) -> float:
        """Seconds since it was stored."""
        return max(0.0, now - self.stored_at)


@dataclass(frozen=True)
class Admission:
    """The answer of :meth:`Store.admit`.

    ``admitted``: a request may be sent after sleeping ``wait`` seconds; one unit of the daily
    quota has been counted and one per-second slot reserved. Not admitted: the daily quota is
    spent until ``reset_at`` (nothing was counted or reserved).
    ``slot``: opaque token for :meth:`Store.release_slot`. ``day``: the UTC day
    (``YYYY-MM-DD``) whose ``requests`` usage counter the admission was counted under (None
    when not admitted); give it back to :meth:`Store.release_slot`.
    """

    admitted: bool
    wait: float
    slot: float
    quota_remaining: int
    reset_at: float | None
    day: str | None = None


@dataclass(frozen=True)
class QuotaState:
    """Today's quota as the store sees it (all processes)."""

    used: int
    daily_limit: int
    remaining: int
    reset_at: float | None


class Store(abc.ABC):
    """Backend-neutral persistent state. Implementations must be safe for concurrent use by many
    tasks of one event loop, and (SQLite, Redis) by many processes.

    Cache methods fail open at the client level: the client logs their exceptions and goes on
    uncached, so implementations may raise on I/O failure.
    """

    #: Short name for logs and ``usage()``: "sqlite", "redis", "memory".
    kind: str = "abstract"

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect / create the schema. Idempotent; called lazily before first use."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release connections. Idempotent."""

    # -- cache -------------------------------------------------------------------------------

    @abc.abstractmethod
    async def cache_get(self, key: str) -> CacheEntry | None:
        """The entry under ``key`` even if expired (the caller decides fresh vs stale), or None."""

    @abc.abstractmethod
    async def cache_set(self, entry: CacheEntry, *, tags: Sequence[str] = (), keep: float) -> None:
        """Store ``entry`` (replacing any), indexed under ``tags``. ``keep``: seconds after
        ``entry.expires_at`` the row may still be served stale before it may be purged.
        Bounded: beyond the store's maximum the oldest entries are evicted."""

    @abc.abstractmethod
    async def cache_invalidate_tag(self, tag: str) -> int:
        """Drop every entry indexed under ``tag``; returns how many."""

    @abc.abstractmethod
    async def cache_delete(self, key: str) -> None:
        """Drop one entry."""

    @abc.abstractmethod
    async def cache_clear(self) -> int:
        """Drop every cached response (never quota, limiter, usage or flags); returns how many."""

    @abc.abstractmethod
    async def cache_purge(self, *, now: float) -> int:
        """Drop entries past their keep time; returns how many."""

    @abc.abstractmethod
    async def cache_count(self) -> int:
        """How many entries are stored."""

    # -- per-second limiter + daily quota -----------------------------------------------------

    @abc.abstractmethod
    async def admit(self, *, now: float, interval: float, daily_limit: int) -> Admission:
        """Atomically: unless the daily quota is spent, count one request (in the quota and in
        the ``requests`` usage counter of ``now``'s UTC day) and reserve the next per-second
        slot (GCRA, burst 1: slots are ``interval`` apart, shared by all peers).

        The quota window starts at the first request (24 h) unless the server set a reset. A
        stored reset more than ``QUOTA_RESET_MAX_AHEAD_SECONDS`` ahead reads as that far ahead.

        Wall clock stepped back: the store remembers the latest ``now`` an admission saw. When
        ``now`` is more than one ``interval`` before it, the clock was stepped back (NTP): the
        slot schedule is moved back by the same amount, so the step never makes a request wait
        more than one slot beyond the real queue. A smaller step is absorbed (waits at most one
        interval more). A ``now`` read before waiting for another process's lock is not a step:
        backends that wait for a lock measure the wait and judge the time after it.
        """

    @abc.abstractmethod
    async def release_slot(self, *, slot: float, interval: float, day: str | None = None) -> None:
        """Give back a slot reserved by :meth:`admit` that will not be used (cancelled waiter,
        a request that never reached the API), if no later slot was reserved since; also give
        back its quota unit and, with ``day`` (``Admission.day``), its count in that day's
        ``requests`` usage counter. Best effort."""

    @abc.abstractmethod
    async def quota_sync(
        self, *, now: float, daily_limit: int, available: int | None, reset_at: float | None
    ) -> None:
        """Apply a response's ``Rate-Limit-Available`` / ``Rate-Limit-Reset`` (epoch seconds):
        they can only lower what is left (remaining = min(local, server)) and set the reset time
        when it lies in the future, at most ``QUOTA_RESET_MAX_AHEAD_SECONDS`` ahead (any other
        reset is ignored, as if none was given)."""

    @abc.abstractmethod
    async def quota_mark_spent(
        self, *, now: float, daily_limit: int, reset_at: float | None
    ) -> float:
        """A ``QuotaViolation`` 429: nothing is left until ``reset_at`` (or the current window's
        reset, or now + 24 h; a ``reset_at`` that is not plausible, as for :meth:`quota_sync`,
        is ignored). Returns the reset time in force."""

    @abc.abstractmethod
    async def quota_state(self, *, now: float, daily_limit: int) -> QuotaState:
        """Read the quota (a window whose reset passed reads as fresh)."""

    # -- usage counters ------------------------------------------------------------------------

    @abc.abstractmethod
    async def usage_add(self, day: str, counters: Mapping[str, int]) -> None:
        """Add ``counters`` to the totals of ``day`` (``YYYY-MM-DD`` UTC). Kept a few days."""

    @abc.abstractmethod
    async def usage_get(self, day: str) -> dict[str, int]:
        """The totals of ``day`` across every process; ``requests`` includes every admission
        counted by :meth:`admit` (minus those given back)."""

    # -- flags (e.g. an optional price source refused this key) ----------------------------------

    @abc.abstractmethod
    async def flag_set(self, name: str, *, until: float) -> None:
        """Remember ``name`` until ``until`` (epoch seconds)."""

    @abc.abstractmethod
    async def flag_get(self, name: str, *, now: float) -> float | None:
        """``until`` of a flag still in force, else None."""

    # -- batched cache writes (version 0.2) --------------------------------------------------

    @abc.abstractmethod
    async def cache_set_many(
        self, items: Sequence[tuple[CacheEntry, Sequence[str]]], *, keep: float
    ) -> None:
        """Store many ``(entry, tags)`` at once, each exactly as :meth:`cache_set` would, as ONE
        batch: other readers see all of it or none of it (one transaction on SQLite, one script
        on Redis). An entry listed twice keeps its last version. The size bound holds after the
        batch (the oldest entries are evicted). An empty batch does nothing."""

    # -- watch state (version 0.2) -----------------------------------------------------------

    @abc.abstractmethod
    async def watch_load(self, name: str) -> dict[str, str]:
        """Every ``event id -> snapshot`` saved for the watch ``name`` (empty if none).
        Snapshots are opaque strings; they never expire and :meth:`cache_clear` keeps them."""

    @abc.abstractmethod
    async def watch_save(self, name: str, changes: Mapping[str, str | None]) -> None:
        """Upsert each ``event id -> snapshot`` of ``changes`` and delete the ids mapped to
        None, as one batch (all or nothing)."""

    @abc.abstractmethod
    async def watch_forget(self, name: str) -> None:
        """Drop every snapshot of the watch ``name`` (not its lease)."""

    # -- leases (version 0.2) ------------------------------------------------------------------

    @abc.abstractmethod
    async def lease_acquire(self, name: str, owner: str, *, now: float, ttl: float) -> bool:
        """Atomically take or renew the lease ``name`` for ``owner`` until ``now + ttl``: True
        when nobody holds it, its holder's time ran out (``expires_at <= now``) or ``owner``
        already holds it; otherwise False and nothing changes.

        Raises:
            ConfigurationError: ``ttl`` is not a positive number of seconds.
        """

    @abc.abstractmethod
    async def lease_release(self, name: str, owner: str) -> None:
        """Drop the lease ``name`` if ``owner`` holds it (else nothing happens)."""

    # -- price history (version 0.2) -----------------------------------------------------------

    @abc.abstractmethod
    async def history_append(
        self, points: Sequence[tuple[str, float, str]], *, max_points: int
    ) -> int:
        """Append each ``(event id, at, payload)`` whose payload differs (as a string) from the
        last one stored for that event, in order (several points of one event are each compared
        with the one before), then keep the newest ``max_points`` of each event. One batch;
        returns how many points were appended. Never expires; :meth:`cache_clear` keeps it.

        Raises:
            ConfigurationError: ``max_points`` is below 1.
        """

    @abc.abstractmethod
    async def history_get(self, event_id: str) -> list[tuple[float, str]]:
        """The ``(at, payload)`` points of ``event_id``, oldest (first appended) first."""

    @abc.abstractmethod
    async def history_purge(self, *, before: float) -> int:
        """Drop the whole history of every event whose last point is older than ``before``
        (``at < before``); returns how many events were dropped."""
