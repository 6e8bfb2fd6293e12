"""Malformed API values: the bad part goes (with a WARNING), the rest of the answer stays."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketmaster_async import (
    Attraction,
    Classification,
    Event,
    Genre,
    Segment,
    Suggestions,
    Venue,
)
from ticketmaster_async.models._base import TMModel

from .clients import BASE, make_client
from .conftest import load_fixture

LOGGER = "ticketmaster_async"
HOST = httpx.URL(BASE).host
GOOD_IMAGE = {"ratio": "16_9", "url": "https://img/a.jpg", "width": 640, "height": 360}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


def _event(**fields: Any) -> dict[str, Any]:
    return {"id": "Z7r9jZ1Ad4s-N", "name": "Show", **fields}


# -- one bad entry of a list drops that entry only -------------------------------------------

ENTRY_CASES: list[tuple[type[TMModel], str, Any, Any, Callable[[Any], Any]]] = [
    # (model, list key in the API object, a bad entry, a good entry, read the parsed list)
    (Event, "images", {"url": 5}, GOOD_IMAGE, lambda m: [i.url for i in m.images]),
    (Event, "images", "not an image", GOOD_IMAGE, lambda m: [i.url for i in m.images]),
    (Event, "images", {"ratio": "16_9"}, GOOD_IMAGE, lambda m: [i.url for i in m.images]),
    (Event, "promoters", {"name": "no id"}, {"id": "682"}, lambda m: [p.id for p in m.promoters]),
    (Event, "promoters", {"id": [1]}, {"id": "682"}, lambda m: [p.id for p in m.promoters]),
    (Event, "products", [], {"id": "p1", "type": "VIP"}, lambda m: [p.id for p in m.products]),
    (Event, "outlets", {"url": None}, {"url": "https://o"}, lambda m: [o.url for o in m.outlets]),
    (Event, "outlets", {"url": 7}, {"url": "https://o"}, lambda m: [o.url for o in m.outlets]),
    (
        Event,
        "classifications",
        "Music",
        {"segment": {"id": "KZFzniwnSyZfZ7v7nJ", "name": "Music"}},
        lambda m: [c.id for c in m.classifications],
    ),
    (Venue, "markets", {"name": "no id"}, {"id": "18"}, lambda m: [x.id for x in m.markets]),
    (Venue, "dmas", {"id": "abc"}, {"id": 294}, lambda m: m.dmas),
    (Venue, "dmas", {"nope": 1}, {"id": 294}, lambda m: m.dmas),
    (Venue, "aliases", ["msg"], "msg", lambda m: m.aliases),
    (Venue, "images", {"url": 5}, GOOD_IMAGE, lambda m: [i.url for i in m.images]),
    (Attraction, "aliases", {"x": 1}, "gaga", lambda m: m.aliases),
    (Attraction, "images", {"url": 5}, GOOD_IMAGE, lambda m: [i.url for i in m.images]),
]


@pytest.mark.parametrize(("model", "key", "bad", "good", "read"), ENTRY_CASES)
def test_a_malformed_entry_drops_that_entry_only(
    caplog: pytest.LogCaptureFixture,
    model: type[TMModel],
    key: str,
    bad: Any,
    good: Any,
    read: Callable[[Any], Any],
) -> None:
    expected = read(model.model_validate({"id": "abc", key: [good]}))
    assert expected  # the good entry alone parses to something
    caplog.clear()
    parsed = model.model_validate({"id": "abc", key: [bad, good, bad]})
    assert read(parsed) == expected
    messages = _warnings(caplog)
    assert any(key in m and "'abc'" in m for m in messages), messages


@pytest.mark.parametrize(
    ("key", "read"),
    [
        ("venues", lambda e: [v.id for v in e.venues]),
        ("attractions", lambda e: [a.id for a in e.attractions]),
    ],
)
def test_a_malformed_embedded_object_drops_that_object_only(
    caplog: pytest.LogCaptureFixture, key: str, read: Any
) -> None:
    good = {"id": "KovZpZA7AAEA", "name": "Good"}
    event = Event.model_validate(_event(_embedded={key: [{"name": "no id"}, good, "junk"]}))
    assert read(event) == ["KovZpZA7AAEA"]
    assert any(key in m for m in _warnings(caplog))


@pytest.mark.parametrize(
    ("model", "raw", "read"),
    [
        (Segment, {"id": "s", "_embedded": {"genres": [{"name": "x"}, {"id": "g"}]}}, "genres"),
        (Genre, {"id": "g", "_embedded": {"subgenres": [7, {"id": "sg"}]}}, "sub_genres"),
        (Suggestions, {"_embedded": {"events": [{"name": "x"}, {"id": "e"}]}}, "events"),
        (Suggestions, {"_embedded": {"venues": [None, {"id": "v"}]}}, "venues"),
        (Suggestions, {"_embedded": {"attractions": [[], {"id": "a"}]}}, "attractions"),
    ],
)
def test_a_malformed_child_drops_that_child_only(
    caplog: pytest.LogCaptureFixture, model: type[TMModel], raw: dict[str, Any], read: str
) -> None:
    children = getattr(model.model_validate(raw), read)
    assert len(children) == 1
    assert any(read in m for m in _warnings(caplog))


# -- a bad sub-object or value becomes None / default ----------------------------------------

VALUE_CASES: list[tuple[type[TMModel], dict[str, Any], str, Any]] = [
    # (model, API fields, field read back, expected value)
    (Event, {"ageRestrictions": "yes"}, "age_restrictions", None),
    (Event, {"accessibility": [1]}, "accessibility", None),
    (Event, {"seatmap": "https://map"}, "seatmap_url", None),
    (Event, {"seatmap": {"staticUrl": {"a": 1}}}, "seatmap_url", None),
    (Event, {"ticketLimit": 5}, "ticket_limit", None),
    (Event, {"promoter": "Live Nation"}, "promoter", None),
    (Event, {"sales": "soon"}, "sales", None),
    (Event, {"info": ["a"]}, "info", None),
    (Event, {"test": "maybe"}, "test", False),
    (Event, {"distance": "far"}, "distance", None),
    (Event, {"images": {"url": "x"}}, "images", []),
    (Event, {"dates": "tomorrow"}, "start", None),
    (Event, {"dates": {"start": "tonight"}}, "start", None),
    (Event, {"dates": {"end": 5}}, "end", None),
    (Event, {"dates": {"spanMultipleDays": "yes please"}}, "span_multiple_days", False),
    (Event, {"doorsTimes": "7pm"}, "doors_open", None),
    (Event, {"_embedded": "venues"}, "venues", []),
    (Event, {"name": {"en": "Show"}}, "name", ""),
    (Venue, {"boxOfficeInfo": "call us"}, "box_office", None),
    (Venue, {"generalInfo": ["rules"]}, "general_rule", None),
    (Venue, {"upcomingEvents": {"_total": "many"}}, "upcoming_events", None),
    (Venue, {"upcomingEvents": 12}, "upcoming_events", None),
    (Venue, {"location": {"latitude": "n/a", "longitude": "1.5"}}, "latitude", None),
    (Venue, {"location": {"latitude": 10**400}}, "latitude", None),
    (Venue, {"state": "PA"}, "state_name", None),
    (Venue, {"markets": "18"}, "markets", []),
    (Attraction, {"externalLinks": "https://x"}, "external_links", {}),
    (Attraction, {"externalLinks": {"wiki": [{"url": 5}]}}, "external_links", {}),
    (Attraction, {"externalLinks": {"wiki": "https://w"}}, "external_links", {}),
    (Classification, {"segment": "Music"}, "segment_tree", None),
    (Classification, {"segment": {"name": "no id"}}, "segment_tree", None),
    (Classification, {"genre": 7}, "genre", None),
    (Classification, {"sub_genre": 7}, "sub_genre", None),  # the field's name, not its alias
    (Classification, {"subGenre": "Pop"}, "sub_genre", None),
]


@pytest.mark.parametrize(("model", "fields", "attribute", "expected"), VALUE_CASES)
def test_a_malformed_value_gives_its_default_and_a_warning(
    caplog: pytest.LogCaptureFixture,
    model: type[TMModel],
    fields: dict[str, Any],
    attribute: str,
    expected: Any,
) -> None:
    parsed = model.model_validate({"id": "abc", **fields})
    assert getattr(parsed, attribute) == expected
    assert _warnings(caplog), "a dropped value is always logged"


def test_a_bad_value_inside_a_sub_object_keeps_the_rest_of_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = Event.model_validate(
        _event(
            accessibility={"info": "Ramps", "ticketLimit": "lots"},
            images=[{"url": "https://img/a.jpg", "width": "wide", "ratio": "16_9"}],
            ageRestrictions={"legalAgeEnforced": "sometimes", "minAge": 18},
        )
    )
    assert event.accessibility is not None
    assert (event.accessibility.info, event.accessibility.ticket_limit) == ("Ramps", None)
    assert [(i.url, i.width) for i in event.images] == [("https://img/a.jpg", None)]
    assert event.age_restrictions is not None
    assert event.age_restrictions.legal_age_enforced is None
    assert event.age_restrictions.raw["minAge"] == 18
    assert len(_warnings(caplog)) == 3


def test_musicbrainz_ids_are_not_malformed_links(caplog: pytest.LogCaptureFixture) -> None:
    links = {"musicbrainz": [{"id": "7eb1ce54"}], "wiki": [{"url": "https://w"}]}
    attraction = Attraction.model_validate({"id": "abc", "externalLinks": links})
    assert attraction.external_links == {"wiki": ["https://w"]}
    assert _warnings(caplog) == []


def test_null_counts_as_absent_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    event = Event.model_validate(
        _event(images=None, test=None, promoter=None, info=None, venues=None, dates={"end": None})
    )
    assert (event.images, event.test, event.promoter, event.info) == ([], False, None, None)
    assert (event.venues, event.venue, event.end) == ([], None, None)
    assert _warnings(caplog) == []


def test_a_naive_datetime_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    """Every instant of an event is aware; a naive one given by keyword is dropped."""
    event = Event(id="abc", start=datetime(2024, 7, 1, 20), end=datetime(2024, 7, 1, 23))
    assert (event.start, event.end) == (None, None)
    assert any("timezone-aware" in m for m in _warnings(caplog))


def test_numbers_where_text_is_expected_become_text() -> None:
    venue = Venue.model_validate({"id": 12345, "postalCode": 18505, "markets": [{"id": 18}]})
    assert (venue.id, venue.postal_code, venue.markets[0].id) == ("12345", "18505", "18")


def test_strings_are_kept_verbatim() -> None:
    event = Event.model_validate(
        _event(info="  spaced \n", pleaseNote="\tnote ", images=[GOOD_IMAGE | {"ratio": " 3_2"}])
    )
    assert (event.info, event.please_note, event.images[0].ratio) == (
        "  spaced \n",
        "\tnote ",
        " 3_2",
    )


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"name": "no id"}, "Field required"),
        ({"id": None}, "valid string"),
        ({"id": ["a"]}, "valid string"),
        ({"id": {"x": 1}}, "valid string"),
    ],
    ids=["missing", "null", "list", "object"],
)
def test_an_object_without_a_usable_id_still_fails(
    caplog: pytest.LogCaptureFixture, raw: dict[str, Any], error: str
) -> None:
    """The id is what makes an event an event: without it the caller (a page) skips it. The
    error is the id's own, and nothing is logged as repaired."""
    with pytest.raises(ValueError, match=error):
        Event.model_validate(raw)
    assert _warnings(caplog) == []


