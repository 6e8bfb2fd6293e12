"""Every search parameter through the public API: the exact query string it sends, and a
ConfigurationError (or TypeError) with nothing sent for every bad value."""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from ticketmaster_async import ConfigurationError, TicketmasterClient
from ticketmaster_async._endpoints import (
    ATTRACTION_SORTS,
    CLASSIFICATION_SORTS,
    EVENT_SORTS,
    VENUE_SORTS,
    DetailOptions,
)
from ticketmaster_async._params import (
    Code,
    GeoPoint,
    IdList,
    Instant,
    IntList,
    LocalTime,
    Text,
    TriState,
)

from .clients import BASE, make_client

EMPTY_PAGE = {"page": {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0}}
PAGED_DEFAULTS = {"size": "20", "page": "0"}
UTC = timezone.utc
PLUS_TWO = timezone(timedelta(hours=2))

Call = Callable[[TicketmasterClient], Awaitable[Any]]


async def _sent_query(call: Call) -> dict[str, str]:
    """The query parameters (without the key) of the one request ``call`` sends."""
    with respx.mock(assert_all_called=True) as router:
        route = router.get(url__startswith=BASE).respond(json=EMPTY_PAGE)
        async with make_client() as tm:
            await call(tm)
    assert route.call_count == 1
    params = dict(route.calls.last.request.url.params)
    params.pop("apikey")
    return params


# -- events ------------------------------------------------------------------------------------

EVENT_CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"query": "rock"}, {"keyword": "rock"}),
    ({"city": "London"}, {"city": "London"}),
    ({"city": ["London", "Leeds"]}, {"city": "London,Leeds"}),
    ({"ids": ["G5diZfkn0B-bh", "1AdjZ4UGkBwb746"]}, {"id": "G5diZfkn0B-bh,1AdjZ4UGkBwb746"}),
    ({"venue_id": "KovZpZA7AAEA"}, {"venueId": "KovZpZA7AAEA"}),
    ({"venue_id": ["KovZpZA7AAEA", "KovZ9177W00"]}, {"venueId": "KovZpZA7AAEA,KovZ9177W00"}),
    ({"attraction_id": ["K8vZ917Kew0"]}, {"attractionId": "K8vZ917Kew0"}),
    ({"classification_name": "Rock"}, {"classificationName": "Rock"}),
    ({"classification_name": ["Music", "-Rock"]}, {"classificationName": "Music,-Rock"}),
    ({"classification_id": "KZFzniwnSyZfZ7v7nJ"}, {"classificationId": "KZFzniwnSyZfZ7v7nJ"}),
    ({"segment_id": ["KZFzniwnSyZfZ7v7nJ"]}, {"segmentId": "KZFzniwnSyZfZ7v7nJ"}),
    ({"segment_name": ["Music", "Sports"]}, {"segmentName": "Music,Sports"}),
    ({"genre_id": "KnvZfZ7vAeA"}, {"genreId": "KnvZfZ7vAeA"}),
    ({"sub_genre_id": "KZazBEonSMnZfZ7v6F1"}, {"subGenreId": "KZazBEonSMnZfZ7v6F1"}),
    ({"type_id": "KZAyXgnZfZ7v7nI"}, {"typeId": "KZAyXgnZfZ7v7nI"}),
    ({"sub_type_id": ["KZFzBErXgnZfZ7v7lJ"]}, {"subTypeId": "KZFzBErXgnZfZ7v7lJ"}),
    ({"market_id": 7}, {"marketId": "7"}),
    ({"market_id": ["7", 12]}, {"marketId": "7,12"}),
    ({"dma_id": 324}, {"dmaId": "324"}),
    ({"promoter_id": "494"}, {"promoterId": "494"}),
    ({"near": (57.64911, 10.40744)}, {"geoPoint": "u4pruydqq"}),
    ({"near": (57.64911, 10.40744), "radius": 10}, {"geoPoint": "u4pruydqq", "radius": "10"}),
    (
        {"near": (0, 0), "radius": 2.5, "unit": "km"},
        {"geoPoint": "s00000000", "radius": "2.5", "unit": "km"},
    ),
    (
        {"start": datetime(2026, 12, 5, 20, 30, 15, 999, tzinfo=PLUS_TWO)},
        {"startDateTime": "2026-12-05T18:30:15Z"},
    ),
    ({"end": datetime(2027, 1, 1, tzinfo=UTC)}, {"endDateTime": "2027-01-01T00:00:00Z"}),
    (
        {"local_start": date(2026, 12, 5)},
        {"localStartDateTime": "2026-12-05T00:00:00,2200-12-31T23:59:59"},
    ),
    (
        {"local_end": date(2026, 12, 6)},
        {"localStartDateTime": "1900-01-01T00:00:00,2026-12-06T23:59:59"},
    ),
    (
        {"local_start": date(2026, 12, 5), "local_end": date(2026, 12, 6)},
        {"localStartDateTime": "2026-12-05T00:00:00,2026-12-06T23:59:59"},
    ),
    (
        {"local_start": datetime(2026, 12, 5, 18, 0), "local_end": datetime(2026, 12, 5, 23, 30)},
        {"localStartDateTime": "2026-12-05T18:00:00,2026-12-05T23:30:00"},
    ),
    (
        {"onsale_start": datetime(2026, 12, 1, tzinfo=UTC)},
        {"onsaleStartDateTime": "2026-12-01T00:00:00Z"},
    ),
    (
        {"onsale_end": datetime(2026, 12, 8, 9, tzinfo=PLUS_TWO)},
        {"onsaleEndDateTime": "2026-12-08T07:00:00Z"},
    ),
    ({"include_tba": True}, {"includeTBA": "yes"}),
    ({"include_tba": False}, {"includeTBA": "no"}),
    ({"include_tbd": "only"}, {"includeTBD": "only"}),
    ({"include_test": "only"}, {"includeTest": "only"}),
    ({"include_family": False}, {"includeFamily": "no"}),
    ({"include_spellcheck": True}, {"includeSpellcheck": "yes"}),
    ({"preferred_country": "ca"}, {"preferredCountry": "ca"}),
    ({"domain": ["canada", "ticketmaster"]}, {"domain": "canada,ticketmaster"}),
    ({"country_code": "GB"}, {"countryCode": "GB"}),
    ({"state_code": "NY"}, {"stateCode": "NY"}),
    ({"postal_code": "B1 2AA"}, {"postalCode": "B1 2AA"}),
    ({"size": 200, "page": 4}, {"size": "200", "page": "4"}),
    ({"locale": "en-us,en,*"}, {"locale": "en-us,en,*"}),
    ({"source": "ticketmaster,tmr"}, {"source": "ticketmaster,tmr"}),
    ({"source": ["universe", "frontgate"]}, {"source": "universe,frontgate"}),
    ({"extra_params": {"includeLicensedContent": "yes"}}, {"includeLicensedContent": "yes"}),
    *[({"sort": sort}, {"sort": sort}) for sort in EVENT_SORTS],
]


