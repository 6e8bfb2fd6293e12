"""What each query parameter does to a search: one :class:`Filter` per API parameter name, in
one registry per endpoint (:data:`FILTERS`).

A filter either keeps the records a predicate accepts (built from the decoded value, or from
the documented default when the parameter was not sent), or is read by another part of the
search (paging, ordering, the geo filter), or is accepted with no effect, for a stated reason.
Every parameter an endpoint describes has an entry; ``tests/test_fake_filters.py`` checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ._decode import Query
from ._index import Record

__all__ = [
    "ATTRACTION_FILTERS",
    "CLASSIFICATION_FILTERS",
    "EVENT_FILTERS",
    "FILTERS",
    "SUGGEST_FILTERS",
    "VENUE_FILTERS",
    "Filter",
    "keep",
    "keyword_rank",
]

Predicate = Callable[[Record], bool]
Build = Callable[[Any, Query], Predicate | None]


@dataclass(frozen=True)
class Filter:
    """What one API parameter does (exactly one of the three is set).

    Attributes:
        build: makes the predicate from the decoded value (``None`` when not sent); returns
            ``None`` when it keeps everything.
        read_by: the part of the search that reads the parameter instead.
        no_effect: why the parameter is accepted but changes nothing.
    """

    build: Build | None = None
    read_by: str = ""
    no_effect: str = ""


def keep(records: Iterable[Record], registry: dict[str, Filter], query: Query) -> list[Record]:
    """The records every filter of *registry* keeps, in their order."""
    kept = list(records)
    for name, entry in registry.items():
        if entry.build is not None:
            predicate = entry.build(query.get(name), query)
            if predicate is not None:
                kept = [record for record in kept if predicate(record)]
    return kept


# ---------------------------------------------------------------------- predicate builders


def _matches(needle: str, texts: tuple[str, ...], fuzzy: bool) -> int | None:
    """The index of the first text holding *needle* (fuzzy: within one edit per word)."""
    for index, text in enumerate(texts):
        if needle in text:
            return index
    if fuzzy:
        for index, text in enumerate(texts):
            if _close_words(needle, text):
                return index
    return None


def _close_words(needle: str, text: str) -> bool:
    words = text.split()
    return all(any(_one_edit(part, word) for word in words) for part in needle.split())


def _one_edit(a: str, b: str) -> bool:
    """Whether *a* becomes *b* by at most one insertion, deletion or substitution."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            skip = 1 if len(a) == len(b) else 0
            return a[index + skip :] == b[index + 1 :]
    return True


def keyword_rank(record: Record, query: Query) -> int:
    """0 when the keyword is in the record's own name, 1 when only in a related name (an
    event's attractions), 0 without a keyword: the relevance order's first key."""
    keyword = query.get("keyword")
    if keyword is None:
        return 0
    found = _matches(keyword.casefold(), record.texts, query.get("includeFuzzy") == "yes")
    return 0 if found == 0 else 1


def _keyword(value: Any, query: Query) -> Predicate | None:
    if value is None:
        return None
    needle = str(value).casefold()
    fuzzy = query.get("includeFuzzy") == "yes"
    return lambda record: _matches(needle, record.texts, fuzzy) is not None


def _any_of(field: str, *, fold: bool = False, single: bool = False) -> Build:
    """Keep records whose *field* (a set) holds one of the values (a list, or one value)."""
    get = attrgetter(field)

    def build(value: Any, query: Query) -> Predicate | None:
        if value is None:
            return None
        values = [value] if single else value
        wanted = frozenset(str(v).casefold() if fold else v for v in values)
        return lambda record: not wanted.isdisjoint(get(record))

    return build


def _one_of(field: str) -> Build:
    """Keep records whose *field* (one value) is among the values sent."""
    get = attrgetter(field)

    def build(value: Any, query: Query) -> Predicate | None:
        if value is None:
            return None
        wanted = frozenset(value)
        return lambda record: get(record) in wanted

    return build


def _terms(of: Callable[[Record], frozenset[str]], *, fold: bool) -> Build:
    """Classification names or ids: any positive one must match, no ``-negative`` one may."""

    def build(value: Any, query: Query) -> Predicate | None:
        if value is None:
            return None
        terms = [str(term).casefold() if fold else str(term) for term in value]
        positives = frozenset(term for term in terms if not term.startswith("-"))
        negatives = frozenset(term[1:] for term in terms if term.startswith("-"))

        def predicate(record: Record) -> bool:
            values = of(record)
            if not negatives.isdisjoint(values):
                return False
            return not positives or not positives.isdisjoint(values)

        return predicate

    return build