# -- dates that cannot be represented --------------------------------------------------------

OVERFLOW_CASES = [
    pytest.param({"start": {"dateTime": "0001-01-01T00:00:00+05:00"}}, "start", id="start-year-0"),
    pytest.param(
        {"start": {"dateTime": "9999-12-31T23:59:59-05:00"}}, "start", id="start-year-10000"
    ),
    pytest.param(
        {
            "start": {"localDate": "9999-12-31", "localTime": "23:00:00"},
            "timezone": "America/New_York",
        },
        "start",
        id="local-start-past-9999",
    ),
    pytest.param(
        {"start": {"localDate": "0001-01-01", "localTime": "00:00:00"}, "timezone": "Asia/Tokyo"},
        "start",
        id="local-start-before-year-1",
    ),
    pytest.param(
        {"start": {"dateTime": "9999-12-31T20:00:00Z"}, "timezone": "Asia/Tokyo"},
        "local_start",
        id="local-start-in-zone-past-9999",
    ),
    pytest.param({"end": {"dateTime": "0001-01-01T00:00:00+05:00"}}, "end", id="end"),
    pytest.param(
        {"initialStartDate": {"dateTime": "9999-12-31T23:59:59-05:00"}},
        "initial_start",
        id="initial-start",
    ),
]


@pytest.mark.parametrize(("dates", "field"), OVERFLOW_CASES)
def test_a_date_out_of_range_is_none_and_the_event_is_kept(
    caplog: pytest.LogCaptureFixture, dates: dict[str, Any], field: str
) -> None:
    event = Event.model_validate(_event(dates=dates, priceRanges=[]))
    assert event.id == "Z7r9jZ1Ad4s-N"
    assert getattr(event, field) is None
    assert any("out of range" in m for m in _warnings(caplog))


