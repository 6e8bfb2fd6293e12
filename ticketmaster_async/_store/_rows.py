"""Backend-neutral state rules every store shares: the limiter row and its pure decisions, usage
days, and the checks of lease and price-history arguments.

The limiter and quota decisions live here as pure functions over a :class:`LimiterRow`: the
in-memory store runs them, the SQLite store uses the same functions on the rare path where its
SQLite lacks ``RETURNING``, and its SQL statements mirror them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .._constants import DAILY_WINDOW_SECONDS, QUOTA_RESET_MAX_AHEAD_SECONDS, USAGE_KEEP_DAYS
from .._exceptions import ConfigurationError
from ._time import plausible_reset
from .base import Admission, QuotaState

__all__ = [
    "LimiterRow",
    "add_usage",
    "admit_row",
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
