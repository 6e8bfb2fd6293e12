"""A small circuit breaker: closed → open after N consecutive failures → half-open (one probe)."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone

from ._constants import LOGGER_NAME
from ._exceptions import CircuitOpenError

__all__ = ["BreakerState", "CircuitBreaker"]

logger = logging.getLogger(LOGGER_NAME)


class BreakerState(str, enum.Enum):
    """Where the breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures for ``reset_after`` seconds, then lets
    exactly one probe through; the probe's success closes it, its failure opens it again.

    ``clock`` is monotonic seconds; ``wall_clock`` turns deadlines into ``retry_at`` datetimes.
    """

    def __init__(
        self,
        *,
        threshold: int,
        reset_after: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._threshold = threshold
        self._reset_after = reset_after
        self._clock = clock
        self._wall_clock = wall_clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_out = False

    @property
    def state(self) -> BreakerState:
        """The current state (open turns half-open once ``reset_after`` has passed)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> None:
        """Let a call through, or raise CircuitOpenError without touching the network."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._probe_out:
            self._probe_out = True
            logger.warning("circuit half-open: letting one probe request through")
            return
        assert self._opened_at is not None
        remaining = max(0.0, self._opened_at + self._reset_after - self._clock())
        retry_at = datetime.fromtimestamp(self._wall_clock() + remaining, tz=timezone.utc)
        raise CircuitOpenError(
            f"circuit open after {self._threshold} consecutive failures; "
            f"next probe at {retry_at.isoformat(timespec='seconds')}",
            retry_at=retry_at,
        )

    def record_success(self) -> None:
        """The API answered (any status that is not a server failure)."""
        if self._opened_at is not None:
            logger.warning("circuit closed: the API answered the probe")
        self._failures = 0
        self._opened_at = None
        self._probe_out = False

    def record_failure(self) -> None:
        """A 5xx, timeout or network failure."""
        self._failures += 1
        if self._probe_out or (self._opened_at is None and self._failures >= self._threshold):
            self._opened_at = self._clock()
            self._probe_out = False
            logger.warning(
                "circuit open after %d consecutive failures; calls fail fast for %.1f s",
                self._failures,
                self._reset_after,
            )

    def release_probe(self) -> None:
        """A probe ended with neither outcome (cancelled): let another probe through."""
        self._probe_out = False
