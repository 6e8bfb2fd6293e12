"""The typed fields of version 0.2, checked on every recorded object against its raw JSON."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketmaster_async import (
    Attraction,
    Classification,
    Event,
    Genre,
    Image,
    Segment,
    SubGenre,
    Suggestions,
    Venue,
)

from .conftest import all_recorded_events, load_fixture
from .recorded import ids, recorded_attractions, recorded_classifications, recorded_venues

EVENTS = all_recorded_events()
VENUES = recorded_venues()
ATTRACTIONS = recorded_attractions()
CLASSIFICATIONS = recorded_classifications()


def _images(raw: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (i["url"], i.get("ratio"), i.get("width"), i.get("height"), i.get("fallback", False))
        for i in raw.get("images", [])
    ]


def _parsed_images(images: list[Image]) -> list[tuple[Any, ...]]:
    return [(i.url, i.ratio, i.width, i.height, i.fallback) for i in images]


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _expected_instant(part: dict[str, Any] | None, zone_name: str | None) -> datetime | None:
    """What the API's ``{localDate, localTime, dateTime}`` objects mean, read straight off them."""
    if not part:
        return None
    if "dateTime" in part:
        return _utc(part["dateTime"])
    if "localDate" in part and "localTime" in part and zone_name:
        local = datetime.fromisoformat(f"{part['localDate']}T{part['localTime']}")
        return local.replace(tzinfo=ZoneInfo(zone_name)).astimezone(timezone.utc)
    return None


def _sample_counts() -> dict[str, int]:
    """How many recorded events carry each optional part (so the table is not vacuous)."""
    keys = ("images", "promoter", "products", "outlets", "ageRestrictions", "accessibility")
    return {key: sum(key in raw for _, raw in EVENTS) for key in keys}


def test_the_recorded_data_exercises_every_optional_part() -> None:
    counts = _sample_counts()
    assert all(counts.values()), counts
    assert any("end" in raw["dates"] for _, raw in EVENTS)
    assert any(v.get("boxOfficeInfo") for _, v in VENUES)
    assert any(a.get("externalLinks") for _, a in ATTRACTIONS)


@pytest.mark.parametrize(("name", "raw"), EVENTS, ids=ids(EVENTS))
def test_event_typed_fields_match_raw_json(name: str, raw: dict[str, Any]) -> None:
    event = Event.model_validate(raw)
    dates = raw["dates"]
    venues = raw.get("_embedded", {}).get("venues", [])
    zone_name = dates.get("timezone") or (venues[0].get("timezone") if venues else None)

    assert _parsed_images(event.images) == _images(raw)
    assert event.end == _expected_instant(dates.get("end"), zone_name)
    assert event.span_multiple_days is dates.get("spanMultipleDays", False)
    assert event.initial_start == _expected_instant(dates.get("initialStartDate"), zone_name)
    assert event.doors_open == _expected_instant(raw.get("doorsTimes"), zone_name)
    assert event.info == raw.get("info")
    assert event.please_note == raw.get("pleaseNote")
    assert event.seatmap_url == raw.get("seatmap", {}).get("staticUrl")
    assert event.ticket_limit == raw.get("ticketLimit", {}).get("info")
    assert event.test is raw.get("test", False)
    assert event.type == raw.get("type")
    assert (event.distance, event.units) == (raw.get("distance"), raw.get("units"))

    if "ageRestrictions" in raw:
        assert event.age_restrictions is not None
        assert event.age_restrictions.legal_age_enforced == (
            raw["ageRestrictions"].get("legalAgeEnforced")
        )
        assert event.age_restrictions.raw == raw["ageRestrictions"]
    else:
        assert event.age_restrictions is None
    if "accessibility" in raw:
        assert event.accessibility is not None
        assert event.accessibility.info == raw["accessibility"].get("info")
        assert event.accessibility.ticket_limit == raw["accessibility"].get("ticketLimit")
    else:
        assert event.accessibility is None

    def promoter(p: dict[str, Any]) -> tuple[Any, ...]:
        return (p["id"], p.get("name"), p.get("description"))

    parsed_promoter = event.promoter
    assert (None if parsed_promoter is None else promoter(parsed_promoter.model_dump())) == (
        promoter(raw["promoter"]) if "promoter" in raw else None
    )
    assert [promoter(p.model_dump()) for p in event.promoters] == [
        promoter(p) for p in raw.get("promoters", [])
    ]
    assert [(p.id, p.name, p.url, p.type) for p in event.products] == [
        (p["id"], p.get("name"), p.get("url"), p.get("type")) for p in raw.get("products", [])
    ]
    assert [(o.url, o.type) for o in event.outlets] == [
        (o["url"], o.get("type")) for o in raw.get("outlets", [])
    ]


