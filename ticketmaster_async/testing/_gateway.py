"""The fake API's gateway: API keys, the spike-arrest and quota limits with their
``Rate-Limit*`` headers, and injected faults.

The real API sits behind an Apigee gateway that checks the key and the limits before the
Discovery application sees a request; :class:`Gateway` plays that part. It is not thread-safe on
its own: :class:`~._api.FakeDiscoveryAPI` calls it under its lock.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal

from ._responses import (
    CONTENT_TYPE,
    QUOTA_FAULT,
    SPIKE_FAULT,
    FakeResponse,
    JSONBody,
    encode_body,
    fault,
    gateway_fault,
    json_response,
)

__all__ = ["Fault", "Gateway", "check_count", "fail_fault"]

FaultKind = Literal["fail", "drop", "truncate", "delay"]


@dataclass
class Fault:
    """One injected fault, used up after ``remaining`` matching requests."""

    kind: FaultKind
    remaining: int
    path: str | None
    status: int = HTTPStatus.SERVICE_UNAVAILABLE
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def matches(self, path: str) -> bool:
        """Whether this fault applies to a request for *path*."""
        return self.path is None or self.path in path


def check_count(n: int) -> None:
    """ValueError unless *n* ≥ 1."""
    if n < 1:
        raise ValueError("n must be at least 1")


def _check_status(status: int) -> None:
    if not 100 <= status <= 599:
        raise ValueError("status must be an HTTP status code")


def fail_fault(
    n: int,
    status: int,
    body: JSONBody | None,
    headers: Mapping[str, str] | None,
    path: str | None,
) -> Fault:
    """The fault of :meth:`FakeDiscoveryAPI.fail_next` / :meth:`~FakeDiscoveryAPI.always_fail`
    (the status checked)."""
    _check_status(status)
    return Fault(
        "fail",
        n,
        path,
        status=status,
        body=encode_body(body) if body is not None else None,
        headers=dict(headers or {}),
    )


@dataclass
class _KeyState:
    window_start: float
    used: int = 0
    over: int = 0
    last_accepted: float | None = None


class Gateway:
    """Keys, limits and faults; the options are plain attributes (see ``FakeDiscoveryAPI``)."""

    def __init__(
        self,
        *,
        api_keys: Collection[str] | None,
        requests_per_second: float | None,
        spike_tolerance: float,
        daily_limit: int,
        quota_reset_after: float,
        clock: Callable[[], float],
    ) -> None:
        if requests_per_second is not None and not requests_per_second > 0:
            raise ValueError("requests_per_second must be positive or None")
        if not 0 <= spike_tolerance < 1:
            raise ValueError("spike_tolerance must be in [0, 1)")
        if daily_limit < 0:
            raise ValueError("daily_limit must not be negative")
        if not quota_reset_after > 0:
            raise ValueError("quota_reset_after must be positive")
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.requests_per_second = requests_per_second
        self.spike_tolerance = spike_tolerance
        self.daily_limit = daily_limit
        self.quota_reset_after = quota_reset_after
        self.clock = clock
        self.faults: list[Fault] = []
        self.always: Fault | None = None
        self.status_counts: Counter[int] = Counter()
        self.limit_counts: Counter[str] = Counter()
        self._keys: dict[str, _KeyState] = {}

    def reset(self) -> None:
        """Forget faults, counters, quotas and spike-arrest state."""
        self.faults.clear()
        self.always = None
        self._keys.clear()
        self.status_counts.clear()
        self.limit_counts.clear()

    # ------------------------------------------------------------------ faults

    def take_fault(self, path: str, kinds: tuple[FaultKind, ...]) -> Fault | None:
        """The first queued fault of one of *kinds* for *path*, used once."""
        for queued in self.faults:
            if queued.kind in kinds and queued.matches(path):
                queued.remaining -= 1
                if queued.remaining <= 0:
                    self.faults.remove(queued)
                return queued
        return None

    def fault_response(self, injected: Fault, key: str, now: float) -> FakeResponse:
        """The answer of a ``fail`` fault (with the key's rate headers when it is known)."""
        headers = {"Content-Type": CONTENT_TYPE}
        state = self._keys.get(key)
        if state is not None:
            headers.update(self._rate_headers(state, now))
        headers.update(injected.headers)
        body = (
            injected.body
            if injected.body is not None
            else encode_body(gateway_fault(injected.status))
        )
        return FakeResponse(injected.status, headers, body)

    # ------------------------------------------------------------------ keys and limits

    def accepts(self, key: str) -> bool:
        """Whether *key* is a valid API key."""
        return bool(key) and (self.api_keys is None or key in self.api_keys)

    def admit(self, key: str, now: float) -> FakeResponse | dict[str, str]:
        """Count one request for *key*: the ``Rate-Limit*`` headers to answer with, or the 429
        when spike arrest or the quota refuses it (refused requests are not counted)."""
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState(window_start=now)
        self._roll_window(state, now)
        if self._spike_arrested(state, now):
            self.limit_counts["spike"] += 1
            body = fault(SPIKE_FAULT.format(rate=self._rate_text()), "SpikeArrestViolation")
            return json_response(429, body, self._rate_headers(state, now))
        state.last_accepted = now
        if state.used >= self.daily_limit:
            state.over += 1
            self.limit_counts["quota"] += 1
            body = fault(QUOTA_FAULT.format(key=key), "QuotaViolation")
            return json_response(429, body, self._rate_headers(state, now))
        state.used += 1
        return self._rate_headers(state, now)

    def quota_used(self, key: str) -> int:
        """Requests counted toward *key*'s quota in its current window."""
        state = self._keys.get(key)
        if state is None:
            return 0
        self._roll_window(state, self.clock())
        return state.used

    def _roll_window(self, state: _KeyState, now: float) -> None:
        if now >= state.window_start + self.quota_reset_after:
            state.window_start = now
            state.used = 0
            state.over = 0

    def _spike_arrested(self, state: _KeyState, now: float) -> bool:
        if self.requests_per_second is None or state.last_accepted is None:
            return False
        interval = 1.0 / self.requests_per_second
        return now - state.last_accepted < interval * (1.0 - self.spike_tolerance)

    def _rate_text(self) -> str:
        rate = self.requests_per_second or 0.0
        if float(rate).is_integer():
            return f"{int(rate)}ps"
        return f"{rate * 60:g}pm"  # Apigee states sub-second rates per minute.

    def _rate_headers(self, state: _KeyState, now: float) -> dict[str, str]:
        self._roll_window(state, now)
        reset_ms = math.floor((state.window_start + self.quota_reset_after) * 1000)
        return {
            "Rate-Limit": str(self.daily_limit),
            "Rate-Limit-Available": str(max(0, self.daily_limit - state.used)),
            "Rate-Limit-Over": str(state.over),
            "Rate-Limit-Reset": str(reset_ms),
        }
