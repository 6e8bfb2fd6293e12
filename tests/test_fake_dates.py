"""Dates in the fake API's event search: start instants, venue-local ranges, public sales, and
which TBA/TBD, test and family events a search includes by default."""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async.testing import FakeDiscoveryAPI

KEY = "dates-key-5150"
EVENTS = "/discovery/v2/events.json"
Event = dict[str, Any]
LATE_PHOENIX = "G5v0Z98m24-oh"  # 2023-01-19 20:00 in Phoenix = 2023-01-20T03:00:00Z
DATE_ONLY = "Z7r9jZ1Ad4Sf8"  # timeTBA: a localDate and no time


@pytest.fixture
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


def found(api: FakeDiscoveryAPI, **params: str) -> set[str]:
    response = api.handle("GET", EVENTS, {"apikey": KEY, "size": "200", **params})
    assert response.status == 200, response.body
    body = response.json()
    events = body.get("_embedded", {}).get("events", [])
    assert body["page"]["totalElements"] == len(events)
    return {event["id"] for event in events}


def events_of(api: FakeDiscoveryAPI) -> list[Event]:
    return [api.get_event(event_id) or {} for event_id in api.event_ids()]


def zone_of(event: Event) -> ZoneInfo | timezone:
    name = event.get("dates", {}).get("timezone")
    if not name:
        venues = event.get("_embedded", {}).get("venues", [])
        name = venues[0].get("timezone") if venues and isinstance(venues[0], dict) else None
    return ZoneInfo(name) if name else timezone.utc


def wall_time(event: Event) -> datetime | None:
    start = event.get("dates", {}).get("start", {})
    try:
        day = date.fromisoformat(start["localDate"])
    except (KeyError, ValueError):
        return None
    clock = time.fromisoformat(start["localTime"]) if "localTime" in start else time(0)
    return datetime.combine(day, clock)


def instant(event: Event) -> datetime | None:
    start = event.get("dates", {}).get("start", {})
    if "dateTime" in start:
        try:
            return datetime.strptime(start["dateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=timezone.utc
            )
        except ValueError:
            pass
    local = wall_time(event)
    return local.replace(tzinfo=zone_of(event)).astimezone(timezone.utc) if local else None


def stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- start instants


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("2023-01-20T03:00:00Z", "2023-01-20T03:00:00Z"),  # inclusive on both sides
        ("2023-01-20T03:00:01Z", None),
        (None, "2023-01-20T02:59:59Z"),
        ("2019-06-01T00:00:00Z", "2020-04-01T00:00:00Z"),
        ("2016-03-06T00:00:00Z", "2016-03-06T23:59:59Z"),  # a date-only event...
        ("2016-03-06T05:00:00Z", "2016-03-06T05:00:00Z"),  # ...at midnight in New York
    ],
)
def test_start_and_end_date_time(api: FakeDiscoveryAPI, low: str | None, high: str | None) -> None:
    def parse(text: str | None) -> datetime | None:
        if text is None:
            return None
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    start, end = parse(low), parse(high)
    expected = {
        event["id"]
        for event in events_of(api)
        if (when := instant(event)) is not None
        and (start is None or when >= start)
        and (end is None or when <= end)
    }
    params = {
        name: value for name, value in (("startDateTime", low), ("endDateTime", high)) if value
    }
    assert expected
    assert found(api, **params) == expected


def test_the_late_evening_event_is_on_its_local_day(api: FakeDiscoveryAPI) -> None:
    event = api.get_event(LATE_PHOENIX) or {}
    assert event["dates"]["start"]["localDate"] == "2023-01-19"
    assert event["dates"]["start"]["dateTime"].startswith("2023-01-20")
    utc_day = found(api, startDateTime="2023-01-20T00:00:00Z", endDateTime="2023-01-20T23:59:59Z")
    local_19 = found(api, localStartDateTime="2023-01-19T00:00:00,2023-01-19T23:59:59")
    local_20 = found(api, localStartDateTime="2023-01-20T00:00:00,2023-01-20T23:59:59")
    assert LATE_PHOENIX in utc_day
    assert LATE_PHOENIX in local_19
    assert LATE_PHOENIX not in local_20
    evening = found(api, localStartDateTime="2023-01-19T20:00:00,2023-01-19T20:00:00")
    assert LATE_PHOENIX in evening
    assert LATE_PHOENIX not in found(
        api, localStartDateTime="2023-01-19T20:00:01,2023-01-19T23:59:59"
    )


@pytest.mark.parametrize(
    "window",
    [
        "2023-01-19T00:00:00,2023-01-21T23:59:59",
        "2019-07-26T00:00:00,2019-07-28T23:59:59",
        "2020-01-01T00:00:00,",  # an open end
        ",2016-12-31T23:59:59",  # an open start
        "2018-05-04T00:00:00,2018-05-04T00:00:00",  # a date-only day counts as 00:00:00
    ],
)
def test_local_start_date_time(api: FakeDiscoveryAPI, window: str) -> None:
    low_text, high_text = window.split(",")
    low = datetime.fromisoformat(low_text) if low_text else None
    high = datetime.fromisoformat(high_text) if high_text else None
    expected = {
        event["id"]
        for event in events_of(api)
        if (local := wall_time(event)) is not None
        and (low is None or local >= low)
        and (high is None or local <= high)
    }
    assert expected
    assert found(api, localStartDateTime=window) == expected