@pytest.mark.parametrize(("name", "raw"), VENUES, ids=ids(VENUES))
def test_venue_typed_fields_match_raw_json(name: str, raw: dict[str, Any]) -> None:
    venue = Venue.model_validate(raw)
    assert venue.state_name == raw.get("state", {}).get("name")
    assert venue.country_name == raw.get("country", {}).get("name")
    assert _parsed_images(venue.images) == _images(raw)
    assert venue.aliases == raw.get("aliases", [])
    assert [(m.id, m.name) for m in venue.markets] == [
        (m["id"], m.get("name")) for m in raw.get("markets", [])
    ]
    assert all(isinstance(m.id, str) for m in venue.markets)
    assert venue.dmas == [d["id"] for d in raw.get("dmas", [])]
    box = raw.get("boxOfficeInfo")
    if box is None:
        assert venue.box_office is None
    else:
        assert venue.box_office is not None
        assert (
            venue.box_office.phone,
            venue.box_office.open_hours,
            venue.box_office.accepted_payment,
            venue.box_office.will_call,
        ) == (
            box.get("phoneNumberDetail"),
            box.get("openHoursDetail"),
            box.get("acceptedPaymentDetail"),
            box.get("willCallDetail"),
        )
    assert venue.parking == raw.get("parkingDetail")
    assert venue.accessible_seating == raw.get("accessibleSeatingDetail")
    assert venue.general_rule == raw.get("generalInfo", {}).get("generalRule")
    assert venue.child_rule == raw.get("generalInfo", {}).get("childRule")
    assert venue.upcoming_events == raw.get("upcomingEvents", {}).get("_total")
    assert (venue.distance, venue.units) == (raw.get("distance"), raw.get("units"))


@pytest.mark.parametrize(("name", "raw"), ATTRACTIONS, ids=ids(ATTRACTIONS))
def test_attraction_typed_fields_match_raw_json(name: str, raw: dict[str, Any]) -> None:
    attraction = Attraction.model_validate(raw)
    assert _parsed_images(attraction.images) == _images(raw)
    assert attraction.aliases == raw.get("aliases", [])
    # ``musicbrainz`` entries carry an id, not a url: they stay in ``.raw``.
    expected_links = {
        site: [link["url"] for link in links if "url" in link]
        for site, links in raw.get("externalLinks", {}).items()
    }
    assert attraction.external_links == {k: v for k, v in expected_links.items() if v}
    assert attraction.upcoming_events == raw.get("upcomingEvents", {}).get("_total")
    assert [c.segment_tree.id if c.segment_tree else None for c in attraction.classifications] == [
        c.get("segment", {}).get("id") for c in raw.get("classifications", [])
    ]


@pytest.mark.parametrize(("name", "raw"), CLASSIFICATIONS, ids=ids(CLASSIFICATIONS))
def test_classification_segment_tree_matches_raw_json(name: str, raw: dict[str, Any]) -> None:
    classification = Classification.model_validate(raw)
    segment = raw.get("segment")
    if segment is None:
        assert classification.segment_tree is None
        return
    tree = classification.segment_tree
    assert tree is not None
    assert (tree.id, tree.name) == (segment["id"], segment.get("name"))
    genres = segment.get("_embedded", {}).get("genres", [])
    assert [(g.id, g.name) for g in tree.genres] == [(g["id"], g["name"]) for g in genres]
    for parsed, original in zip(tree.genres, genres, strict=True):
        subs = original.get("_embedded", {}).get("subgenres", [])
        assert [(s.id, s.name) for s in parsed.sub_genres] == [(s["id"], s["name"]) for s in subs]
    # the flat levels keep working next to the tree
    assert classification.segment is not None
    assert classification.segment.id == segment["id"]


@pytest.mark.parametrize(("name", "raw"), CLASSIFICATIONS, ids=ids(CLASSIFICATIONS))
def test_classification_name_is_the_most_specific_meaningful_one(
    name: str, raw: dict[str, Any]
) -> None:
    names = [raw.get(level, {}).get("name") for level in ("genre", "segment")]
    expected = next((n for n in names if n and n != "Undefined"), None)
    assert Classification.model_validate(raw).name == expected


