"""The fake API's gateway: API keys, the spike-arrest and quota limits with their
``Rate-Limit*`` headers, injected faults, and the public methods that script and inspect them
(:class:`GatewayControls`, a base of ``FakeDiscoveryAPI``).

The real API sits behind an Apigee gateway that checks the key and the limits before the
Discovery application sees a request; :class:`Gateway` plays that part. It is not thread-safe on
its own: :class:`~._api.FakeDiscoveryAPI` calls it under its lock.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Generic, Literal, TypeVar, overload

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

__all__ = [
    "Fault",
    "Gateway",
    "GatewayControls",
    "RecordedRequest",
    "check_count",
    "fail_fault",
]

FaultKind = Literal["fail", "drop", "truncate", "delay"]
_T = TypeVar("_T")


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


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, for assertions.

    Attributes:
        method: the HTTP method.
        path: the URL path, without the query string.
        params: the query parameters WITHOUT ``apikey`` (repeated names joined with ``,``).
        time: the fake's clock when the request arrived.
        status: the status answered, or ``None`` when the connection was dropped.
        fault: the injected fault that shaped the answer (``"fail"``, ``"drop"``,
            ``"truncate"``, ``"always_fail"``; ``"+delay"`` is appended when delayed), or ``None``.
    """

    method: str
    path: str
    params: dict[str, str]
    time: float
    status: int | None
    fault: str | None = None


class _GatewayOption(Generic[_T]):
    """A public option of the fake that lives on its gateway (read and set through the fake)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, api: None, owner: type) -> _GatewayOption[_T]: ...
    @overload
    def __get__(self, api: GatewayControls, owner: type) -> _T: ...
    def __get__(self, api: GatewayControls | None, owner: type) -> _T | _GatewayOption[_T]:
        if api is None:
            return self
        value: _T = getattr(api._gateway, self._name)
        return value

    def __set__(self, api: GatewayControls, value: _T) -> None:
        setattr(api._gateway, self._name, value)


class GatewayControls:
    """The public face of the gateway on :class:`~._api.FakeDiscoveryAPI`: its options, fault
    injection and what it counted (a mixin over ``self._gateway``, under ``self._lock``)."""

    _gateway: Gateway
    _lock: threading.RLock
    requests: list[RecordedRequest]

    api_keys = _GatewayOption[frozenset[str] | None]()
    requests_per_second = _GatewayOption[float | None]()
    spike_tolerance = _GatewayOption[float]()
    daily_limit = _GatewayOption[int]()
    quota_reset_after = _GatewayOption[float]()

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        body: JSONBody | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next *n* matching requests with *status* instead of processing them.

        Args:
            n: how many requests.
            status: the HTTP status.
            body: the body (bytes, text, or a JSON object); default: an Apigee-style fault,
                e.g. ``{"fault":{"faultstring":"Service Unavailable","detail":{"errorcode":
                "messaging.adaptors.http.flow.ServiceUnavailable"}}}`` for 503.
            headers: extra response headers (e.g. ``{"Retry-After": "1"}``).
            path: only requests whose path contains this substring.
        """
        check_count(n)
        fault = fail_fault(n, status, body, headers, path)
        with self._lock:
            self._gateway.faults.append(fault)

    def delay_next(self, n: int = 1, *, seconds: float, path: str | None = None) -> None:
        """Delay the answer to the next *n* matching requests by *seconds*.

        The request is otherwise processed normally (and combines with the other faults). The
        in-process transport raises ``httpx.ReadTimeout`` when the delay exceeds the request's
        read timeout, as a network would.
        """
        check_count(n)
        if not seconds >= 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._gateway.faults.append(Fault("delay", n, path, seconds=seconds))

    def drop_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Close the connection of the next *n* matching requests without answering.

        In-process this raises ``httpx.RemoteProtocolError``; the loopback server closes the
        socket. Dropped requests are not counted toward the quota.
        """
        check_count(n)
        with self._lock:
            self._gateway.faults.append(Fault("drop", n, path))

    def truncate_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Process the next *n* matching requests normally but send only half of each body.

        The status is the normal one (200 for a valid request) and ``Content-Length`` matches
        the truncated body, so the client receives well-framed but invalid JSON.
        """
        check_count(n)
        with self._lock:
            self._gateway.faults.append(Fault("truncate", n, path))

    def always_fail(
        self,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        *,
        body: JSONBody | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """Answer every matching request with *status* until :meth:`stop_failing`.

        Arguments as for :meth:`fail_next`. Queued one-shot faults still take precedence.
        """
        fault = fail_fault(1, status, body, headers, path)
        with self._lock:
            self._gateway.always = fault

    def stop_failing(self) -> None:
        """Cancel :meth:`always_fail`."""
        with self._lock:
            self._gateway.always = None

    def reset(self) -> None:
        """Forget faults, the request log and counters, quotas and spike-arrest state.

        The data (including events added with :meth:`add_event`) and the options are kept.
        """
        with self._lock:
            self._gateway.reset()
            self.requests.clear()

    # ------------------------------------------------------------------ inspection

    @property
    def request_count(self) -> int:
        """How many requests were received (dropped and refused ones included)."""
        with self._lock:
            return len(self.requests)

    @property
    def count_429(self) -> int:
        """How many requests were answered 429 (spike arrest and quota)."""
        return self.status_count(HTTPStatus.TOO_MANY_REQUESTS)

    @property
    def spike_arrest_count(self) -> int:
        """How many requests were refused by spike arrest."""
        with self._lock:
            return self._gateway.limit_counts["spike"]

    @property
    def quota_violation_count(self) -> int:
        """How many requests were refused because the quota was spent."""
        with self._lock:
            return self._gateway.limit_counts["quota"]

    @property
    def dropped_count(self) -> int:
        """How many connections were dropped by :meth:`drop_next`."""
        with self._lock:
            return sum(1 for request in self.requests if request.status is None)

    def status_count(self, status: int) -> int:
        """How many requests were answered with *status*."""
        with self._lock:
            return self._gateway.status_counts[status]

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests whose path contains *path*."""
        with self._lock:
            return [request for request in self.requests if path in request.path]

    def quota_used(self, api_key: str) -> int:
        """Requests counted toward *api_key*'s quota in its current window."""
        with self._lock:
            return self._gateway.quota_used(api_key)

    def quota_remaining(self, api_key: str) -> int:
        """What ``Rate-Limit-Available`` would say for *api_key* now."""
        return max(0, self.daily_limit - self.quota_used(api_key))
