"""Reading a search request's query: every described parameter decoded by its kind.

The client's endpoint descriptions (:data:`ticketmaster_async._endpoints.ENDPOINTS`) say which
parameters each endpoint takes and how their values are written; the fake reads them back with
the same kinds (``Param.kind.decode``), so the two never drift apart. A malformed value is a 400
in the API's ``errors[]`` envelope; an empty value counts as not sent; a parameter the endpoint
does not describe is ignored (and named in ``X-Unknown-Params``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._constants import DEEP_PAGING_CAP, MAX_PAGE_SIZE
from .._endpoints import Endpoint
from .._params import (
    ChoiceList,
    GeoPoint,
    Instant,
    IntList,
    Kind,
    LocalTime,
    Number,
    WholeNumber,
)
from .._query import LocalRange
from ._geo import UNITS, haversine
from ._index import Record
from ._responses import Reply, bad_request

__all__ = ["DATE_PARAMS", "DEFAULT_RADIUS", "LOCAL_RANGE", "Query", "decode", "kinds_of", "paging"]

#: ``radius`` when a geo search sends none (the API's documented defaults).
DEFAULT_RADIUS = {"suggest": 100.0}
_RADIUS = 50.0
#: The parameters whose presence turns the TBA/TBD default to ``no``.
DATE_PARAMS = ("startDateTime", "endDateTime", "localStartDateTime")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_WALL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")

# Error codes for malformed values. Ticketmaster documents none: DIS1015 (date format), DIS1035
# (paging depth) and DIS1036 (size), with their "400 BAD_REQUEST" status string, follow a
# third-party probe of the live API; DIS1013 (not a number), DIS1016 (a value outside a
# parameter's choices) and DIS1017 (not a geohash) are inventions in the same style.
_DATE_DETAIL = (
    "Query param with date must be of valid format YYYY-MM-DDTHH:mm:ssZ "
    "{example: 2020-08-01T14:00:00Z }"
)
_LOCAL_DETAIL = (
    "Query param with date must be of valid format YYYY-MM-DDTHH:mm:ss,YYYY-MM-DDTHH:mm:ss "
    "{example: 2020-08-01T14:00:00,2020-08-02T14:00:00 }"
)
_SIZE_DETAIL = 'Query param "size" must be less than {limit}'
_DEPTH_DETAIL = (
    "API Limits Exceeded: Max paging depth exceeded. (page * size) must be less than 1,000"
)


@dataclass(frozen=True)
class _LocalRangeKind(Kind):
    """``localStartDateTime=FROM,TO``: two venue-local wall times; a missing side is open."""

    def decode(self, text: str) -> tuple[datetime | None, datetime | None]:
        parts = text.split(",")
        if len(parts) > 2:
            raise ValueError(text)
        bounds = [_wall_time(part.strip()) for part in parts] + [None]
        return bounds[0], bounds[1]


def _wall_time(text: str) -> datetime | None:
    if not text:
        return None
    if not _WALL_TIME.fullmatch(text):
        raise ValueError(text)
    decoded: datetime = LocalTime().decode(text)
    return decoded


LOCAL_RANGE = _LocalRangeKind()


@dataclass
class Query:
    """A search request's parameters, decoded.

    Attributes:
        endpoint: the endpoint's name (``events`` ...).
        values: the decoded value of every described parameter sent, by API name.
        pairs: the query as received (the links echo it).
        unknown: names the endpoint does not describe (``apikey`` aside).
    """

    endpoint: str
    values: dict[str, Any]
    pairs: list[tuple[str, str]]
    unknown: list[str] = field(default_factory=list)
    # Many records share a venue: each location is measured once per query.
    _distances: dict[tuple[float, float], float] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> Any:
        """The decoded value of *name*, or ``None`` when it was not sent."""
        return self.values.get(name)

    @property
    def dates_sent(self) -> bool:
        """Whether a date parameter was sent (the TBA/TBD defaults depend on it)."""
        return any(name in self.values for name in DATE_PARAMS)

    @property
    def origin(self) -> tuple[float, float] | None:
        """The ``geoPoint``'s centre, or ``None`` when this is no geo search."""
        origin: tuple[float, float] | None = self.values.get("geoPoint")
        return origin

    @property
    def unit(self) -> str:
        """``miles`` (the default) or ``km``."""
        return str(self.values.get("unit") or "miles")

    @property
    def units(self) -> str:
        """How a geo result names the unit (``MILES``, ``KILOMETERS``)."""
        return UNITS[self.unit]

    @property
    def radius(self) -> float:
        """The geo search's radius in :attr:`unit`."""
        radius = self.values.get("radius")
        return float(radius) if radius is not None else DEFAULT_RADIUS.get(self.endpoint, _RADIUS)

    def distance(self, record: Record) -> float | None:
        """The distance from the ``geoPoint`` to *record*'s location (``None`` without one)."""
        location = record.location
        if location is None:
            return None
        found = self._distances.get(location)
        if found is None:
            origin = self.origin
            if origin is None:
                return None
            found = self._distances[location] = haversine(origin, location, unit=self.unit)
        return found

    @property
    def seed(self) -> str:
        """What makes ``sort=random`` differ between queries but not between their pages."""
        kept = sorted((n, v) for n, v in self.pairs if n not in ("apikey", "page", "size"))
        return f"{self.endpoint}?{kept!r}"


