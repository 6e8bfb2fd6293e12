"""Circuit breaker states and the retry policy, with a fake clock."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from ticketmaster_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from ticketmaster_async._breaker import BreakerState, CircuitBreaker
from ticketmaster_async._retry import RetryPolicy


class FakeClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def _state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state


def _breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(threshold=3, reset_after=30, clock=clock, wall_clock=clock)


def test_breaker_opens_after_threshold_then_one_probe() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert _state(breaker) is BreakerState.CLOSED
    breaker.before_call()
    breaker.record_failure()
    assert _state(breaker) is BreakerState.OPEN
    with pytest.raises(CircuitOpenError) as info:
        breaker.before_call()
    assert info.value.retry_at == datetime.fromtimestamp(clock.now + 30, tz=timezone.utc)
    clock.now += 30
    assert _state(breaker) is BreakerState.HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # only one probe at a time
    breaker.record_success()
    assert _state(breaker) is BreakerState.CLOSED
    breaker.before_call()


def test_failed_probe_reopens_for_a_full_period() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 31
    breaker.before_call()
    breaker.record_failure()
    assert _state(breaker) is BreakerState.OPEN
    clock.now += 29
    assert _state(breaker) is BreakerState.OPEN
    clock.now += 1
    assert _state(breaker) is BreakerState.HALF_OPEN


def test_cancelled_probe_lets_another_through() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 30
    breaker.before_call()
    breaker.release_probe()
    breaker.before_call()


def test_success_resets_consecutive_count() -> None:
    breaker = _breaker(FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert _state(breaker) is BreakerState.CLOSED


async def _no_sleep(seconds: float) -> None:
    return None


def _policy(**kw: float) -> RetryPolicy:
    return RetryPolicy(
        max_retries=int(kw.get("max_retries", 3)),
        max_wait=kw.get("max_wait", 30.0),
        sleep=_no_sleep,
        rng=random.Random(7),
    )


def _server(status: int, retry_after: float | None = None) -> ServerError:
    return ServerError("x", status_code=status, retry_after=retry_after)


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (APIConnectionError("down"), True),
        (APITimeoutError("slow"), True),
        (RateLimitError("spike", error_code="policies.ratelimit.SpikeArrestViolation"), True),
        (QuotaExceededError("spent"), False),
        (_server(500), True),
        (_server(502), True),
        (_server(503), True),
        (_server(504), True),
        (_server(501), False),
        (_server(503, retry_after=31), False),
        (_server(503, retry_after=30), True),
        (BadRequestError("x", status_code=400), False),
        (AuthenticationError("x", status_code=401), False),
        (PermissionDeniedError("x", status_code=403), False),
        (NotFoundError("x", status_code=404), False),
        (ResponseValidationError("x", status_code=200), False),
        (CircuitOpenError("x", retry_at=datetime.now(timezone.utc)), False),
    ],
)
def test_what_is_retried(exc: BaseException, retryable: bool) -> None:
    assert _policy().is_retryable(exc) is retryable


def test_backoff_is_full_jitter_capped() -> None:
    policy = _policy(max_wait=4.0)
    for attempt in range(1, 10):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        waits = [policy.wait_seconds(attempt, APIConnectionError("x")) for _ in range(50)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2  # jitter spreads over the range


def test_server_wait_is_honoured() -> None:
    assert _policy().wait_seconds(1, _server(503, retry_after=2.5)) == 2.5


async def test_call_retries_then_reraises_the_last_error_not_retry_error() -> None:
    attempts: list[int] = []

    async def attempt(number: int) -> str:
        attempts.append(number)
        raise _server(503)

    with pytest.raises(ServerError):
        await _policy(max_retries=2).call(attempt)
    assert attempts == [1, 2, 3]


async def test_call_returns_first_success() -> None:
    async def attempt(number: int) -> str:
        if number < 3:
            raise APIConnectionError("flaky")
        return "ok"

    assert await _policy().call(attempt) == "ok"
