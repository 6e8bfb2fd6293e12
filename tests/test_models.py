"""Models against every recorded Discovery response, checked value by value against raw JSON."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketmaster_async import (
    Attraction,
    Classification,
    Event,
    EventStatus,
    PriceRange,
    Venue,
)
from ticketmaster_async.models._base import (
    parse_date,
    parse_datetime_utc,
    parse_float,
    parse_time,
    zone,
)

from .conftest import all_recorded_events, fixture_bytes, load_fixture

RECORDED = all_recorded_events()
IDS = [f"{name}:{raw['id']}" for name, raw in RECORDED]


def _expected_start(raw: dict[str, Any]) -> datetime | None:
    start = raw.get("dates", {}).get("start", {})
    if "dateTime" in start:
        return datetime.strptime(start["dateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
    return None


@pytest.mark.parametrize(("name", "raw"), RECORDED, ids=IDS)
def test_recorded_event_values_match_raw_json(name: str, raw: dict[str, Any]) -> None:
    event = Event.model_validate(raw)
    assert event.id == raw["id"]
    assert event.name == raw["name"]
    assert event.url == raw.get("url")
    dates = raw.get("dates", {})
    code = dates.get("status", {}).get("code")
    assert event.status_code == code
    expected_status = {"canceled": "cancelled"}.get(code, code) if code else "unknown"
    assert event.status.value == expected_status
    expected_start = _expected_start(raw)
    if expected_start is not None:
        assert event.start == expected_start
        assert event.start is not None and event.start.utcoffset() is not None
    local_date = dates.get("start", {}).get("localDate")
    assert event.local_date == (date.fromisoformat(local_date) if local_date else None)
    venues = raw.get("_embedded", {}).get("venues", [])
    assert [v.id for v in event.venues] == [v["id"] for v in venues]
    if venues:
        assert event.venue is not None
        assert event.venue.id == venues[0]["id"]
        assert event.venue.city == venues[0].get("city", {}).get("name")
    tz_name = dates.get("timezone") or (venues[0].get("timezone") if venues else None)
    if event.start is not None and tz_name:
        assert event.local_start is not None
        assert event.local_start.tzinfo == ZoneInfo(tz_name)
        assert event.local_start == event.start
        # dateTime is the authority: at least one recorded event (Z1lMVSyiJynZ177_Cp) has a
        # localTime equal to its UTC time, contradicting its zone.
        assert event.local_start.replace(tzinfo=None) == (
            event.start.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)
        )
    ranges = raw.get("priceRanges", [])
    assert [(p.type, p.currency) for p in event.price_ranges] == [
        (p["type"], p["currency"]) for p in ranges
    ]
    for parsed, original in zip(event.price_ranges, ranges, strict=True):
        assert parsed.min == Decimal(str(original["min"]))
        assert parsed.max == Decimal(str(original["max"]))
        assert isinstance(parsed.min, Decimal)
    attractions = raw.get("_embedded", {}).get("attractions", [])
    assert [a.id for a in event.attractions] == [a["id"] for a in attractions]
    assert ("price_ranges" in event.missing_fields) == (not ranges)
    assert ("venue" in event.missing_fields) == (not venues)
    assert ("start" in event.missing_fields) == (event.start is None)


@pytest.mark.parametrize(("name", "raw"), RECORDED, ids=IDS)
def test_unknown_fields_are_kept(name: str, raw: dict[str, Any]) -> None:
    event = Event.model_validate(raw)
    for key in ("type", "images", "dates", "_links"):
        if key in raw:
            assert event.raw[key] == raw[key]


def test_json_and_dict_parsing_agree() -> None:
    raw = load_fixture("docs_example_event_details.json")
    from_json = Event.model_validate_json(fixture_bytes("docs_example_event_details.json"))
    assert from_json == Event.model_validate(raw)


def test_gb_cancelled_spelling_and_fee_ranges() -> None:
    page = load_fixture("search_gb_page0_cancelled_rescheduled_fees_2020.json")
    events = {e["id"]: Event.model_validate(e) for e in page["_embedded"]["events"]}
    cancelled = [e for e in events.values() if e.status_code == "cancelled"]
    assert cancelled, "the 2020 GB page has a 'cancelled' (double L) event"
    assert all(e.status is EventStatus.CANCELLED for e in cancelled)
    with_fees = [
        e
        for e in events.values()
        if {"standard", "standard including fees"} <= {p.type for p in e.price_ranges}
    ]
    assert with_fees
    for event in with_fees:
        assert event.venue is not None
        assert event.venue.state_code is None  # GB venues carry no state
        assert event.venue.country_code == "GB"
        assert event.timezone == "Europe/London"


def test_time_tba_event_has_no_start_but_keeps_local_date() -> None:
    page = load_fixture("search_us_page1_nba_suns_timetba_2023.json")
    raw = next(e for e in page["_embedded"]["events"] if e["dates"]["start"].get("timeTBA") is True)
    event = Event.model_validate(raw)
    assert event.start is None
    assert event.local_start is None
    assert event.local_date == date.fromisoformat(raw["dates"]["start"]["localDate"])
    assert "start" in event.missing_fields


def test_venue_coordinates_are_strings_in_real_responses() -> None:
    raw = load_fixture("venue_details_2016_sdkjs.json")
    venue = Venue.model_validate(raw)
    assert isinstance(raw["location"]["latitude"], str)
    assert venue.latitude == float(raw["location"]["latitude"])
    assert venue.longitude == float(raw["location"]["longitude"])
    assert venue.state_code == raw["state"]["stateCode"]
    assert venue.country_code == raw["country"]["countryCode"]
    assert venue.postal_code == raw["postalCode"]
    assert venue.address == raw["address"]["line1"]
    assert venue.timezone == raw["timezone"]
    assert venue.raw["markets"] == raw["markets"]


def test_attraction_and_classification_details() -> None:
    raw = load_fixture("attraction_details_2016_sdkjs.json")
    attraction = Attraction.model_validate(raw)
    assert attraction.id == raw["id"]
    assert attraction.name == raw["name"]
    assert attraction.classifications[0].segment is not None
    assert (
        attraction.classifications[0].segment.name == (raw["classifications"][0]["segment"]["name"])
    )
    raw_cls = load_fixture("classification_details_2016_sdkjs.json")
    classification = Classification.model_validate(raw_cls)
    assert classification.id == raw_cls["segment"]["id"]
    assert classification.segment is not None
    assert classification.segment.name == raw_cls["segment"]["name"]


# -- tolerance to values the fixtures do not show -------------------------------------------


def _minimal(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": "Z7r9jZ1Ad4s-N", "name": "Show", "type": "event"}
    raw.update(overrides)
    return raw


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("onsale", EventStatus.ONSALE),
        ("offsale", EventStatus.OFFSALE),
        ("canceled", EventStatus.CANCELLED),
        ("cancelled", EventStatus.CANCELLED),
        ("CANCELLED", EventStatus.CANCELLED),
        ("postponed", EventStatus.POSTPONED),
        ("rescheduled", EventStatus.RESCHEDULED),
        ("moved", EventStatus.UNKNOWN),
        (None, EventStatus.UNKNOWN),
        (7, EventStatus.UNKNOWN),
    ],
)
def test_status_mapping_keeps_raw_code(code: Any, status: EventStatus) -> None:
    event = Event.model_validate(_minimal(dates={"status": {"code": code}}))
    assert event.status is status
    assert event.status_code == (code if isinstance(code, str) else None)


def test_local_time_in_zone_becomes_utc_instant_other_zone() -> None:
    raw = _minimal(
        dates={
            "start": {"localDate": "2024-07-01", "localTime": "20:00:00"},
            "timezone": "Australia/Sydney",
        }
    )
    event = Event.model_validate(raw)
    assert event.start == datetime(2024, 7, 1, 10, 0, tzinfo=timezone.utc)
    assert event.local_start is not None
    assert event.local_start.utcoffset() is not None
    assert event.local_start.hour == 20
    assert event.timezone == "Australia/Sydney"


def test_zone_falls_back_to_venue_and_bad_zone_is_ignored() -> None:
    raw = _minimal(
        dates={"start": {"dateTime": "2024-01-05T01:30:00Z"}, "timezone": "Mars/Olympus"},
        _embedded={"venues": [{"id": "KovZpZA7AAEA", "timezone": "Asia/Tokyo"}]},
    )
    event = Event.model_validate(raw)
    assert event.timezone == "Asia/Tokyo"
    assert event.local_start is not None
    assert event.local_start.hour == 10
    assert event.local_date == date(2024, 1, 5)


def test_missing_everything_optional() -> None:
    event = Event.model_validate({"id": "abc"})
    assert event.name == ""
    assert event.start is None and event.venue is None and event.price_ranges == []
    assert event.missing_fields == ["name", "venue", "price_ranges", "start"]


@pytest.mark.parametrize(
    "bad_range",
    [
        {"type": "standard", "currency": "USD", "min": "abc", "max": 10},
        {"type": "standard", "currency": "USD", "min": -5, "max": 10},
        {"type": "standard", "currency": "USD", "min": 50, "max": 10},
        {"type": "standard", "currency": "US", "min": 1, "max": 2},
        {"type": "standard", "min": 1, "max": 2},
        "not an object",
    ],
)
def test_malformed_price_range_dropped_not_the_event(bad_range: Any) -> None:
    good = {"type": "standard", "currency": "USD", "min": 10, "max": 20.5}
    event = Event.model_validate(_minimal(priceRanges=[bad_range, good]))
    assert event.price_ranges == [
        PriceRange(type="standard", currency="USD", min=Decimal("10"), max=Decimal("20.5"))
    ]


def test_price_range_without_bounds_is_kept() -> None:
    event = Event.model_validate(_minimal(priceRanges=[{"type": "standard", "currency": "USD"}]))
    assert event.price_ranges[0].min is None and event.price_ranges[0].max is None


def test_strings_kept_verbatim() -> None:
    event = Event.model_validate(_minimal(name="  Spaced  Out "))
    assert event.name == "  Spaced  Out "


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("52.479932", 52.479932),
        (" -1.9 ", -1.9),
        (3, 3.0),
        ("", None),
        ("n/a", None),
        ("nan", None),
        (None, None),
        (True, None),
        ([], None),
        (10**400, None),  # float() of it raises OverflowError
        ("1e400", None),
    ],
)
def test_parse_float(value: Any, expected: float | None) -> None:
    assert parse_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-03-11T18:00:00Z", datetime(2021, 3, 11, 18, tzinfo=timezone.utc)),
        ("2021-03-11T18:00:00", datetime(2021, 3, 11, 18, tzinfo=timezone.utc)),
        ("2021-03-11T19:00:00+01:00", datetime(2021, 3, 11, 18, tzinfo=timezone.utc)),
        ("yesterday", None),
        ("", None),
        (12, None),
    ],
)
def test_parse_datetime_utc(value: Any, expected: datetime | None) -> None:
    assert parse_datetime_utc(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-01", date(2024, 7, 1)),
        (datetime(2024, 7, 1, 20, tzinfo=timezone.utc), date(2024, 7, 1)),
        (date(2024, 7, 1), date(2024, 7, 1)),
        ("July 1st", None),
        (20240701, None),
    ],
)
def test_parse_date(value: Any, expected: date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("20:00:00", time(20)), ("8pm", None), (None, None), (2000, None)],
)
def test_parse_time(value: Any, expected: time | None) -> None:
    assert parse_time(value) == expected


def test_zone_lookup() -> None:
    assert zone("Europe/London") == ZoneInfo("Europe/London")
    assert zone("Not/AZone") is None
    assert zone("") is None
    assert zone(None) is None


def test_event_round_trips_through_json() -> None:
    raw = load_fixture("docs_example_event_details.json")
    event = Event.model_validate(raw)
    again = Event.model_validate(json.loads(event.model_dump_json()))
    assert again.start == event.start
    assert again.local_start == event.local_start
    assert again.venue == event.venue
    assert again.price_ranges == event.price_ranges
