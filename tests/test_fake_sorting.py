"""Every documented ``sort`` of every search endpoint of the fake API, checked over a whole
result read page by page: the documented order (computed here from the raw objects), and pages
that never repeat or skip anything."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketmaster_async._endpoints import (
    ATTRACTION_SORTS,
    CLASSIFICATION_SORTS,
    EVENT_SORTS,
    VENUE_SORTS,
)
from ticketmaster_async._geohash import decode as geohash_decode
from ticketmaster_async._geohash import encode as geohash_encode
from ticketmaster_async.testing import FakeDiscoveryAPI

KEY = "sorting-key-31"
Item = dict[str, Any]
NEW_YORK = geohash_encode(40.7505, -73.9934)
PATHS = {
    "events": "/discovery/v2/events.json",
    "venues": "/discovery/v2/venues",
    "attractions": "/discovery/v2/attractions.json",
    "classifications": "/discovery/v2/classifications",
}


@pytest.fixture(scope="module")
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


def identity(item: Item) -> str:
    return str(item["id"]) if "id" in item else str(item["segment"]["id"])


def walk(api: FakeDiscoveryAPI, kind: str, size: int = 7, **params: str) -> list[Item]:
    """Every item of a search, read page by page."""
    return walk_query(api, kind, params, size=size)


def walk_query(
    api: FakeDiscoveryAPI, kind: str, params: dict[str, str], *, size: int = 7
) -> list[Item]:
    """Every item of the search *params*, read page by page (*size* at a time)."""
    items: list[Item] = []
    total_pages = 1
    page = 0
    while page < total_pages:
        response = api.handle(
            "GET", PATHS[kind], {"apikey": KEY, "size": str(size), "page": str(page), **params}
        )
        assert response.status == 200, response.body
        body = response.json()
        total_pages = body["page"]["totalPages"]
        total = body["page"]["totalElements"]
        items += body.get("_embedded", {}).get(kind, [])
        page += 1
        assert page <= 200
    assert len(items) == total
    assert len({identity(item) for item in items}) == total  # no repeat, so no skip either
    return items


def ordered(items: list[Item], key: Callable[[Item], Any], descending: bool) -> list[str]:
    """The documented order: by *key*, missing values (``None``) last, ties by id."""
    by_id = sorted(items, key=identity)
    present = [item for item in by_id if key(item) is not None]
    missing = [item for item in by_id if key(item) is None]
    return [identity(item) for item in sorted(present, key=key, reverse=descending) + missing]


def instant(event: Item) -> datetime | None:
    start = event.get("dates", {}).get("start", {})
    if "dateTime" in start:
        return datetime.strptime(start["dateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
    if "localDate" not in start:
        return None
    zone = event["dates"].get("timezone") or event["_embedded"]["venues"][0]["timezone"]
    local = datetime.combine(date.fromisoformat(start["localDate"]), time(0))
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def distance(item: Item) -> float:
    value: float = item["distance"]
    return value


def name(item: Item) -> str:
    return str(item["name"] if "name" in item else item["segment"]["name"]).casefold()


def onsale(event: Item) -> str | None:
    value = event.get("sales", {}).get("public", {}).get("startDateTime")
    return value if isinstance(value, str) else None


def venue_name(event: Item) -> str | None:
    venues = event.get("_embedded", {}).get("venues", [])
    return str(venues[0]["name"]).casefold() if venues else None


EVENT_KEYS: dict[str, Callable[[Item], Any]] = {
    "name": name,
    "date": instant,
    "name,date": lambda e: (name(e), instant(e)) if instant(e) else None,
    "date,name": lambda e: (instant(e), name(e)) if instant(e) else None,
    "distance": distance,
    "distance,date": lambda e: (distance(e), instant(e)) if instant(e) else None,
    "onSaleStartDate": onsale,
    "id": identity,
    "venueName": venue_name,
}


def relevance(api: FakeDiscoveryAPI, kind: str, **params: str) -> list[str]:
    if kind == "events" and not params:
        return api.event_ids()  # the catalogue's order
    return [identity(item) for item in walk(api, kind, size=200, **params)]


def check(
    api: FakeDiscoveryAPI, kind: str, sort: str, keys: dict[str, Callable[[Item], Any]]
) -> None:
    geo = {"geoPoint": NEW_YORK, "radius": "20000", "unit": "km"} if "distance" in sort else {}
    items = walk_query(api, kind, {"sort": sort, **geo})
    found = [identity(item) for item in items]
    if sort == "random":
        assert sorted(found) == sorted(relevance(api, kind))
        assert found != relevance(api, kind)
        assert [identity(i) for i in walk(api, kind, size=11, sort=sort)] == found
        other = [identity(i) for i in walk(api, kind, sort=sort, locale="*")]
        assert sorted(other) == sorted(found)
        assert other != found  # another query, another shuffle
        return
    *fields, direction = sort.split(",")
    if fields == ["relevance"]:
        expected = relevance(api, kind)
        assert found == (expected if direction == "desc" else expected[::-1])
        return
    expected_order = ordered(items, keys[",".join(fields)], direction == "desc")
    assert found == expected_order
    assert len(found) > 10


@pytest.mark.parametrize("sort", EVENT_SORTS)
def test_event_sorts(api: FakeDiscoveryAPI, sort: str) -> None:
    check(api, "events", sort, EVENT_KEYS)


@pytest.mark.parametrize("sort", VENUE_SORTS)
def test_venue_sorts(api: FakeDiscoveryAPI, sort: str) -> None:
    check(api, "venues", sort, {"name": name, "distance": distance})


@pytest.mark.parametrize("sort", ATTRACTION_SORTS)
def test_attraction_sorts(api: FakeDiscoveryAPI, sort: str) -> None:
    check(api, "attractions", sort, {"name": name})


@pytest.mark.parametrize("sort", CLASSIFICATION_SORTS)
def test_classification_sorts(api: FakeDiscoveryAPI, sort: str) -> None:
    if sort == "random":  # five classifications: a shuffle may well keep an order
        found = [identity(i) for i in walk(api, "classifications", size=2, sort=sort)]
        assert sorted(found) == sorted(relevance(api, "classifications"))
        assert [identity(i) for i in walk(api, "classifications", sort=sort)] == found
        return
    items = walk(api, "classifications", size=2, sort=sort)
    *fields, direction = sort.split(",")
    if fields == ["relevance"]:
        expected = relevance(api, "classifications")
        assert [identity(i) for i in items] == (expected if direction == "desc" else expected[::-1])
    else:
        assert [identity(i) for i in items] == ordered(items, name, direction == "desc")


def test_distance_sort_without_a_point_keeps_relevance(api: FakeDiscoveryAPI) -> None:
    assert [identity(i) for i in walk(api, "events", sort="distance,asc")] == api.event_ids()


@pytest.mark.parametrize("country", ["us", "ca"])
def test_preferred_country_comes_first(api: FakeDiscoveryAPI, country: str) -> None:
    def country_of(event: Item) -> str:
        venues = event.get("_embedded", {}).get("venues", [])
        return str(venues[0]["country"]["countryCode"]).casefold() if venues else ""

    events = {event_id: api.get_event(event_id) or {} for event_id in api.event_ids()}
    home = [i for i in api.event_ids() if country_of(events[i]) == country]
    away = [i for i in api.event_ids() if country_of(events[i]) != country]
    found = [identity(i) for i in walk(api, "events", preferredCountry=country)]
    assert found == home + away


@pytest.mark.parametrize("size", [1, 3, 20, 200])
def test_pages_cover_a_result_exactly(api: FakeDiscoveryAPI, size: int) -> None:
    everything = walk(api, "events", size=size, sort="date,asc")
    assert len(everything) == len(api.event_ids())
    last = api.handle(
        "GET",
        PATHS["events"],
        {"apikey": KEY, "size": str(size), "page": str(math.ceil(len(everything) / size))},
    ).json()
    assert "_embedded" not in last  # one page past the end: nothing


def test_geohash_cell_centre_is_the_origin() -> None:
    latitude, longitude, _, _ = geohash_decode(NEW_YORK)
    assert abs(latitude - 40.7505) < 0.001
    assert abs(longitude + 73.9934) < 0.001
