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
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qsl, urlsplit

from .._constants import (
    DAILY_WINDOW_SECONDS,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_REQUESTS_PER_SECOND,
)
from ._catalogue import Catalogue
from ._data import JSONObject
from ._gateway import Fault, Gateway, GatewayControls, RecordedRequest
from ._generate import TEMPLATE_EVENT_ID, classification_pool, generate
from ._responses import (
    CONTENT_TYPE,
    INVALID_KEY,
    FakeResponse,
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


class FakeDiscoveryAPI(GatewayControls):
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

    def add_event(self, event: Mapping[str, Any], *, searchable: bool = True) -> None:
        """Serve one more raw Discovery event (replacing one with the same id).

        Its ``_embedded`` venues and attractions become searchable too. Use it to test how
        your code copes with a particular payload.

        Args:
            event: the raw event object (copied; later changes to it have no effect).
            searchable: ``False`` for an event that details and images answer but no search
                (nor suggest) returns, as the real API does for past and unlisted events.

        Raises:
            ValueError: the event has no string ``id``.
        """
        with self._lock:
            self._catalogue.add_event(event, searchable=searchable)

    def update_event(self, event_id: str, **changes: Any) -> None:
        """Change a served event; details and searches see the change at once.

        Each keyword is a top-level key of the raw event, replaced as given (``name=``,
        ``priceRanges=``, ``dates=``, ``test=``...; ``None`` removes the key, as the API
        leaves out what an event lacks). A few conveniences reach inside:

        * ``status="cancelled"`` sets ``dates.status.code``;
        * ``start=<aware datetime>`` sets ``dates.start.dateTime`` (UTC) and ``localDate`` /
          ``localTime`` in the event's zone (``dates.timezone``, else its venue's), and clears
          the TBA/TBD/no-time flags;
        * ``price_ranges=[...]`` replaces ``priceRanges``;
        * ``onsale_start=`` / ``onsale_end=`` (aware datetimes) set
          ``sales.public.startDateTime`` / ``endDateTime``.

        Keys are applied first, then the conveniences. The stored object is replaced by a
        changed copy, never edited: what :meth:`get_event` returned earlier stays as it was.

        Raises:
            KeyError: no event has this id.
            ValueError: a convenience's value is malformed, or ``id=`` is given (the event is
                left unchanged).
        """
        with self._lock:
            self._catalogue.update_event(event_id, changes)

    def remove_event(self, event_id: str) -> None:
        """Stop serving an event: its details answer 404 (``DIS1004``), searches leave it out.

        Raises:
            KeyError: no event has this id.
        """
        with self._lock:
            self._catalogue.remove_event(event_id)

    def generate_events(
        self,
        count: int,
        *,
        start: datetime,
        end: datetime,
        seed: int = 0,
        city: str = "Fakeville",
        keyword: str | None = None,
        country_code: str = "US",
        timezone: str = "America/Chicago",
        location: tuple[float, float] = (37.6872, -97.3301),
        venues: int = 1,
    ) -> list[str]:
        """Serve *count* synthetic, searchable events starting between *start* and *end*.

        For tests and benchmarks that need a big catalogue (thousands of events, date windows
        past the deep-paging cap). The events are deterministic for the same arguments (ids
        ``SYNTH...``, urls on ``sandbox.ticketmaster.invalid``, ``info`` saying they are
        synthetic) and shaped like a recorded event: a venue with a location and time zone,
        ``priceRanges``, ``sales``, real ``classifications``, an image, an attraction. Start
        instants are whole minutes spread at random over the window; a few events share a
        start with another, as real ones do.

        Args:
            count: how many events.
            start: the earliest start (aware).
            end: the latest start (aware).
            seed: another seed, other events.
            city: the venues' city (``city=`` searches find them).
            keyword: put in every event's name (``keyword=`` searches find them).
            country_code: the venues' country (and the prices' currency).
            timezone: the venues' IANA zone (``localDate``/``localTime`` are in it).
            location: ``(latitude, longitude)`` of the first venue (geo searches find them).
            venues: how many venues the events are spread over.

        Returns:
            The new events' ids, in the order generated.

        Raises:
            ValueError: a bad argument (naive datetimes, ``end`` before ``start``, an unknown
                zone...).
        """
        with self._lock:
            recorded = self._catalogue.dataset.events  # the shipped data, never changed
            events = generate(
                next(event for event in recorded if event["id"] == TEMPLATE_EVENT_ID),
                classification_pool(recorded),
                count,
                start=start,
                end=end,
                seed=seed,
                city=city,
                keyword=keyword,
                country_code=country_code,
                zone=timezone,
                location=location,
                venues=venues,
            )
            self._catalogue.add_events(events)
        return [event["id"] for event in events]

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
