"""Venue, attraction and classification searches and ``suggest`` in the fake API: every
parameter, with expectations computed here from the raw objects."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async._geohash import decode as geohash_decode
from ticketmaster_async._geohash import encode as geohash_encode
from ticketmaster_async.testing import FakeDiscoveryAPI
from ticketmaster_async.testing._filters import FILTERS

KEY = "entities-key-88"
Item = dict[str, Any]
PATHS = {
    "venues": "/discovery/v2/venues.json",
    "attractions": "/discovery/v2/attractions",
    "classifications": "/discovery/v2/classifications.json",
}
SUGGEST = "/discovery/v2/suggest"
LEVELS = ("segment", "genre", "subGenre", "type", "subType")


@pytest.fixture(scope="module")
def api() -> FakeDiscoveryAPI:
    fake = FakeDiscoveryAPI(requests_per_second=None)
    template = fake.get_event("G5v0Z98m24-oh") or {}
    test_event = copy.deepcopy(template)
    test_event["id"] = "TestOnly1"
    venue = test_event["_embedded"]["venues"][0]
    venue.update(id="TestVenue1", name="Test Hall", test=True)
    attraction = test_event["_embedded"]["attractions"][0]
    attraction.update(id="TestAttraction1", name="Test Act", test=True)
    family = test_event["_embedded"]["attractions"][1]
    family.update(id="FamilyAct1", name="Family Act")
    family["classifications"] = [dict(family["classifications"][0], family=True)]
    fake.add_event(test_event)
    elsewhere = copy.deepcopy(template)
    elsewhere.update(id="UniverseOnly1", url="https://www.universe.com/events/only-1")
    venue = elsewhere["_embedded"]["venues"][0]
    venue.update(id="UniverseVenue1", url="https://www.universe.com/venues/hall-1")
    attraction = elsewhere["_embedded"]["attractions"][0]
    attraction.update(id="UniverseAct1", url="https://www.universe.com/users/act-1")
    elsewhere["_embedded"]["attractions"] = [attraction]
    fake.add_event(elsewhere)
    return fake


def search(api: FakeDiscoveryAPI, kind: str, params: list[tuple[str, str]]) -> list[Item]:
    response = api.handle("GET", PATHS[kind], [("apikey", KEY), ("size", "200"), *params])
    assert response.status == 200, response.body
    body = response.json()
    found: list[Item] = body.get("_embedded", {}).get(kind, [])
    assert body["page"]["totalElements"] == len(found)
    return found


def identity(item: Item) -> str:
    return str(item["id"]) if "id" in item else str(item["segment"]["id"])


def universe(api: FakeDiscoveryAPI, kind: str) -> list[Item]:
    """Everything a search of *kind* can return (test entities included)."""
    return search(api, kind, [("includeTest", "yes")])


def source_of(item: Item) -> str:
    host = urlsplit(str(item.get("url", ""))).hostname or ""
    for source, domain in (
        ("universe", "universe.com"),
        ("frontgate", "frontgatetickets.com"),
        ("tmr", "ticketsnow.com"),
    ):
        if host == domain or host.endswith("." + domain):
            return source
    return "ticketmaster"


def class_values(item: Item, attribute: str, levels: tuple[str, ...] = LEVELS) -> set[str]:
    return {
        str(c[level][attribute])
        for c in item.get("classifications", [])
        for level in levels
        if isinstance(c.get(level), dict) and attribute in c[level]
    }


def nodes(classification: Item) -> list[Item]:
    segment = classification["segment"]
    found = [segment]
    for genre in segment.get("_embedded", {}).get("genres", []):
        found += [genre, *genre.get("_embedded", {}).get("subgenres", [])]
    return found


Case = tuple[list[tuple[str, str]], Callable[[Item], bool]]


def venue_cases() -> dict[str, Case]:
    return {
        "keyword": ([("keyword", "ARENA")], lambda v: "arena" in v["name"].casefold()),
        "id": (
            [("id", "KovZ9177W00,KovZpZA7AAEA")],
            lambda v: v["id"] in {"KovZ9177W00", "KovZpZA7AAEA"},
        ),
        "countryCode": (
            [("countryCode", "gb")],
            lambda v: v.get("country", {}).get("countryCode") == "GB",
        ),
        "stateCode": ([("stateCode", "tx")], lambda v: v.get("state", {}).get("stateCode") == "TX"),
        "source": ([("source", "ticketmaster")], lambda v: source_of(v) == "ticketmaster"),
        "includeTest": ([("includeTest", "only")], lambda v: v.get("test") is True),
    }


def attraction_cases(sample: Item) -> dict[str, Case]:
    [entry] = sample["classifications"]

    def level(name: str) -> Case:
        node_id = entry[name]["id"]
        return (
            [(f"{name}Id", node_id)],
            lambda a: node_id in class_values(a, "id", (name,)),
        )

    return {
        "keyword": ([("keyword", "phoenix")], lambda a: "phoenix" in a["name"].casefold()),
        "id": ([("id", sample["id"])], lambda a: a["id"] == sample["id"]),
        "classificationName": (
            [("classificationName", "Music"), ("classificationName", "-Rock")],
            lambda a: "Music" in class_values(a, "name") and "Rock" not in class_values(a, "name"),
        ),
        "classificationId": (
            [("classificationId", entry["genre"]["id"])],
            lambda a: entry["genre"]["id"] in class_values(a, "id"),
        ),
        "segmentId": level("segment"),
        "genreId": level("genre"),
        "subGenreId": level("subGenre"),
        "typeId": level("type"),
        "subTypeId": level("subType"),
        "source": ([("source", "universe")], lambda a: source_of(a) == "universe"),
        "includeTest": ([("includeTest", "only")], lambda a: a.get("test") is True),
        "includeFamily": (
            [("includeFamily", "no"), ("includeTest", "yes")],
            lambda a: not any(c.get("family") for c in a.get("classifications", [])),
        ),
    }


def classification_cases() -> dict[str, Case]:
    return {
        "includeTest": ([("includeTest", "only")], lambda c: c.get("test") is True),
        "keyword": (
            [("keyword", "basketball")],
            lambda c: any("basketball" in n["name"].casefold() for n in nodes(c)),
        ),
        "id": (
            [("id", "KnvZfZ7vAeA,KZFzniwnSyZfZ7v7na")],  # a genre of Music; Arts & Theatre
            lambda c: bool({"KnvZfZ7vAeA", "KZFzniwnSyZfZ7v7na"} & {n["id"] for n in nodes(c)}),
        ),
    }


def cases() -> list[tuple[str, str]]:
    sample = {"classifications": [{level: {"id": "x", "name": "x"} for level in LEVELS}], "id": "x"}
    return sorted(
        [("venues", name) for name in venue_cases()]
        + [("attractions", name) for name in attraction_cases(sample)]
        + [("classifications", name) for name in classification_cases()]
    )


def case_of(api: FakeDiscoveryAPI, kind: str, name: str) -> Case:
    if kind == "venues":
        return venue_cases()[name]
    if kind == "attractions":
        sample = next(a for a in universe(api, kind) if a["name"] == "Phoenix Suns")
        return attraction_cases(sample)[name]
    return classification_cases()[name]


@pytest.mark.parametrize(("kind", "name"), cases())
def test_filter_keeps_exactly_the_matching_items(
    api: FakeDiscoveryAPI, kind: str, name: str
) -> None:
    params, keeps = case_of(api, kind, name)
    everything = universe(api, kind)
    default_test = [("includeTest", "yes")] if name not in ("includeTest", "includeFamily") else []
    expected = {identity(item) for item in everything if keeps(item)}
    assert len(expected) < len(everything), "the case must separate items"
    assert expected or (kind, name) == ("classifications", "includeTest")  # none is a test
    assert {identity(item) for item in search(api, kind, [*params, *default_test])} == expected


def test_every_filtering_parameter_has_a_case() -> None:
    by_kind: dict[str, set[str]] = {}
    for kind, name in cases():
        by_kind.setdefault(kind, set()).add(name)
    by_kind["venues"].add("geoPoint")  # in tests/test_fake_geo.py
    for kind, names in by_kind.items():
        assert {n for n, f in FILTERS[kind].items() if f.build is not None} == names


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_test_entities_are_hidden_by_default(api: FakeDiscoveryAPI, kind: str) -> None:
    everything = universe(api, kind)
    expected = {identity(i) for i in everything if i.get("test") is not True}
    assert {identity(i) for i in search(api, kind, [])} == expected


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("venues", [("includeSpellcheck", "yes"), ("locale", "*")]),
        ("attractions", [("preferredCountry", "ca"), ("includeSpellcheck", "no")]),
        ("classifications", [("preferredCountry", "us"), ("source", "universe"), ("locale", "fr")]),
    ],
)
def test_accepted_without_effect(
    api: FakeDiscoveryAPI, kind: str, params: list[tuple[str, str]]
) -> None:
    assert all(FILTERS[kind][name].no_effect for name, _ in params)
    assert search(api, kind, params) == search(api, kind, [])


async def test_through_the_client(api: FakeDiscoveryAPI) -> None:
    settings = Settings(api_key="test-key-long-enough", db_path=":memory:")
    everything = universe(api, "venues")
    expected = [v["id"] for v in everything if v.get("state", {}).get("stateCode") == "TX"]
    async with TicketmasterClient(settings, transport=api.transport()) as tm:
        venues = await tm.search_venues(state_code="TX", size=200)
    assert [venue.id for venue in venues] == expected


# --------------------------------------------------------------------------- suggest


def suggest(api: FakeDiscoveryAPI, **params: str) -> Item:
    response = api.handle("GET", SUGGEST, {"apikey": KEY, **params})
    assert response.status == 200, response.body
    body: Item = response.json()
    return body


def all_of(api: FakeDiscoveryAPI, kind: str) -> list[Item]:
    if kind == "events":
        return [api.get_event(event_id) or {} for event_id in api.event_ids()]
    return search(api, kind, [])  # relevance order, no test entities


def names(item: Item, kind: str) -> list[str]:
    own = [str(item.get("name", "")).casefold()]
    if kind == "events":
        own += [a["name"].casefold() for a in item.get("_embedded", {}).get("attractions", [])]
    return own


def expected_suggestions(
    api: FakeDiscoveryAPI, keyword: str, size: int, keep: Callable[[Item, str], bool]
) -> dict[str, list[str]]:
    found = {}
    for kind in ("attractions", "venues", "events"):
        items = [i for i in all_of(api, kind) if i.get("test") is not True and keep(i, kind)]
        by_name = [i for i in items if keyword in names(i, kind)[0]]
        by_related = [
            i for i in items if i not in by_name and any(keyword in n for n in names(i, kind))
        ]
        chosen = [identity(i) for i in by_name + by_related][:size]
        if chosen:
            found[kind] = chosen
    return found


def suggested(body: Item) -> dict[str, list[str]]:
    return {kind: [identity(i) for i in items] for kind, items in body.get("_embedded", {}).items()}


@pytest.mark.parametrize(
    ("keyword", "size"), [("suns", None), ("Suns", "2"), ("garden", "10"), ("o", "3")]
)
def test_suggest_by_keyword(api: FakeDiscoveryAPI, keyword: str, size: str | None) -> None:
    params = {"keyword": keyword, **({"size": size} if size else {})}
    body = suggest(api, **params)
    expected = expected_suggestions(api, keyword.casefold(), int(size or 5), lambda i, k: True)
    assert suggested(body) == expected
    assert expected
    assert "products" not in body["_embedded"]
    assert dict(parse_qsl(urlsplit(body["_links"]["self"]["href"]).query)) == params


def test_suggest_leaves_out_empty_kinds(api: FakeDiscoveryAPI) -> None:
    body = suggest(api, keyword="phoenix suns")
    assert set(body["_embedded"]) == {"attractions", "events"}
    assert suggest(api, keyword="zzzz-nothing") == {
        "_links": {"self": {"href": "/discovery/v2/suggest?keyword=zzzz-nothing"}}
    }


def test_suggest_near_a_point(api: FakeDiscoveryAPI) -> None:
    geohash = geohash_encode(33.4484, -112.0740)  # Phoenix
    latitude, longitude, _, _ = geohash_decode(geohash)
    body = suggest(api, keyword="e", geoPoint=geohash, size="200")
    assert {i["units"] for k in ("venues", "events") for i in body["_embedded"][k]} == {"MILES"}
    assert max(i["distance"] for k in ("venues", "events") for i in body["_embedded"][k]) <= 100
    assert (
        max(
            i["distance"]
            for i in suggest(api, keyword="e", geoPoint=geohash, size="200", radius="300")[
                "_embedded"
            ]["events"]
        )
        > 100
    )
    assert "distance" not in body["_embedded"]["attractions"][0]
    everywhere = suggest(api, keyword="e", size="200")
    assert len(body["_embedded"]["attractions"]) == len(everywhere["_embedded"]["attractions"])
    assert (latitude, longitude) != (0, 0)


@pytest.mark.parametrize(
    ("params", "applies_to", "keep"),
    [
        ({"countryCode": "GB"}, {"events", "venues"}, lambda i: "GB" in countries(i)),
        (
            {"segmentId": "KZFzniwnSyZfZ7v7nE"},
            {"events", "attractions"},
            lambda i: "KZFzniwnSyZfZ7v7nE" in class_values(i, "id", ("segment",)),
        ),
        (
            {"source": "universe"},
            {"events", "venues", "attractions"},
            lambda i: source_of(i) == "universe",
        ),
    ],
)
def test_suggest_filters(
    api: FakeDiscoveryAPI,
    params: dict[str, str],
    applies_to: set[str],
    keep: Callable[[Item], bool],
) -> None:
    body = suggest(api, keyword="e", size="200", **params)
    expected = expected_suggestions(
        api, "e", 200, lambda item, kind: kind not in applies_to or keep(item)
    )
    assert suggested(body) == expected
    assert suggested(body) != suggested(suggest(api, keyword="e", size="200"))


def countries(item: Item) -> set[str]:
    venues = item.get("_embedded", {}).get("venues", []) if "_embedded" in item else [item]
    return {v.get("country", {}).get("countryCode") for v in venues if isinstance(v, dict)}


def test_suggest_tba_and_fuzzy(api: FakeDiscoveryAPI) -> None:
    fake = FakeDiscoveryAPI(requests_per_second=None)
    event = copy.deepcopy(fake.get_event("G5v0Z98m24-oh") or {})
    event.update(id="Announced1", name="Zanzibar Announced Later")
    event["dates"]["start"] = {"dateTBA": True}
    fake.add_event(event)
    assert "Announced1" in suggested(suggest(fake, keyword="zanzibar"))["events"]
    assert "events" not in suggested(suggest(fake, keyword="zanzibar", includeTBA="no"))
    only = suggested(suggest(fake, keyword="a", includeTBA="only", size="50"))
    assert only["events"] == ["Announced1"]
    assert only.get("venues")  # venues have no date: they pass
    assert "events" not in suggested(suggest(fake, keyword="zanzibr"))
    assert suggested(suggest(fake, keyword="zanzibr", includeFuzzy="yes"))["events"] == [
        "Announced1"
    ]
    assert "events" not in suggested(suggest(fake, keyword="znzbr", includeFuzzy="yes"))
    longer = suggested(suggest(fake, keyword="zanzibaar later", includeFuzzy="yes"))
    assert longer["events"] == ["Announced1"]