@pytest.mark.parametrize(("values", "expected"), EVENT_CASES)
@pytest.mark.parametrize("method", ["search_events", "search_events_page", "iter_events"])
async def test_event_search_sends(
    method: str, values: dict[str, Any], expected: dict[str, str]
) -> None:
    async def call(tm: TicketmasterClient) -> Any:
        if method == "iter_events":
            values.setdefault("size", 20)
            return [event async for event in tm.iter_events(**values)]
        return await getattr(tm, method)(**values)

    assert await _sent_query(call) == {**PAGED_DEFAULTS, **expected}


# -- venues, attractions, classifications -------------------------------------------------------

VENUE_CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"query": "garden"}, {"keyword": "garden"}),
    ({"ids": ["KovZpZA7AAEA"]}, {"id": "KovZpZA7AAEA"}),
    ({"country_code": "US", "state_code": "NY"}, {"countryCode": "US", "stateCode": "NY"}),
    (
        {"near": (57.64911, 10.40744), "radius": 1, "unit": "miles", "sort": "distance,asc"},
        {"geoPoint": "u4pruydqq", "radius": "1", "unit": "miles", "sort": "distance,asc"},
    ),
    ({"size": 50, "page": 3, "locale": "*"}, {"size": "50", "page": "3", "locale": "*"}),
    (
        {"source": "ticketmaster", "include_test": True},
        {"source": "ticketmaster", "includeTest": "yes"},
    ),
    ({"include_spellcheck": False}, {"includeSpellcheck": "no"}),
    *[
        ({"sort": sort, "near": (0.0, 0.0)}, {"sort": sort, "geoPoint": "s00000000"})
        for sort in VENUE_SORTS
    ],
]

