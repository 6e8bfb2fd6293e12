"""The fake Discovery API: one transport-independent request handler, and an httpx transport.

:meth:`FakeDiscoveryAPI.handle` turns ``(method, path, query params, headers)`` into a
:class:`FakeResponse`; :class:`FakeTransport` (in-process) and
:class:`~ticketmaster_async.testing.FakeServer` (loopback HTTP/1.1) only carry it.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx

from .._constants import (
    DAILY_WINDOW_SECONDS,
    DEEP_PAGING_CAP,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_REQUESTS_PER_SECOND,
    MAX_PAGE_SIZE,
)
from ._data import Dataset, JSONObject, iter_classification_nodes, load_dataset

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
JSONBody: TypeAlias = bytes | str | Mapping[str, Any]

#: The API's ``Content-Type`` (from the documented example responses).
CONTENT_TYPE = "application/json;charset=utf-8"
_SOURCE_MODES = ("ok", "unauthorized", "forbidden", "not_found")
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_LEGACY_EVENT_ID = re.compile(r"/event/([0-9A-F]{16})(?:$|[/?])")
_ERRORS_HREF = "/discovery/v2/errors.html#"
_BAD_REQUEST = "400 BAD_REQUEST"
_SOURCE_HOSTS = {
    "universe": "universe.com",
    "frontgate": "frontgatetickets.com",
    "tmr": "ticketsnow.com",
}
_CLASSIFICATION_LEVELS = ("segment", "genre", "subGenre", "type", "subType")

# Gateway (Apigee) bodies. 401 and the quota 429 are documented; the spike-arrest 429 is
# Apigee's standard body (Ticketmaster's own was never captured).
_INVALID_KEY = {
    "fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}
}
_QUOTA_FAULT = "Rate limit quota violation. Quota limit  exceeded. Identifier : {key}"
_SPIKE_FAULT = "Spike arrest violation. Allowed rate : {rate}"
# Refusals of the optional price sources; none was captured from Ticketmaster. The 401 and 404
# are Apigee's standard bodies for a key without access to an API product and for a path the
# gateway does not route; the 403 body is a plausible invention.
_REFUSALS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (
        401,
        "Invalid ApiKey for given resource",
        "oauth.v2.InvalidApiKeyForGivenResource",
    ),
    "forbidden": (403, "Access Denied", "accesscontrol.AccessDenied"),
    "not_found": (
        404,
        "Unable to identify proxy for host: default and url: {path}",
        "messaging.adaptors.http.flow.ApplicationNotFound",
    ),
}
# Commerce API answer for an unknown event: HTTP 500, recorded from the real API.
_OFFERS_EVENT_NOT_FOUND = {
    "errors": [{"status": "500", "detail": "Invalid Event - event not found.", "code": "40001"}]
}
# Discovery error codes. DIS1004 (not found) comes from a recorded real response. DIS1015 (date
# format), DIS1035 (paging depth) and DIS1036 (size), with their "400 BAD_REQUEST" status string,
# follow a third-party probe of the live API: Ticketmaster documents no error codes. DIS1001
# (unknown resource), DIS1013 (not a number) and DIS1405 (method) are plausible inventions.
_NOT_FOUND_DETAIL = "Resource not found with provided criteria (locale={locale}, id={id})"
_SIZE_DETAIL = 'Query param "size" must be less than {limit}'
_DEPTH_DETAIL = (
    "API Limits Exceeded: Max paging depth exceeded. (page * size) must be less than 1,000"
)
_DATE_DETAIL = (
    "Query param with date must be of valid format YYYY-MM-DDTHH:mm:ssZ "
    "{example: 2020-08-01T14:00:00Z }"
)


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


@dataclass(frozen=True)
class FakeResponse:
    """What the fake answers; a transport must honour ``delay`` and ``drop``.

    Attributes:
        status: the HTTP status (``0`` when ``drop`` is set).
        headers: the response headers (without ``Content-Length``, which the transport adds).
        body: the response body.
        delay: seconds to wait before answering.
        drop: close the connection without answering.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0
    drop: bool = False

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class _Fault:
    kind: Literal["fail", "drop", "truncate", "delay"]
    remaining: int
    path: str | None
    status: int = HTTPStatus.SERVICE_UNAVAILABLE
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def matches(self, path: str) -> bool:
        return self.path is None or self.path in path


