"""The fake API reads every described search parameter: the registries, malformed values, and
what each event filter keeps (expectations computed here from the raw events)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ticketmaster_async._endpoints import ENDPOINTS
from ticketmaster_async._params import (
    Choice,
    ChoiceList,
    Code,
    Flag,
    GeoPoint,
    IdList,
    Instant,
    IntList,
    Kind,
    LocalTime,
    Number,
    Text,
    TextList,
    TriState,
    WholeNumber,
)
from ticketmaster_async.testing import FakeDiscoveryAPI
from ticketmaster_async.testing._filters import FILTERS

KEY = "filters-key-77"
Event = dict[str, Any]

PATHS = {
    "events": "/discovery/v2/events.json",
    "venues": "/discovery/v2/venues.json",
    "attractions": "/discovery/v2/attractions.json",
    "classifications": "/discovery/v2/classifications.json",
    "suggest": "/discovery/v2/suggest.json",
}


@pytest.fixture(scope="module")
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


def answer(api: FakeDiscoveryAPI, kind: str, params: list[tuple[str, str]]) -> Any:
    response = api.handle("GET", PATHS[kind], [("apikey", KEY), *params])
    assert response.status == 200, response.body
    return response.json()


def found_ids(api: FakeDiscoveryAPI, params: list[tuple[str, str]]) -> set[str]:
    body = answer(api, "events", [("size", "200"), *params])
    events = body.get("_embedded", {}).get("events", [])
    assert body["page"]["totalElements"] == len(events)  # one page holds them all
    return {event["id"] for event in events}


# --------------------------------------------------------------------------- the registries


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_described_parameter_has_a_filter(name: str) -> None:
    described = {param.api for param in ENDPOINTS[name].params.values()}
    registry = FILTERS[name]
    assert set(registry) == described
    for api_name, entry in registry.items():
        roles = [entry.build is not None, bool(entry.read_by), bool(entry.no_effect)]
        assert roles.count(True) == 1, api_name
        if entry.no_effect:
            assert len(entry.no_effect) > 20, f"{api_name}: say why it has no effect"


# --------------------------------------------------------------------------- malformed values

#: One malformed value per kind that can reject one, and the error code it gets.
MALFORMED: dict[type[Kind], tuple[str, str]] = {
    Instant: ("2023-01-01T00:00:00", "DIS1015"),
    LocalTime: ("2023-01-01,2023-01-02", "DIS1015"),
    WholeNumber: ("ten", "DIS1013"),
    Number: ("-5", "DIS1013"),
    IntList: ("12,abc", "DIS1013"),
    GeoPoint: ("gcp!x", "DIS1017"),
    Choice: ("sideways", "DIS1016"),
    ChoiceList: ("ticketmaster,elsewhere", "DIS1016"),
    TriState: ("maybe", "DIS1016"),
    Flag: ("only", "DIS1016"),
}
#: Kinds whose every text is a valid value.
LENIENT = {Text, Code, TextList, IdList}


def malformed_cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for name, endpoint in sorted(ENDPOINTS.items()):
        for param in endpoint.params.values():
            kind = type(param.kind)
            if kind in LENIENT:
                continue
            text, code = MALFORMED[kind]
            cases.append((name, param.api, text, code))
    return sorted(set(cases))


def test_every_kind_is_either_checked_or_lenient() -> None:
    kinds = {type(p.kind) for e in ENDPOINTS.values() for p in e.params.values()}
    assert kinds <= set(MALFORMED) | LENIENT
    assert len(malformed_cases()) > 40


@pytest.mark.parametrize(("endpoint", "name", "text", "code"), malformed_cases())
def test_a_malformed_value_is_a_400(
    api: FakeDiscoveryAPI, endpoint: str, name: str, text: str, code: str
) -> None:
    response = api.handle("GET", PATHS[endpoint], {"apikey": KEY, name: text})
    assert response.status == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["status"]) == (code, "400 BAD_REQUEST")
    assert error["_links"][next(iter(error["_links"]))]["href"].endswith(code)
    if code in ("DIS1013", "DIS1016", "DIS1017"):
        assert f'"{name}"' in error["detail"]


@pytest.mark.parametrize(
    "value",
    [
        "2023-01-01T00:00:00,2023-01-02T00:00:00,2023-01-03T00:00:00",
        "2023-01-01T00:00:00Z,2023-01-02T00:00:00",
        "2023-1-01T00:00:00,",
        "2023-02-30T00:00:00,",
    ],
)
def test_a_malformed_local_range_is_a_400(api: FakeDiscoveryAPI, value: str) -> None:
    response = api.handle("GET", PATHS["events"], {"apikey": KEY, "localStartDateTime": value})
    assert response.status == 400
    assert response.json()["errors"][0]["code"] == "DIS1015"


def test_empty_values_count_as_not_sent(api: FakeDiscoveryAPI) -> None:
    everything = found_ids(api, [])
    assert found_ids(api, [("includeTBA", ""), ("startDateTime", ""), ("city", " ")]) == (
        everything
    )


def test_unknown_parameters_are_ignored_and_named(api: FakeDiscoveryAPI) -> None:
    plain = api.handle("GET", PATHS["events"], {"apikey": KEY, "city": "Phoenix"})
    odd = api.handle(
        "GET", PATHS["events"], {"apikey": KEY, "city": "Phoenix", "citty": "x", "foo": "1"}
    )
    assert "X-Unknown-Params" not in plain.headers
    assert odd.headers["X-Unknown-Params"] == "citty,foo"
    assert odd.json()["_embedded"] == plain.json()["_embedded"]


# --------------------------------------------------------------------------- event filters


def all_events(api: FakeDiscoveryAPI) -> list[Event]:
    events = [api.get_event(event_id) for event_id in api.event_ids()]
    return [event for event in events if event is not None]


def venues(event: Event) -> list[Event]:
    return list(event.get("_embedded", {}).get("venues", []))


def attractions(event: Event) -> list[Event]:
    return list(event.get("_embedded", {}).get("attractions", []))


def levels(event: Event, level: str, attribute: str) -> set[str]:
    return {c[level][attribute] for c in event.get("classifications", []) if level in c}


def any_level(event: Event, attribute: str) -> set[str]:
    names = ("segment", "genre", "subGenre", "type", "subType")
    return set().union(*(levels(event, level, attribute) for level in names))


def venue_values(event: Event, *keys: str) -> set[str]:
    found = set()
    for venue in venues(event):
        value: Any = venue
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            found.add(value.casefold())
    return found


def numbers(items: list[Any]) -> set[int]:
    return {int(item["id"]) for item in items if isinstance(item, dict) and "id" in item}


def promoters(event: Event) -> set[int]:
    return numbers([event.get("promoter"), *event.get("promoters", [])])


def source_of(event: Event) -> str:
    url = str(event.get("url", ""))
    for source, host in (
        ("universe", "universe.com"),
        ("frontgate", "frontgatetickets.com"),
        ("tmr", "ticketsnow.com"),
    ):
        if f"{host}/" in url or url.endswith(host):
            return source
    return "ticketmaster"


PHOENIX = "G5v0Z98m24-oh"  # Suns vs. Nets: a full recorded event to draw filter values from
Case = tuple[list[tuple[str, str]], Callable[[Event], bool]]


def event_cases(sample: Event) -> dict[str, Case]:
    """One case per event parameter that filters: the query, and which events it keeps."""
    [venue] = venues(sample)
    [classification] = sample["classifications"]
    segment_id = classification["segment"]["id"]
    genre_id = classification["genre"]["id"]
    market = int(venue["markets"][0]["id"])
    dma = int(venue["dmas"][0]["id"])
    promoter = int(sample["promoter"]["id"])
    return {
        "keyword": (
            [("keyword", "SUNS")],
            lambda e: any("suns" in n["name"].casefold() for n in [e, *attractions(e)]),
        ),
        "city": (
            [("city", "phoenix"), ("city", "Birmingham")],  # repeated: one list
            lambda e: bool(venue_values(e, "city", "name") & {"phoenix", "birmingham"}),
        ),
        "id": (
            [("id", f"{PHOENIX},1FuYv9b00bZ7GeGe,nope")],
            lambda e: e["id"] in {PHOENIX, "1FuYv9b00bZ7GeGe"},
        ),
        "venueId": ([("venueId", venue["id"])], lambda e: venue["id"] in ids_of(venues(e))),
        "attractionId": (
            [("attractionId", attractions(sample)[1]["id"])],
            lambda e: attractions(sample)[1]["id"] in ids_of(attractions(e)),
        ),
        "classificationName": (
            [("classificationName", "sports,-basketball")],
            lambda e: "Sports" in any_level(e, "name") and "Basketball" not in any_level(e, "name"),
        ),
        "classificationId": (
            [("classificationId", f"-{segment_id}")],
            lambda e: segment_id not in any_level(e, "id"),
        ),
        "segmentId": (
            [("segmentId", segment_id)],
            lambda e: segment_id in levels(e, "segment", "id"),
        ),
        "segmentName": (
            [("segmentName", "music")],
            lambda e: "music" in {n.casefold() for n in levels(e, "segment", "name")},
        ),
        "genreId": ([("genreId", genre_id)], lambda e: genre_id in levels(e, "genre", "id")),
        "subGenreId": (
            [("subGenreId", classification["subGenre"]["id"])],
            lambda e: classification["subGenre"]["id"] in levels(e, "subGenre", "id"),
        ),
        "typeId": (
            [("typeId", classification["type"]["id"])],
            lambda e: classification["type"]["id"] in levels(e, "type", "id"),
        ),
        "subTypeId": (
            [("subTypeId", classification["subType"]["id"])],
            lambda e: classification["subType"]["id"] in levels(e, "subType", "id"),
        ),
        "marketId": (
            [("marketId", f"{market},999999")],
            lambda e: market in numbers([m for v in venues(e) for m in v.get("markets", [])]),
        ),
        "dmaId": (
            [("dmaId", str(dma))],
            lambda e: dma in numbers([d for v in venues(e) for d in v.get("dmas", [])]),
        ),
        "promoterId": ([("promoterId", str(promoter))], lambda e: promoter in promoters(e)),
        "countryCode": (
            [("countryCode", "gb")],
            lambda e: "gb" in venue_values(e, "country", "countryCode"),
        ),
        "stateCode": (
            [("stateCode", "AZ")],
            lambda e: "az" in venue_values(e, "state", "stateCode"),
        ),
        "postalCode": (
            [("postalCode", "b1 2aa")],
            lambda e: "b1 2aa" in venue_values(e, "postalCode"),
        ),
        "source": ([("source", "universe,tmr")], lambda e: source_of(e) in {"universe", "tmr"}),
    }


def ids_of(items: list[Event]) -> set[str]:
    return {item["id"] for item in items}


FILTERING = sorted(event_cases(FakeDiscoveryAPI().get_event(PHOENIX) or {}))


@pytest.mark.parametrize("name", FILTERING)
def test_event_filter_keeps_exactly_the_matching_events(api: FakeDiscoveryAPI, name: str) -> None:
    events = all_events(api)
    params, keeps = event_cases(api.get_event(PHOENIX) or {})[name]
    expected = {event["id"] for event in events if keeps(event)}
    assert 0 < len(expected) < len(events), "the case must separate events"
    assert found_ids(api, params) == expected


def test_every_filtering_event_parameter_has_a_case() -> None:
    predicates = {name for name, entry in FILTERS["events"].items() if entry.build is not None}
    covered_elsewhere = {  # in tests/test_fake_geo.py and tests/test_fake_dates.py
        "geoPoint",
        "startDateTime",
        "endDateTime",
        "localStartDateTime",
        "onsaleStartDateTime",
        "onsaleEndDateTime",
        "includeTBA",
        "includeTBD",
        "includeTest",
        "includeFamily",
    }
    assert predicates == set(FILTERING) | covered_elsewhere


@pytest.mark.parametrize(
    ("name", "value"),
    [("domain", "ticketmaster.com"), ("includeSpellcheck", "yes"), ("locale", "*")],
)
def test_accepted_parameters_without_effect(api: FakeDiscoveryAPI, name: str, value: str) -> None:
    assert FILTERS["events"][name].no_effect
    assert found_ids(api, [(name, value)]) == found_ids(api, [])


# --------------------------------------------------------------------------- odd payloads


def test_odd_payloads_read_as_missing_never_as_errors() -> None:
    fake = FakeDiscoveryAPI(requests_per_second=None)
    base = fake.get_event(PHOENIX) or {}
    venue = dict(venues(base)[0], id="OddVenue1", timezone="Mars/Olympus_Mons")
    venue["dmas"] = [{"id": True}, {"id": "x1"}, {"id": 7}, "not a dma"]
    venue["markets"] = [{"id": " 12 "}, {"id": None}]
    fake.add_event(
        {
            **base,
            "id": "OddOne1",
            "distance": "far",  # a stored field the geo answer must not duplicate
            "dates": {"start": {"localDate": "0001-01-01"}, "timezone": "Asia/Tokyo"},
            "promoter": "not an object",
            "_embedded": {"venues": [venue]},
        }
    )
    fake.add_event(
        {
            "id": "OddTwo1",
            "dates": {"start": {"dateTime": "9999-12-31T23:59:59Z"}, "timezone": "Asia/Tokyo"},
        }
    )
    fake.add_event(
        {
            "id": "OddThree1",  # an unknown zone reads as UTC
            "dates": {"start": {"localDate": "2040-06-01"}, "timezone": "Not/AZone"},
        }
    )
    midnight = "2040-06-01T00:00:00Z"
    assert found_ids(fake, [("startDateTime", midnight), ("endDateTime", midnight)]) == {
        "OddThree1"
    }
    assert found_ids(fake, [("dmaId", "7")]) == {"OddOne1"}
    assert found_ids(fake, [("dmaId", "1")]) == set()
    assert found_ids(fake, [("marketId", "12")]) == {"OddOne1"}
    assert found_ids(fake, [("startDateTime", "9999-01-01T00:00:00Z")]) == {"OddTwo1"}
    # Year 1 in Tokyo has no UTC instant (before datetime's range): only its wall time counts.
    assert found_ids(fake, [("localStartDateTime", ",1000-01-01T00:00:00")]) == {"OddOne1"}
    assert "OddOne1" not in found_ids(fake, [("endDateTime", "2100-01-01T00:00:00Z")])
    near = answer(fake, "events", [("geoPoint", "9tbq"), ("radius", "300"), ("size", "200")])
    [odd] = [e for e in near["_embedded"]["events"] if e["id"] == "OddOne1"]
    assert isinstance(odd["distance"], float)
    assert (fake.get_event("OddOne1") or {})["distance"] == "far"