def test_classification_detail_is_a_whole_tree() -> None:
    raw = load_fixture("classification_details_2016_sdkjs.json")
    tree = Classification.model_validate(raw).segment_tree
    assert tree is not None
    assert len(tree.genres) == len(raw["segment"]["_embedded"]["genres"]) > 1
    assert sum(len(g.sub_genres) for g in tree.genres) == sum(
        len(g["_embedded"]["subgenres"]) for g in raw["segment"]["_embedded"]["genres"]
    )


def test_segment_genre_and_subgenre_details_parse_alone() -> None:
    """``get_segment`` / ``get_genre`` / ``get_subgenre`` answer one level with its children."""
    raw_segment = load_fixture("classification_details_2016_sdkjs.json")["segment"]
    raw_genre = raw_segment["_embedded"]["genres"][2]
    raw_sub = raw_genre["_embedded"]["subgenres"][1]
    segment = Segment.model_validate(raw_segment)
    genre = Genre.model_validate(raw_genre)
    sub = SubGenre.model_validate(raw_sub)
    assert (segment.id, segment.name) == (raw_segment["id"], raw_segment["name"])
    assert [g.id for g in segment.genres] == [g["id"] for g in raw_segment["_embedded"]["genres"]]
    assert (genre.id, genre.name) == (raw_genre["id"], raw_genre["name"])
    assert [s.name for s in genre.sub_genres] == [
        s["name"] for s in raw_genre["_embedded"]["subgenres"]
    ]
    assert (sub.id, sub.name) == (raw_sub["id"], raw_sub["name"])
    assert segment.genres[2] == genre
    assert segment.raw is raw_segment


def test_event_images_endpoint_body() -> None:
    """``/events/{id}/images`` answers ``{type, id, images: [...]}``; each entry is an Image."""
    raw = load_fixture("event_images_2016_sdkjs.json")
    images = [Image.model_validate(i) for i in raw["images"]]
    assert _parsed_images(images) == _images(raw)
    assert all(i.fallback for i in images) == all(i["fallback"] for i in raw["images"])


def test_event_dates_from_local_time_and_flags() -> None:
    """end, initial_start and doors_open follow start's rules: dateTime, else local + zone."""
    event = Event.model_validate(
        {
            "id": "Z7r9jZ1Ad4s-N",
            "dates": {
                "start": {"localDate": "2024-07-01", "localTime": "20:00:00"},
                "end": {"localDate": "2024-07-02", "localTime": "01:30:00"},
                "initialStartDate": {"dateTime": "2024-05-01T18:00:00Z"},
                "timezone": "Europe/Berlin",
                "spanMultipleDays": True,
            },
            "doorsTimes": {"localDate": "2024-07-01", "localTime": "18:30:00", "id": "d1"},
            "distance": 3.2,
            "units": "MILES",
        }
    )
    berlin = ZoneInfo("Europe/Berlin")
    assert event.end == datetime(2024, 7, 2, 1, 30, tzinfo=berlin)
    assert event.end is not None and event.end.tzinfo == timezone.utc
    assert event.initial_start == datetime(2024, 5, 1, 18, tzinfo=timezone.utc)
    assert event.doors_open == datetime(2024, 7, 1, 18, 30, tzinfo=berlin)
    assert event.doors_open is not None and event.doors_open.tzinfo == timezone.utc
    assert event.span_multiple_days is True
    assert (event.distance, event.units) == (3.2, "MILES")


def test_doors_time_uses_its_utc_instant_first() -> None:
    event = Event.model_validate(
        {
            "id": "abc",
            "doorsTimes": {
                "localDate": "2024-07-01",
                "localTime": "18:30:00",
                "dateTime": "2024-07-01T16:31:00Z",
            },
            "dates": {"timezone": "Europe/Berlin"},
        }
    )
    assert event.doors_open == datetime(2024, 7, 1, 16, 31, tzinfo=timezone.utc)


@pytest.mark.parametrize("flag", ["noSpecificTime", "timeTBA", "dateTBD"])
def test_end_without_a_known_time_is_none(flag: str) -> None:
    event = Event.model_validate(
        {
            "id": "abc",
            "dates": {
                "end": {"localDate": "2024-07-02", "localTime": "00:00:00", flag: True},
                "timezone": "Europe/Berlin",
            },
        }
    )
    assert event.end is None


# -- best_image ------------------------------------------------------------------------------


def _img(
    width: int | None, ratio: str | None = "16_9", *, fallback: bool = False
) -> dict[str, Any]:
    return {
        "url": f"https://img/{ratio}_{width}_{fallback}.jpg",
        "ratio": ratio,
        "width": width,
        "fallback": fallback,
    }


