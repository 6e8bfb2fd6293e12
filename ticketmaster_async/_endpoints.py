"""The Discovery API's endpoints, each described once: every parameter's keyword, API name,
type, check and encoding (:class:`~._query.Endpoint` turns a description into queries).

A filter is one line of a ``TypedDict``: the key is the keyword users pass, the annotation is
its Python type for type checkers, and the :class:`~._params.Param` in ``Annotated[...]`` says
how it is checked and sent. The client's methods take ``**filters: Unpack[EventFilters]``, so the
same line gives the method's signature, the query string (:meth:`Endpoint.query`), the CLI's
flags, the docs' parameter tables and the fake API's reading of the query. Keys without a
``Param`` (``refresh``, ``extra_params``) are call options, not API parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, TypedDict

from ._constants import MAX_PAGE_SIZE
from ._params import (
    SOURCES,
    Choice,
    ChoiceList,
    Code,
    Flag,
    GeoPoint,
    IdList,
    Instant,
    IntList,
    LocalTime,
    Number,
    Param,
    Text,
    TextList,
    TriState,
    WholeNumber,
)
from ._query import DistanceSortNeedsNear, Endpoint, LocalRange, Needs, Ordered, Rule

__all__ = [
    "ATTRACTIONS",
    "ATTRACTION_SORTS",
    "CLASSIFICATIONS",
    "CLASSIFICATION_SORTS",
    "DETAIL",
    "ENDPOINTS",
    "EVENTS",
    "EVENT_SORTS",
    "SUGGEST",
    "VENUES",
    "VENUE_SORTS",
    "AttractionFilters",
    "ClassificationFilters",
    "DetailOptions",
    "Endpoint",
    "EventFilters",
    "SuggestFilters",
    "VenueFilters",
]

DISCOVERY = "/discovery/v2"

EVENT_SORTS = (
    "name,asc",
    "name,desc",
    "date,asc",
    "date,desc",
    "relevance,asc",
    "relevance,desc",
    "distance,asc",
    "name,date,asc",
    "name,date,desc",
    "date,name,asc",
    "date,name,desc",
    "distance,date,asc",
    "onSaleStartDate,asc",
    "id,asc",
    "venueName,asc",
    "venueName,desc",
    "random",
)
VENUE_SORTS = (
    "name,asc",
    "name,desc",
    "relevance,asc",
    "relevance,desc",
    "distance,asc",
    "distance,desc",
    "random",
)
ATTRACTION_SORTS = ("name,asc", "name,desc", "relevance,asc", "relevance,desc", "random")
CLASSIFICATION_SORTS = ATTRACTION_SORTS

# -- parameters shared by several endpoints ----------------------------------------------------

_QUERY = Param(
    "keyword", Text(), "keyword to search on (a whole word: `Mado` does not find Madonna)"
)
_CITY = Param("city", TextList(), "only in these cities")
_IDS = Param("id", IdList(allow_single=False), "only these ids (at most 200)")
_Ids = Annotated[Sequence[str], _IDS]
_Names = Annotated[
    str | Sequence[str],
    Param(
        "classificationName",
        TextList(),
        "segment, genre, sub-genre, type or sub-type names; a leading `-` excludes one",
        cli=("--classification",),
    ),
]
_ClassificationIds = Annotated[
    str | Sequence[str],
    Param("classificationId", IdList(), "classification ids (any level); `-` excludes"),
]
_SegmentIds = Annotated[str | Sequence[str], Param("segmentId", IdList(), "segment ids")]
_GenreIds = Annotated[str | Sequence[str], Param("genreId", IdList(), "genre ids")]
_SubGenreIds = Annotated[str | Sequence[str], Param("subGenreId", IdList(), "sub-genre ids")]
_TypeIds = Annotated[str | Sequence[str], Param("typeId", IdList(), "type ids")]
_SubTypeIds = Annotated[str | Sequence[str], Param("subTypeId", IdList(), "sub-type ids")]
_CountryCode = Annotated[
    str, Param("countryCode", Code(), "ISO 3166 country code, e.g. `GB`", cli=("--country",))
]
_StateCode = Annotated[str, Param("stateCode", Text(max_length=8), "state or province code")]
_Near = Annotated[
    tuple[float, float],
    Param("geoPoint", GeoPoint(), "(latitude, longitude): sent as its 9-character geohash"),
]
_Radius = Annotated[
    float, Param("radius", Number(), "distance from `near` (needs `near`; API default 50)")
]
_Unit = Annotated[
    str, Param("unit", Choice(("miles", "km")), "unit of `radius` (needs `near`; default miles)")
]
_Size = Annotated[
    int,
    Param("size", WholeNumber(low=1, high=MAX_PAGE_SIZE), "results per page (1-200; default 20)"),
]
_Page = Annotated[
    int, Param("page", WholeNumber(low=0), "page number from 0 (`size * page` must be < 1000)")
]
_Locale = Annotated[str, Param("locale", Text(), "locales, e.g. `en-us`, `en-us,en,*` or `*`")]
_Source = Annotated[
    str | Sequence[str],
    Param("source", ChoiceList(values=SOURCES), "primary or publishing sources"),
]
_IncludeTest = Annotated[
    bool | str, Param("includeTest", TriState(), "test entities: yes, no (default) or only")
]
_IncludeFamily = Annotated[
    bool | str, Param("includeFamily", TriState(), "family entities: yes (default), no or only")
]
_IncludeSpellcheck = Annotated[
    bool, Param("includeSpellcheck", Flag(), "let the API add spell-check suggestions")
]
_PreferredCountry = Annotated[
    str, Param("preferredCountry", Choice(("us", "ca")), "popularity boost by country")
]
_IncludeTBA = Annotated[
    bool | str,
    Param("includeTBA", TriState(), "events whose date is to be announced: yes, no or only"),
]
_IncludeTBD = Annotated[
    bool | str,
    Param("includeTBD", TriState(), "events whose date is to be defined: yes, no or only"),
]


class CallOptions(TypedDict, total=False):
    """Options of every call: not API parameters."""

    #: Skip the cache read; the fresh answer is still stored.
    refresh: bool
    #: Further query parameters sent verbatim (not one a keyword sets, not ``apikey``).
    extra_params: Mapping[str, str]


class DetailOptions(CallOptions, total=False):
    """Keyword arguments of the detail methods (``get_event_details`` ...)."""

    locale: _Locale


class EventFilters(CallOptions, total=False):
    """Keyword-only filters of the event searches (``search_events``, ``search_events_page``,
    ``iter_events``): snake_case, sent as the API's camelCase."""

    ids: _Ids
    venue_id: Annotated[str | Sequence[str], Param("venueId", IdList(), "only at these venues")]
    attraction_id: Annotated[
        str | Sequence[str], Param("attractionId", IdList(), "only with these attractions")
    ]
    classification_name: _Names
    classification_id: _ClassificationIds
    segment_id: _SegmentIds
    segment_name: Annotated[str | Sequence[str], Param("segmentName", TextList(), "segment names")]
    genre_id: _GenreIds
    sub_genre_id: _SubGenreIds
    type_id: _TypeIds
    sub_type_id: _SubTypeIds
    market_id: Annotated[
        int | str | Sequence[int | str], Param("marketId", IntList(), "market ids")
    ]
    dma_id: Annotated[int | str | Sequence[int | str], Param("dmaId", IntList(), "DMA ids")]
    promoter_id: Annotated[
        int | str | Sequence[int | str], Param("promoterId", IntList(), "promoter ids")
    ]
    near: _Near
    radius: _Radius
    unit: _Unit
    start: Annotated[
        datetime, Param("startDateTime", Instant(), "starting at or after this instant (aware)")
    ]
    end: Annotated[
        datetime, Param("endDateTime", Instant(), "starting at or before this instant (aware)")
    ]
    local_start: Annotated[
        date | datetime,
        Param(
            "localStartDateTime",
            LocalTime(),
            "starting on or after this wall time at the venue (a date: from 00:00:00)",
            cli=("--from",),
        ),
    ]
    local_end: Annotated[
        date | datetime,
        Param(
            "localStartDateTime",
            LocalTime(end=True),
            "starting on or before this wall time at the venue (a date: to 23:59:59)",
            cli=("--to",),
        ),
    ]
    onsale_start: Annotated[
        datetime,
        Param("onsaleStartDateTime", Instant(), "public sale starting at or after this instant"),
    ]
    onsale_end: Annotated[
        datetime,
        Param("onsaleEndDateTime", Instant(), "public sale starting at or before this instant"),
    ]
    include_tba: _IncludeTBA
    include_tbd: _IncludeTBD
    include_test: _IncludeTest
    include_family: _IncludeFamily
    include_spellcheck: _IncludeSpellcheck
    preferred_country: _PreferredCountry
    domain: Annotated[str | Sequence[str], Param("domain", TextList(), "sales domains")]
    country_code: _CountryCode
    state_code: _StateCode
    postal_code: Annotated[str, Param("postalCode", Text(), "postal code (text match, not geo)")]
    sort: Annotated[str, Param("sort", Choice(EVENT_SORTS), "order of the results")]
    size: _Size
    page: _Page
    locale: _Locale
    source: _Source