def test_a_date_only_event_counts_as_midnight(api: FakeDiscoveryAPI) -> None:
    start = (api.get_event(DATE_ONLY) or {})["dates"]["start"]
    assert "localTime" not in start
    day = date.fromisoformat(start["localDate"])
    midnight = f"{day}T00:00:00"
    before = f"{day - timedelta(days=1)}T00:00:00,{day - timedelta(days=1)}T23:59:59"
    assert DATE_ONLY in found(api, localStartDateTime=f"{midnight},{midnight}")
    assert DATE_ONLY not in found(api, localStartDateTime=before)
    assert DATE_ONLY not in found(api, localStartDateTime=f"{day}T00:00:01,{day}T23:59:59")


async def test_local_days_through_the_client(api: FakeDiscoveryAPI) -> None:
    settings = Settings(api_key="test-key-long-enough", db_path=":memory:")
    async with TicketmasterClient(settings, transport=api.transport()) as tm:
        on_19 = await tm.search_events(
            local_start=date(2023, 1, 19), local_end=date(2023, 1, 19), size=200
        )
        on_20 = await tm.search_events(
            local_start=date(2023, 1, 20), local_end=date(2023, 1, 20), size=200
        )
    expected = {
        e["id"]
        for e in events_of(api)
        if (local := wall_time(e)) is not None and local.date() == date(2023, 1, 19)
    }
    assert {event.id for event in on_19} == expected
    assert LATE_PHOENIX in expected
    assert LATE_PHOENIX not in {event.id for event in on_20}


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("2022-08-29T20:00:00Z", None),
        (None, "2019-01-01T00:00:00Z"),
        ("2019-01-01T00:00:00Z", "2019-12-31T23:59:59Z"),
    ],
)
def test_onsale_range(api: FakeDiscoveryAPI, low: str | None, high: str | None) -> None:
    def sale(event: Event) -> str | None:
        value = event.get("sales", {}).get("public", {}).get("startDateTime")
        return value if isinstance(value, str) else None

    expected = {
        event["id"]
        for event in events_of(api)
        if (when := sale(event)) is not None
        and (low is None or when >= low)
        and (high is None or when <= high)
    }
    params = {
        name: value
        for name, value in (("onsaleStartDateTime", low), ("onsaleEndDateTime", high))
        if value
    }
    assert 0 < len(expected) < len(events_of(api))
    assert found(api, **params) == expected


# --------------------------------------------------------------------------- inclusion defaults


def variant(api: FakeDiscoveryAPI, event_id: str, change: Any) -> Event:
    event = copy.deepcopy(api.get_event(LATE_PHOENIX) or {})
    event["id"] = event_id
    change(event)
    api.add_event(event)
    return event


def undated(flag: str) -> Any:
    def change(event: Event) -> None:
        event["dates"]["start"] = {flag: True, "dateTBD": flag == "dateTBD", "timeTBA": True}

    return change


@pytest.fixture
def flagged(api: FakeDiscoveryAPI) -> FakeDiscoveryAPI:
    variant(api, "ToBeAnnounced1", undated("dateTBA"))
    variant(api, "ToBeDefined1", undated("dateTBD"))
    variant(api, "TestEvent1", lambda e: e.update(test=True))
    variant(api, "FamilyEvent1", lambda e: e["classifications"][0].update(family=True))
    return api


def flag_of(event: Event, name: str) -> bool:
    start = event.get("dates", {}).get("start", {})
    return {
        "includeTBA": start.get("dateTBA") is True,
        "includeTBD": start.get("dateTBD") is True,
        "includeTest": event.get("test") is True,
        "includeFamily": any(c.get("family") is True for c in event.get("classifications", [])),
    }[name]


def kept(flag: bool, mode: str) -> bool:
    return mode == "yes" or (mode == "no" and not flag) or (mode == "only" and flag)


DEFAULTS = {"includeTBA": "yes", "includeTBD": "yes", "includeTest": "no", "includeFamily": "yes"}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
@pytest.mark.parametrize("mode", [None, "yes", "no", "only"])
def test_inclusion_without_a_date(flagged: FakeDiscoveryAPI, name: str, mode: str | None) -> None:
    modes = dict(DEFAULTS, **({name: mode} if mode else {}))
    expected = {
        event["id"]
        for event in events_of(flagged)
        if all(kept(flag_of(event, flag), value) for flag, value in modes.items())
    }
    assert expected
    assert found(flagged, **({name: mode} if mode else {})) == expected


@pytest.mark.parametrize(
    "date_param",
    [
        {"startDateTime": "2000-01-01T00:00:00Z"},
        {"endDateTime": "2100-01-01T00:00:00Z"},
        {"localStartDateTime": "2000-01-01T00:00:00,2100-01-01T00:00:00"},
    ],
)
@pytest.mark.parametrize(
    ("tba", "tbd"), [(None, None), ("yes", None), (None, "yes"), ("only", "yes"), ("yes", "only")]
)
def test_tba_and_tbd_with_a_date(
    flagged: FakeDiscoveryAPI, date_param: dict[str, str], tba: str | None, tbd: str | None
) -> None:
    modes = {"includeTBA": tba or "no", "includeTBD": tbd or "no", "includeTest": "no"}
    dated = {e["id"] for e in events_of(flagged) if instant(e) is not None}
    expected = {
        event["id"]
        for event in events_of(flagged)
        if all(kept(flag_of(event, flag), value) for flag, value in modes.items())
        and (event["id"] in dated or flag_of(event, "includeTBA") or flag_of(event, "includeTBD"))
    }
    sent = {name: value for name, value in (("includeTBA", tba), ("includeTBD", tbd)) if value}
    assert found(flagged, **date_param, **sent) == expected
    if tba is None and tbd is None:
        assert not {"ToBeAnnounced1", "ToBeDefined1"} & expected
    if tba == "yes" and tbd != "only":
        assert "ToBeAnnounced1" in expected