BEST_IMAGE_CASES = [
    # (images, ratio, min_width, index of the expected image or None)
    pytest.param([_img(100), _img(2048), _img(1024, "3_2")], "16_9", 0, 1, id="widest-of-ratio"),
    pytest.param(
        [_img(2048, fallback=True), _img(640), _img(1136, "3_2")],
        "16_9",
        0,
        1,
        id="fallback-of-ratio-skipped",
    ),
    pytest.param(
        [_img(305, "3_2"), _img(1024, "4_3"), _img(2048, fallback=True)],
        "16_9",
        0,
        1,
        id="no-own-image-of-ratio-then-widest-own-any-ratio",
    ),
    pytest.param(
        [_img(640), _img(1024, "3_2"), _img(305, "4_3")],
        "16_9",
        1000,
        1,
        id="min-width-moves-to-another-ratio",
    ),
    pytest.param(
        [_img(100, fallback=True), _img(1024, "3_2", fallback=True)],
        "16_9",
        0,
        1,
        id="only-fallbacks-then-widest-of-all",
    ),
    pytest.param(
        [_img(640), _img(2048, "3_2", fallback=True), _img(900, "4_3")],
        "16_9",
        1000,
        1,
        id="nothing-wide-enough-then-widest-of-all",
    ),
    pytest.param(
        [_img(640), _img(1024, "3_2"), _img(2048, "4_3", fallback=True)],
        None,
        0,
        1,
        id="ratio-none-means-any",
    ),
    pytest.param([_img(None), _img(50)], "16_9", 0, 1, id="unknown-width-counts-as-zero"),
    pytest.param([_img(640), _img(640)], "16_9", 0, 0, id="tie-keeps-the-first"),
    pytest.param([], "16_9", 0, None, id="no-images"),
]


@pytest.mark.parametrize(("images", "ratio", "min_width", "expected"), BEST_IMAGE_CASES)
def test_best_image_rules(
    images: list[dict[str, Any]], ratio: str | None, min_width: int, expected: int | None
) -> None:
    event = Event.model_validate({"id": "abc", "images": images})
    best = event.best_image(ratio, min_width=min_width)
    if expected is None:
        assert best is None
    else:
        assert best is event.images[expected]


@pytest.mark.parametrize(("name", "raw"), EVENTS, ids=ids(EVENTS))
def test_best_image_on_recorded_events(name: str, raw: dict[str, Any]) -> None:
    event = Event.model_validate(raw)
    best = event.best_image()
    own_16_9 = [i for i in raw.get("images", []) if i["ratio"] == "16_9" and not i["fallback"]]
    if not raw.get("images"):
        assert best is None
        return
    assert best is not None
    if own_16_9:
        assert (best.ratio, best.fallback) == ("16_9", False)
        assert best.width == max(i["width"] for i in own_16_9)
    else:
        assert best.width == max(
            (i["width"] for i in raw["images"] if not i["fallback"]),
            default=max(i["width"] for i in raw["images"]),
        )


# -- suggestions -----------------------------------------------------------------------------


def test_suggestions_from_a_body_built_of_recorded_objects() -> None:
    events = [raw for _, raw in EVENTS[:3]]
    venues = [raw for _, raw in VENUES[:2]]
    attractions = [raw for _, raw in ATTRACTIONS[:4]]
    body: dict[str, Any] = {
        "_links": {"self": {"href": "/discovery/v2/suggest?keyword=ro"}},
        "_embedded": {
            "attractions": attractions,
            "venues": venues,
            "events": events,
            "products": [{"id": "p1", "name": "Parking"}],
        },
    }
    hints = Suggestions.model_validate(body)
    assert [a.id for a in hints.attractions] == [a["id"] for a in attractions]
    assert [v.id for v in hints.venues] == [v["id"] for v in venues]
    assert [e.id for e in hints.events] == [e["id"] for e in events]
    assert hints.events[0] == Event.model_validate(events[0])
    assert hints.raw is body
    assert hints.raw["_embedded"]["products"] == body["_embedded"]["products"]


@pytest.mark.parametrize(
    "body",
    [{}, {"_links": {}}, {"_embedded": {}}, {"_embedded": {"venues": None}}],
    ids=["empty", "links-only", "nothing-embedded", "null-list"],
)
def test_suggestions_lists_are_empty_when_left_out(body: dict[str, Any]) -> None:
    hints = Suggestions.model_validate(body)
    assert (hints.attractions, hints.venues, hints.events) == ([], [], [])


def test_classification_without_a_meaningful_name() -> None:
    raw = {"segment": {"id": "KZFzniwnSyZfZ7v7n1", "name": "Undefined"}, "genre": {"name": ""}}
    assert Classification.model_validate(raw).name is None
