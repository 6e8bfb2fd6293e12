"""What a search reads from each raw object, read once: a :class:`Record` per event, venue,
attraction and classification.

The filters compare query values with these fields instead of walking raw JSON on every
request, so a page over thousands of events stays fast. A record is rebuilt whenever its raw
object is replaced (the catalogue never mutates a raw object in place). Text fields are
casefolded; anything missing or malformed in the raw object reads as empty, never as an error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._data import JSONObject, iter_classification_nodes
from ._geo import location_of

__all__ = [
    "LEVELS",
    "Record",
    "attraction_record",
    "classification_record",
    "event_record",
    "event_zone",
    "venue_record",
]

#: The classification levels of an event or attraction, as the API names them.
LEVELS = ("segment", "genre", "subGenre", "type", "subType")
_INSTANT = "%Y-%m-%dT%H:%M:%SZ"
_SOURCE_HOSTS = {
    "universe": "universe.com",
    "frontgate": "frontgatetickets.com",
    "tmr": "ticketsnow.com",
}
_EMPTY: frozenset[Any] = frozenset()


@dataclass(slots=True, eq=False)
class Record:
    """The searchable facts of one raw object (see the module docstring).

    ``kind`` is ``events``, ``venues``, ``attractions`` or ``classifications``; fields that do
    not apply to a kind stay empty. ``position`` is the catalogue order (relevance).
    """

    kind: str
    raw: JSONObject
    id: str
    position: int = 0
    ids: frozenset[str] = _EMPTY  # what ``id=`` matches
    texts: tuple[str, ...] = ()  # what ``keyword`` matches, the own name first
    name: str = ""
    test: bool = False
    source: str = "ticketmaster"
    location: tuple[float, float] | None = None
    venue_ids: frozenset[str] = _EMPTY
    venue_name: str = ""
    cities: frozenset[str] = _EMPTY
    country_codes: frozenset[str] = _EMPTY
    state_codes: frozenset[str] = _EMPTY
    postal_codes: frozenset[str] = _EMPTY
    market_ids: frozenset[int] = _EMPTY
    dma_ids: frozenset[int] = _EMPTY
    promoter_ids: frozenset[int] = _EMPTY
    attraction_ids: frozenset[str] = _EMPTY
    class_names: frozenset[str] = _EMPTY  # any level
    class_ids: frozenset[str] = _EMPTY  # any level
    level_names: dict[str, frozenset[str]] = field(default_factory=dict)
    level_ids: dict[str, frozenset[str]] = field(default_factory=dict)
    family: bool = False
    tba: bool = False
    tbd: bool = False
    start: datetime | None = None  # the start instant, aware UTC
    local_start: datetime | None = None  # the wall time at the venue, naive
    onsale_start: datetime | None = None
    encoded: bytes | None = None  # the raw object as JSON, filled in when first served


def _text(obj: Any, *keys: str) -> str:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj if isinstance(obj, str) else ""


def _dicts(value: Any) -> list[JSONObject]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _embedded(raw: JSONObject, kind: str) -> list[JSONObject]:
    embedded = raw.get("_embedded")
    return _dicts(embedded.get(kind)) if isinstance(embedded, dict) else []


def _numbers(values: list[Any]) -> frozenset[int]:
    found: set[int] = set()
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            found.add(value)
        elif isinstance(value, str) and value.isascii() and value.strip().isdigit():
            found.add(int(value))
    return frozenset(found)


def _folded(values: list[str]) -> frozenset[str]:
    return frozenset(value.casefold() for value in values if value)


def _source(raw: JSONObject) -> str:
    """The primary source, told by the host of the object's ``url`` (as the API's are)."""
    host = urlsplit(str(raw.get("url", ""))).hostname or ""
    for source, domain in _SOURCE_HOSTS.items():
        if host == domain or host.endswith("." + domain):
            return source
    return "ticketmaster"


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, _INSTANT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@functools.cache
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def event_zone(raw: JSONObject) -> tzinfo:
    """The event's zone: ``dates.timezone``, else its venue's ``timezone``, else UTC."""
    name = _text(raw, "dates", "timezone")
    if not name:
        venues = _embedded(raw, "venues")
        name = _text(venues[0], "timezone") if venues else ""
    return _zone(name) if name else timezone.utc


def _starts(raw: JSONObject) -> tuple[datetime | None, datetime | None]:
    """(start instant in UTC, wall time at the venue) of an event.

    The instant is ``dates.start.dateTime``, else ``localDate`` + ``localTime`` in the event's
    zone; the wall time is ``localDate`` + ``localTime``, else ``dateTime`` in the zone. A
    date without a time counts as 00:00:00 that day.
    """
    start = raw.get("dates", {}).get("start") if isinstance(raw.get("dates"), dict) else None
    start = start if isinstance(start, dict) else {}
    zone = event_zone(raw)
    instant = _instant(start.get("dateTime"))
    local: datetime | None = None
    try:
        day = date.fromisoformat(str(start.get("localDate")))
    except ValueError:
        day = None
    if day is not None:
        try:
            clock = time.fromisoformat(str(start.get("localTime")))
        except ValueError:
            clock = time(0, 0, 0)
        local = datetime.combine(day, clock.replace(tzinfo=None))
    try:
        if instant is None and local is not None:
            instant = local.replace(tzinfo=zone).astimezone(timezone.utc)
        if local is None and instant is not None:
            local = instant.astimezone(zone).replace(tzinfo=None)
    except OverflowError:  # a date at the very edge of datetime's range
        pass
    return instant, local


def _classified(record: Record, classifications: Any) -> None:
    entries = _dicts(classifications)
    names: dict[str, set[str]] = {level: set() for level in LEVELS}
    ids: dict[str, set[str]] = {level: set() for level in LEVELS}
    for entry in entries:
        for level in LEVELS:
            if name := _text(entry, level, "name"):
                names[level].add(name.casefold())
            if node_id := _text(entry, level, "id"):
                ids[level].add(node_id)
    record.level_names = {level: frozenset(found) for level, found in names.items()}
    record.level_ids = {level: frozenset(found) for level, found in ids.items()}
    record.class_names = frozenset().union(*names.values())
    record.class_ids = frozenset().union(*ids.values())
    record.family = any(entry.get("family") is True for entry in entries)


def _place(record: Record, venues: list[JSONObject]) -> None:
    """Venue facts (an event's venues, or a venue itself)."""
    record.venue_ids = frozenset(_text(venue, "id") for venue in venues) - {""}
    record.venue_name = _text(venues[0], "name").casefold() if venues else ""
    record.cities = _folded([_text(venue, "city", "name") for venue in venues])
    record.country_codes = _folded([_text(venue, "country", "countryCode") for venue in venues])
    record.state_codes = _folded([_text(venue, "state", "stateCode") for venue in venues])
    record.postal_codes = _folded([_text(venue, "postalCode") for venue in venues])
    record.market_ids = _numbers(
        [market.get("id") for venue in venues for market in _dicts(venue.get("markets"))]
    )
    record.dma_ids = _numbers(
        [dma.get("id") for venue in venues for dma in _dicts(venue.get("dmas"))]
    )
    record.location = next(
        (point for venue in venues if (point := location_of(venue)) is not None), None
    )


def _common(kind: str, raw: JSONObject) -> Record:
    raw_id = raw.get("id")
    record_id = raw_id if isinstance(raw_id, str) else ""
    name = _text(raw, "name").casefold()
    return Record(
        kind=kind,
        raw=raw,
        id=record_id,
        ids=frozenset({record_id}),
        texts=(name,),
        name=name,
        test=raw.get("test") is True,
        source=_source(raw),
    )


def event_record(raw: JSONObject) -> Record:
    """The record of a raw event."""
    record = _common("events", raw)
    attractions = _embedded(raw, "attractions")
    record.texts = (record.name, *(_text(item, "name").casefold() for item in attractions))
    record.attraction_ids = frozenset(_text(item, "id") for item in attractions) - {""}
    _place(record, _embedded(raw, "venues"))
    _classified(record, raw.get("classifications"))
    promoters = [raw.get("promoter"), *(raw.get("promoters") or [])]
    record.promoter_ids = _numbers([_text(p, "id") for p in promoters if isinstance(p, dict)])
    dates = raw.get("dates")
    start = dates.get("start") if isinstance(dates, dict) else None
    if isinstance(start, dict):
        record.tba = start.get("dateTBA") is True
        record.tbd = start.get("dateTBD") is True
    record.start, record.local_start = _starts(raw)
    record.onsale_start = _instant(
        raw.get("sales", {}).get("public", {}).get("startDateTime")
        if isinstance(raw.get("sales"), dict) and isinstance(raw["sales"].get("public"), dict)
        else None
    )
    return record


def venue_record(raw: JSONObject) -> Record:
    """The record of a raw venue."""
    record = _common("venues", raw)
    _place(record, [raw])
    return record


def attraction_record(raw: JSONObject) -> Record:
    """The record of a raw attraction."""
    record = _common("attractions", raw)
    _classified(record, raw.get("classifications"))
    return record


def classification_record(raw: JSONObject) -> Record:
    """The record of a classification: ``id`` and ``keyword`` match any of its nodes."""
    nodes = [node for _, node in iter_classification_nodes(raw)]
    segment = nodes[0] if nodes else {}
    record = _common("classifications", {"id": segment.get("id"), "name": segment.get("name")})
    record.raw = raw
    record.ids = frozenset(_text(node, "id") for node in nodes) - {""}
    record.texts = tuple(_text(node, "name").casefold() for node in nodes)
    return record
