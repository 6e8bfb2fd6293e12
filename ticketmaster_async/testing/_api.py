"""The fake Discovery API: one transport-independent request handler composed of rooms.

:meth:`FakeDiscoveryAPI.handle` turns ``(method, path, query params, headers)`` into a
:class:`~._responses.FakeResponse`. The gateway (:mod:`._gateway`: keys, limits, faults) admits
the request; :mod:`._routes` picks the endpoint; the catalogue (:mod:`._catalogue`) holds the
data; :mod:`._search` decodes the query (:mod:`._decode`), filters (:mod:`._filters`), orders
(:mod:`._sorting`) and pages; :mod:`._responses` shapes the body.
:class:`~._transport.FakeTransport` (in-process) and :class:`~._server.FakeServer` (loopback
HTTP/1.1) only carry it.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, Generic, Literal, TypeAlias, TypeVar, overload
from urllib.parse import parse_qsl, urlsplit

from .._constants import (
    DAILY_WINDOW_SECONDS,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_REQUESTS_PER_SECOND,
)
from ._catalogue import Catalogue
from ._data import JSONObject
from ._gateway import Fault, Gateway, check_count, fail_fault
from ._responses import (
    CONTENT_TYPE,
    INVALID_KEY,
    FakeResponse,
    JSONBody,
    Reply,
    discovery_error,
    json_response,
    refusal,
)
from ._routes import dispatch, merge, route
from ._transport import FakeTransport

__all__ = [
    "CONTENT_TYPE",
    "FakeDiscoveryAPI",
    "FakeResponse",
    "FakeTransport",
    "QueryParams",
    "RecordedRequest",
    "SourceMode",
]

#: How the fake answers the Commerce offers and Top Picks endpoints.
SourceMode = Literal["ok", "unauthorized", "forbidden", "not_found"]
#: Query parameters as a mapping or as ``(name, value)`` pairs (repeats allowed).
QueryParams: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]]

_SOURCE_MODES = ("ok", "unauthorized", "forbidden", "not_found")
_T = TypeVar("_T")


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
    def __get__(self, api: FakeDiscoveryAPI, owner: type) -> _T: ...
    def __get__(self, api: FakeDiscoveryAPI | None, owner: type) -> _T | _GatewayOption[_T]:
        if api is None:
            return self
        value: _T = getattr(api._gateway, self._name)
        return value

    def __set__(self, api: FakeDiscoveryAPI, value: _T) -> None:
        setattr(api._gateway, self._name, value)


class FakeDiscoveryAPI:
    """A fake Ticketmaster Discovery API (plus Commerce offers and Top Picks) with real data.

    It answers like the real API: the recorded event/venue/attraction data, the real error
    bodies, the ``Rate-Limit*`` headers, the per-second (spike arrest) and daily (quota) limits,
    and fault injection for resilience tests. It is transport independent: use
    :meth:`transport` for an in-process ``httpx`` transport or
    :class:`~ticketmaster_async.testing.FakeServer` for a real loopback server. State is
    guarded by a lock, so faults can be injected from a test while a server thread runs.

    Limits, per API key:

    * Spike arrest: with ``requests_per_second=r`` the interval is ``1/r`` seconds; a request is
      rejected (429 ``SpikeArrestViolation``) when it arrives less than
      ``interval * (1 - spike_tolerance)`` after the previously *accepted* request for that key.
      Like Apigee's spike arrest, a burst is therefore smoothed: 5 simultaneous requests at 5/s
      get one 200 and four 429s. Rejected requests do not count toward the quota.
    * Quota: ``daily_limit`` requests per window of ``quota_reset_after`` seconds, the window
      starting at the key's first counted request. Over it, 429 ``QuotaViolation`` whose
      fault string names the actual key, as the real gateway does.

    Every response except a 401 carries ``Rate-Limit``, ``Rate-Limit-Available``,
    ``Rate-Limit-Over`` and ``Rate-Limit-Reset`` (epoch milliseconds of the window's end: give a
    fake clock realistic epoch seconds to get 13 digits). 401s are never counted; injected
    faults (:meth:`fail_next`, :meth:`drop_next`, :meth:`always_fail`) are answered before the
    limits and are not counted either.

    Args:
        api_keys: the accepted keys; ``None`` accepts any non-empty key.
        requests_per_second: the spike-arrest rate; ``None`` disables spike arrest.
        spike_tolerance: the fraction of the interval forgiven for jitter (0 ≤ t < 1).
        daily_limit: the quota per window.
        quota_reset_after: the quota window in seconds.
        clock: returns the current time in epoch seconds; inject a fake one in tests.
        offers: how ``/commerce/v2/events/{id}/offers`` answers (``"ok"`` or a refusal).
        top_picks: how ``/top-picks/v1/events/{id}`` answers (partner-only API: refused by
            default).

    Raises:
        ValueError: an option is out of range.
    """

    api_keys = _GatewayOption[frozenset[str] | None]()
    requests_per_second = _GatewayOption[float | None]()
    spike_tolerance = _GatewayOption[float]()
    daily_limit = _GatewayOption[int]()
    quota_reset_after = _GatewayOption[float]()

    def __init__(
        self,
        *,
        api_keys: Collection[str] | None = None,
        requests_per_second: float | None = DEFAULT_REQUESTS_PER_SECOND,
        spike_tolerance: float = 0.1,
        daily_limit: int = DEFAULT_DAILY_LIMIT,
        quota_reset_after: float = DAILY_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
        offers: SourceMode = "ok",
        top_picks: SourceMode = "unauthorized",
    ) -> None:
        self._gateway = Gateway(
            api_keys=api_keys,
            requests_per_second=requests_per_second,
            spike_tolerance=spike_tolerance,
            daily_limit=daily_limit,
            quota_reset_after=quota_reset_after,
            clock=clock,
        )
        for name, mode in (("offers", offers), ("top_picks", top_picks)):
            if mode not in _SOURCE_MODES:
                raise ValueError(f"{name} must be one of {_SOURCE_MODES}")
        self.offers: SourceMode = offers
        self.top_picks: SourceMode = top_picks
        self._clock = clock
        self._lock = threading.RLock()
        self._catalogue = Catalogue()
        self.requests: list[RecordedRequest] = []
        """Every request received, oldest first (cleared by :meth:`reset`)."""

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

    # ------------------------------------------------------------------ the catalogue

    def get_event(self, event_id: str) -> JSONObject | None:
        """A copy of the raw event object the fake serves for *event_id*, or ``None``."""
        with self._lock:
            event = self._catalogue.events.get(event_id)
            return copy.deepcopy(event) if event is not None else None

    def event_ids(self) -> list[str]:
        """The ids of every event served, in relevance order."""
        with self._lock:
            return list(self._catalogue.events)

    def add_event(self, event: Mapping[str, Any]) -> None:
        """Serve one more raw Discovery event (replacing one with the same id).

        Its ``_embedded`` venues and attractions become searchable too. Use it to test how
        your code copes with a particular payload.

        Raises:
            ValueError: the event has no string ``id``.
        """
        with self._lock:
            self._catalogue.add_event(event)

    def transport(self) -> FakeTransport:
        """An in-process ``httpx`` transport answering from this fake.

        Use it as ``httpx.AsyncClient(base_url=..., transport=api.transport())``. Any host is
        accepted, so any ``base_url`` works.
        """
        return FakeTransport(self)

    # ------------------------------------------------------------------ the handler

    def handle(
        self,
        method: str,
        path: str,
        params: QueryParams = (),
        headers: Mapping[str, str] | None = None,
    ) -> FakeResponse:
        """Answer one request.

        Args:
            method: the HTTP method.
            path: the URL path; a query string in it is merged with *params*.
            params: the query parameters (a mapping, or pairs when names repeat).
            headers: the request headers (currently unused: the API reads only the query).

        Returns:
            The response; the transport must apply its ``delay`` and ``drop``.
        """
        del headers  # The Discovery API authenticates and filters by query parameters only.
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
        split = urlsplit(path)
        if split.query:
            pairs = parse_qsl(split.query, keep_blank_values=True) + pairs
        path = split.path or "/"
        method = method.upper()
        with self._lock:
            now = self._clock()
            terminal = self._gateway.take_fault(path, ("fail", "drop", "truncate"))
            delay = self._gateway.take_fault(path, ("delay",))
            response, fault = self._answer(method, path, pairs, now, terminal)
            if delay is not None:
                response = replace(response, delay=delay.seconds)
                fault = f"{fault}+delay" if fault else "delay"
            status = None if response.drop else response.status
            if status is not None:
                self._gateway.status_counts[status] += 1
            recorded = {name: value for name, value in merge(pairs).items() if name != "apikey"}
            self.requests.append(RecordedRequest(method, path, recorded, now, status, fault))
        return response

    def _answer(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        now: float,
        terminal: Fault | None,
    ) -> tuple[FakeResponse, str | None]:
        key = merge(pairs).get("apikey", "")
        if terminal is not None and terminal.kind == "drop":
            return FakeResponse(0, {}, b"", drop=True), "drop"
        if terminal is not None and terminal.kind == "fail":
            return self._gateway.fault_response(terminal, key, now), "fail"
        always = self._gateway.always
        if always is not None and always.matches(path):
            return self._gateway.fault_response(always, key, now), "always_fail"
        response = self._process(method, path, pairs, key, now)
        if terminal is not None:  # truncate
            return replace(response, body=response.body[: len(response.body) // 2]), "truncate"
        return response, None

    def _process(
        self, method: str, path: str, pairs: list[tuple[str, str]], key: str, now: float
    ) -> FakeResponse:
        if not self._gateway.accepts(key):
            return json_response(401, INVALID_KEY, {})
        endpoint = route(path)
        source_mode = self._source_mode(endpoint)
        if source_mode == "unauthorized":
            return json_response(*refusal("unauthorized", path), {})
        admitted = self._gateway.admit(key, now)
        if isinstance(admitted, FakeResponse):
            return admitted
        headers = admitted
        if source_mode is not None and source_mode != "ok":
            return json_response(*refusal(source_mode, path), headers)
        try:
            # DIS1405 (method) and DIS1001 (unknown resource) are plausible inventions:
            # Ticketmaster documents no error codes.
            if method != "GET":
                raise Reply(405, discovery_error("DIS1405", f"Method {method} not allowed", "405"))
            if endpoint is None:
                raise Reply(404, discovery_error("DIS1001", f"No resource found at {path}", "404"))
            params = merge(pairs)
            body, extra = dispatch(self._catalogue, endpoint, path, pairs, params)
        except Reply as reply:
            return json_response(reply.status, reply.body, headers)
        return json_response(200, body, {**headers, **extra})

    def _source_mode(self, endpoint: tuple[str, ...] | None) -> SourceMode | None:
        if endpoint is None:
            return None
        if endpoint[0] == "offers":
            return self.offers
        if endpoint[0] == "top_picks":
            return self.top_picks
        return None
