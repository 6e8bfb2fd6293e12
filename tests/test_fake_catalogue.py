"""Scripting the fake API's catalogue: add (searchable or not), update, remove, and generated
events in bulk."""

from __future__ import annotations

import copy
import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async._constants import DEEP_PAGING_CAP
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

KEY = "catalogue-key-42"
EVENTS = "/discovery/v2/events.json"
PHOENIX = "G5v0Z98m24-oh"
UTC = timezone.utc
Event = dict[str, Any]


@pytest.fixture
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None, daily_limit=1_000_000)


def get(api: FakeDiscoveryAPI, path: str, **params: str) -> Any:
    return api.handle("GET", path, {"apikey": KEY, **params})


def found(api: FakeDiscoveryAPI, **params: str) -> list[str]:
    response = get(api, EVENTS, size="200", **params)
    assert response.status == 200, response.body
    return [e["id"] for e in response.json().get("_embedded", {}).get("events", [])]


def copy_of(api: FakeDiscoveryAPI, event_id: str, new_id: str, **changes: Any) -> Event:
    event = copy.deepcopy(api.get_event(event_id) or {})
    event.update(id=new_id, **changes)
    return event


# --------------------------------------------------------------------------- add


def test_an_unsearchable_event_answers_details_but_no_search(api: FakeDiscoveryAPI) -> None:
    api.add_event(copy_of(api, PHOENIX, "PastEvent1", name="Yesteryear Gala"), searchable=False)
    details = get(api, "/discovery/v2/events/PastEvent1")
    assert details.status == 200
    assert details.json()["name"] == "Yesteryear Gala"
    assert get(api, "/discovery/v2/events/PastEvent1/images").status == 200
    assert "PastEvent1" in api.event_ids()
    for params in ({"keyword": "yesteryear"}, {"id": "PastEvent1"}, {"city": "Phoenix"}):
        assert "PastEvent1" not in found(api, **params)
    suggest = get(api, "/discovery/v2/suggest", keyword="yesteryear").json()
    assert "events" not in suggest.get("_embedded", {})
    api.add_event(api.get_event("PastEvent1") or {})  # searchable again
    assert found(api, keyword="yesteryear") == ["PastEvent1"]


# --------------------------------------------------------------------------- update


def test_update_replaces_top_level_keys(api: FakeDiscoveryAPI) -> None:
    before = api.get_event(PHOENIX) or {}
    assert PHOENIX in found(api, keyword="brooklyn nets")  # served before the change
    assert get(api, f"/discovery/v2/events/{PHOENIX}.json").json() == before
    prices = [{"type": "standard", "currency": "USD", "min": 10.5, "max": 99.0}]
    api.update_event(PHOENIX, name="Renamed Showdown", priceRanges=prices, pleaseNote=None)
    after = api.get_event(PHOENIX) or {}
    assert after["name"] == "Renamed Showdown"
    assert after["priceRanges"] == prices
    assert "pleaseNote" not in after
    assert {k: v for k, v in after.items() if k not in ("name", "priceRanges")} == {
        k: v for k, v in before.items() if k not in ("name", "priceRanges", "pleaseNote")
    }
    assert before["name"] == "Phoenix Suns vs. Brooklyn Nets"  # an earlier copy is untouched
    assert found(api, keyword="renamed showdown") == [PHOENIX]
    assert PHOENIX not in found(api, keyword="brooklyn nets vs")
    detail = get(api, f"/discovery/v2/events/{PHOENIX}.json").json()
    assert detail == after
    prices.append({"type": "vip"})
    assert (api.get_event(PHOENIX) or {})["priceRanges"] == prices[:1]  # copied when given
    assert (FakeDiscoveryAPI().get_event(PHOENIX) or {})["name"] == before["name"]  # shared data