ATTRACTION_CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"query": "radiohead"}, {"keyword": "radiohead"}),
    ({"ids": ["K8vZ91713wV", "K8vZ917Kew0"]}, {"id": "K8vZ91713wV,K8vZ917Kew0"}),
    ({"classification_name": ["Rock"]}, {"classificationName": "Rock"}),
    ({"classification_id": "KZFzniwnSyZfZ7v7nJ"}, {"classificationId": "KZFzniwnSyZfZ7v7nJ"}),
    ({"segment_id": "KZFzniwnSyZfZ7v7nJ"}, {"segmentId": "KZFzniwnSyZfZ7v7nJ"}),
    ({"genre_id": "KnvZfZ7vAeA"}, {"genreId": "KnvZfZ7vAeA"}),
    ({"sub_genre_id": "KZazBEonSMnZfZ7v6F1"}, {"subGenreId": "KZazBEonSMnZfZ7v6F1"}),
    (
        {"type_id": "KZAyXgnZfZ7v7nI", "sub_type_id": "KZFzBErXgnZfZ7v7lJ"},
        {"typeId": "KZAyXgnZfZ7v7nI", "subTypeId": "KZFzBErXgnZfZ7v7lJ"},
    ),
    (
        {"include_family": "only", "include_test": False},
        {"includeFamily": "only", "includeTest": "no"},
    ),
    (
        {"include_spellcheck": True, "preferred_country": "us"},
        {"includeSpellcheck": "yes", "preferredCountry": "us"},
    ),
    ({"source": ["tmr"], "locale": "en-us"}, {"source": "tmr", "locale": "en-us"}),
    *[({"sort": sort}, {"sort": sort}) for sort in ATTRACTION_SORTS],
]

CLASSIFICATION_CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"query": "rock"}, {"keyword": "rock"}),
    ({"ids": ["KZFzniwnSyZfZ7v7nJ"]}, {"id": "KZFzniwnSyZfZ7v7nJ"}),
    (
        {"include_test": "only", "include_spellcheck": True, "preferred_country": "ca"},
        {"includeTest": "only", "includeSpellcheck": "yes", "preferredCountry": "ca"},
    ),
    (
        {"source": "universe", "locale": "*", "size": 5},
        {"source": "universe", "locale": "*", "size": "5"},
    ),
    *[({"sort": sort}, {"sort": sort}) for sort in CLASSIFICATION_SORTS],
]

RESOURCES = {
    "venues": VENUE_CASES,
    "attractions": ATTRACTION_CASES,
    "classifications": CLASSIFICATION_CASES,
}


@pytest.mark.parametrize(
    ("resource", "values", "expected"),
    [(resource, v, e) for resource, cases in RESOURCES.items() for v, e in cases],
)
@pytest.mark.parametrize("form", ["search_{}", "search_{}_page", "iter_{}"])
async def test_other_searches_send(
    resource: str, form: str, values: dict[str, Any], expected: dict[str, str]
) -> None:
    method = form.format(resource)

    async def call(tm: TicketmasterClient) -> Any:
        if method.startswith("iter_"):
            values.setdefault("size", 20)
            return [item async for item in getattr(tm, method)(**values)]
        return await getattr(tm, method)(**values)

    assert await _sent_query(call) == {**PAGED_DEFAULTS, **expected}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get_event_details", "/discovery/v2/events/G5diZfkn0B-bh.json"),
        ("get_venue", "/discovery/v2/venues/G5diZfkn0B-bh.json"),
        ("get_attraction", "/discovery/v2/attractions/G5diZfkn0B-bh.json"),
        ("get_classification", "/discovery/v2/classifications/G5diZfkn0B-bh.json"),
    ],
)
async def test_detail_methods_send_locale_and_extra_params(method: str, path: str) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE}{path}").respond(json={"id": "G5diZfkn0B-bh", "name": "x"})
        async with make_client() as tm:
            await getattr(tm, method)("G5diZfkn0B-bh")
            await getattr(tm, method)(
                "G5diZfkn0B-bh", locale="fr-ca", extra_params={"includeLicensedContent": "yes"}
            )
            await getattr(tm, method)("G5diZfkn0B-bh", locale="fr-ca", refresh=True)
    sent = [dict(call.request.url.params) for call in route.calls]
    for params in sent:
        params.pop("apikey")
    assert sent == [
        {},
        {"locale": "fr-ca", "includeLicensedContent": "yes"},
        {"locale": "fr-ca"},
    ]


