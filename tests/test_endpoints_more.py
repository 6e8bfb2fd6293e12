"""The endpoints added in 0.2 through the client: event images, segments, genres, sub-genres,
suggest and the classification search, parsed from recorded responses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from ticketmaster_async import ConfigurationError, Genre, Segment, SubGenre, Suggestions

from .clients import BASE, make_client
from .conftest import load_fixture

DISCOVERY = f"{BASE}/discovery/v2"
CLASSIFICATION = load_fixture("classification_details_2016_sdkjs.json")
SEGMENT = CLASSIFICATION["segment"]
GENRE = SEGMENT["_embedded"]["genres"][2]
SUBGENRE = GENRE["_embedded"]["subgenres"][1]
NOT_FOUND = load_fixture("error_404_event_not_found_DIS1004.json")


def _params(request: httpx.Request) -> dict[str, str]:
    params = dict(request.url.params)
    params.pop("apikey")
    return params


async def test_event_images_are_every_image_of_the_recorded_answer() -> None:
    raw = load_fixture("event_images_2016_sdkjs.json")
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{DISCOVERY}/events/{raw['id']}/images.json").respond(json=raw)
        async with make_client() as tm:
            images = await tm.get_event_images(raw["id"], locale="en-us")
    assert images is not None
    assert [(i.url, i.ratio, i.width, i.height, i.fallback) for i in images] == [
        (i["url"], i.get("ratio"), i.get("width"), i.get("height"), i.get("fallback", False))
        for i in raw["images"]
    ]
    assert _params(route.calls.last.request) == {"locale": "en-us"}


async def test_event_images_of_an_unknown_event_are_none_and_bad_ids_send_nothing() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{DISCOVERY}/events/NoSuchEvent1/images.json").respond(404, json=NOT_FOUND)
        async with make_client() as tm:
            assert await tm.get_event_images("NoSuchEvent1") is None
            with pytest.raises(ConfigurationError):
                await tm.get_event_images("../x")
        assert router.calls.call_count == 1


async def test_a_malformed_image_drops_that_image_only() -> None:
    raw = load_fixture("event_images_2016_sdkjs.json")
    body = dict(raw, images=[{"url": 5, "width": "wide"}, *raw["images"][:2], "junk"])
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{DISCOVERY}/events/{raw['id']}/images.json").respond(json=body)
        async with make_client() as tm:
            images = await tm.get_event_images(raw["id"])
    assert images is not None
    assert [image.url for image in images][-2:] == [i["url"] for i in raw["images"][:2]]


@pytest.mark.parametrize(
    ("method", "path", "body", "model"),
    [
        ("get_segment", "classifications/segments", SEGMENT, Segment),
        ("get_genre", "classifications/genres", GENRE, Genre),
        ("get_subgenre", "classifications/subgenres", SUBGENRE, SubGenre),
    ],
)
async def test_classification_nodes(
    method: str, path: str, body: dict[str, Any], model: type[Any]
) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{DISCOVERY}/{path}/{body['id']}.json").respond(json=body)
        router.get(f"{DISCOVERY}/{path}/NoSuchNode1.json").respond(404, json=NOT_FOUND)
        async with make_client() as tm:
            node = await getattr(tm, method)(body["id"])
            assert await getattr(tm, method)("NoSuchNode1") is None
    assert isinstance(node, model)
    assert (node.id, node.name) == (body["id"], body["name"])
    if model is Segment:
        assert [g.id for g in node.genres] == [g["id"] for g in body["_embedded"]["genres"]]
        assert [[s.id for s in g.sub_genres] for g in node.genres] == [
            [s["id"] for s in g["_embedded"]["subgenres"]] for g in body["_embedded"]["genres"]
        ]
    if model is Genre:
        assert [s.name for s in node.sub_genres] == [
            s["name"] for s in body["_embedded"]["subgenres"]
        ]


async def test_classification_search_pages_and_trees() -> None:
    body = {
        "_embedded": {"classifications": [CLASSIFICATION]},
        "page": {"size": 20, "totalElements": 1, "totalPages": 1, "number": 0},
    }
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{DISCOVERY}/classifications.json").respond(json=body)
        async with make_client() as tm:
            page = await tm.search_classifications_page("theatre")
    [found] = page.items
    assert found.segment_tree is not None
    assert found.segment_tree.id == SEGMENT["id"]
    assert len(found.segment_tree.genres) == len(SEGMENT["_embedded"]["genres"])


def _suggest_body() -> dict[str, Any]:
    page = load_fixture("search_gb_page0_cancelled_rescheduled_fees_2020.json")
    events = page["_embedded"]["events"][:3]
    venues = [events[0]["_embedded"]["venues"][0]]
    attractions = [a for e in events for a in e["_embedded"].get("attractions", [])][:2]
    return {
        "_links": {"self": {"href": "/discovery/v2/suggest?keyword=ha"}},
        "_embedded": {"attractions": attractions, "venues": venues, "events": events},
    }


async def test_suggest_parses_each_kind_and_sends_its_filters() -> None:
    body = _suggest_body()
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{DISCOVERY}/suggest.json").respond(json=body)
        async with make_client() as tm:
            hints = await tm.suggest(
                "ha",
                near=(57.64911, 10.40744),
                radius=25,
                unit="km",
                country_code="GB",
                segment_id="KZFzniwnSyZfZ7v7nJ",
                size=3,
                locale="*",
                source="ticketmaster",
                include_tba=True,
                include_tbd=False,
                include_fuzzy=True,
                include_spellcheck=True,
            )
    assert isinstance(hints, Suggestions)
    embedded = body["_embedded"]
    assert [e.id for e in hints.events] == [e["id"] for e in embedded["events"]]
    assert [v.id for v in hints.venues] == [v["id"] for v in embedded["venues"]]
    assert [a.id for a in hints.attractions] == [a["id"] for a in embedded["attractions"]]
    assert _params(route.calls.last.request) == {
        "keyword": "ha",
        "geoPoint": "u4pruydqq",
        "radius": "25",
        "unit": "km",
        "countryCode": "GB",
        "segmentId": "KZFzniwnSyZfZ7v7nJ",
        "size": "3",
        "locale": "*",
        "source": "ticketmaster",
        "includeTBA": "yes",
        "includeTBD": "no",
        "includeFuzzy": "yes",
        "includeSpellcheck": "yes",
    }


async def test_suggest_kinds_the_api_leaves_out_are_empty() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{DISCOVERY}/suggest.json").respond(json={"_links": {}})
        async with make_client() as tm:
            hints = await tm.suggest("zzz")
    assert (hints.events, hints.venues, hints.attractions) == ([], [], [])
    assert _params(route.calls.last.request) == {"keyword": "zzz"}


@pytest.mark.parametrize(
    "filters",
    [
        {"radius": 5},
        {"near": (0, 181)},
        {"size": 0},
        {"include_fuzzy": "only"},
        {"extra_params": {"keyword": "x"}},
        {"page": 2},
    ],
)
async def test_bad_suggest_filters_send_nothing(filters: dict[str, Any]) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            with pytest.raises((ConfigurationError, TypeError)):
                await tm.suggest("ha", **filters)
            with pytest.raises(ConfigurationError):
                await tm.suggest("")
        assert router.calls.call_count == 0


async def test_a_suggest_body_that_is_not_an_object_is_a_validation_error() -> None:
    from ticketmaster_async import ResponseValidationError

    with respx.mock(assert_all_called=True) as router:
        router.get(f"{DISCOVERY}/suggest.json").respond(content=json.dumps([1, 2]).encode())
        async with make_client() as tm:
            with pytest.raises(ResponseValidationError):
                await tm.suggest("ha")
