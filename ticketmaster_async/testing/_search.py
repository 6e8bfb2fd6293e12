"""One search, start to finish: decode the query, keep what the filters keep, order, page, and
encode the page; and ``suggest``, which does the same over three kinds at once."""

from __future__ import annotations

from collections.abc import Mapping

from .._constants import DEFAULT_PAGE_SIZE
from .._endpoints import ENDPOINTS
from ._catalogue import Catalogue
from ._decode import Query, decode, paging
from ._filters import FILTERS, keep
from ._index import Record
from ._responses import encode_body, page_body, suggest_body
from ._sorting import order

__all__ = ["SUGGEST_KINDS", "SUGGEST_SIZE", "search", "suggest"]

#: What suggest answers with, in this order.
SUGGEST_KINDS = ("attractions", "venues", "events")
#: Suggestions of each kind when ``size`` is not sent (the API's documented default).
SUGGEST_SIZE = 5


def search(
    catalogue: Catalogue,
    kind: str,
    path: str,
    pairs: list[tuple[str, str]],
    params: Mapping[str, str],
) -> tuple[bytes, list[str]]:
    """The page a search of *kind* answers, and the parameter names it did not know.

    Raises:
        Reply: a 400 for a malformed or out-of-bounds value.
    """
    query = decode(ENDPOINTS[kind], params, pairs)
    size, page = paging(query, default_size=DEFAULT_PAGE_SIZE)
    found = order(keep(catalogue.records(kind), FILTERS[kind], query), query)
    chosen = [encoded(record, query) for record in found[page * size : (page + 1) * size]]
    return page_body(kind, path, pairs, len(found), chosen, size, page), query.unknown


def suggest(
    catalogue: Catalogue,
    path: str,
    pairs: list[tuple[str, str]],
    params: Mapping[str, str],
) -> tuple[bytes, list[str]]:
    """What ``/suggest`` answers: at most ``size`` attractions, venues and events whose names
    hold the keyword (events also through their attractions' names), most relevant first; test
    entities never.

    Raises:
        Reply: a 400 for a malformed value.
    """
    query = decode(ENDPOINTS["suggest"], params, pairs)
    size, _ = paging(query, default_size=SUGGEST_SIZE, paged=False)
    found: dict[str, list[bytes]] = {}
    for kind in SUGGEST_KINDS:
        records = [record for record in catalogue.records(kind) if not record.test]
        ranked = order(keep(records, FILTERS["suggest"], query), query)
        found[kind] = [encoded(record, query) for record in ranked[:size]]
    return suggest_body(path, pairs, found), query.unknown


def encoded(record: Record, query: Query) -> bytes:
    """The record's object as JSON; in a geo search with ``distance`` and ``units`` added (to
    the answer only, never to the stored object)."""
    if record.encoded is None:
        record.encoded = encode_body(record.raw)
    distance = query.distance(record)
    if distance is None:
        return record.encoded
    extra = {"distance": round(distance, 2), "units": query.units}
    if (
        record.encoded.startswith(b"{")
        and record.encoded != b"{}"
        and not extra.keys() & record.raw
    ):
        # The object's JSON with the two members appended: no copy of the object.
        return record.encoded[:-1] + b"," + encode_body(extra)[1:]
    return encode_body({**record.raw, **extra})