class VenueFilters(CallOptions, total=False):
    """Keyword-only filters of the venue searches."""

    ids: _Ids
    country_code: _CountryCode
    state_code: _StateCode
    near: _Near
    radius: _Radius
    unit: _Unit
    sort: Annotated[
        str,
        Param("sort", Choice(VENUE_SORTS), "order of the results (`distance,*` needs `near`)"),
    ]
    size: _Size
    page: _Page
    locale: _Locale
    source: _Source
    include_test: _IncludeTest
    include_spellcheck: _IncludeSpellcheck


class AttractionFilters(CallOptions, total=False):
    """Keyword-only filters of the attraction searches."""

    ids: _Ids
    classification_name: _Names
    classification_id: _ClassificationIds
    segment_id: _SegmentIds
    genre_id: _GenreIds
    sub_genre_id: _SubGenreIds
    type_id: _TypeIds
    sub_type_id: _SubTypeIds
    sort: Annotated[str, Param("sort", Choice(ATTRACTION_SORTS), "order of the results")]
    size: _Size
    page: _Page
    locale: _Locale
    source: _Source
    include_test: _IncludeTest
    include_family: _IncludeFamily
    include_spellcheck: _IncludeSpellcheck
    preferred_country: _PreferredCountry


class ClassificationFilters(CallOptions, total=False):
    """Keyword-only filters of the classification searches."""

    ids: _Ids
    sort: Annotated[str, Param("sort", Choice(CLASSIFICATION_SORTS), "order of the results")]
    size: _Size
    page: _Page
    locale: _Locale
    source: _Source
    include_test: _IncludeTest
    include_spellcheck: _IncludeSpellcheck
    preferred_country: _PreferredCountry