@pytest.mark.parametrize(
    "method",
    [
        "get_event_details",
        "get_event_images",
        "get_venue",
        "get_attraction",
        "get_classification",
        "get_segment",
        "get_genre",
        "get_subgenre",
    ],
)
def test_detail_methods_take_exactly_the_described_options(method: str) -> None:
    signature = inspect.signature(getattr(TicketmasterClient, method))
    keywords = {
        name
        for name, parameter in signature.parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert keywords == set(typing.get_type_hints(DetailOptions))


# -- bad values: nothing sent ---------------------------------------------------------------

BAD_EVENT_FILTERS: list[dict[str, Any]] = [
    {"near": (91, 0)},
    {"near": (-90.5, 0)},
    {"near": (0, 180.01)},
    {"near": (0,)},
    {"near": "51.5,-0.1"},
    {"near": (math.nan, 0)},
    {"near": (True, 0)},
    {"radius": 10},
    {"unit": "km"},
    {"near": (51.5, -0.1), "radius": 0},
    {"near": (51.5, -0.1), "radius": -1},
    {"near": (51.5, -0.1), "radius": math.inf},
    {"near": (51.5, -0.1), "radius": True},
    {"near": (51.5, -0.1), "unit": "feet"},
    {"local_start": date(2026, 12, 6), "local_end": date(2026, 12, 5)},
    {"local_start": datetime(2026, 12, 5, tzinfo=UTC)},
    {"local_end": "2026-12-05"},
    {"local_start": date(1, 1, 1)},
    {"local_end": date(2201, 1, 1)},
    {"start": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))},
    {"end": datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))},
    {"start": datetime(1899, 12, 31, tzinfo=UTC)},
    {
        "onsale_start": datetime(2027, 1, 2, tzinfo=UTC),
        "onsale_end": datetime(2027, 1, 1, tzinfo=UTC),
    },
    {"onsale_start": datetime(2027, 1, 2)},
    {"sort": "popularity"},
    {"sort": "name,ASC"},
    {"ids": "G5diZfkn0B-bh"},
    {"ids": []},
    {"ids": [f"ID{n:04d}" for n in range(201)]},
    {"ids": ["ok", "a/b"]},
    {"venue_id": ["ok", ""]},
    {"market_id": -1},
    {"market_id": "seven"},
    {"market_id": [1.5]},
    {"include_tba": "maybe"},
    {"include_tbd": 1},
    {"include_spellcheck": "only"},
    {"preferred_country": "gb"},
    {"domain": [""]},
    {"city": ["London", ""]},
    {"country_code": "G1"},
    {"source": ["tmr", "stubhub"]},
    {"extra_params": {"apikey": "other"}},
    {"extra_params": {"ApiKey": "other"}},
    {"extra_params": {"geoPoint": "u4pruydqq"}},
    {"extra_params": {"keyword": "x"}},
    {"extra_params": {"size": "200"}},
    {"extra_params": {"localStartDateTime": "x"}},
    {"extra_params": {"x": 1}},
    {"extra_params": [("x", "y")]},
]


@pytest.mark.parametrize("filters", BAD_EVENT_FILTERS)
async def test_bad_event_filters_send_nothing(filters: dict[str, Any]) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            with pytest.raises(ConfigurationError):
                await tm.search_events(**filters)
            with pytest.raises(ConfigurationError):
                await tm.search_events_page(**filters)
            with pytest.raises(ConfigurationError):
                async for _ in tm.iter_events(**filters):
                    pass  # pragma: no cover
        assert router.calls.call_count == 0


