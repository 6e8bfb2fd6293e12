"""``.raw``, clean dumps that validate back, equality of typed fields, and freshness."""

from __future__ import annotations

import copy
import json
import pickle
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from ticketmaster_async import (
    Attraction,
    Classification,
    Event,
    EventChange,
    EventStatus,
    FieldChange,
    Page,
    PricePoint,
    PriceRange,
    Suggestions,
    Venue,
)
from ticketmaster_async.models._base import TMModel, mark_fresh

from .conftest import all_recorded_events, load_fixture
from .recorded import ids, recorded_attractions, recorded_classifications, recorded_venues

EVENTS = all_recorded_events()
CASES: list[tuple[type[TMModel], str, dict[str, Any]]] = [
    *((Event, name, raw) for name, raw in EVENTS),
    *((Venue, name, raw) for name, raw in recorded_venues()),
    *((Attraction, name, raw) for name, raw in recorded_attractions()),
    *((Classification, name, raw) for name, raw in recorded_classifications()),
]
CASE_IDS = [
    f"{model.__name__}:{i}"
    for (model, _, _), i in zip(
        CASES,
        ids([(name, raw) for _, name, raw in CASES]),
        strict=True,
    )
]
SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
NOW = datetime(2024, 3, 1, 12, tzinfo=timezone.utc)


def _keys(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, key) of every mapping inside a dump."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key
            yield from _keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item, f"{path}[]")


@pytest.mark.parametrize(("model", "name", "raw"), CASES, ids=CASE_IDS)
def test_dump_has_snake_case_typed_fields_only(
    model: type[TMModel], name: str, raw: dict[str, Any]
) -> None:
    parsed = model.model_validate(raw)
    for dump in (parsed.model_dump(), json.loads(parsed.model_dump_json())):
        bad = [f"{path}.{key}" for path, key in _keys(dump) if not SNAKE.fullmatch(key)]
        assert bad == []
        assert set(dump) == set(model.model_fields) - {"venue"}


@pytest.mark.parametrize(("model", "name", "raw"), CASES, ids=CASE_IDS)
def test_dump_validates_back_to_an_equal_model(
    model: type[TMModel], name: str, raw: dict[str, Any]
) -> None:
    parsed = model.model_validate(raw)
    assert model.model_validate(parsed.model_dump()) == parsed
    assert model.model_validate_json(parsed.model_dump_json()) == parsed


@pytest.mark.parametrize(("model", "name", "raw"), CASES, ids=CASE_IDS)
def test_raw_is_the_object_as_sent(model: type[TMModel], name: str, raw: dict[str, Any]) -> None:
    pristine = copy.deepcopy(raw)
    parsed = model.model_validate(raw)
    assert parsed.raw is raw
    assert raw == pristine  # parsing never changes the caller's dict


def test_raw_of_nested_models_is_their_own_object() -> None:
    raw = load_fixture("search_gb_page0_cancelled_rescheduled_fees_2020.json")["_embedded"][
        "events"
    ][0]
    event = Event.model_validate(raw)
    assert event.venues[0].raw is raw["_embedded"]["venues"][0]
    assert event.attractions[0].raw is raw["_embedded"]["attractions"][0]
    assert event.images[0].raw is raw["images"][0]
    assert event.classifications[0].raw is raw["classifications"][0]
    assert event.price_ranges[0].raw is raw["priceRanges"][0]


def test_raw_from_json_and_from_keywords() -> None:
    text = json.dumps(load_fixture("docs_example_event_details.json"))
    assert Event.model_validate_json(text).raw == json.loads(text)
    venue = Venue(id="KovZpZA7AAEA", name="Madison Square Garden")
    assert venue.raw == {"id": "KovZpZA7AAEA", "name": "Madison Square Garden"}
    assert Venue.model_construct(id="x").raw == {}


def test_raw_is_read_only() -> None:
    event = Event.model_validate({"id": "abc"})
    with pytest.raises(AttributeError):
        event.raw = {}  # type: ignore[misc]


def test_unknown_json_stays_in_raw_not_in_the_model() -> None:
    raw = {"id": "abc", "name": "Show", "_links": {"self": {"href": "/x"}}, "ticketing": {}}
    event = Event.model_validate(raw)
    assert event.raw["ticketing"] == {} and "ticketing" not in event.model_dump()
    assert not hasattr(event, "ticketing")


def test_first_venue_is_dumped_once_and_comes_back() -> None:
    raw = load_fixture("docs_example_event_details.json")
    event = Event.model_validate(raw)
    dump = event.model_dump()
    assert "venue" not in dump
    assert dump["venues"][0]["id"] == raw["_embedded"]["venues"][0]["id"]
    back = Event.model_validate(dump)
    assert back.venue == event.venue and back.venue is not None


def test_venue_and_venues_fill_each_other_for_keywords() -> None:
    venue = Venue(id="KovZpZA7AAEA", name="Arena")
    assert Event(id="a", venue=venue).venues == [venue]
    assert Event(id="b", venues=[venue]).venue == venue


def test_equality_ignores_raw_and_freshness() -> None:
    raw = load_fixture("docs_example_event_details.json")
    first = Event.model_validate(raw)
    second = Event.model_validate(copy.deepcopy(raw) | {"notAField": 1})
    mark_fresh(second, fetched_at=NOW, stale=True)
    assert first == second
    assert first != Event.model_validate(raw | {"name": "Another name"})
    assert first != Venue(id=first.id)
    assert first != "not a model"