def test_update_conveniences(api: FakeDiscoveryAPI) -> None:
    start = datetime(2031, 3, 14, 2, 30, tzinfo=UTC)  # the evening before, in Phoenix
    onsale = datetime(2030, 12, 1, 17, 0, tzinfo=ZoneInfo("America/New_York"))
    offsale = datetime(2031, 3, 14, 1, 0, tzinfo=UTC)
    prices = [{"type": "standard", "currency": "USD", "min": 20.0, "max": 40.0}]
    api.update_event(
        PHOENIX,
        status="cancelled",
        start=start,
        price_ranges=prices,
        onsale_start=onsale,
        onsale_end=offsale,
    )
    event = api.get_event(PHOENIX) or {}
    local = start.astimezone(ZoneInfo(event["dates"]["timezone"]))
    assert event["dates"]["status"]["code"] == "cancelled"
    assert event["dates"]["start"]["dateTime"] == "2031-03-14T02:30:00Z"
    assert event["dates"]["start"]["localDate"] == local.strftime("%Y-%m-%d") == "2031-03-13"
    assert event["dates"]["start"]["localTime"] == local.strftime("%H:%M:%S")
    assert event["priceRanges"] == prices
    assert event["sales"]["public"]["startDateTime"] == "2030-12-01T22:00:00Z"
    assert event["sales"]["public"]["endDateTime"] == "2031-03-14T01:00:00Z"
    recorded = api_recorded(PHOENIX)  # what every other fake serves: untouched
    assert event["sales"]["presales"] == recorded["sales"]["presales"]
    assert recorded["dates"]["status"]["code"] == "onsale"
    assert recorded["sales"]["public"]["startDateTime"] == "2022-08-29T20:00:00Z"
    assert PHOENIX in found(api, localStartDateTime="2031-03-13T00:00:00,2031-03-13T23:59:59")
    assert PHOENIX in found(api, onsaleStartDateTime="2030-12-01T22:00:00Z")
    assert PHOENIX not in found(
        api, startDateTime="2023-01-20T00:00:00Z", endDateTime="2023-01-20T23:59:59Z"
    )


def api_recorded(event_id: str) -> Event:
    return FakeDiscoveryAPI().get_event(event_id) or {}


def test_start_clears_the_tba_flags(api: FakeDiscoveryAPI) -> None:
    start = datetime(2030, 5, 1, 19, 0, tzinfo=ZoneInfo("America/New_York"))
    api.update_event("Z7r9jZ1Ad4Sf8", start=start)  # was timeTBA, date only
    event_start = (api.get_event("Z7r9jZ1Ad4Sf8") or {})["dates"]["start"]
    assert event_start["timeTBA"] is False
    assert event_start["dateTime"] == "2030-05-01T23:00:00Z"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"start": datetime(2030, 1, 1)}, ValueError),  # naive
        ({"onsale_start": "2030-01-01"}, ValueError),
        ({"status": ""}, ValueError),
        ({"price_ranges": {"min": 1}}, ValueError),
        ({"id": "Other"}, ValueError),
    ],
)
def test_a_bad_update_changes_nothing(
    api: FakeDiscoveryAPI, changes: dict[str, Any], error: type[Exception]
) -> None:
    before = api.get_event(PHOENIX)
    with pytest.raises(error):
        api.update_event(PHOENIX, name="Half Applied", **changes)
    assert api.get_event(PHOENIX) == before


def test_unknown_ids_are_a_key_error(api: FakeDiscoveryAPI) -> None:
    with pytest.raises(KeyError, match="NoSuchEvent"):
        api.update_event("NoSuchEvent", name="x")
    with pytest.raises(KeyError, match="NoSuchEvent"):
        api.remove_event("NoSuchEvent")


# --------------------------------------------------------------------------- remove


def test_remove_event(api: FakeDiscoveryAPI) -> None:
    assert SANDBOX_EVENT_ID in found(api, keyword="radiohead")
    api.remove_event(SANDBOX_EVENT_ID)
    missing = get(api, f"/discovery/v2/events/{SANDBOX_EVENT_ID}")
    assert missing.status == 404
    assert missing.json()["errors"][0]["code"] == "DIS1004"
    assert get(api, f"/discovery/v2/events/{SANDBOX_EVENT_ID}/images").status == 404
    assert SANDBOX_EVENT_ID not in found(api, keyword="radiohead")
    assert SANDBOX_EVENT_ID not in api.event_ids()
    assert api.get_event(SANDBOX_EVENT_ID) is None
    venue = get(api, "/discovery/v2/venues/KovZpZA7AAEA")
    assert venue.status == 200  # its venue stays
    api.add_event(api_recorded(SANDBOX_EVENT_ID))
    assert SANDBOX_EVENT_ID in found(api, keyword="radiohead")


