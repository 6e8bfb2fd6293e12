"""Epoch seconds to dates without ever raising, and the plausibility bound of a quota reset.

Stored times can come from a server header (``Rate-Limit-Reset``) written by any process sharing
the store; none of them may make a later call raise a raw ``ValueError`` / ``OverflowError``.
"""

from __future__ import annotations

import math

from .._constants import QUOTA_RESET_MAX_AHEAD_SECONDS
from .._timeutil import utc_from_epoch

__all__ = ["plausible_reset", "utc_day", "utc_from_epoch"]

_SECONDS_PER_DAY = 86_400.0


def utc_day(epoch: float) -> str:
    """``YYYY-MM-DD`` of an epoch time in UTC (the key of daily usage counters); an epoch no
    date can hold gives ``"0000-00-00"``, a day no real clock reaches. Never raises."""
    moment = utc_from_epoch(epoch)
    return moment.date().isoformat() if moment is not None else "0000-00-00"


class UtcDays:
    """:func:`utc_day` for a clock that mostly stays within one day: the day's bounds are kept,
    so the admission path formats a date once a day, not once a request."""

    def __init__(self) -> None:
        self._start = math.inf
        self._end = -math.inf
        self._day = ""

    def of(self, epoch: float) -> str:
        """The UTC day of ``epoch``."""
        if self._start <= epoch < self._end:
            return self._day
        self._day = utc_day(epoch)
        if math.isfinite(epoch):
            self._start = math.floor(epoch / _SECONDS_PER_DAY) * _SECONDS_PER_DAY
            self._end = self._start + _SECONDS_PER_DAY
        return self._day


def plausible_reset(reset_at: float | None, now: float) -> float | None:
    """A quota reset worth keeping: finite, after ``now`` and at most
    ``QUOTA_RESET_MAX_AHEAD_SECONDS`` ahead of it; else None (as if no reset was given)."""
    if reset_at is None or not math.isfinite(reset_at):
        return None
    if reset_at <= now or reset_at > now + QUOTA_RESET_MAX_AHEAD_SECONDS:
        return None
    return reset_at