def _fail_fault(
    n: int,
    status: int,
    body: JSONBody | None,
    headers: Mapping[str, str] | None,
    path: str | None,
) -> _Fault:
    """The fault of :meth:`FakeDiscoveryAPI.fail_next` / :meth:`~FakeDiscoveryAPI.always_fail`
    (the status checked)."""
    _check_status(status)
    return _Fault(
        "fail",
        n,
        path,
        status=status,
        body=_encode_body(body) if body is not None else None,
        headers=dict(headers or {}),
    )


@dataclass
class _KeyState:
    window_start: float
    used: int = 0
    over: int = 0
    last_accepted: float | None = None


class _Reply(Exception):
    """Raised inside request processing to answer early."""

    def __init__(self, status: int, body: JSONObject) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


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
        if requests_per_second is not None and not requests_per_second > 0:
            raise ValueError("requests_per_second must be positive or None")
        if not 0 <= spike_tolerance < 1:
            raise ValueError("spike_tolerance must be in [0, 1)")
        if daily_limit < 0:
            raise ValueError("daily_limit must not be negative")
        if not quota_reset_after > 0:
            raise ValueError("quota_reset_after must be positive")
        for name, mode in (("offers", offers), ("top_picks", top_picks)):
            if mode not in _SOURCE_MODES:
                raise ValueError(f"{name} must be one of {_SOURCE_MODES}")
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.requests_per_second = requests_per_second
        self.spike_tolerance = spike_tolerance
        self.daily_limit = daily_limit
        self.quota_reset_after = quota_reset_after
        self.offers: SourceMode = offers
        self.top_picks: SourceMode = top_picks
        self._clock = clock
        self._lock = threading.RLock()
        self._dataset: Dataset | None = None
        self._events: dict[str, JSONObject] = {}
        self._venues: dict[str, JSONObject] = {}
        self._attractions: dict[str, JSONObject] = {}
        self._keys: dict[str, _KeyState] = {}
        self._faults: list[_Fault] = []
        self._always: _Fault | None = None
        self._status_counts: Counter[int] = Counter()
        self._limit_counts: Counter[str] = Counter()
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
        _check_count(n)
        fault = _fail_fault(n, status, body, headers, path)
        with self._lock:
            self._faults.append(fault)

    def delay_next(self, n: int = 1, *, seconds: float, path: str | None = None) -> None:
        """Delay the answer to the next *n* matching requests by *seconds*.

        The request is otherwise processed normally (and combines with the other faults). The
        in-process transport raises ``httpx.ReadTimeout`` when the delay exceeds the request's
        read timeout, as a network would.
        """
        _check_count(n)
        if not seconds >= 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._faults.append(_Fault("delay", n, path, seconds=seconds))

    def drop_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Close the connection of the next *n* matching requests without answering.

        In-process this raises ``httpx.RemoteProtocolError``; the loopback server closes the
        socket. Dropped requests are not counted toward the quota.
        """
        _check_count(n)
        with self._lock:
            self._faults.append(_Fault("drop", n, path))

    def truncate_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Process the next *n* matching requests normally but send only half of each body.

        The status is the normal one (200 for a valid request) and ``Content-Length`` matches
        the truncated body, so the client receives well-framed but invalid JSON.
        """
        _check_count(n)
        with self._lock:
            self._faults.append(_Fault("truncate", n, path))

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
        fault = _fail_fault(1, status, body, headers, path)
        with self._lock:
            self._always = fault

    def stop_failing(self) -> None:
        """Cancel :meth:`always_fail`."""
        with self._lock:
            self._always = None

    def reset(self) -> None:
        """Forget faults, the request log and counters, quotas and spike-arrest state.

        The data (including events added with :meth:`add_event`) and the options are kept.
        """
        with self._lock:
            self._faults.clear()
            self._always = None
            self._keys.clear()
            self._status_counts.clear()
            self._limit_counts.clear()
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
            return self._limit_counts["spike"]

    @property
    def quota_violation_count(self) -> int:
        """How many requests were refused because the quota was spent."""
        with self._lock:
            return self._limit_counts["quota"]

    @property
    def dropped_count(self) -> int:
        """How many connections were dropped by :meth:`drop_next`."""
        with self._lock:
            return sum(1 for request in self.requests if request.status is None)

    def status_count(self, status: int) -> int:
        """How many requests were answered with *status*."""
        with self._lock:
            return self._status_counts[status]

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests whose path contains *path*."""
        with self._lock:
            return [request for request in self.requests if path in request.path]

    def quota_used(self, api_key: str) -> int:
        """Requests counted toward *api_key*'s quota in its current window."""
        with self._lock:
            state = self._keys.get(api_key)
            if state is None:
                return 0
            self._roll_window(state, self._clock())
            return state.used

    def quota_remaining(self, api_key: str) -> int:
        """What ``Rate-Limit-Available`` would say for *api_key* now."""
        return max(0, self.daily_limit - self.quota_used(api_key))

    def get_event(self, event_id: str) -> JSONObject | None:
        """A copy of the raw event object the fake serves for *event_id*, or ``None``."""
        with self._lock:
            event = self._data_events().get(event_id)
            return copy.deepcopy(event) if event is not None else None

    def event_ids(self) -> list[str]:
        """The ids of every event served, in relevance order."""
        with self._lock:
            return list(self._data_events())

    def add_event(self, event: Mapping[str, Any]) -> None:
        """Serve one more raw Discovery event (replacing one with the same id).

        Its ``_embedded`` venues and attractions become searchable too. Use it to test how
        your code copes with a particular payload.

        Raises:
            ValueError: the event has no string ``id``.
        """
        raw = copy.deepcopy(dict(event))
        if not isinstance(raw.get("id"), str) or not raw["id"]:
            raise ValueError("an event needs a non-empty string id")
        with self._lock:
            self._data_events()[raw["id"]] = raw
            self._index_embedded(raw)

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
            terminal = self._take_fault(path, ("fail", "drop", "truncate"))
            delay = self._take_fault(path, ("delay",))
            response, fault = self._answer(method, path, pairs, now, terminal)
            if delay is not None:
                response = replace(response, delay=delay.seconds)
                fault = f"{fault}+delay" if fault else "delay"
            status = None if response.drop else response.status
            if status is not None:
                self._status_counts[status] += 1
            recorded = {name: value for name, value in _merge(pairs).items() if name != "apikey"}
            self.requests.append(RecordedRequest(method, path, recorded, now, status, fault))
        return response

    def _answer(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        now: float,
        terminal: _Fault | None,
    ) -> tuple[FakeResponse, str | None]:
        key = _merge(pairs).get("apikey", "")
        if terminal is not None and terminal.kind == "drop":
            return FakeResponse(0, {}, b"", drop=True), "drop"
        if terminal is not None and terminal.kind == "fail":
            return self._fault_response(terminal, key, now), "fail"
        if self._always is not None and self._always.matches(path):
            return self._fault_response(self._always, key, now), "always_fail"
        response = self._process(method, path, pairs, key, now)
        if terminal is not None:  # truncate
            return replace(response, body=response.body[: len(response.body) // 2]), "truncate"
        return response, None

    def _fault_response(self, fault: _Fault, key: str, now: float) -> FakeResponse:
        headers = {"Content-Type": CONTENT_TYPE}
        state = self._keys.get(key)
        if state is not None:
            headers.update(self._rate_headers(state, now))
        headers.update(fault.headers)
        body = fault.body if fault.body is not None else _encode_body(_gateway_fault(fault.status))
        return FakeResponse(fault.status, headers, body)

    def _process(
        self, method: str, path: str, pairs: list[tuple[str, str]], key: str, now: float
    ) -> FakeResponse:
        if not key or (self.api_keys is not None and key not in self.api_keys):
            return _json_response(401, _INVALID_KEY, {})
        route = _route(path)
        source_mode = self._source_mode(route)
        if source_mode == "unauthorized":
            return _json_response(401, _refusal("unauthorized", path), {})
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState(window_start=now)
        self._roll_window(state, now)
        if self._spike_arrested(state, now):
            self._limit_counts["spike"] += 1
            body = _fault(_SPIKE_FAULT.format(rate=self._rate_text()), "SpikeArrestViolation")
            return _json_response(429, body, self._rate_headers(state, now))
        state.last_accepted = now
        if state.used >= self.daily_limit:
            state.over += 1
            self._limit_counts["quota"] += 1
            body = _fault(_QUOTA_FAULT.format(key=key), "QuotaViolation")
            return _json_response(429, body, self._rate_headers(state, now))
        state.used += 1
        headers = self._rate_headers(state, now)
        if source_mode is not None and source_mode != "ok":
            return _json_response(*_refusal_reply(source_mode, path), headers)
        try:
            if method != "GET":
                raise _Reply(
                    405, _discovery_error("DIS1405", f"Method {method} not allowed", "405")
                )
            if route is None:
                raise _Reply(
                    404, _discovery_error("DIS1001", f"No resource found at {path}", "404")
                )
            params = _merge(pairs)
            body = self._dispatch(route, path, pairs, params)
        except _Reply as reply:
            return _json_response(reply.status, reply.body, headers)
        return _json_response(200, body, headers)

    # ------------------------------------------------------------------ limits

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

    def _take_fault(self, path: str, kinds: tuple[str, ...]) -> _Fault | None:
        for fault in self._faults:
            if fault.kind in kinds and fault.matches(path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _source_mode(self, route: tuple[str, ...] | None) -> SourceMode | None:
        if route is None:
            return None
        if route[0] == "offers":
            return self.offers
        if route[0] == "top_picks":
            return self.top_picks
        return None

    # ------------------------------------------------------------------ data

    def _load(self) -> Dataset:
        if self._dataset is None:
            dataset = _shared_dataset()
            self._events = {event["id"]: event for event in dataset.events}
            self._venues = {venue["id"]: venue for venue in dataset.venues}
            self._attractions = {item["id"]: item for item in dataset.attractions}
            self._dataset = dataset
        return self._dataset

    def _data_events(self) -> dict[str, JSONObject]:
        self._load()
        return self._events

    def _index_embedded(self, event: JSONObject) -> None:
        embedded = event.get("_embedded") or {}
        for venue in embedded.get("venues") or []:
            if isinstance(venue, dict) and isinstance(venue.get("id"), str):
                self._venues.setdefault(venue["id"], venue)
        for attraction in embedded.get("attractions") or []:
            if isinstance(attraction, dict) and isinstance(attraction.get("id"), str):
                self._attractions.setdefault(attraction["id"], attraction)

    # ------------------------------------------------------------------ endpoints

    def _dispatch(
        self,
        route: tuple[str, ...],
        path: str,
        pairs: list[tuple[str, str]],
        params: dict[str, str],
    ) -> JSONObject:
        dataset = self._load()
        kind = route[0]
        locale = params.get("locale") or "en-us"
        if kind == "search":
            return self._search(route[1], path, pairs, params)
        if kind == "offers":
            return self._offers(route[1], dataset)
        if kind == "top_picks":
            return self._top_picks(route[1], dataset)
        if kind == "classification_node":
            return self._classification_node(route[1], route[2], locale, dataset)
        resource_id = route[1]
        table: Mapping[str, JSONObject]
        if kind in ("event", "images"):
            table = self._events
        elif kind == "venue":
            table = self._venues
        elif kind == "attraction":
            table = self._attractions
        else:  # classification
            table = {
                node["id"]: classification
                for classification in dataset.classifications
                for _, node in iter_classification_nodes(classification)
            }
        found = table.get(resource_id)
        if found is None:
            raise _not_found(resource_id, locale)
        if kind == "images":
            href = f"/discovery/v2/events/{resource_id}/images?locale={locale}"
            return {
                "type": "event",
                "id": resource_id,
                "images": found.get("images", []),
                "_links": {"self": {"href": href}},
            }
        return found

    def _search(
        self,
        kind: str,
        path: str,
        pairs: list[tuple[str, str]],
        params: dict[str, str],
    ) -> JSONObject:
        size, page = _paging(params)
        dataset = self._load()
        items: list[JSONObject]
        if kind == "events":
            items = _search_events(list(self._events.values()), params)
        elif kind == "venues":
            items = _search_named(list(self._venues.values()), params, _VENUE_FIELDS)
        elif kind == "attractions":
            items = _search_named(list(self._attractions.values()), params, {})
        else:
            items = _search_classifications(dataset.classifications, params)
        return _page_body(kind, path, pairs, items, size, page)

    def _offers(self, event_id: str, dataset: Dataset) -> JSONObject:
        event = self._events.get(event_id)
        if event is None:
            raise _Reply(500, copy.deepcopy(_OFFERS_EVENT_NOT_FOUND))
        body: JSONObject = _with_currency(copy.deepcopy(dataset.offers_template), _currency(event))
        mapping = body["metadata"]["eventMapping"]
        mapping["id"] = event_id
        legacy = _LEGACY_EVENT_ID.search(str(event.get("url", "")))
        if legacy is not None:
            mapping["source"]["id"] = legacy.group(1)
        return body

    def _top_picks(self, event_id: str, dataset: Dataset) -> JSONObject:
        event = self._events.get(event_id)
        if event is None:
            # Not captured from the real API; a plausible body.
            raise _Reply(
                404, {"errors": [{"code": "404", "detail": "Event not found", "status": "404"}]}
            )
        body: JSONObject = _with_currency(
            copy.deepcopy(dataset.top_picks_template), _currency(event)
        )
        picks = len(body.get("picks", []))
        body["page"] = {"number": 1, "size": picks, "totalElements": picks, "totalPages": 1}
        return body

    def _classification_node(
        self, kind: str, node_id: str, locale: str, dataset: Dataset
    ) -> JSONObject:
        for classification in dataset.classifications:
            for node_kind, node in iter_classification_nodes(classification):
                if node_kind == kind and node["id"] == node_id:
                    return node
        raise _not_found(node_id, locale)


class FakeTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` async transport answering from a :class:`FakeDiscoveryAPI`, in-process.

    Honours delays with *sleep* (``asyncio.sleep`` by default) and raises
    ``httpx.ReadTimeout`` when a delay exceeds the request's read timeout;
    :meth:`FakeDiscoveryAPI.drop_next` raises ``httpx.RemoteProtocolError``.
    """

    def __init__(
        self,
        api: FakeDiscoveryAPI,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self._sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer *request* (any host) from the fake."""
        await request.aread()
        answer = self.api.handle(
            request.method,
            request.url.path,
            request.url.params.multi_items(),
            dict(request.headers),
        )
        if answer.delay > 0:
            timeouts = request.extensions.get("timeout") or {}
            read_timeout = timeouts.get("read")
            if read_timeout is not None and answer.delay > read_timeout:
                await self._sleep(read_timeout)
                raise httpx.ReadTimeout("the fake API did not answer in time", request=request)
            await self._sleep(answer.delay)
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        headers = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
        return httpx.Response(answer.status, headers=headers, content=answer.body, request=request)


# ---------------------------------------------------------------------- helpers


@functools.cache
def _shared_dataset() -> Dataset:
    """The shipped data, parsed once per process and shared by every fake.

    The fakes never mutate these objects: they answer with them, copy them before adapting
    them, and keep added events in their own indexes.
    """
    return load_dataset()


def _check_count(n: int) -> None:
    if n < 1:
        raise ValueError("n must be at least 1")


def _check_status(status: int) -> None:
    if not 100 <= status <= 599:
        raise ValueError("status must be an HTTP status code")


def _encode_body(body: JSONBody) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_response(status: int, body: JSONObject, headers: Mapping[str, str]) -> FakeResponse:
    return FakeResponse(status, {"Content-Type": CONTENT_TYPE, **headers}, _encode_body(body))


def _fault(faultstring: str, errorcode: str) -> JSONObject:
    if "." not in errorcode:
        errorcode = f"policies.ratelimit.{errorcode}"
    return {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}


def _gateway_fault(status: int) -> JSONObject:
    """Apigee's shape for gateway failures, e.g. 503 ServiceUnavailable, 504 GatewayTimeout."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code = "messaging.adaptors.http.flow." + "".join(part.capitalize() for part in phrase.split())
    return _fault(phrase, code)


def _refusal(mode: str, path: str) -> JSONObject:
    _, faultstring, errorcode = _REFUSALS[mode]
    return _fault(faultstring.format(path=path), errorcode)


def _refusal_reply(mode: str, path: str) -> tuple[int, JSONObject]:
    return _REFUSALS[mode][0], _refusal(mode, path)


def _discovery_error(code: str, detail: str, status: str, *, link: str = "about") -> JSONObject:
    return {
        "errors": [
            {
                "code": code,
                "detail": detail,
                "status": status,
                "_links": {link: {"href": _ERRORS_HREF + code}},
            }
        ]
    }


def _not_found(resource_id: str, locale: str) -> _Reply:
    detail = _NOT_FOUND_DETAIL.format(locale=locale, id=resource_id)
    return _Reply(404, _discovery_error("DIS1004", detail, "404"))


def _merge(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated names are joined with ``,`` (the API's array syntax)."""
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged[name] = f"{merged[name]},{value}" if name in merged and name != "apikey" else value
    return merged


def _route(path: str) -> tuple[str, ...] | None:
    parts = [part for part in path.split("/") if part]
    if parts and parts[-1].endswith(".json"):
        parts[-1] = parts[-1][: -len(".json")]
    match parts:
        case ["discovery", "v2", ("events" | "venues" | "attractions" | "classifications") as kind]:
            return ("search", kind)
        case ["discovery", "v2", "events", event_id]:
            return ("event", event_id)
        case ["discovery", "v2", "events", event_id, "images"]:
            return ("images", event_id)
        case ["discovery", "v2", ("venues" | "attractions" | "classifications") as kind, item_id]:
            return (kind[:-1], item_id)
        case [
            "discovery",
            "v2",
            "classifications",
            ("segments" | "genres" | "subgenres") as kind,
            node_id,
        ]:
            return ("classification_node", kind, node_id)
        case ["commerce", "v2", "events", event_id, "offers"]:
            return ("offers", event_id)
        case ["top-picks", "v1", "events", event_id]:
            return ("top_picks", event_id)
    return None


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        detail = f'Query param "{name}" must be a number'
        raise _Reply(400, _discovery_error("DIS1013", detail, _BAD_REQUEST)) from None


def _paging(params: Mapping[str, str]) -> tuple[int, int]:
    size = _int_param(params, "size", DEFAULT_PAGE_SIZE)
    page = _int_param(params, "page", 0)
    if size > MAX_PAGE_SIZE or size < 1:
        detail = _SIZE_DETAIL.format(limit=MAX_PAGE_SIZE)
        raise _Reply(400, _discovery_error("DIS1036", detail, _BAD_REQUEST))
    # The docs: "we only support retrieving the 1000th item. i.e. ( size * page < 1000)". A
    # third-party probe saw the live API serve exactly size * page == 1000; the fake follows
    # the documented rule, which is what a careful client relies on.
    if page < 0 or size * page >= DEEP_PAGING_CAP:
        raise _Reply(400, _discovery_error("DIS1035", _DEPTH_DETAIL, _BAD_REQUEST))
    return size, page


def _parse_date(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name, "")
    if raw == "":
        return None
    try:
        if not _DATE_PATTERN.fullmatch(raw):
            raise ValueError(raw)
        return datetime.strptime(raw, _DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        error = _discovery_error("DIS1015", _DATE_DETAIL, _BAD_REQUEST, link="self")
        raise _Reply(400, error) from None


def _list(params: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in params.get(name, "").split(",") if part.strip()]


def _venues_of(event: JSONObject) -> list[JSONObject]:
    venues = (event.get("_embedded") or {}).get("venues") or []
    return [venue for venue in venues if isinstance(venue, dict)]


def _attractions_of(event: JSONObject) -> list[JSONObject]:
    items = (event.get("_embedded") or {}).get("attractions") or []
    return [item for item in items if isinstance(item, dict)]


def _nested_str(obj: Any, *keys: str) -> str:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj if isinstance(obj, str) else ""


#: Venue filters shared by event search (on the event's venues) and venue search.
_VENUE_FIELDS: dict[str, Callable[[JSONObject], str]] = {
    "city": lambda venue: _nested_str(venue, "city", "name"),
    "countryCode": lambda venue: _nested_str(venue, "country", "countryCode"),
    "stateCode": lambda venue: _nested_str(venue, "state", "stateCode"),
    "postalCode": lambda venue: _nested_str(venue, "postalCode"),
}


def _event_start(event: JSONObject) -> datetime | None:
    start = (event.get("dates") or {}).get("start") or {}
    for key, fmt in (("dateTime", _DATE_FORMAT), ("localDate", "%Y-%m-%d")):
        raw = start.get(key)
        if isinstance(raw, str):
            try:
                return datetime.strptime(raw, fmt).replace(tzinfo=timezone.utc)
            except ValueError:
                continue
    return None


def _event_source(event: JSONObject) -> str:
    host = urlsplit(str(event.get("url", ""))).hostname or ""
    for source, domain in _SOURCE_HOSTS.items():
        if host == domain or host.endswith("." + domain):
            return source
    return "ticketmaster"


def _classification_values(classifications: Any, attribute: str) -> set[str]:
    values: set[str] = set()
    for entry in classifications if isinstance(classifications, list) else []:
        for level in _CLASSIFICATION_LEVELS:
            value = _nested_str(entry, level, attribute)
            if value:
                values.add(value.casefold())
    return values


def _matches_terms(values: set[str], terms: list[str]) -> bool:
    """``terms`` may hold negative filters (``-Name``); positives need one match."""
    positives = [term.casefold() for term in terms if not term.startswith("-")]
    negatives = [term[1:].casefold() for term in terms if term.startswith("-")]
    if any(term in values for term in negatives):
        return False
    return not positives or any(term in values for term in positives)


def _search_events(events: list[JSONObject], params: Mapping[str, str]) -> list[JSONObject]:
    keyword = params.get("keyword", "").casefold()
    start = _parse_date(params, "startDateTime")
    end = _parse_date(params, "endDateTime")
    venue_filters: dict[str, Callable[[JSONObject], str]] = {
        **_VENUE_FIELDS,
        "venueId": lambda venue: _nested_str(venue, "id"),
    }
    wanted_venue = _wanted(params, venue_filters)
    ids = set(_list(params, "id"))
    attraction_ids = set(_list(params, "attractionId"))
    sources = {value.casefold() for value in _list(params, "source")}
    class_filters = [
        (name, attribute, _list(params, name))
        for name, attribute in (
            ("classificationName", "name"),
            ("classificationId", "id"),
            ("segmentName", "name"),
            ("segmentId", "id"),
            ("genreId", "id"),
            ("subGenreId", "id"),
        )
        if _list(params, name)
    ]
    found: list[tuple[int, int, JSONObject]] = []
    for index, event in enumerate(events):
        name = str(event.get("name", ""))
        attractions = _attractions_of(event)
        rank = 0
        if keyword:
            if keyword in name.casefold():
                rank = 0
            elif any(keyword in str(a.get("name", "")).casefold() for a in attractions):
                rank = 1
            else:
                continue
        venues = _venues_of(event)
        if not all(
            any(venue_filters[param](venue).casefold() in values for venue in venues)
            for param, values in wanted_venue.items()
        ):
            continue
        if ids and event.get("id") not in ids:
            continue
        if attraction_ids and not attraction_ids.intersection(
            str(a.get("id")) for a in attractions
        ):
            continue
        if sources and _event_source(event) not in sources:
            continue
        if not all(
            _matches_terms(
                _level_values(event.get("classifications"), filter_name, attribute), terms
            )
            for filter_name, attribute, terms in class_filters
        ):
            continue
        if start is not None or end is not None:
            when = _event_start(event)
            if (
                when is None
                or (start is not None and when < start)
                or (end is not None and when > end)
            ):
                continue
        found.append((rank, index, event))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return _sort_events([event for _, _, event in found], params.get("sort", ""))


def _level_values(classifications: Any, filter_name: str, attribute: str) -> set[str]:
    if filter_name.startswith("classification"):
        return _classification_values(classifications, attribute)
    level = {"segmentName": "segment", "segmentId": "segment", "genreId": "genre"}.get(
        filter_name, "subGenre"
    )
    return {
        _nested_str(entry, level, attribute).casefold()
        for entry in (classifications if isinstance(classifications, list) else [])
    } - {""}


def _sort_events(events: list[JSONObject], sort: str) -> list[JSONObject]:
    """Apply a documented ``sort`` value; unknown values and ``random`` keep relevance order."""
    tokens = [token.strip() for token in sort.split(",") if token.strip()]
    if len(tokens) < 2 or tokens[-1] not in ("asc", "desc"):
        return events
    descending = tokens[-1] == "desc"
    order = {id(event): index for index, event in enumerate(events)}
    far = datetime.min if descending else datetime.max
    far = far.replace(tzinfo=timezone.utc)

    def key(event: JSONObject) -> tuple[Any, ...]:
        parts: list[Any] = []
        for token in tokens[:-1]:
            if token == "name":
                parts.append(str(event.get("name", "")).casefold())
            elif token == "date":
                parts.append(_event_start(event) or far)
            elif token == "id":
                parts.append(str(event.get("id", "")))
            elif token == "venueName":
                venues = _venues_of(event)
                parts.append(str(venues[0].get("name", "")).casefold() if venues else "")
            elif token == "onSaleStartDate":
                parts.append(_nested_str(event, "sales", "public", "startDateTime"))
            elif token == "relevance":  # the most relevant first when descending
                parts.append(-order[id(event)])
            else:  # distance: no geo search here, so no order
                parts.append(0)
        return tuple(parts)

    return sorted(events, key=key, reverse=descending)


def _wanted(
    params: Mapping[str, str], fields: Mapping[str, Callable[[JSONObject], str]]
) -> dict[str, set[str]]:
    """The casefolded values asked for, per field filter present in *params*."""
    return {
        name: {value.casefold() for value in _list(params, name)}
        for name in fields
        if _list(params, name)
    }


def _search_named(
    items: list[JSONObject],
    params: Mapping[str, str],
    fields: Mapping[str, Callable[[JSONObject], str]],
) -> list[JSONObject]:
    """Venue and attraction search: ``keyword`` (name substring), ``id``, field filters,
    ``classificationName``; ``sort=name,asc|desc``."""
    keyword = params.get("keyword", "").casefold()
    ids = set(_list(params, "id"))
    names = _list(params, "classificationName")
    wanted = _wanted(params, fields)
    found: list[JSONObject] = []
    for item in items:
        if keyword and keyword not in str(item.get("name", "")).casefold():
            continue
        if ids and item.get("id") not in ids:
            continue
        if not all(fields[name](item).casefold() in values for name, values in wanted.items()):
            continue
        if names and not _matches_terms(
            _classification_values(item.get("classifications"), "name"), names
        ):
            continue
        found.append(item)
    sort = params.get("sort", "")
    if sort.startswith("name,"):
        found.sort(
            key=lambda item: str(item.get("name", "")).casefold(), reverse=sort.endswith("desc")
        )
    return found


def _search_classifications(
    classifications: list[JSONObject], params: Mapping[str, str]
) -> list[JSONObject]:
    keyword = params.get("keyword", "").casefold()
    ids = set(_list(params, "id"))
    found = []
    for classification in classifications:
        nodes = [node for _, node in iter_classification_nodes(classification)]
        if keyword and not any(keyword in str(node.get("name", "")).casefold() for node in nodes):
            continue
        if ids and not ids.intersection(str(node.get("id")) for node in nodes):
            continue
        found.append(classification)
    return found


def _href(path: str, pairs: Iterable[tuple[str, str]]) -> str:
    query = urlencode(list(pairs), quote_via=quote, safe=",*:")
    return f"{path}?{query}" if query else path


def _page_body(
    kind: str,
    path: str,
    pairs: list[tuple[str, str]],
    items: list[JSONObject],
    size: int,
    page: int,
) -> JSONObject:
    """A search page as the API builds it: ``_embedded`` only when non-empty, relative links
    that echo the query without the key."""
    total = len(items)
    total_pages = math.ceil(total / size)
    chosen = items[page * size : (page + 1) * size]
    echoed = [(name, value) for name, value in pairs if name != "apikey"]
    others = [(name, value) for name, value in echoed if name not in ("page", "size")]

    def link(number: int) -> dict[str, str]:
        return {"href": _href(path, [*others, ("page", str(number)), ("size", str(size))])}

    links: dict[str, dict[str, str]] = {}
    if total:
        links["first"] = link(0)
        if page > 0:
            links["prev"] = link(min(page, total_pages) - 1)
    links["self"] = {"href": _href(path, echoed)}
    if total:
        if page < total_pages - 1:
            links["next"] = link(page + 1)
        links["last"] = link(total_pages - 1)
    body: JSONObject = {}
    if chosen:
        body["_embedded"] = {kind: chosen}
    body["_links"] = links
    body["page"] = {"size": size, "totalElements": total, "totalPages": total_pages, "number": page}
    return body


def _currency(event: JSONObject) -> str | None:
    for price_range in event.get("priceRanges") or []:
        if isinstance(price_range, dict) and isinstance(price_range.get("currency"), str):
            return str(price_range["currency"])
    return None


def _with_currency(value: Any, currency: str | None) -> Any:
    """Replace every ``currency`` in a recorded body by the event's (values are kept)."""
    if currency is None:
        return value
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "currency" and isinstance(inner, str):
                value[key] = currency
            else:
                _with_currency(inner, currency)
    elif isinstance(value, list):
        for inner in value:
            _with_currency(inner, currency)
    return value