async def test_changes_reach_a_client(api: FakeDiscoveryAPI) -> None:
    settings = Settings(api_key="test-key-long-enough", db_path=":memory:")
    async with TicketmasterClient(settings, transport=api.transport()) as tm:
        api.update_event(PHOENIX, status="cancelled")
        event = await tm.get_event_details(PHOENIX, refresh=True)
        assert event is not None
        assert event.status == "cancelled"
        api.remove_event(PHOENIX)
        assert await tm.get_event_details(PHOENIX, refresh=True) is None


def test_concurrent_changes_and_requests(api: FakeDiscoveryAPI) -> None:
    failures: list[BaseException] = []

    def change(number: int) -> None:
        try:
            for step in range(30):
                api.update_event(PHOENIX, name=f"Name {number}-{step}")
                api.add_event(copy_of(api, SANDBOX_EVENT_ID, f"Thread{number}x{step}"))
                api.remove_event(f"Thread{number}x{step}")
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    def read() -> None:
        try:
            for _ in range(30):
                assert get(api, EVENTS, keyword="name", size="200").status == 200
                assert get(api, f"/discovery/v2/events/{PHOENIX}").status == 200
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=change, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    assert not any(thread.is_alive() for thread in threads)
    assert not [i for i in api.event_ids() if i.startswith("Thread")]
    assert found(api, keyword="name ")[0] == PHOENIX


# --------------------------------------------------------------------------- generated events

