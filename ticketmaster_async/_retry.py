"""Retry policy: what is retried, how long to wait, built on tenacity."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ._constants import LOGGER_NAME
from ._exceptions import (
    APIConnectionError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)

__all__ = ["RETRYABLE_SERVER_STATUSES", "RetryPolicy"]

logger = logging.getLogger(LOGGER_NAME)

RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
#: First backoff step before jitter; doubles each attempt up to the cap.
BACKOFF_BASE_SECONDS = 0.5


def _server_wait(exc: BaseException) -> float | None:
    if isinstance(exc, (RateLimitError, ServerError)):
        return exc.retry_after
    return None


class RetryPolicy:
    """Retries connection errors, timeouts, 429 spike arrests and 500/502/503/504 with
    exponential backoff and full jitter capped at ``max_wait``; a server-given wait is honoured,
    and one longer than the cap is not slept through: the error is raised at once."""

    def __init__(
        self,
        *,
        max_retries: int,
        max_wait: float,
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._sleep = sleep
        self._rng = rng or random.Random()

    def is_retryable(self, exc: BaseException) -> bool:
        """Whether another attempt may help."""
        server_wait = _server_wait(exc)
        if server_wait is not None and server_wait > self.max_wait:
            return False
        if isinstance(exc, QuotaExceededError):
            return False
        if isinstance(exc, (APIConnectionError, RateLimitError)):
            return True
        return isinstance(exc, ServerError) and exc.status_code in RETRYABLE_SERVER_STATUSES

    def wait_seconds(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds before retry number ``attempt`` (1-based) after ``exc``."""
        server_wait = _server_wait(exc) if exc is not None else None
        if server_wait is not None:
            return min(server_wait, self.max_wait)
        ceiling = min(self.max_wait, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return self.wait_seconds(state.attempt_number, exc)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.upcoming_sleep
        logger.warning(
            "retrying after %s (attempt %d of %d) in %.2f s",
            type(exc).__name__ if exc else "failure",
            state.attempt_number,
            self.max_retries + 1,
            wait,
        )

    def retrying(self) -> AsyncRetrying:
        """A fresh tenacity controller for one call (``reraise=True``: RetryError never leaks)."""
        return AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(self.is_retryable),
            sleep=self._sleep,
            reraise=True,
            before_sleep=self._before_sleep,
        )

    async def call(self, attempt: Callable[[int], Awaitable[Any]]) -> Any:
        """Run ``attempt(attempt_number)`` under the policy.

        The first attempt runs bare: most calls succeed at once and need no retry controller
        (~45 µs each). A retryable failure is then replayed to tenacity as its attempt 1, so
        waits, stops and logging are exactly those of the policy.
        """
        try:
            return await attempt(1)
        except Exception as exc:
            if self.max_retries == 0 or not self.is_retryable(exc):
                raise
            first = exc
        async for tries in self.retrying():
            with tries:
                number = tries.retry_state.attempt_number
                if number == 1:
                    raise first
                return await attempt(number)
        raise AssertionError("unreachable")  # pragma: no cover
