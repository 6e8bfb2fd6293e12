"""Circuit breaker states and the retry policy, with a fake clock."""

from __future__ import annotations

import logging
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
from ticketmaster_async._constants import LOGGER_NAME
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


def _recording_policy(slept: list[float], **kw: float) -> RetryPolicy:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryPolicy(
        max_retries=int(kw.get("max_retries", 3)),
        max_wait=kw.get("max_wait", 30.0),
        sleep=sleep,
        rng=random.Random(7),
    )


async def test_first_failure_waits_and_is_logged_as_attempt_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The first attempt runs outside tenacity; its failure must still get the policy's wait
    # (here the server's Retry-After) and the same WARNING as any other attempt.
    slept: list[float] = []
    attempts: list[int] = []

    async def attempt(number: int) -> str:
        attempts.append(number)
        if number == 1:
            raise _server(503, retry_after=1.5)
        return "ok"

    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        assert await _recording_policy(slept).call(attempt) == "ok"
    assert attempts == [1, 2]
    assert slept == [1.5]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "attempt 1 of 4" in messages[0]


@pytest.mark.parametrize(
    "exc",
    [NotFoundError("x", status_code=404), _server(503, retry_after=31), ValueError("bug")],
    ids=["not-retryable", "server-wait-too-long", "not-ours"],
)
async def test_first_failure_not_worth_retrying_is_raised_at_once(exc: Exception) -> None:
    slept: list[float] = []
    attempts: list[int] = []

    async def attempt(number: int) -> str:
        attempts.append(number)
        raise exc

    with pytest.raises(type(exc)) as raised:
        await _recording_policy(slept).call(attempt)
    assert raised.value is exc
    assert attempts == [1] and slept == []


async def test_no_retries_means_one_attempt() -> None:
    attempts: list[int] = []

    async def attempt(number: int) -> str:
        attempts.append(number)
        raise APIConnectionError("down")

    with pytest.raises(APIConnectionError):
        await _recording_policy([], max_retries=0).call(attempt)
    assert attempts == [1]
