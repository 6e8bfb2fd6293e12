"""Search filters, sorting and paging of the fake API: what each query parameter keeps."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from .._constants import DEEP_PAGING_CAP, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from ._data import JSONObject, iter_classification_nodes
from ._responses import Reply, discovery_error

__all__ = ["VENUE_FIELDS", "paging", "search_classifications", "search_events", "search_named"]

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_BAD_REQUEST = "400 BAD_REQUEST"
_SOURCE_HOSTS = {
    "universe": "universe.com",
    "frontgate": "frontgatetickets.com",
    "tmr": "ticketsnow.com",
}
_CLASSIFICATION_LEVELS = ("segment", "genre", "subGenre", "type", "subType")
# Discovery error codes. DIS1015 (date format), DIS1035 (paging depth) and DIS1036 (size), with
# their "400 BAD_REQUEST" status string, follow a third-party probe of the live API: Ticketmaster
# documents no error codes. DIS1013 (not a number) is a plausible invention.
_SIZE_DETAIL = 'Query param "size" must be less than {limit}'
_DEPTH_DETAIL = (
    "API Limits Exceeded: Max paging depth exceeded. (page * size) must be less than 1,000"
)
_DATE_DETAIL = (
    "Query param with date must be of valid format YYYY-MM-DDTHH:mm:ssZ "
    "{example: 2020-08-01T14:00:00Z }"
)


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        detail = f'Query param "{name}" must be a number'
        raise Reply(400, discovery_error("DIS1013", detail, _BAD_REQUEST)) from None


def paging(params: Mapping[str, str]) -> tuple[int, int]:
    size = _int_param(params, "size", DEFAULT_PAGE_SIZE)
    page = _int_param(params, "page", 0)
    if size > MAX_PAGE_SIZE or size < 1:
        detail = _SIZE_DETAIL.format(limit=MAX_PAGE_SIZE)
        raise Reply(400, discovery_error("DIS1036", detail, _BAD_REQUEST))
    # The docs: "we only support retrieving the 1000th item. i.e. ( size * page < 1000)". A
    # third-party probe saw the live API serve exactly size * page == 1000; the fake follows
    # the documented rule, which is what a careful client relies on.
    if page < 0 or size * page >= DEEP_PAGING_CAP:
        raise Reply(400, discovery_error("DIS1035", _DEPTH_DETAIL, _BAD_REQUEST))
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
        error = discovery_error("DIS1015", _DATE_DETAIL, _BAD_REQUEST, link="self")
        raise Reply(400, error) from None


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
VENUE_FIELDS: dict[str, Callable[[JSONObject], str]] = {
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


def search_events(events: list[JSONObject], params: Mapping[str, str]) -> list[JSONObject]:
    keyword = params.get("keyword", "").casefold()
    start = _parse_date(params, "startDateTime")
    end = _parse_date(params, "endDateTime")
    venue_filters: dict[str, Callable[[JSONObject], str]] = {
        **VENUE_FIELDS,
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


def search_named(
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


def search_classifications(
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