def test_out_of_range_doors_and_sales_are_none(caplog: pytest.LogCaptureFixture) -> None:
    event = Event.model_validate(
        _event(
            doorsTimes={"dateTime": "0001-01-01T00:00:00+05:00"},
            sales={
                "public": {
                    "startDateTime": "9999-12-31T23:59:59-05:00",
                    "endDateTime": "2024-01-01T00:00:00Z",
                },
                "presales": [{"startDateTime": "0001-01-01T00:00:00+01:00", "name": "Fan"}],
            },
        )
    )
    assert event.doors_open is None
    assert event.sales is not None and event.sales.public is not None
    assert event.sales.public.start is None
    assert event.sales.public.end == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert [(p.name, p.start) for p in event.sales.presales] == [("Fan", None)]
    assert len([m for m in _warnings(caplog) if "out of range" in m]) == 3


def test_an_event_at_the_edge_of_the_calendar_keeps_its_dates() -> None:
    event = Event.model_validate(
        _event(dates={"start": {"dateTime": "9999-12-31T20:00:00Z"}, "timezone": "UTC"})
    )
    assert event.start == datetime(9999, 12, 31, 20, tzinfo=timezone.utc)
    assert event.local_date == date(9999, 12, 31)


async def test_a_page_with_an_unrepresentable_date_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = load_fixture("search_us_page0_2017.json")
    events = raw["_embedded"]["events"]
    events[2]["dates"]["start"] = {"dateTime": "9999-12-31T23:59:59-05:00"}
    events[4]["dates"]["start"] = {"dateTime": "0001-01-01T00:00:00+05:00"}
    with respx.mock(assert_all_called=True) as router:
        router.get(host=HOST, path__regex=r"^/discovery/v2/events(\.json)?$").respond(
            content=json.dumps(raw).encode()
        )
        async with make_client() as tm:
            found = await tm.search_events()
    assert [e.id for e in found] == [e["id"] for e in events]
    assert found[2].start is None and found[4].start is None
    assert any("out of range" in m for m in _warnings(caplog))