START = datetime(2030, 1, 1, tzinfo=UTC)
END = datetime(2031, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def big() -> tuple[FakeDiscoveryAPI, list[str]]:
    fake = FakeDiscoveryAPI(requests_per_second=None, daily_limit=1_000_000)
    return fake, fake.generate_events(3500, start=START, end=END)


def instant(event: Event) -> datetime:
    return datetime.strptime(event["dates"]["start"]["dateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC
    )


def test_generated_events_look_real_and_say_they_are_not(
    big: tuple[FakeDiscoveryAPI, list[str]],
) -> None:
    api, ids = big
    assert len(ids) == len(set(ids)) == 3500
    events = [api.get_event(event_id) or {} for event_id in ids]
    template = api_recorded(PHOENIX)
    for event in events[:200]:
        assert event["id"].startswith("SYNTH")
        assert "SYNTHETIC" in event["info"]
        assert set(template) - set(event) <= {"products"}
        [venue] = event["_embedded"]["venues"]
        assert venue["timezone"] == event["dates"]["timezone"] == "America/Chicago"
        assert float(venue["location"]["latitude"]) == pytest.approx(37.6872)
        assert venue["city"]["name"] == "Fakeville"
        assert event["priceRanges"][0]["min"] <= event["priceRanges"][0]["max"]
        assert event["priceRanges"][0]["currency"] == "USD"
        assert event["classifications"][0]["segment"]["id"].startswith("KZFzniwnSyZfZ7v7n")
        assert event["_embedded"]["attractions"][0]["id"].startswith("SYNTH")
        sale = datetime.strptime(event["sales"]["public"]["startDateTime"], "%Y-%m-%dT%H:%M:%SZ")
        assert sale.replace(tzinfo=UTC) < instant(event)
        local = instant(event).astimezone(ZoneInfo("America/Chicago"))
        assert event["dates"]["start"]["localDate"] == local.strftime("%Y-%m-%d")
        assert event["dates"]["start"]["localTime"] == local.strftime("%H:%M:%S")
        urls = [
            event["url"],
            venue["url"],
            event["images"][0]["url"],
            event["seatmap"]["staticUrl"],
        ]
        assert {urlsplit(url).hostname for url in urls} == {"sandbox.ticketmaster.invalid"}
    starts = [instant(event) for event in events]
    assert min(starts) >= START
    assert max(starts) <= END
    assert max(starts) - min(starts) > timedelta(days=300)
    assert 0.9 * len(starts) < len(set(starts)) < len(starts)  # distinct-ish: a few ties
    assert all(start.second == 0 for start in starts)


def test_some_generated_events_share_a_start() -> None:
    api = FakeDiscoveryAPI()
    ids = api.generate_events(100, start=START, end=END)  # by chance, ties would be rare
    starts = [instant(api.get_event(i) or {}) for i in ids]
    assert 90 <= len(set(starts)) <= 97


def test_generated_events_are_deterministic() -> None:
    one, two = FakeDiscoveryAPI(), FakeDiscoveryAPI()
    ids = one.generate_events(50, start=START, end=END, seed=7, keyword="Zyx")
    assert two.generate_events(50, start=START, end=END, seed=7, keyword="Zyx") == ids
    assert [one.get_event(i) for i in ids] == [two.get_event(i) for i in ids]
    other = two.generate_events(50, start=START, end=END, seed=8, keyword="Zyx")
    assert not set(other) & set(ids)
    assert [one.get_event(i)["name"] for i in ids] != [two.get_event(i)["name"] for i in other]  # type: ignore[index]
    again = one.generate_events(50, start=START, end=END, seed=7, keyword="Zyx")
    assert again == ids
    assert len([i for i in one.event_ids() if i.startswith("SYNTH")]) == 50 + 4  # replaced


def test_generated_events_are_searchable(big: tuple[FakeDiscoveryAPI, list[str]]) -> None:
    api, ids = big
    body = get(api, EVENTS, city="Fakeville", size="200").json()
    assert body["page"]["totalElements"] == len(ids)
    march = {"startDateTime": "2030-03-01T00:00:00Z", "endDateTime": "2030-06-30T23:59:59Z"}
    expected = {
        i
        for i in ids
        if datetime(2030, 3, 1, tzinfo=UTC)
        <= instant(api.get_event(i) or {})
        <= datetime(2030, 6, 30, 23, 59, 59, tzinfo=UTC)
    }
    window = get(api, EVENTS, size="200", sort="date,asc", **march).json()
    assert window["page"]["totalElements"] == len(expected) > DEEP_PAGING_CAP  # past the cap
    assert get(api, EVENTS, size="200", page="5", **march).status == 400
    keyword = api.generate_events(30, start=START, end=END, keyword="Quokka", city="Elsewhere")
    assert set(found(api, keyword="quokka")) == set(keyword)


async def test_an_exhaustive_pull_through_the_client(
    big: tuple[FakeDiscoveryAPI, list[str]],
) -> None:
    api, ids = big
    settings = Settings(api_key="test-key-long-enough", db_path=":memory:")
    async with TicketmasterClient(settings, transport=api.transport()) as tm:
        pulled = [
            event.id
            async for event in tm.iter_events(
                city="Fakeville", start=START, end=END + timedelta(days=1), exhaustive=True
            )
        ]
    assert len(pulled) == len(set(pulled)) == len(ids)


@pytest.mark.parametrize(
    "options",
    [
        {"start": datetime(2030, 1, 1)},
        {"end": START - timedelta(days=1)},
        {"count": -1},
        {"timezone": "Mars/Olympus_Mons"},
        {"location": (91.0, 0.0)},
        {"venues": 0},
    ],
)
def test_generate_checks_its_arguments(options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"count": 5, "start": START, "end": END, **options}
    with pytest.raises(ValueError):  # noqa: PT011 - the message names the argument
        FakeDiscoveryAPI().generate_events(**arguments)


def test_generated_venues_spread(api: FakeDiscoveryAPI) -> None:
    ids = api.generate_events(40, start=START, end=END, venues=4, city="Spread", country_code="GB")
    venues = {(api.get_event(i) or {})["_embedded"]["venues"][0]["id"] for i in ids}
    assert len(venues) == 4
    assert {(api.get_event(i) or {})["priceRanges"][0]["currency"] for i in ids} == {"GBP"}
    listed = get(api, "/discovery/v2/venues", keyword="Spread Arena").json()
    assert listed["page"]["totalElements"] == 4
    assert api.generate_events(0, start=START, end=END) == []


def test_gateway_options_can_be_changed_later() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None, daily_limit=5)
    assert api.daily_limit == 5
    api.daily_limit = 1
    api.api_keys = frozenset({"only-this-key"})
    assert api.handle("GET", EVENTS, {"apikey": "only-this-key"}).status == 200
    assert api.handle("GET", EVENTS, {"apikey": "only-this-key"}).status == 429
    assert api.handle("GET", EVENTS, {"apikey": "another-key"}).status == 401
    assert type(api).daily_limit is not None  # the option itself, on the class
