"""The fake Discovery API (ticketmaster_async.testing), in-process through its httpx transport."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

import ticketmaster_async.testing as testing
from ticketmaster_async.testing import (
    SANDBOX_ATTRACTION_ID,
    SANDBOX_EVENT_ID,
    SANDBOX_VENUE_ID,
    FakeDiscoveryAPI,
    FakeTransport,
)
from ticketmaster_async.testing._data import (
    DATASET_FILE,
    EVENT_FIXTURES,
    build_dataset,
    derive_classifications,
    iter_classification_nodes,
    load_dataset,
    pack,
    strip_images,
    unpack,
)

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(testing.__file__).parent / "data"
KEY = "test-key-9d2f"
EVENTS = "/discovery/v2/events.json"
GB_PAGE = "search_gb_page0_cancelled_rescheduled_fees_2020.json"
US_2023_PAGE = "search_us_page1_nba_suns_timetba_2023.json"
EPOCH = 1_700_000_000.0
SERVICE_UNAVAILABLE = {
    "fault": {
        "faultstring": "Service Unavailable",
        "detail": {"errorcode": "messaging.adaptors.http.flow.ServiceUnavailable"},
    }
}
INVALID_KEY = {
    "fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}
}
RATE_HEADERS = ("rate-limit", "rate-limit-available", "rate-limit-over", "rate-limit-reset")


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_events(name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = load_fixture(name)["_embedded"]["events"]
    return events


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = EPOCH) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


@pytest.fixture
async def client(api: FakeDiscoveryAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=api.transport(), base_url="https://x.test") as http:
        yield http


async def get(
    client: httpx.AsyncClient, path: str = EVENTS, *, key: str | None = KEY, **params: Any
) -> httpx.Response:
    query = {name: str(value) for name, value in params.items()}
    if key is not None:
        query["apikey"] = key
    return await client.get(path, params=query)


def ids(response: httpx.Response) -> list[str]:
    body = response.json()
    return [event["id"] for event in body.get("_embedded", {}).get("events", [])]


def hrefs(body: dict[str, Any]) -> dict[str, str]:
    return {name: link["href"] for name, link in body["_links"].items()}


def query_of(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query))


# --------------------------------------------------------------------------- the data


def test_shipped_dataset_is_rebuilt_identically_from_the_fixtures() -> None:
    shipped = json.loads((DATA / DATASET_FILE).read_text(encoding="utf-8"))
    assert unpack(shipped) == build_dataset(FIXTURES)


def test_pack_roundtrips() -> None:
    built = build_dataset(FIXTURES)
    packed = pack(built)
    assert len(packed["shared"]) < len(built["venues"]) + len(built["attractions"]) + 100
    assert unpack(json.loads(json.dumps(packed))) == built


def test_events_are_verbatim_except_images_cut_to_one() -> None:
    api = FakeDiscoveryAPI()
    recorded = fixture_events(GB_PAGE)[3]
    assert recorded["id"] == "1FuYv9b00bZ7GeGe"
    assert len(recorded["images"]) == 10
    served = api.get_event("1FuYv9b00bZ7GeGe")
    assert served is not None
    assert served["images"] == recorded["images"][:1]
    assert {k: v for k, v in served.items() if k not in ("images", "_embedded")} == {
        k: v for k, v in recorded.items() if k not in ("images", "_embedded")
    }
    assert (
        served["_embedded"]["venues"][0]["images"]
        == (recorded["_embedded"]["venues"][0]["images"][:1])
    )


def test_strip_images_recurses_and_keeps_other_lists() -> None:
    raw = {"images": [1, 2], "a": [{"images": [3, 4, 5], "b": [6, 7]}], "images_x": [8, 9]}
    assert strip_images(raw) == {
        "images": [1],
        "a": [{"images": [3], "b": [6, 7]}],
        "images_x": [8, 9],
    }


def test_every_real_event_comes_from_a_fixture_and_synthetic_ones_are_marked() -> None:
    recorded: set[str] = set()
    for name in EVENT_FIXTURES:
        document = load_fixture(name)
        found = document.get("_embedded", {}).get("events")
        if found:
            recorded.update(event["id"] for event in found)
        else:
            recorded.add(document["id"])
    dataset = load_dataset()
    synthetic = [event for event in dataset.events if event["id"] not in recorded]
    assert [event["id"] for event in synthetic] == [f"SYNTHeLdn000{i}" for i in range(1, 5)]
    for event in synthetic:
        assert "SYNTHETIC" in event["info"]
        assert urlsplit(event["url"]).hostname == "sandbox.ticketmaster.invalid"
        for venue in event["_embedded"]["venues"]:
            assert venue["id"].startswith("SYNTH")
    assert len(dataset.events) - len(synthetic) == len(recorded) == 108
    assert all(len(event.get("images", [])) <= 1 for event in dataset.events)


def test_derived_classifications_follow_the_recorded_shape() -> None:
    events = fixture_events(US_2023_PAGE)
    [sports, *_] = derive_classifications(events)
    assert sports["segment"]["name"] == "Sports"
    genres = {genre["name"]: genre for genre in sports["segment"]["_embedded"]["genres"]}
    assert set(genres) == {"Basketball", "Miscellaneous"}
    assert [s["name"] for s in genres["Basketball"]["_embedded"]["subgenres"]] == ["NBA"]
    assert derive_classifications([{"classifications": [{"segment": {"id": "x"}}]}]) == []
    partial = derive_classifications([{"classifications": [{"segment": {"id": "s", "name": "S"}}]}])
    assert partial[0]["segment"] == {
        "id": "s",
        "name": "S",
        "_links": {"self": {"href": "/discovery/v2/classifications/segments/s?locale=en-us"}},
    }


@pytest.mark.parametrize(
    ("event_id", "check"),
    [
        ("1FuYv9b00bZ7GeGe", lambda e: e["dates"]["status"]["code"] == "cancelled"),
        (
            "1AMZA-pGkdxdIu7",
            lambda e: (
                {p["type"] for p in e["priceRanges"]} == {"standard", "standard including fees"}
            ),
        ),
        (
            "Z7r9jZ1Ad4Sf8",
            lambda e: e["dates"]["start"]["timeTBA"] and "dateTime" not in e["dates"]["start"],
        ),
        ("vvG1YZ4JMnE9B1", lambda e: e["dates"]["start"]["noSpecificTime"] is True),
        ("1AdjZ4UGkBwb746", lambda e: e["dates"]["status"]["code"] == "rescheduled"),
        ("G5viZ4m1lu4br", lambda e: e["dates"]["status"]["code"] == "offsale"),
        ("Z7r9jZ1Ad4s-N", lambda e: "priceRanges" not in e),
        ("17AZv8G6CnMcD1x", lambda e: e["priceRanges"][0]["currency"] == "MXN"),
        ("LvZ184j83k1A5TPn6ZZgc", lambda e: "_embedded" not in e),
        ("G5v0Z98m24-oh", lambda e: e["_embedded"]["venues"][0]["city"]["name"] == "Phoenix"),
        (
            SANDBOX_EVENT_ID,
            lambda e: (
                e["priceRanges"] == [{"type": "standard", "currency": "USD", "min": 80, "max": 80}]
            ),
        ),
        ("SYNTHeLdn0004", lambda e: e["dates"]["status"]["code"] == "canceled"),
    ],
)
def test_well_known_ids(event_id: str, check: Any) -> None:
    event = FakeDiscoveryAPI().get_event(event_id)
    assert event is not None
    assert check(event)


def test_sandbox_ids_belong_together() -> None:
    event = FakeDiscoveryAPI().get_event(SANDBOX_EVENT_ID)
    assert event is not None
    assert event["_embedded"]["venues"][0]["id"] == SANDBOX_VENUE_ID
    assert event["_embedded"]["attractions"][0]["id"] == SANDBOX_ATTRACTION_ID
    assert event == load_fixture("docs_example_event_details.json") | {
        "images": event["images"],
        "_embedded": event["_embedded"],
    }


def test_public_surface() -> None:
    assert set(testing.__all__) == {
        "CONTENT_TYPE",
        "SANDBOX_ATTRACTION_ID",
        "SANDBOX_EVENT_ID",
        "SANDBOX_VENUE_ID",
        "FakeDiscoveryAPI",
        "FakeResponse",
        "FakeServer",
        "FakeTransport",
        "RecordedRequest",
        "SourceMode",
        "serve",
    }
    for name in testing.__all__:
        assert getattr(testing, name) is not None


# --------------------------------------------------------------------------- search


async def test_search_pages_through_birmingham_with_links(client: httpx.AsyncClient) -> None:
    recorded = [event["id"] for event in fixture_events(GB_PAGE)]
    first = await get(client, city="Birmingham", size=5)
    body = first.json()
    assert first.status_code == 200
    assert body["page"] == {"size": 5, "totalElements": 20, "totalPages": 4, "number": 0}
    assert ids(first) == recorded[:5]
    links = hrefs(body)
    assert set(links) == {"first", "self", "next", "last"}
    assert links["self"] == "/discovery/v2/events.json?city=Birmingham&size=5"
    assert links["next"] == "/discovery/v2/events.json?city=Birmingham&page=1&size=5"
    assert links["last"] == "/discovery/v2/events.json?city=Birmingham&page=3&size=5"

    collected = list(ids(first))
    href: str | None = links["next"]
    for number in range(1, 10):
        if href is None:
            break
        # httpx replaces (does not merge) a URL's query when params= is given: append the key.
        response = await client.get(f"{href}&apikey={KEY}")
        page = response.json()
        assert page["page"]["number"] == number
        links = hrefs(page)
        assert (
            links["prev"] == f"/discovery/v2/events.json?city=Birmingham&page={number - 1}&size=5"
        )
        collected += ids(response)
        href = links.get("next")
    assert collected == recorded
    assert number == 4  # the last page (3) had no "next"
    assert "next" not in links


async def test_links_never_carry_the_key_and_echo_the_path(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/discovery/v2/events", params={"apikey": KEY, "countryCode": "US", "page": "2"}
    )
    body = response.json()
    for href in hrefs(body).values():
        assert KEY not in href
        assert "apikey" not in href
        assert href.startswith("/discovery/v2/events?")
    assert hrefs(body)["self"] == "/discovery/v2/events?countryCode=US&page=2"
    assert body["page"] == {"size": 20, "totalElements": 77, "totalPages": 4, "number": 2}


async def test_no_results_omits_embedded(client: httpx.AsyncClient) -> None:
    response = await get(client, keyword="no-such-thing-anywhere")
    assert response.status_code == 200
    assert response.json() == {
        "_links": {"self": {"href": "/discovery/v2/events.json?keyword=no-such-thing-anywhere"}},
        "page": {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0},
    }


async def test_page_past_the_results_is_empty(client: httpx.AsyncClient) -> None:
    body = (await get(client, city="Phoenix", page=3, size=5)).json()
    assert "_embedded" not in body
    assert body["page"] == {"size": 5, "totalElements": 10, "totalPages": 2, "number": 3}
    assert query_of(hrefs(body)["prev"])["page"] == "1"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"keyword": "rock"}, {"G5viZfYKcGjA-", "SYNTHeLdn0001", "SYNTHeLdn0002"}),
        ({"keyword": "rock", "city": "London"}, {"SYNTHeLdn0001", "SYNTHeLdn0002"}),
        ({"city": "london"}, {f"SYNTHeLdn000{i}" for i in range(1, 5)}),
        ({"attractionId": SANDBOX_ATTRACTION_ID}, {SANDBOX_EVENT_ID}),
        ({"venueId": SANDBOX_VENUE_ID, "keyword": "radiohead"}, {SANDBOX_EVENT_ID}),
        ({"id": "1FuYv9b00bZ7GeGe,Z7r9jZ1Ad4Sf8"}, {"1FuYv9b00bZ7GeGe", "Z7r9jZ1Ad4Sf8"}),
        ({"postalCode": "b1 2aa", "keyword": "elton"}, {"1AMZA4EGkdMutW4"}),
        ({"postalCode": "B40 1NT", "keyword": "elton"}, {"1AMZA4EGkdzh_Tt"}),
        (
            {"startDateTime": "2023-01-01T00:00:00Z", "endDateTime": "2023-02-01T00:00:00Z"},
            {
                "G5dIZ98UoPoSL",
                "G5v0Z98m24-oh",
                "G5v0Z98m29-oR",
                "G5v0Z98m2pooN",
                "G5v0Z98m2psoc",
                "G5viZ983uBk29",
            },
        ),
        (
            {"source": "universe"},
            {
                "LvZ184j83k1A5TPn6ZZgc",
                "LvZ184lOjQqL7mktyZZNT",
                "LvZ184lre2VwEWvq7ZZ6O",
                "LvZ184lOjQqL7mktyZZ0Z",
                "LvZ184lO6H7wEWvq7ZZ_1",
            },
        ),
        ({"source": "frontgate"}, {"Z1lMVSyiJynZ177_Cp"}),
        (
            {"classificationName": "Comedy", "countryCode": "GB"},
            {"1AMZArdGkdbJy6b", "SYNTHeLdn0003"},
        ),
        ({"segmentName": "Sports", "city": "London"}, {"SYNTHeLdn0004"}),
        ({"genreId": "KnvZfZ7vA7E", "city": "London"}, {"SYNTHeLdn0004"}),
        (
            {"subGenreId": "KZazBEonSMnZfZ7v6dt", "city": "London"},
            {"SYNTHeLdn0001", "SYNTHeLdn0002"},
        ),
        ({"classificationId": "KZFzniwnSyZfZ7v7na", "city": "London"}, {"SYNTHeLdn0003"}),
        ({"city": "London", "classificationName": "-Music,-Sports"}, {"SYNTHeLdn0003"}),
    ],
)
async def test_search_filters(
    client: httpx.AsyncClient, params: dict[str, str], expected: set[str]
) -> None:
    response = await get(client, size=200, **params)
    assert response.status_code == 200
    assert set(ids(response)) == expected
    assert response.json()["page"]["totalElements"] == len(expected)


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"city": "Phoenix"}, 10),
        ({"city": "Phoenix,Birmingham"}, 30),
        ({"stateCode": "AZ"}, 10),
        ({"keyword": "SUNS"}, 19),
        ({"classificationName": "basketball"}, 21),
        ({"classificationName": "Sports"}, 43),
        ({"countryCode": "GB"}, 24),
        ({"source": "ticketmaster"}, 112 - 5 - 1 - 2),
        ({"source": "tmr"}, 2),
    ],
)
async def test_search_counts(client: httpx.AsyncClient, params: dict[str, str], count: int) -> None:
    body = (await get(client, size=200, **params)).json()
    assert body["page"]["totalElements"] == count
    assert len(body.get("_embedded", {}).get("events", [])) == count


async def test_repeated_params_are_an_array(client: httpx.AsyncClient) -> None:
    response = await client.get(
        EVENTS, params=[("apikey", KEY), ("city", "Phoenix"), ("city", "London"), ("size", "50")]
    )
    assert response.json()["page"]["totalElements"] == 14


async def test_every_filtered_event_really_matches(client: httpx.AsyncClient) -> None:
    response = await get(client, city="Phoenix", size=200)
    for event in response.json()["_embedded"]["events"]:
        assert event["_embedded"]["venues"][0]["city"]["name"] == "Phoenix"
    response = await get(client, keyword="suns", size=200)
    for event in response.json()["_embedded"]["events"]:
        names = [event["name"], *(a["name"] for a in event["_embedded"]["attractions"])]
        assert any("suns" in name.lower() for name in names)


def start_of(event: dict[str, Any]) -> str:
    start = event["dates"]["start"]
    return str(start.get("dateTime") or start["localDate"] + "T00:00:00Z")


@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [
        ("date,asc", start_of, False),
        ("date,desc", start_of, True),
        ("name,asc", lambda e: e["name"].casefold(), False),
        ("name,desc", lambda e: e["name"].casefold(), True),
        ("id,asc", lambda e: e["id"], False),
        ("venueName,asc", lambda e: e["_embedded"]["venues"][0]["name"].casefold(), False),
        (
            "onSaleStartDate,asc",  # events without a public sale start come last
            lambda e: (
                "startDateTime" not in e["sales"]["public"],
                e["sales"]["public"].get("startDateTime", ""),
            ),
            False,
        ),
        ("name,date,asc", lambda e: (e["name"].casefold(), start_of(e)), False),
    ],
)
async def test_sorting(client: httpx.AsyncClient, sort: str, key: Any, descending: bool) -> None:
    events = (await get(client, countryCode="US", sort=sort, size=200)).json()["_embedded"][
        "events"
    ]
    assert len(events) == 77
    values = [key(event) for event in events]
    assert values == sorted(values, reverse=descending)
    assert values != sorted(values, reverse=not descending)


async def test_relevance_and_distance_without_a_point_keep_dataset_order(
    client: httpx.AsyncClient,
) -> None:
    recorded = [event["id"] for event in fixture_events(GB_PAGE)]
    for sort in ("relevance,desc", "distance,asc"):
        assert ids(await get(client, city="Birmingham", sort=sort)) == recorded
    reverse = ids(await get(client, city="Birmingham", sort="relevance,asc"))
    assert reverse == recorded[::-1]
    shuffled = ids(await get(client, city="Birmingham", sort="random"))
    assert sorted(shuffled) == sorted(recorded)
    assert shuffled != recorded
    assert ids(await get(client, city="Birmingham", sort="random")) == shuffled
    bogus = await get(client, city="Birmingham", sort="bogus")
    assert bogus.status_code == 400


async def test_keyword_ranks_name_matches_before_attraction_matches(
    client: httpx.AsyncClient,
) -> None:
    found = ids(await get(client, keyword="Foreigner"))
    assert found == ["1FuYv9b00bZ7GeGe"]
    found = ids(await get(client, keyword="orchestra"))
    assert found == ["SYNTHeLdn0001"]
    found = ids(await get(client, keyword="placeholder rockers"))
    assert found == ["SYNTHeLdn0002", "SYNTHeLdn0001"]  # name match, then attraction match


async def test_dates_exclude_events_without_a_date(client: httpx.AsyncClient) -> None:
    found = ids(await get(client, startDateTime="2031-01-01T00:00:00Z", size=50))
    assert found == ["SYNTHeLdn0001", "SYNTHeLdn0002", "SYNTHeLdn0003", "SYNTHeLdn0004"]
    tba = ids(
        await get(client, endDateTime="2016-03-06T23:59:59Z", startDateTime="2016-03-06T00:00:00Z")
    )
    assert tba == ["vvG1VZKS5pr1qy"]  # timeTBA: matched by its local date


@pytest.mark.parametrize(
    "value",
    ["2023-01-01T00:00:00", "2023-01-01T00:00:00.000Z", "2023-13-01T00:00:00Z", "yesterday"],
)
async def test_malformed_date_is_400(client: httpx.AsyncClient, value: str) -> None:
    response = await get(client, startDateTime=value)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "DIS1015"
    assert error["detail"].startswith("Query param with date must be of valid format")
    assert response.headers["rate-limit-available"] == "4999"


async def test_size_over_200_is_400(client: httpx.AsyncClient) -> None:
    response = await get(client, size=201)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "code": "DIS1036",
                "detail": 'Query param "size" must be less than 200',
                "status": "400 BAD_REQUEST",
                "_links": {"about": {"href": "/discovery/v2/errors.html#DIS1036"}},
            }
        ]
    }
    assert (await get(client, size=200)).status_code == 200
    assert (await get(client, size=0)).status_code == 400


@pytest.mark.parametrize(
    ("size", "page", "status"),
    [(20, 49, 200), (20, 50, 400), (200, 4, 200), (200, 5, 400), (1, 999, 200), (20, -1, 400)],
)
async def test_deep_paging_cap(
    client: httpx.AsyncClient, size: int, page: int, status: int
) -> None:
    response = await get(client, size=size, page=page)
    assert response.status_code == status
    if status == 400:
        [error] = response.json()["errors"]
        assert error["code"] == "DIS1035"
        assert error["detail"] == (
            "API Limits Exceeded: Max paging depth exceeded. (page * size) must be less than 1,000"
        )


async def test_non_numeric_size_is_400(client: httpx.AsyncClient) -> None:
    response = await get(client, size="ten")
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == 'Query param "size" must be a number'


# --------------------------------------------------------------------------- details


@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_event_details(client: httpx.AsyncClient, api: FakeDiscoveryAPI, suffix: str) -> None:
    response = await get(client, f"/discovery/v2/events/{SANDBOX_EVENT_ID}{suffix}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.json() == api.get_event(SANDBOX_EVENT_ID)
    assert response.json()["name"] == "Radiohead"


async def test_unknown_event_is_the_real_404(client: httpx.AsyncClient) -> None:
    response = await get(client, "/discovery/v2/events/unknown.json")
    assert response.status_code == 404
    assert response.json() == load_fixture("error_404_event_not_found_DIS1004.json")
    assert "rate-limit-available" in response.headers
    other = await get(client, "/discovery/v2/events/Nope123", locale="en-gb")
    assert other.json()["errors"][0]["detail"] == (
        "Resource not found with provided criteria (locale=en-gb, id=Nope123)"
    )


async def test_event_images(client: httpx.AsyncClient) -> None:
    body = (await get(client, "/discovery/v2/events/1FuYv9b00bZ7GeGe/images.json")).json()
    assert body["type"] == "event"
    assert body["id"] == "1FuYv9b00bZ7GeGe"
    assert body["images"] == fixture_events(GB_PAGE)[3]["images"][:1]
    assert (
        body["_links"]["self"]["href"]
        == "/discovery/v2/events/1FuYv9b00bZ7GeGe/images?locale=en-us"
    )
    missing = await get(client, "/discovery/v2/events/nope/images")
    assert missing.status_code == 404


async def test_venue_and_attraction_details_are_the_recorded_ones(
    client: httpx.AsyncClient,
) -> None:
    venue = await get(client, "/discovery/v2/venues/KovZpZAEA76A.json")
    assert venue.json() == load_fixture("venue_details_2016_sdkjs.json")
    attraction = await get(client, "/discovery/v2/attractions/K8vZ917Kew0")
    assert attraction.json() == strip_images(load_fixture("attraction_details_2016_sdkjs.json"))
    msg = (await get(client, f"/discovery/v2/venues/{SANDBOX_VENUE_ID}")).json()
    assert msg["name"] == "Madison Square Garden"
    for kind in ("venues", "attractions", "classifications"):
        missing = await get(client, f"/discovery/v2/{kind}/Nope1")
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["code"] == "DIS1004"


async def test_venue_search(client: httpx.AsyncClient) -> None:
    body = (await get(client, "/discovery/v2/venues.json", keyword="garden")).json()
    names = [venue["name"] for venue in body["_embedded"]["venues"]]
    assert "Madison Square Garden" in names
    assert all("garden" in name.lower() for name in names)
    gb = (await get(client, "/discovery/v2/venues", countryCode="GB", sort="name,desc")).json()
    gb_names = [venue["name"] for venue in gb["_embedded"]["venues"]]
    assert gb_names == sorted(gb_names, key=str.casefold, reverse=True)
    assert "Utilita Arena Birmingham" in gb_names
    assert "Sandbox Arena London" in gb_names
    az = (await get(client, "/discovery/v2/venues", stateCode="AZ")).json()
    assert [v["name"] for v in az["_embedded"]["venues"]] == ["Footprint Center"]
    assert hrefs(az)["self"] == "/discovery/v2/venues?stateCode=AZ"
    by_id = (await get(client, "/discovery/v2/venues", id=SANDBOX_VENUE_ID)).json()
    assert by_id["page"]["totalElements"] == 1


async def test_attraction_search(client: httpx.AsyncClient) -> None:
    body = (await get(client, "/discovery/v2/attractions", keyword="phoenix suns")).json()
    assert [a["name"] for a in body["_embedded"]["attractions"]] == ["Phoenix Suns"]
    rock = (
        await get(client, "/discovery/v2/attractions", classificationName="Rock", size=200)
    ).json()
    for attraction in rock["_embedded"]["attractions"]:
        genres = {c["genre"]["name"] for c in attraction["classifications"]}
        assert "Rock" in genres
    assert rock["page"]["totalElements"] > 10


async def test_classifications(client: httpx.AsyncClient) -> None:
    recorded = load_fixture("classification_details_2016_sdkjs.json")
    segment = await get(client, "/discovery/v2/classifications/KZFzniwnSyZfZ7v7na.json")
    assert segment.json() == recorded
    by_genre = await get(client, "/discovery/v2/classifications/KnvZfZ7v7lv")  # Magic & Illusion
    assert by_genre.json() == recorded
    genre = (await get(client, "/discovery/v2/classifications/genres/KnvZfZ7vAeA")).json()
    assert genre["name"] == "Rock"
    assert "Alternative Rock" in [s["name"] for s in genre["_embedded"]["subgenres"]]
    seg = (await get(client, "/discovery/v2/classifications/segments/KZFzniwnSyZfZ7v7nE")).json()
    assert seg["name"] == "Sports"
    sub = (await get(client, "/discovery/v2/classifications/subgenres/KZazBEonSMnZfZ7v6dt")).json()
    assert sub["name"] == "Alternative Rock"
    missing = await get(client, "/discovery/v2/classifications/genres/KZFzniwnSyZfZ7v7nE")
    assert missing.status_code == 404  # a segment id is not a genre id
    search = (await get(client, "/discovery/v2/classifications", keyword="basket")).json()
    assert [c["segment"]["name"] for c in search["_embedded"]["classifications"]] == ["Sports"]
    by_id = (await get(client, "/discovery/v2/classifications", id="KnvZfZ7vAe1")).json()
    assert [c["segment"]["name"] for c in by_id["_embedded"]["classifications"]] == [
        "Arts & Theatre"
    ]
    everything = (await get(client, "/discovery/v2/classifications")).json()
    assert everything["page"]["totalElements"] == 5


async def test_unknown_path_and_method(client: httpx.AsyncClient) -> None:
    response = await get(client, "/discovery/v2/nothing-here")
    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert error["status"] == "404"
    assert "rate-limit" in response.headers
    posted = await client.post(EVENTS, params={"apikey": KEY})
    assert posted.status_code == 405
    assert posted.json()["errors"][0]["status"] == "405"


# --------------------------------------------------------------------------- auth


async def test_missing_key_is_401_without_rate_headers(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    for key in (None, ""):
        response = await get(client, key=key)
        assert response.status_code == 401
        assert response.json() == INVALID_KEY
        assert response.json() == load_fixture("error_401_invalid_apikey_docs.json")
        assert not set(RATE_HEADERS) & set(response.headers)
        assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert api.status_count(401) == 2
    assert api.quota_used("") == 0


async def test_only_configured_keys_are_accepted() -> None:
    api = FakeDiscoveryAPI(api_keys=["good"], requests_per_second=None)
    async with httpx.AsyncClient(transport=api.transport(), base_url="http://any.host") as http:
        assert (await get(http, key="bad")).status_code == 401
        assert (await get(http, key="good")).status_code == 200
    assert api.quota_used("good") == 1
    assert api.quota_used("bad") == 0


# --------------------------------------------------------------------------- limits


async def test_spike_arrest_with_a_fake_clock() -> None:
    clock = FakeClock()
    api = FakeDiscoveryAPI(clock=clock)  # 5/s, tolerance 0.1: at least 0.18 s apart
    async with httpx.AsyncClient(transport=api.transport(), base_url="https://x.test") as http:
        assert (await get(http)).status_code == 200
        clock.advance(0.1)
        refused = await get(http)
        assert refused.status_code == 429
        assert refused.json() == {
            "fault": {
                "faultstring": "Spike arrest violation. Allowed rate : 5ps",
                "detail": {"errorcode": "policies.ratelimit.SpikeArrestViolation"},
            }
        }
        assert refused.headers["rate-limit-available"] == "4999"
        assert (await get(http, key="other-key")).status_code == 200  # per key
        clock.advance(0.079)  # 0.179 s after the accepted request
        assert (await get(http)).status_code == 429
        clock.advance(0.002)  # 0.181 s: the refusals did not move the reference
        assert (await get(http)).status_code == 200
        clock.advance(0.1)
        assert (await get(http)).status_code == 429
    assert api.spike_arrest_count == 3
    assert api.count_429 == 3
    assert api.quota_used(KEY) == 2
    assert api.quota_violation_count == 0


async def test_spike_arrest_tolerance_and_fractional_rate() -> None:
    clock = FakeClock()
    api = FakeDiscoveryAPI(clock=clock, requests_per_second=0.5, spike_tolerance=0.5)
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 200
    clock.advance(0.99)
    refused = api.handle("GET", EVENTS, {"apikey": KEY})
    assert refused.status == 429
    assert refused.json()["fault"]["faultstring"] == "Spike arrest violation. Allowed rate : 30pm"
    clock.advance(0.02)
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 200


async def test_quota_exhaustion_names_the_key_and_resets() -> None:
    clock = FakeClock()
    api = FakeDiscoveryAPI(clock=clock, requests_per_second=None, daily_limit=3)
    reset_ms = str(int((EPOCH + 86_400) * 1000))
    assert len(reset_ms) == 13
    async with httpx.AsyncClient(transport=api.transport(), base_url="https://x.test") as http:
        available = []
        for _ in range(3):
            response = await get(http)
            assert response.status_code == 200
            assert response.headers["rate-limit"] == "3"
            assert response.headers["rate-limit-reset"] == reset_ms
            available.append(int(response.headers["rate-limit-available"]))
            clock.advance(60)
        assert available == [2, 1, 0]
        for over in (1, 2):
            refused = await get(http)
            assert refused.status_code == 429
            assert refused.json() == {
                "fault": {
                    "faultstring": (
                        f"Rate limit quota violation. Quota limit  exceeded. Identifier : {KEY}"
                    ),
                    "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
                }
            }
            assert refused.headers["rate-limit-available"] == "0"
            assert refused.headers["rate-limit-over"] == str(over)
            assert refused.headers["rate-limit-reset"] == reset_ms
        assert api.quota_remaining(KEY) == 0
        assert api.quota_remaining("unused-key") == 3
        clock.now = EPOCH + 86_400  # the window started with the first request
        fresh = await get(http)
        assert fresh.status_code == 200
        assert fresh.headers["rate-limit-available"] == "2"
        assert fresh.headers["rate-limit-over"] == "0"
        assert fresh.headers["rate-limit-reset"] == str(int((EPOCH + 2 * 86_400) * 1000))
    assert api.quota_violation_count == 2
    assert api.count_429 == 2


async def test_quota_window_is_configurable() -> None:
    clock = FakeClock()
    api = FakeDiscoveryAPI(
        clock=clock, daily_limit=1, quota_reset_after=10, requests_per_second=None
    )
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 200
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 429
    clock.advance(10)
    assert api.quota_used(KEY) == 0
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 200


async def test_every_counted_answer_carries_rate_headers(client: httpx.AsyncClient) -> None:
    answers = [
        await get(client),
        await get(client, "/discovery/v2/events/nope"),
        await get(client, size=500),
        await get(client, "/nowhere"),
        await get(client, "/commerce/v2/events/nope/offers"),
    ]
    assert [r.status_code for r in answers] == [200, 404, 400, 404, 500]
    assert [r.headers["rate-limit-available"] for r in answers] == [
        "4999",
        "4998",
        "4997",
        "4996",
        "4995",
    ]
    for response in answers:
        assert set(RATE_HEADERS) <= set(response.headers)
        assert response.headers["content-type"] == "application/json;charset=utf-8"


# --------------------------------------------------------------------------- faults


async def test_fail_next_default_is_a_gateway_503(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    assert (await get(client)).status_code == 200
    api.fail_next(2)
    for _ in range(2):
        failed = await get(client)
        assert failed.status_code == 503
        assert failed.json() == SERVICE_UNAVAILABLE
        assert failed.headers["rate-limit-available"] == "4999"  # shown, not counted
    assert (await get(client)).status_code == 200
    assert api.quota_used(KEY) == 2
    assert [r.fault for r in api.requests] == [None, "fail", "fail", None]


async def test_fail_next_custom_body_headers_and_path(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    api.fail_next(status=500, path="/venues")
    api.fail_next(status=429, body={"fault": {"x": 1}}, headers={"Retry-After": "7"}, path="events")
    api.fail_next(status=502, body="plain", path="events")
    api.fail_next(status=504, body=b"\x00raw", path="events")
    venues = await get(client, "/discovery/v2/venues")
    assert venues.status_code == 500
    assert venues.json()["fault"]["detail"]["errorcode"] == (
        "messaging.adaptors.http.flow.InternalServerError"
    )
    first = await get(client)
    assert (first.status_code, first.json(), first.headers["retry-after"]) == (
        429,
        {"fault": {"x": 1}},
        "7",
    )
    second = await get(client)
    assert (second.status_code, second.text) == (502, "plain")
    third = await get(client)
    assert (third.status_code, third.content) == (504, b"\x00raw")
    assert (await get(client)).status_code == 200


async def test_fail_next_with_an_unusual_status() -> None:
    api = FakeDiscoveryAPI()
    api.fail_next(status=599)
    response = api.handle("GET", EVENTS, {"apikey": KEY})
    assert response.status == 599
    assert response.json()["fault"]["faultstring"] == "Error"
    assert "Rate-Limit" not in response.headers  # the key was never seen


async def test_path_filter_leaves_other_requests_alone(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    api.fail_next(path="/commerce/")
    assert (await get(client)).status_code == 200
    assert (
        await get(client, f"/commerce/v2/events/{SANDBOX_EVENT_ID}/offers.json")
    ).status_code == 503
    assert (
        await get(client, f"/commerce/v2/events/{SANDBOX_EVENT_ID}/offers.json")
    ).status_code == 200


async def test_delay_next_waits(client: httpx.AsyncClient, api: FakeDiscoveryAPI) -> None:
    api.delay_next(seconds=0.05)
    started = time.monotonic()
    response = await get(client, city="Phoenix")
    assert time.monotonic() - started >= 0.05
    assert response.status_code == 200
    assert api.requests[-1].fault == "delay"
    await get(client)
    assert api.requests[-1].fault is None  # one request only


async def test_delay_longer_than_the_read_timeout_times_out(api: FakeDiscoveryAPI) -> None:
    api.delay_next(seconds=5)
    transport = api.transport()
    async with httpx.AsyncClient(
        transport=transport, base_url="https://x.test", timeout=0.05
    ) as http:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await get(http)
        assert time.monotonic() - started < 1


async def test_transport_sleep_is_injectable(api: FakeDiscoveryAPI) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    api.delay_next(2, seconds=30)
    api.fail_next(status=503)
    async with httpx.AsyncClient(
        transport=FakeTransport(api, sleep=fake_sleep), base_url="https://x.test", timeout=None
    ) as http:
        assert (await get(http)).status_code == 503
        assert (await get(http)).status_code == 200
    assert slept == [30, 30]
    assert [r.fault for r in api.requests] == ["fail+delay", "delay"]


async def test_drop_next_raises_a_protocol_error(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    api.drop_next()
    with pytest.raises(httpx.RemoteProtocolError):
        await get(client)
    assert (await get(client)).status_code == 200
    assert api.dropped_count == 1
    assert api.requests[0].status is None
    assert api.quota_used(KEY) == 1


async def test_truncate_next_cuts_the_json_in_half(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    whole = await get(client, city="Phoenix")
    api.truncate_next()
    cut = await get(client, city="Phoenix")
    assert cut.status_code == 200
    assert cut.content == whole.content[: len(whole.content) // 2]
    assert int(cut.headers["content-length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        cut.json()
    assert (await get(client, city="Phoenix")).content == whole.content


async def test_always_fail_until_stopped(client: httpx.AsyncClient, api: FakeDiscoveryAPI) -> None:
    api.always_fail(502, path="/discovery/v2/events")
    for _ in range(3):
        assert (await get(client)).status_code == 502
    assert (await get(client, "/discovery/v2/venues")).status_code == 200
    api.fail_next(status=500)
    assert (await get(client)).status_code == 500  # one-shot faults come first
    api.stop_failing()
    assert (await get(client)).status_code == 200
    api.always_fail(body={"custom": True}, headers={"X-Test": "1"})
    failing = await get(client)
    assert (failing.status_code, failing.json(), failing.headers["x-test"]) == (
        503,
        {"custom": True},
        "1",
    )
    assert api.status_count(502) == 3
    assert api.requests[0].fault == "always_fail"


@pytest.mark.parametrize(
    "inject",
    [
        lambda api: api.fail_next(0),
        lambda api: api.fail_next(status=42),
        lambda api: api.always_fail(600),
        lambda api: api.delay_next(seconds=-1),
        lambda api: api.drop_next(0),
        lambda api: api.truncate_next(-2),
    ],
)
def test_fault_arguments_are_checked(inject: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any message
        inject(FakeDiscoveryAPI())


async def test_reset_forgets_everything_but_the_data() -> None:
    clock = FakeClock()
    api = FakeDiscoveryAPI(clock=clock, daily_limit=1)
    api.add_event({"id": "Mine1", "name": "Mine"})
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 200
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 429  # spike
    clock.advance(1)
    assert api.handle("GET", EVENTS, {"apikey": KEY}).status == 429  # quota
    api.fail_next(5)
    api.always_fail(500)
    api.reset()
    assert api.request_count == 0
    assert api.requests == []
    assert api.count_429 == 0
    assert api.spike_arrest_count == api.quota_violation_count == 0
    assert api.quota_used(KEY) == 0
    response = api.handle("GET", "/discovery/v2/events/Mine1", {"apikey": KEY})
    assert response.status == 200  # no spike, no quota, no fault
    assert response.json()["name"] == "Mine"


# --------------------------------------------------------------------------- offers, top picks


async def test_offers_are_the_recorded_body_adapted_to_the_event(client: httpx.AsyncClient) -> None:
    recorded = load_fixture("commerce_v2_offers_us_2016.json")
    response = await get(client, f"/commerce/v2/events/{SANDBOX_EVENT_ID}/offers.json")
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"]["eventMapping"] == {
        "id": SANDBOX_EVENT_ID,
        "type": "event",
        "source": {"name": "ticketmaster", "id": "3B00506AA4EA161B"},  # from the event url
    }
    assert {k: v for k, v in body.items() if k != "metadata"} == {
        k: v for k, v in recorded.items() if k != "metadata"
    }


async def test_offers_take_the_event_currency(client: httpx.AsyncClient) -> None:
    body = (await get(client, "/commerce/v2/events/1FuYv9b00bZ7GeGe/offers")).json()
    text = json.dumps(body)
    assert '"USD"' not in text
    assert body["prices"]["_embedded"][0]["attributes"] == {"currency": "GBP", "value": "50.00"}
    assert body["_embedded"][0]["attributes"]["prices"][0]["total"] == "303.00"
    no_url_id = (await get(client, "/commerce/v2/events/Z7r9jZ1Ad4s-N/offers")).json()
    assert no_url_id["metadata"]["eventMapping"]["id"] == "Z7r9jZ1Ad4s-N"
    assert '"USD"' in json.dumps(no_url_id)  # no priceRanges: the recording's currency


async def test_offers_for_an_unknown_event_is_the_real_500(client: httpx.AsyncClient) -> None:
    response = await get(client, "/commerce/v2/events/unknown1/offers.json")
    assert response.status_code == 500
    assert response.json() == load_fixture("commerce_v2_offers_error_500_event_not_found.json")


@pytest.mark.parametrize(
    ("mode", "status", "errorcode", "counted"),
    [
        ("unauthorized", 401, "oauth.v2.InvalidApiKeyForGivenResource", False),
        ("forbidden", 403, "accesscontrol.AccessDenied", True),
        ("not_found", 404, "messaging.adaptors.http.flow.ApplicationNotFound", True),
    ],
)
async def test_price_source_refusals(mode: Any, status: int, errorcode: str, counted: bool) -> None:
    api = FakeDiscoveryAPI(offers=mode, top_picks=mode, requests_per_second=None)
    async with httpx.AsyncClient(transport=api.transport(), base_url="https://x.test") as http:
        for path in (
            f"/commerce/v2/events/{SANDBOX_EVENT_ID}/offers.json",
            f"/top-picks/v1/events/{SANDBOX_EVENT_ID}",
        ):
            response = await get(http, path)
            assert response.status_code == status
            assert response.json()["fault"]["detail"]["errorcode"] == errorcode
            assert ("rate-limit" in response.headers) is counted
        assert (await get(http)).status_code == 200
    assert api.quota_used(KEY) == (3 if counted else 1)


async def test_top_picks_default_is_refused(client: httpx.AsyncClient) -> None:
    response = await get(client, f"/top-picks/v1/events/{SANDBOX_EVENT_ID}")
    assert response.status_code == 401


async def test_top_picks_ok() -> None:
    api = FakeDiscoveryAPI(top_picks="ok", requests_per_second=None)
    recorded = load_fixture("top_picks_v1_docs_example.json")
    gb = api.handle("GET", "/top-picks/v1/events/1FuYv9b00bZ7GeGe", {"apikey": KEY}).json()
    assert gb["picks"] == recorded["picks"]
    assert gb["page"] == {"number": 1, "size": 1, "totalElements": 1, "totalPages": 1}
    assert gb["_embedded"]["offer"][0]["currency"] == "GBP"
    assert gb["_embedded"]["offer"][0]["faceValue"] == 76.5
    missing = api.handle("GET", "/top-picks/v1/events/nope", {"apikey": KEY})
    assert missing.status == 404


# --------------------------------------------------------------------------- the core API


def test_handle_takes_the_query_in_the_path_or_as_pairs() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    in_path = api.handle("get", f"{EVENTS}?apikey={KEY}&city=Phoenix&size=3")
    as_pairs = api.handle("GET", EVENTS, [("apikey", KEY), ("city", "Phoenix"), ("size", "3")])
    assert in_path.status == as_pairs.status == 200
    assert in_path.body == as_pairs.body
    assert in_path.delay == 0.0
    assert in_path.drop is False
    assert [r.params for r in api.requests] == [{"city": "Phoenix", "size": "3"}] * 2
    assert [r.method for r in api.requests] == ["GET", "GET"]


def test_request_log(api: FakeDiscoveryAPI) -> None:
    api.handle("GET", EVENTS, {"apikey": KEY, "keyword": "x"})
    api.handle("GET", "/discovery/v2/venues", {"apikey": KEY})
    api.handle("GET", "/discovery/v2/venues")
    assert api.request_count == 3
    assert [r.path for r in api.requests_to("venues")] == ["/discovery/v2/venues"] * 2
    assert [r.status for r in api.requests] == [200, 200, 401]
    assert all(KEY not in json.dumps(r.params) for r in api.requests)
    assert api.requests[0].time > 1_600_000_000


def test_add_event_is_served_and_searchable(api: FakeDiscoveryAPI) -> None:
    raw = {
        "id": "Custom1",
        "name": "Odd Payload Festival",
        "priceRanges": [{"type": "standard", "currency": "EUR"}],
        "_embedded": {
            "venues": [{"id": "CustomVenue1", "name": "Odd Hall", "city": {"name": "Oddtown"}}],
            "attractions": [{"id": "CustomAttraction1", "name": "The Odd Ones"}],
        },
    }
    api.add_event(raw)
    raw["name"] = "changed afterwards"
    served = api.handle("GET", "/discovery/v2/events/Custom1", {"apikey": KEY}).json()
    assert served["name"] == "Odd Payload Festival"
    found = api.handle("GET", EVENTS, {"apikey": KEY, "city": "oddtown"}).json()
    assert [e["id"] for e in found["_embedded"]["events"]] == ["Custom1"]
    venue = api.handle("GET", "/discovery/v2/venues/CustomVenue1", {"apikey": KEY})
    assert venue.json()["name"] == "Odd Hall"
    offers = api.handle("GET", "/commerce/v2/events/Custom1/offers", {"apikey": KEY}).json()
    assert offers["prices"]["_embedded"][0]["attributes"]["currency"] == "EUR"
    assert "Custom1" in api.event_ids()
    with pytest.raises(ValueError, match="id"):
        api.add_event({"name": "no id"})


def test_get_event_returns_a_copy(api: FakeDiscoveryAPI) -> None:
    event = api.get_event(SANDBOX_EVENT_ID)
    assert event is not None
    event["name"] = "mutated"
    again = api.get_event(SANDBOX_EVENT_ID)
    assert again is not None
    assert again["name"] == "Radiohead"
    assert api.get_event("nope") is None


@pytest.mark.parametrize(
    "options",
    [
        {"requests_per_second": 0},
        {"spike_tolerance": 1.0},
        {"spike_tolerance": -0.1},
        {"daily_limit": -1},
        {"quota_reset_after": 0},
        {"offers": "maybe"},
        {"top_picks": "yes"},
    ],
)
def test_options_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any message
        FakeDiscoveryAPI(**options)


def test_concurrent_use_from_threads_is_consistent() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)

    def work() -> None:
        for _ in range(25):
            api.handle("GET", "/discovery/v2/events/G5diZfkn0B-bh", {"apikey": KEY})
            api.fail_next(path="/never/")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert api.request_count == 200
    assert api.quota_used(KEY) == 200
    assert api.status_count(200) == 200


async def test_transport_works_with_concurrent_requests(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(get(client, city="Phoenix") for _ in range(10)))
    assert {r.status_code for r in responses} == {200}


def test_odd_payloads_added_by_users_do_not_break_search(api: FakeDiscoveryAPI) -> None:
    api.add_event(
        {
            "id": "Odd1",
            "name": "Odd Dates",
            "dates": {"start": {"dateTime": "soon", "localDate": "2040-02-03"}},
            "_embedded": {"venues": ["not a venue", {"name": "no id"}], "attractions": [None]},
        }
    )
    api.add_event({"id": "Odd2", "name": "No Dates", "dates": {"start": {"localDate": "someday"}}})
    found = api.handle("GET", EVENTS, {"apikey": KEY, "startDateTime": "2040-01-01T00:00:00Z"})
    assert [e["id"] for e in found.json()["_embedded"]["events"]] == ["Odd1"]
    ordered = api.handle("GET", EVENTS, {"apikey": KEY, "sort": "date,desc", "keyword": "dates"})
    assert [e["id"] for e in ordered.json()["_embedded"]["events"]] == ["Odd1", "Odd2"]
    ordered = api.handle("GET", EVENTS, {"apikey": KEY, "sort": "date,asc", "keyword": "dates"})
    assert [e["id"] for e in ordered.json()["_embedded"]["events"]] == ["Odd1", "Odd2"]
    venues = api.handle("GET", "/discovery/v2/venues", {"apikey": KEY, "keyword": "no id"})
    assert "_embedded" not in venues.json()


def test_classification_nodes_of_an_odd_classification() -> None:
    assert list(iter_classification_nodes({"segment": None})) == []
    nodes = iter_classification_nodes(
        {"segment": {"id": "s", "_embedded": {"genres": [{"id": "g"}]}}}
    )
    assert [(kind, node["id"]) for kind, node in nodes] == [("segments", "s"), ("genres", "g")]