# -- deeply nested junk ----------------------------------------------------------------------


def _deep_list(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def _deep_dict(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        child: dict[str, Any] = {}
        node["a"] = child
        node = child
    return root


DEEP = 50_000  # far past the interpreter's recursion limit
EVENT_KEYS = [
    "name", "url", "type", "test", "info", "pleaseNote", "images", "dates", "_embedded",
    "priceRanges", "sales", "classifications", "promoter", "promoters", "products", "outlets",
    "seatmap", "ticketLimit", "ageRestrictions", "accessibility", "distance", "doorsTimes",
]  # fmt: skip
VENUE_KEYS = [
    "name", "city", "state", "country", "address", "location", "markets", "dmas", "images",
    "aliases", "boxOfficeInfo", "generalInfo", "upcomingEvents", "postalCode",
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "key"),
    [(Event, k) for k in EVENT_KEYS]
    + [(Event, f"dates.{k}") for k in ("start", "end", "initialStartDate", "timezone", "status")]
    + [(Venue, k) for k in VENUE_KEYS]
    + [(Attraction, k) for k in ("externalLinks", "classifications", "aliases", "images")]
    + [(Classification, k) for k in ("segment", "genre", "subGenre")]
    + [(Event, f"_embedded.{k}") for k in ("venues", "attractions")]
    + [(Suggestions, k) for k in ("_embedded", "_embedded.events")],
)
@pytest.mark.parametrize("junk", [_deep_list(DEEP), _deep_dict(DEEP)], ids=["list", "dict"])
def test_deeply_nested_junk_never_exhausts_the_stack(
    model: type[TMModel], key: str, junk: Any
) -> None:
    outer, _, inner = key.partition(".")
    value = {inner: junk} if inner else junk
    parsed = model.model_validate({"id": "abc", outer: value})
    assert parsed.raw[outer] is value


# -- any JSON anywhere -----------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
RECORDED = load_fixture("search_gb_page0_cancelled_rescheduled_fees_2020.json")["_embedded"][
    "events"
][3]


def _replace(raw: Any, path: list[int], value: Any) -> Any:
    """``raw`` with the value at a pseudo-random place (chosen by ``path``) replaced."""
    if not path or not isinstance(raw, (dict, list)) or not raw:
        return value
    keys = list(raw) if isinstance(raw, dict) else list(range(len(raw)))
    key = keys[path[0] % len(keys)]
    copy: Any = dict(raw) if isinstance(raw, dict) else list(raw)
    copy[key] = _replace(raw[key], path[1:], value)
    return copy


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6),
    value=JSON_VALUES,
)
def test_any_json_anywhere_in_a_real_event_keeps_the_event(path: list[int], value: Any) -> None:
    raw = _replace(RECORDED, path, value)
    if raw.get("id") != RECORDED["id"]:
        return  # the id itself was replaced: failing is right (checked above)
    event = Event.model_validate(raw)
    assert event.id == RECORDED["id"]
    assert Event.model_validate(event.model_dump()) == event