def test_equality_compares_the_class() -> None:
    assert Venue(id="x") != Attraction(id="x")


def test_page_dump_round_trips_and_ignores_freshness() -> None:
    raw = load_fixture("search_us_page0_2017.json")
    items = [Event.model_validate(e) for e in raw["_embedded"]["events"]]
    page = Page[Event](number=0, size=20, total_elements=1000, total_pages=50, items=items)
    mark_fresh(page, fetched_at=NOW, stale=False)
    dump = page.model_dump()
    assert set(dump) == {"number", "size", "total_elements", "total_pages", "items"}
    again = Page[Event].model_validate(dump)
    assert again == page
    assert Page[Event].model_validate_json(page.model_dump_json()) == page
    assert again.fetched_at is None


# -- freshness -------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "total_pages", "has_next"), [(0, 2, True), (1, 2, False)])
def test_page_has_next(number: int, total_pages: int, has_next: bool) -> None:
    page = Page[Event](number=number, size=1, total_elements=2, total_pages=total_pages, items=[])
    assert page.has_next is has_next


def test_models_start_without_freshness() -> None:
    event = Event.model_validate({"id": "abc"})
    assert (event.fetched_at, event.stale) == (None, False)
    page = Page[Event](number=0, size=1, total_elements=0, total_pages=0, items=[])
    assert (page.fetched_at, page.stale) == (None, False)


def test_mark_fresh_marks_the_page_and_each_of_its_items() -> None:
    raw = load_fixture("search_gb_page0_cancelled_rescheduled_fees_2020.json")
    items = [Event.model_validate(e) for e in raw["_embedded"]["events"]]
    page = Page[Event](number=0, size=20, total_elements=1, total_pages=1, items=items)
    mark_fresh(page, fetched_at=NOW, stale=True)
    assert len(items) == len(raw["_embedded"]["events"]) > 1
    assert all((m.fetched_at, m.stale) == (NOW, True) for m in [page, *items])
    later = NOW + timedelta(minutes=5)
    mark_fresh(items[0], fetched_at=later, stale=False)
    assert (items[0].fetched_at, items[0].stale) == (later, False)
    assert (items[1].fetched_at, items[1].stale) == (NOW, True)
    assert (page.fetched_at, page.stale) == (NOW, True)
    assert "fetched_at" not in items[0].model_dump() and "stale" not in items[0].model_dump()


def test_mark_fresh_marks_every_suggestion() -> None:
    events = [raw for _, raw in EVENTS[:2]]
    venues = [raw for _, raw in recorded_venues()[:2]]
    attractions = [raw for _, raw in recorded_attractions()[:2]]
    hints = Suggestions.model_validate(
        {"_embedded": {"events": events, "venues": venues, "attractions": attractions}}
    )
    mark_fresh(hints, fetched_at=NOW, stale=True)
    answers = [hints, *hints.events, *hints.venues, *hints.attractions]
    assert len(answers) == 1 + len(events) + len(venues) + len(attractions)
    assert all((m.fetched_at, m.stale) == (NOW, True) for m in answers)


def test_mark_fresh_ignores_what_a_change_value_holds() -> None:
    """Only the returned model is marked: a cycle in an ``Any`` value costs nothing."""
    loop: list[Any] = []
    loop.append(loop)
    change = FieldChange(field="presales", before=loop, after=[Event(id="abc")])
    mark_fresh(change, fetched_at=NOW, stale=False)
    assert (change.fetched_at, change.stale) == (NOW, False)


def test_freshness_and_raw_survive_copies_and_pickles() -> None:
    raw = load_fixture("docs_example_event_details.json")
    event = Event.model_validate(raw)
    mark_fresh(event, fetched_at=NOW, stale=True)
    for other in (event.model_copy(), copy.copy(event), pickle.loads(pickle.dumps(event))):
        assert (other.fetched_at, other.stale) == (NOW, True)
        assert other.raw == raw
        assert other == event


def test_freshness_is_read_only() -> None:
    event = Event.model_validate({"id": "abc"})
    with pytest.raises(AttributeError):
        event.stale = True  # type: ignore[misc]


# -- watch models ----------------------------------------------------------------------------


def test_change_models_round_trip() -> None:
    raw = load_fixture("docs_example_event_details.json")
    before = Event.model_validate(raw)
    after = Event.model_validate(raw | {"name": "Renamed"})
    change = EventChange(
        kind="changed",
        event=after,
        previous=before,
        changes=[FieldChange(field="name", before=before.name, after=after.name)],
        detected_at=NOW,
    )
    assert EventChange.model_validate(change.model_dump()) == change
    assert EventChange.model_validate_json(change.model_dump_json()) == change
    point = PricePoint(
        at=NOW,
        status=EventStatus.ONSALE,
        price_ranges=[PriceRange(type="standard", currency="USD", min=Decimal(1), max=Decimal(2))],
    )
    assert PricePoint.model_validate_json(point.model_dump_json()) == point


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (EventChange, {"kind": "moved", "event": {"id": "a"}, "detected_at": NOW}),
        (EventChange, {"kind": "new", "detected_at": NOW}),
        (FieldChange, {"before": 1}),
        (PricePoint, {"at": NOW, "status": "onsale", "price_ranges": ["not a range"]}),
    ],
)
def test_change_models_are_strict(model: type[BaseModel], values: dict[str, Any]) -> None:
    """Built by the package's own code: a bad value is a bug and fails loudly."""
    with pytest.raises(ValueError, match="validation error"):
        model.model_validate(values)
