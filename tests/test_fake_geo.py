"""Geo searches of the fake API: ``geoPoint`` (a geohash) + ``radius`` + ``unit``, with
expectations from a haversine written here over the recorded venue coordinates."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async._geohash import decode as geohash_decode
from ticketmaster_async._geohash import encode as geohash_encode
from ticketmaster_async.testing import FakeDiscoveryAPI

KEY = "geo-key-1234"
EVENTS = "/discovery/v2/events"
VENUES = "/discovery/v2/venues.json"
RADIUS = {"miles": 3958.8, "km": 6371.0}

BIRMINGHAM = (52.4862, -1.8904)
PHOENIX = (33.4484, -112.0740)
NEW_YORK = (40.7505, -73.9934)
EAST_OF_BIRMINGHAM = (52.4862, -0.72)  # Birmingham venues 49.1 to 50.3 miles away


def great_circle(a: tuple[float, float], b: tuple[float, float], unit: str) -> float:
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * RADIUS[unit] * math.asin(math.sqrt(h))


def centre(point: tuple[float, float]) -> tuple[str, tuple[float, float]]:
    """The geohash sent for *point*, and the centre of its cell (what the API measures from)."""
    geohash = geohash_encode(*point)
    latitude, longitude, _, _ = geohash_decode(geohash)
    return geohash, (latitude, longitude)


def place(item: dict[str, Any]) -> tuple[float, float] | None:
    """A venue's coordinates when usable: numbers (or numeric strings) on the globe."""
    location = item.get("location")
    try:
        point = float(location["latitude"]), float(location["longitude"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return None
    return point if abs(point[0]) <= 90 and abs(point[1]) <= 180 else None


def event_place(event: dict[str, Any]) -> tuple[float, float] | None:
    for venue in event.get("_embedded", {}).get("venues", []):
        if isinstance(venue, dict) and (found := place(venue)) is not None:
            return found
    return None


@pytest.fixture
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


def search(api: FakeDiscoveryAPI, path: str, **params: str) -> dict[str, Any]:
    response = api.handle("GET", path, {"apikey": KEY, "size": "200", **params})
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    assert body["page"]["totalPages"] <= 1
    return body


def items(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(body.get("_embedded", {}).get(kind, []))


@pytest.mark.parametrize(
    ("point", "radius", "unit"),
    [
        (BIRMINGHAM, "0.9", "miles"),
        (BIRMINGHAM, "3", "km"),
        (BIRMINGHAM, "150", "miles"),
        (PHOENIX, "20", "km"),
        (PHOENIX, "1000", "miles"),
        (NEW_YORK, "5", "miles"),
        (NEW_YORK, "400", "km"),
    ],
)
def test_events_within_the_radius_with_their_distance(
    api: FakeDiscoveryAPI, point: tuple[float, float], radius: str, unit: str
) -> None:
    geohash, origin = centre(point)
    events = [api.get_event(event_id) or {} for event_id in api.event_ids()]
    distances = {
        event["id"]: great_circle(origin, where, unit)
        for event in events
        if (where := event_place(event)) is not None
    }
    expected = {event_id for event_id, d in distances.items() if d <= float(radius)}
    assert all(abs(d - float(radius)) > 0.05 for d in distances.values())  # no borderline case
    assert 0 < len(expected) < len(events)
    body = search(api, EVENTS, geoPoint=geohash, radius=radius, unit=unit)
    found = items(body, "events")
    assert {event["id"] for event in found} == expected
    for event in found:
        assert event["distance"] == pytest.approx(distances[event["id"]], abs=0.006)
        assert event["distance"] == round(event["distance"], 2)
        assert event["units"] == {"miles": "MILES", "km": "KILOMETERS"}[unit]
        stored = api.get_event(event["id"]) or {}
        assert "distance" not in stored
        assert "units" not in stored
        assert {k: v for k, v in event.items() if k not in ("distance", "units")} == stored


def test_radius_defaults_to_50_miles_and_unit_to_miles(api: FakeDiscoveryAPI) -> None:
    geohash, origin = centre(EAST_OF_BIRMINGHAM)
    events = [api.get_event(event_id) or {} for event_id in api.event_ids()]

    def within(radius: float, unit: str) -> set[str]:
        return {
            e["id"]
            for e in events
            if (where := event_place(e)) is not None and great_circle(origin, where, unit) <= radius
        }

    assert within(49, "miles") < within(50, "miles") < within(51, "miles")  # 50 is pinned
    default = search(api, EVENTS, geoPoint=geohash)
    assert {e["id"] for e in items(default, "events")} == within(50, "miles")
    assert {e["units"] for e in items(default, "events")} == {"MILES"}
    km = search(api, EVENTS, geoPoint=geohash, radius="50", unit="km")
    assert {e["id"] for e in items(km, "events")} == within(50, "km")
    assert within(50, "km") < within(50, "miles")


def test_events_without_a_usable_location_are_left_out(api: FakeDiscoveryAPI) -> None:
    template = api.get_event("G5v0Z98m24-oh") or {}
    venue = template["_embedded"]["venues"][0]
    for number, location in enumerate(
        [
            None,
            {"latitude": "north", "longitude": "1"},
            {"latitude": "95", "longitude": "0"},
            {"latitude": "nan", "longitude": "0"},
        ]
    ):
        moved = {k: v for k, v in venue.items() if k != "location"}
        if location is not None:
            moved["location"] = location
        moved["id"] = f"Nowhere{number}"
        api.add_event({**template, "id": f"Placeless{number}", "_embedded": {"venues": [moved]}})
    geohash, _ = centre(PHOENIX)
    everywhere = items(search(api, EVENTS, geoPoint=geohash, radius="20000", unit="km"), "events")
    events = [api.get_event(event_id) or {} for event_id in api.event_ids()]
    assert {e["id"] for e in everywhere} == {e["id"] for e in events if event_place(e)}
    assert len(everywhere) < len(events)
    phoenix = {e["id"] for e in items(search(api, EVENTS, city="Phoenix"), "events")}
    assert "Placeless0" in phoenix  # still found without geo


@pytest.mark.parametrize("sort", ["distance,asc", "distance,date,asc"])
def test_sorted_by_distance(api: FakeDiscoveryAPI, sort: str) -> None:
    geohash, _ = centre(NEW_YORK)
    found = items(search(api, EVENTS, geoPoint=geohash, radius="3000", sort=sort), "events")
    assert len({e["distance"] for e in found}) > 5
    keys = [
        (e["distance"], e["dates"]["start"].get("dateTime", ""))
        if "date" in sort
        else e["distance"]
        for e in found
    ]
    assert keys == sorted(keys)


def test_venue_search_near_a_point(api: FakeDiscoveryAPI) -> None:
    geohash, origin = centre(BIRMINGHAM)
    venues = [v for v in api_venues(api) if place(v) is not None]
    distances = {v["id"]: great_circle(origin, place(v) or origin, "km") for v in venues}
    expected = {venue_id for venue_id, d in distances.items() if d <= 5}
    assert 0 < len(expected) < len(venues)
    body = search(api, VENUES, geoPoint=geohash, radius="5", unit="km", sort="distance,desc")
    found = items(body, "venues")
    assert {v["id"] for v in found} == expected
    assert [v["distance"] for v in found] == sorted((v["distance"] for v in found), reverse=True)
    for venue in found:
        assert venue["distance"] == pytest.approx(distances[venue["id"]], abs=0.006)
        assert venue["units"] == "KILOMETERS"


def api_venues(api: FakeDiscoveryAPI) -> list[dict[str, Any]]:
    return items(search(api, VENUES), "venues")


async def test_near_through_the_client(api: FakeDiscoveryAPI) -> None:
    settings = Settings(api_key="test-key-long-enough", db_path=":memory:")
    geohash, origin = centre(PHOENIX)
    events = [api.get_event(event_id) or {} for event_id in api.event_ids()]
    expected = {
        e["id"]
        for e in events
        if (where := event_place(e)) is not None and great_circle(origin, where, "km") <= 30
    }
    async with TicketmasterClient(settings, transport=api.transport()) as tm:
        found = await tm.search_events(near=PHOENIX, radius=30, unit="km", size=200)
    assert {event.id for event in found} == expected
    assert api.requests[-1].params["geoPoint"] == geohash