def kinds_of(endpoint: Endpoint) -> dict[str, Kind]:
    """How to read each parameter the endpoint describes, by API name."""
    kinds = {param.api: param.kind for param in endpoint.params.values()}
    for rule in endpoint.rules:
        if isinstance(rule, LocalRange):
            kinds[rule.api] = LOCAL_RANGE
    return kinds


def decode(endpoint: Endpoint, params: Mapping[str, str], pairs: list[tuple[str, str]]) -> Query:
    """Decode *params* (repeats already merged) for *endpoint*.

    Raises:
        Reply: a 400 for a malformed value.
    """
    kinds = kinds_of(endpoint)
    query = Query(endpoint.name, {}, pairs)
    for name, text in params.items():
        kind = kinds.get(name)
        if kind is None:
            if name != "apikey":
                query.unknown.append(name)
            continue
        if not text.strip():
            continue
        try:
            if isinstance(kind, Instant) and not _INSTANT.fullmatch(text):
                raise ValueError(text)
            query.values[name] = kind.decode(text)
        except (ValueError, OverflowError):
            raise _malformed(name, kind, text) from None
    return query


def _malformed(name: str, kind: Kind, text: str) -> Reply:
    if isinstance(kind, Instant):
        return bad_request("DIS1015", _DATE_DETAIL, link="self")
    if isinstance(kind, _LocalRangeKind):
        return bad_request("DIS1015", _LOCAL_DETAIL, link="self")
    if isinstance(kind, (WholeNumber, Number, IntList)):
        return bad_request("DIS1013", f'Query param "{name}" must be a number')
    if isinstance(kind, GeoPoint):
        return bad_request("DIS1017", f'Query param "{name}" must be a geohash')
    what = "values" if isinstance(kind, ChoiceList) else "value"
    return bad_request("DIS1016", f'Query param "{name}" has unsupported {what}: {text}')


def paging(query: Query, *, default_size: int, paged: bool = True) -> tuple[int, int]:
    """``(size, page)``, with the API's bounds: ``1 <= size <= 200`` and ``size * page < 1000``.

    Raises:
        Reply: a 400 when out of bounds.
    """
    size = query.get("size")
    size = default_size if size is None else size
    page = query.get("page") or 0
    if size > MAX_PAGE_SIZE or size < 1:
        raise bad_request("DIS1036", _SIZE_DETAIL.format(limit=MAX_PAGE_SIZE))
    # The docs: "we only support retrieving the 1000th item. i.e. ( size * page < 1000)". A
    # third-party probe saw the live API serve exactly size * page == 1000; the fake follows
    # the documented rule, which is what a careful client relies on.
    if paged and (page < 0 or size * page >= DEEP_PAGING_CAP):
        raise bad_request("DIS1035", _DEPTH_DETAIL)
    return size, page