BAD_OTHER: list[tuple[str, dict[str, Any]]] = [
    ("search_venues", {"sort": "date,asc"}),
    ("search_venues", {"sort": "distance,asc"}),
    ("search_venues", {"sort": "distance,desc", "radius": 5}),
    ("search_venues", {"near": (0, 200)}),
    ("search_venues", {"ids": [f"V{n}" for n in range(201)]}),
    ("search_venues", {"extra_params": {"countryCode": "GB"}}),
    ("search_attractions", {"sort": "date,asc"}),
    ("search_attractions", {"sort": "distance,asc"}),
    ("search_attractions", {"include_family": "sometimes"}),
    ("search_attractions", {"extra_params": {"APIKEY": "k"}}),
    ("search_classifications", {"sort": "venueName,asc"}),
    ("search_classifications", {"preferred_country": "mx"}),
    ("search_classifications", {"size": 201}),
    ("search_classifications", {"size": 200, "page": 5}),
]


@pytest.mark.parametrize(("method", "filters"), BAD_OTHER)
async def test_bad_filters_of_other_searches_send_nothing(
    method: str, filters: dict[str, Any]
) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            with pytest.raises(ConfigurationError):
                await getattr(tm, method)(**filters)
            with pytest.raises(ConfigurationError):
                async for _ in getattr(tm, method.replace("search_", "iter_"))(**filters):
                    pass  # pragma: no cover
        assert router.calls.call_count == 0


@pytest.mark.parametrize(
    ("method", "keyword"),
    [
        ("search_venues", "genre_id"),
        ("search_venues", "city"),
        ("search_attractions", "near"),
        ("search_classifications", "classification_name"),
        ("search_events", "include_fuzzy"),
        ("iter_venues", "start"),
    ],
)
async def test_a_keyword_of_another_endpoint_is_a_type_error(method: str, keyword: str) -> None:
    async def call(tm: TicketmasterClient) -> None:
        result = getattr(tm, method)(**{keyword: "x"})
        if inspect.isasyncgen(result):
            async for _ in result:
                pass  # pragma: no cover
        else:
            await result

    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            with pytest.raises(TypeError, match=keyword):
                await call(tm)
        assert router.calls.call_count == 0


@pytest.mark.parametrize("extra", [{"apikey": "x"}, {"locale": "en"}, {"LOCALE": "en"}])
async def test_detail_extra_params_may_not_set_modelled_names(extra: dict[str, str]) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            with pytest.raises(ConfigurationError):
                await tm.get_event_details("G5diZfkn0B-bh", extra_params=extra)
        assert router.calls.call_count == 0


async def test_a_200_id_list_is_accepted() -> None:
    ids = [f"ID{n:04d}" for n in range(200)]

    async def call(tm: TicketmasterClient) -> Any:
        return await tm.search_events(ids=ids)

    sent = await _sent_query(call)
    assert sent["id"].split(",") == ids


async def test_filters_do_not_leak_into_the_cache_key_of_other_calls() -> None:
    # Two searches that differ by one new parameter are two requests (different cache keys).
    with respx.mock(assert_all_called=True) as router:
        route = router.get(url__startswith=BASE).mock(
            return_value=httpx.Response(200, json=EMPTY_PAGE)
        )
        async with make_client() as tm:
            await tm.search_events("rock", near=(51.5, -0.1))
            await tm.search_events("rock", near=(51.5, -0.1), radius=5)
            await tm.search_events("rock", near=(51.5, -0.1))
    assert route.call_count == 2


# -- reading the API's text back (what the fake API does with a query) ------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (Instant(), "2023-1-01T00:00:00Z"),
        (Instant(), "2023-01-01T00:00:00"),
        (LocalTime(), "2023-01-01 00:00:00"),
        (Code(), "G1"),
        (Code(), "GBR"),
        (Text(), ""),
        (TriState(), "maybe"),
        (GeoPoint(), "u4pa"),
        (IntList(), "7,x"),
    ],
)
def test_malformed_api_text_is_refused(kind: Any, text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - ConfigurationError is one, so is ValueError
        kind.decode(text)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (Instant(), "2023-01-01T10:20:30Z", datetime(2023, 1, 1, 10, 20, 30, tzinfo=UTC)),
        (LocalTime(), "2023-01-01T10:20:30", datetime(2023, 1, 1, 10, 20, 30)),
        (Code(), "GB", "GB"),
        (IdList(), "a, b,,c", ["a", "b", "c"]),
        (IntList(), "7,12", [7, 12]),
        (TriState(), "only", "only"),
    ],
)
def test_api_text_reads_back(kind: Any, text: str, value: Any) -> None:
    assert kind.decode(text) == value