def _level(kind: str, level: str) -> Callable[[Record], frozenset[str]]:
    table = "level_names" if kind == "names" else "level_ids"
    return lambda record: getattr(record, table).get(level, frozenset())


def _include(flag: str, default: Callable[[Query], str]) -> Build:
    """``yes`` keeps all, ``no`` hides records with *flag*, ``only`` keeps just those."""
    get = attrgetter(flag)

    def build(value: Any, query: Query) -> Predicate | None:
        mode = value or default(query)
        if mode == "yes":
            return None
        if mode == "no":
            return lambda record: not get(record)
        return lambda record: bool(get(record))

    return build


def _dated(record: Record) -> bool:
    # A TBA/TBD event has no date to compare: includeTBA/includeTBD alone decide about it.
    return record.tba or record.tbd


def _start_from(value: Any, query: Query) -> Predicate | None:
    if value is None:
        return None
    return lambda r: _dated(r) or (r.start is not None and r.start >= value)


def _start_to(value: Any, query: Query) -> Predicate | None:
    if value is None:
        return None
    return lambda r: _dated(r) or (r.start is not None and r.start <= value)


def _local_range(value: Any, query: Query) -> Predicate | None:
    if value is None:
        return None
    low, high = value
    return lambda r: (
        _dated(r)
        or (
            r.local_start is not None
            and (low is None or r.local_start >= low)
            and (high is None or r.local_start <= high)
        )
    )


def _onsale(after: bool) -> Build:
    def build(value: Any, query: Query) -> Predicate | None:
        if value is None:
            return None
        if after:
            return lambda r: r.onsale_start is not None and r.onsale_start >= value
        return lambda r: r.onsale_start is not None and r.onsale_start <= value

    return build


def _near(value: Any, query: Query) -> Predicate | None:
    if value is None:
        return None
    radius = query.radius

    def predicate(record: Record) -> bool:
        distance = query.distance(record)
        return distance is not None and distance <= radius

    return predicate


def _for(kinds: Collection[str], build: Build) -> Build:
    """Apply *build*'s predicate to records of *kinds*; others pass (suggest mixes kinds)."""

    def wrapped(value: Any, query: Query) -> Predicate | None:
        predicate = build(value, query)
        if predicate is None:
            return None
        return lambda record: record.kind not in kinds or predicate(record)

    return wrapped


def _tba_default(query: Query) -> str:
    return "no" if query.dates_sent else "yes"


# ---------------------------------------------------------------------- the registries

_KEYWORD = Filter(_keyword)
_IDS = Filter(_any_of("ids"))
_SOURCE = Filter(_one_of("source"))
_TEST = Filter(_include("test", lambda query: "no"))
_FAMILY = Filter(_include("family", lambda query: "yes"))
_TBA = Filter(_include("tba", _tba_default))
_TBD = Filter(_include("tbd", _tba_default))
_IN_COUNTRY = _any_of("country_codes", fold=True, single=True)
_COUNTRY = Filter(_IN_COUNTRY)
_STATE = Filter(_any_of("state_codes", fold=True, single=True))
_GEO = Filter(_near)
_RADIUS = Filter(read_by="geoPoint (the distance kept; default 50, suggest 100)")
_UNIT = Filter(read_by="geoPoint and the results' distance/units (miles or km)")
_SORT = Filter(read_by="ordering (_sorting.py)")
_SIZE = Filter(read_by="paging")
_PAGE = Filter(read_by="paging (size * page < 1000)")
_LOCALE = Filter(
    no_effect="echoed in the links and in 404 details; the data has one locale (en-us), "
    "served whatever is asked"
)
_SPELLCHECK = Filter(no_effect="the fake never suggests other spellings")
_PREFERRED = Filter(read_by="ordering: relevance puts the preferred country's events first")
_NO_COUNTRY = Filter(no_effect="these entities carry no country to prefer")
_CLASSIFICATIONS: dict[str, Filter] = {
    "classificationName": Filter(_terms(attrgetter("class_names"), fold=True)),
    "classificationId": Filter(_terms(attrgetter("class_ids"), fold=False)),
    "segmentId": Filter(_terms(_level("ids", "segment"), fold=False)),
    "genreId": Filter(_terms(_level("ids", "genre"), fold=False)),
    "subGenreId": Filter(_terms(_level("ids", "subGenre"), fold=False)),
    "typeId": Filter(_terms(_level("ids", "type"), fold=False)),
    "subTypeId": Filter(_terms(_level("ids", "subType"), fold=False)),
}

