"""The order of a search's results: every documented ``sort`` value.

``relevance,desc`` (the default) is the catalogue's order, with records whose own name holds
the keyword before those matched through a related name (an event's attractions) and, with
``preferredCountry``, that country's events first; ``relevance,asc`` is its reverse. The other
values sort by their fields (``name``, ``date``, ``distance``, ``onSaleStartDate``, ``id``,
``venueName``) in the given direction, records missing a field last either way, ties by id, so
consecutive pages never repeat or skip a record. ``distance,*`` without a ``geoPoint`` keeps the
relevance order. ``random`` is a shuffle fixed by the query (the same on every page).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from ._decode import Query
from ._filters import keyword_rank
from ._index import Record

__all__ = ["order"]

_Field = Callable[[Record, Query], Any]
_FIELDS: dict[str, _Field] = {
    "name": lambda record, query: record.name,
    "date": lambda record, query: record.start,
    "distance": lambda record, query: query.distance(record),
    "onSaleStartDate": lambda record, query: record.onsale_start,
    "id": lambda record, query: record.id,
    "venueName": lambda record, query: record.venue_name or None,
}


def order(records: list[Record], query: Query) -> list[Record]:
    """*records* (in relevance order) in the order the query's ``sort`` asks for."""
    sort = query.get("sort") or "relevance,desc"
    if sort == "random":
        seed = query.seed.encode()
        return sorted(records, key=lambda record: _shuffled(seed, record.id))
    *fields, direction = sort.split(",")
    descending = direction == "desc"
    if "relevance" in fields:
        ranked = _relevance(records, query)
        return ranked if descending else ranked[::-1]
    if "distance" in fields and query.origin is None:
        return _relevance(records, query)
    getters = [_FIELDS[name] for name in fields]
    present, missing = (1, 0) if descending else (0, 1)

    def key(record: Record) -> tuple[Any, ...]:
        parts: list[Any] = []
        for get in getters:
            value = get(record, query)
            parts += (present, value) if value is not None else (missing, 0)
        return tuple(parts)

    by_id = sorted(records, key=attrgetter("id"))
    return sorted(by_id, key=key, reverse=descending)  # stable: ties stay in id order


def _relevance(records: list[Record], query: Query) -> list[Record]:
    preferred = query.get("preferredCountry")
    country = preferred.casefold() if isinstance(preferred, str) else None
    if query.get("keyword") is None and country is None:
        return list(records)

    def key(record: Record) -> tuple[int, int, int]:
        elsewhere = 0 if country is None or country in record.country_codes else 1
        return elsewhere, keyword_rank(record, query), record.position

    return sorted(records, key=key)


def _shuffled(seed: bytes, record_id: str) -> bytes:
    return hashlib.blake2b(seed + record_id.encode(), digest_size=8).digest()