class SuggestFilters(CallOptions, total=False):
    """Keyword-only filters of ``suggest``."""

    near: _Near
    radius: Annotated[
        float, Param("radius", Number(), "distance from `near` (needs `near`; API default 100)")
    ]
    unit: _Unit
    country_code: _CountryCode
    segment_id: _SegmentIds
    size: Annotated[
        int,
        Param(
            "size", WholeNumber(low=1, high=MAX_PAGE_SIZE), "suggestions of each kind (default 5)"
        ),
    ]
    locale: _Locale
    source: _Source
    include_tba: _IncludeTBA
    include_tbd: _IncludeTBD
    include_fuzzy: Annotated[bool, Param("includeFuzzy", Flag(), "also fuzzy matches")]
    include_spellcheck: _IncludeSpellcheck


_GEO_RULES: tuple[Rule, ...] = (Needs("radius", "near"), Needs("unit", "near"))

EVENTS = Endpoint(
    "events",
    f"{DISCOVERY}/events.json",
    EventFilters,
    positional=(("query", _QUERY), ("city", _CITY)),
    rules=(
        *_GEO_RULES,
        Ordered("start", "end"),
        Ordered("onsale_start", "onsale_end"),
        LocalRange(),
    ),
    paged=True,
)
VENUES = Endpoint(
    "venues",
    f"{DISCOVERY}/venues.json",
    VenueFilters,
    positional=(("query", _QUERY),),
    rules=(*_GEO_RULES, DistanceSortNeedsNear()),
    paged=True,
)
ATTRACTIONS = Endpoint(
    "attractions",
    f"{DISCOVERY}/attractions.json",
    AttractionFilters,
    positional=(("query", _QUERY),),
    paged=True,
)
CLASSIFICATIONS = Endpoint(
    "classifications",
    f"{DISCOVERY}/classifications.json",
    ClassificationFilters,
    positional=(("query", _QUERY),),
    paged=True,
)
SUGGEST = Endpoint(
    "suggest",
    f"{DISCOVERY}/suggest.json",
    SuggestFilters,
    positional=(("query", _QUERY),),
    rules=_GEO_RULES,
)


def _detail(name: str, path: str) -> Endpoint:
    return Endpoint(name, f"{DISCOVERY}/{path}/{{id}}.json", DetailOptions)


#: Detail endpoints by the name of their method's resource.
DETAIL = {
    "event": _detail("event", "events"),
    "event_images": Endpoint(
        "event_images", f"{DISCOVERY}/events/{{id}}/images.json", DetailOptions
    ),
    "venue": _detail("venue", "venues"),
    "attraction": _detail("attraction", "attractions"),
    "classification": _detail("classification", "classifications"),
    "segment": _detail("segment", "classifications/segments"),
    "genre": _detail("genre", "classifications/genres"),
    "subgenre": _detail("subgenre", "classifications/subgenres"),
}

#: Every search endpoint, by name.
ENDPOINTS = {
    endpoint.name: endpoint for endpoint in (EVENTS, VENUES, ATTRACTIONS, CLASSIFICATIONS, SUGGEST)
}