#: ``GET /discovery/v2/events``.
EVENT_FILTERS: dict[str, Filter] = {
    "keyword": _KEYWORD,
    "id": _IDS,
    "city": Filter(_any_of("cities", fold=True)),
    "venueId": Filter(_any_of("venue_ids")),
    "attractionId": Filter(_any_of("attraction_ids")),
    **_CLASSIFICATIONS,
    "segmentName": Filter(_terms(_level("names", "segment"), fold=True)),
    "marketId": Filter(_any_of("market_ids")),
    "dmaId": Filter(_any_of("dma_ids")),
    "promoterId": Filter(_any_of("promoter_ids")),
    "geoPoint": _GEO,
    "radius": _RADIUS,
    "unit": _UNIT,
    "startDateTime": Filter(_start_from),
    "endDateTime": Filter(_start_to),
    "localStartDateTime": Filter(_local_range),
    "onsaleStartDateTime": Filter(_onsale(after=True)),
    "onsaleEndDateTime": Filter(_onsale(after=False)),
    "includeTBA": _TBA,
    "includeTBD": _TBD,
    "includeTest": _TEST,
    "includeFamily": _FAMILY,
    "includeSpellcheck": _SPELLCHECK,
    "preferredCountry": _PREFERRED,
    "domain": Filter(
        no_effect="recorded events carry no sales domain, so every event counts as available "
        "on every domain"
    ),
    "countryCode": _COUNTRY,
    "stateCode": _STATE,
    "postalCode": Filter(_any_of("postal_codes", fold=True, single=True)),
    "source": _SOURCE,
    "sort": _SORT,
    "size": _SIZE,
    "page": _PAGE,
    "locale": _LOCALE,
}

#: ``GET /discovery/v2/venues``.
VENUE_FILTERS: dict[str, Filter] = {
    "keyword": _KEYWORD,
    "id": _IDS,
    "countryCode": _COUNTRY,
    "stateCode": _STATE,
    "geoPoint": _GEO,
    "radius": _RADIUS,
    "unit": _UNIT,
    "source": _SOURCE,
    "includeTest": _TEST,
    "includeSpellcheck": _SPELLCHECK,
    "sort": _SORT,
    "size": _SIZE,
    "page": _PAGE,
    "locale": _LOCALE,
}

#: ``GET /discovery/v2/attractions``.
ATTRACTION_FILTERS: dict[str, Filter] = {
    "keyword": _KEYWORD,
    "id": _IDS,
    **_CLASSIFICATIONS,
    "source": _SOURCE,
    "includeTest": _TEST,
    "includeFamily": _FAMILY,
    "includeSpellcheck": _SPELLCHECK,
    "preferredCountry": _NO_COUNTRY,
    "sort": _SORT,
    "size": _SIZE,
    "page": _PAGE,
    "locale": _LOCALE,
}

#: ``GET /discovery/v2/classifications``: ``id`` and ``keyword`` match any node of the tree.
CLASSIFICATION_FILTERS: dict[str, Filter] = {
    "keyword": _KEYWORD,
    "id": _IDS,
    "includeTest": _TEST,
    "includeSpellcheck": _SPELLCHECK,
    "preferredCountry": _NO_COUNTRY,
    "source": Filter(no_effect="the classification tree is shared by every source"),
    "sort": _SORT,
    "size": _SIZE,
    "page": _PAGE,
    "locale": _LOCALE,
}

#: ``GET /discovery/v2/suggest``: over attractions, venues and events at once; a filter about
#: something a kind does not have (an attraction's place, a venue's segment) lets it pass.
SUGGEST_FILTERS: dict[str, Filter] = {
    "keyword": _KEYWORD,
    "geoPoint": Filter(_for(("events", "venues"), _near)),
    "radius": _RADIUS,
    "unit": _UNIT,
    "countryCode": Filter(_for(("events", "venues"), _IN_COUNTRY)),
    "segmentId": Filter(
        _for(("events", "attractions"), _terms(_level("ids", "segment"), fold=False))
    ),
    "source": _SOURCE,
    "includeTBA": Filter(_for(("events",), _include("tba", _tba_default))),
    "includeTBD": Filter(_for(("events",), _include("tbd", _tba_default))),
    "includeFuzzy": Filter(read_by="keyword (also words one edit away)"),
    "includeSpellcheck": _SPELLCHECK,
    "size": Filter(read_by="suggest: the most of each kind (default 5)"),
    "locale": _LOCALE,
}

#: Every registry, by endpoint name.
FILTERS = {
    "events": EVENT_FILTERS,
    "venues": VENUE_FILTERS,
    "attractions": ATTRACTION_FILTERS,
    "classifications": CLASSIFICATION_FILTERS,
    "suggest": SUGGEST_FILTERS,
}
