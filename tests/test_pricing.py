"""Tests of ticketmaster_async.pricing (and parse_money) against the real fixtures."""

from __future__ import annotations

import copy
import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ticketmaster_async.models import Event, PriceRange, TicketPrice
from ticketmaster_async.models._base import parse_money
from ticketmaster_async.pricing import (
    merge_prices,
    prices_from_offers,
    prices_from_price_ranges,
    prices_from_top_picks,
)

FIXTURES = Path(__file__).parent / "fixtures"
LOGGER = "ticketmaster_async"
SEARCH_PAGES = [
    "search_events_page_2016_sdkjs.json",
    "search_events_with_options_2016_sdkjs.json",
    "search_gb_page0_cancelled_rescheduled_fees_2020.json",
    "search_us_page0_2017.json",
    "search_us_page0_mixed_status_rescheduled_offsale_2019.json",
    "search_us_page1_nba_suns_timetba_2023.json",
    "search_us_single_result_page_lady_gaga_2017.json",
]
GB_PAGE = "search_gb_page0_cancelled_rescheduled_fees_2020.json"
D = Decimal
MONEY_FIELDS = ("price", "min", "max", "face_value", "total", "fees")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def events(name: str) -> list[dict[str, Any]]:
    page = load(name)
    found: list[dict[str, Any]] = page["_embedded"]["events"]
    return found


def raw_decimal(value: Any) -> Decimal:
    """A raw JSON number or decimal string as the exact decimal it spells."""
    return Decimal(str(value))


def assert_money_is_decimal(prices: list[TicketPrice]) -> None:
    for price in prices:
        for field in MONEY_FIELDS:
            value = getattr(price, field)
            assert value is None or isinstance(value, Decimal), (field, value)
            assert value is None or value >= 0, (field, value)
        assert price.min <= price.max


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER and record.levelno == logging.WARNING
    ]


@pytest.fixture(autouse=True)
def _capture_warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)


def ticket(**fields: Any) -> TicketPrice:
    base: dict[str, Any] = {
        "ticket_type": "standard",
        "currency": "USD",
        "price": Decimal("10"),
        "min": Decimal("10"),
        "max": Decimal("10"),
        "source": "price_ranges",
    }
    base.update(fields)
    return TicketPrice(**base)


# --------------------------------------------------------------------------- price formats

INVALID = None
PRICE_FORMATS: list[tuple[Any, Decimal | None]] = [
    (45, Decimal("45")),
    (45.0, Decimal("45.0")),
    (51.95, Decimal("51.95")),
    (0, Decimal("0")),
    ("45.00", Decimal("45.00")),
    ("1,234.50", Decimal("1234.50")),
    ("£1,000,000.99", Decimal("1000000.99")),
    ("$12.00", Decimal("12.00")),
    ("US$ 5", Decimal("5")),
    ("GBP 12.00", Decimal("12.00")),
    ("12.00 EUR", Decimal("12.00")),
    ("$ 5 USD", Decimal("5")),
    ("  7.5  ", Decimal("7.5")),
    (".5", Decimal("0.5")),
    ("-0.00", Decimal("0.00")),
    (Decimal("3.10"), Decimal("3.10")),
    ("", INVALID),
    ("   ", INVALID),
    ("abc", INVALID),
    ("USD", INVALID),
    (-1, INVALID),
    (-0.5, INVALID),
    ("-$5", INVALID),
    ("$-5", INVALID),
    ("NaN", INVALID),
    ("Infinity", INVALID),
    ("1e5", INVALID),
    ("12,50", INVALID),
    ("1,23", INVALID),
    ("1 2", INVALID),
    ("abc12def", INVALID),
    ("GBP 12 USD", INVALID),
    ("$5$", INVALID),
    ("٤٥", INVALID),
    (True, INVALID),
    (False, INVALID),
    (None, INVALID),
    ({"x": 1}, INVALID),
    ([45], INVALID),
    (1e309, INVALID),
    (float("nan"), INVALID),
    (Decimal("NaN"), INVALID),
    (Decimal("Infinity"), INVALID),
    (Decimal("-1"), INVALID),
]
FORMAT_IDS = [repr(raw) for raw, _ in PRICE_FORMATS]


@pytest.mark.parametrize(("raw", "expected"), PRICE_FORMATS, ids=FORMAT_IDS)
def test_parse_money_formats(raw: Any, expected: Decimal | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="price"):
            parse_money(raw)
        return
    parsed = parse_money(raw)
    assert isinstance(parsed, Decimal)
    assert parsed == expected
    assert str(parsed) == str(expected)  # exact digits: 45.0 stays 45.0, never a binary float
    assert not parsed.is_signed()


@pytest.mark.parametrize(("raw", "expected"), PRICE_FORMATS, ids=FORMAT_IDS)
def test_price_formats_through_a_price_range(
    raw: Any, expected: Decimal | None, caplog: pytest.LogCaptureFixture
) -> None:
    entry = {"type": "standard", "currency": "USD", "min": raw, "max": raw}
    prices = prices_from_price_ranges([entry])
    if expected is None:
        assert prices == []
        if raw is not None:  # None for both min and max is "no price", skipped without warning
            assert any("min" in message for message in warnings_of(caplog))
        return
    assert len(prices) == 1
    assert (prices[0].price, prices[0].min, prices[0].max) == (expected, expected, expected)
    assert prices[0].face_value == expected
    assert warnings_of(caplog) == []


@pytest.mark.parametrize(("raw", "expected"), PRICE_FORMATS, ids=FORMAT_IDS)
def test_price_formats_through_an_offer(
    raw: Any, expected: Decimal | None, caplog: pytest.LogCaptureFixture
) -> None:
    body = {
        "offers": [
            {
                "id": "O1",
                "attributes": {
                    "name": "ADULT",
                    "currency": "USD",
                    "prices": [{"priceZone": "1", "value": raw}],
                },
            }
        ]
    }
    prices = prices_from_offers(body)
    if expected is None:
        assert prices == []
        assert len(warnings_of(caplog)) == 1
        assert "O1" in warnings_of(caplog)[0]
        return
    assert [(p.price, p.face_value, p.total, p.fees) for p in prices] == [
        (expected, expected, None, None)
    ]


@pytest.mark.parametrize(("raw", "expected"), PRICE_FORMATS, ids=FORMAT_IDS)
def test_price_formats_through_a_top_pick(
    raw: Any, expected: Decimal | None, caplog: pytest.LogCaptureFixture
) -> None:
    body = {
        "picks": [{"section": "1", "offers": ["A"]}],
        "_embedded": {"offer": [{"offerId": "A", "currency": "EUR", "totalPrice": raw}]},
    }
    prices = prices_from_top_picks(body)
    if expected is None:
        assert prices == []
        assert len(warnings_of(caplog)) == 1
        return
    assert [(p.price, p.total, p.face_value, p.includes_fees) for p in prices] == [
        (expected, expected, None, True)
    ]


# --------------------------------------------------------------------------- priceRanges


def gb_events_with_both() -> list[dict[str, Any]]:
    found = [
        event
        for event in events(GB_PAGE)
        if {entry["type"] for entry in event.get("priceRanges", [])}
        == {"standard", "standard including fees"}
    ]
    assert len(found) == 19  # the fixture: every GB event but one has both types
    return found


def test_gb_2020_standard_and_including_fees_become_one_entry() -> None:
    for raw in gb_events_with_both():
        by_type = {entry["type"]: entry for entry in raw["priceRanges"]}
        face, total = by_type["standard"], by_type["standard including fees"]
        for source in (Event.model_validate(raw).price_ranges, raw["priceRanges"]):
            prices = prices_from_price_ranges(source)
            assert len(prices) == 1, raw["id"]
            (price,) = prices
            assert price.ticket_type == "standard"
            assert price.currency == face["currency"] == "GBP"
            assert price.price == price.min == raw_decimal(face["min"])
            assert price.max == raw_decimal(face["max"])
            assert price.face_value == raw_decimal(face["min"])
            assert price.total == raw_decimal(total["min"])
            assert price.fees == raw_decimal(total["min"]) - raw_decimal(face["min"])
            assert price.includes_fees is False
            assert (price.section, price.market, price.source) == (None, "primary", "price_ranges")
            assert_money_is_decimal(prices)


def test_gb_2020_known_event_values() -> None:
    raw = next(event for event in events(GB_PAGE) if event["id"] == "1FuYv9b00bZ7GeGe")
    (price,) = prices_from_price_ranges(Event.model_validate(raw).price_ranges)
    assert (price.min, price.max) == (Decimal("45.0"), Decimal("59.5"))
    assert (price.face_value, price.total, price.fees) == (
        Decimal("45.0"),
        Decimal("51.95"),
        Decimal("6.95"),
    )


def test_only_including_fees_states_totals() -> None:
    for raw in gb_events_with_both():
        total = next(e for e in raw["priceRanges"] if e["type"] == "standard including fees")
        (price,) = prices_from_price_ranges([total])
        assert price.ticket_type == "standard"
        assert price.includes_fees is True
        assert price.price == price.min == price.total == raw_decimal(total["min"])
        assert price.max == raw_decimal(total["max"])
        assert (price.face_value, price.fees) == (None, None)


@pytest.mark.parametrize("page", [p for p in SEARCH_PAGES if p != GB_PAGE])
def test_only_standard_states_face_values(page: str) -> None:
    seen = 0
    for raw in events(page):
        parsed = Event.model_validate(raw)
        prices = prices_from_price_ranges(parsed.price_ranges)
        if "priceRanges" not in raw:
            assert prices == []
            continue
        seen += 1
        assert len(prices) == len(raw["priceRanges"])
        for price, entry in zip(prices, raw["priceRanges"], strict=True):
            assert entry["type"] == "standard"
            assert price.currency == entry["currency"]
            assert (price.min, price.max) == (raw_decimal(entry["min"]), raw_decimal(entry["max"]))
            assert price.price == price.face_value == raw_decimal(entry["min"])
            assert (price.total, price.fees, price.includes_fees) == (None, None, False)
        assert_money_is_decimal(prices)
    assert seen > 0


def test_no_price_ranges_is_empty() -> None:
    raw = next(event for event in events(GB_PAGE) if "priceRanges" not in event)
    assert prices_from_price_ranges(Event.model_validate(raw).price_ranges) == []
    assert prices_from_price_ranges([]) == []


def range_entry(kind: Any, currency: Any, low: Any, high: Any) -> dict[str, Any]:
    return {"type": kind, "currency": currency, "min": low, "max": high}


def test_several_standard_entries_pair_in_order() -> None:
    prices = prices_from_price_ranges(
        [
            range_entry("standard", "NZD", 50, 100),
            range_entry("standard", "USD", 20, 30),
            range_entry("Standard Including Fees", "NZD", 55.5, 110),
            range_entry("standard", "NZD", 150, 200),
        ]
    )
    assert [
        (p.currency, p.ticket_type, p.min, p.max, p.face_value, p.total, p.fees, p.includes_fees)
        for p in prices
    ] == [
        ("NZD", "standard", D(50), D(100), D(50), Decimal("55.5"), Decimal("5.5"), False),
        ("NZD", "standard", D(150), D(200), D(150), None, None, False),
        ("USD", "standard", D(20), D(30), D(20), None, None, False),
    ]


def test_other_types_pair_with_their_including_fees_twin() -> None:
    prices = prices_from_price_ranges(
        [
            range_entry("platinum including fees", "USD", 330, 560),
            range_entry("vip", "USD", 200, 200),
            range_entry("platinum", "USD", 300, 500),
            range_entry("standard including fees", "USD", 60, 90),
            range_entry("vip including fees", "EUR", 250, 250),
        ]
    )
    summary = {
        (p.ticket_type, p.currency): (
            p.price,
            p.max,
            p.face_value,
            p.total,
            p.fees,
            p.includes_fees,
        )
        for p in prices
    }
    assert summary == {
        ("platinum", "USD"): (D(300), D(500), D(300), D(330), D(30), False),
        ("vip", "USD"): (D(200), D(200), D(200), None, None, False),
        ("standard", "USD"): (D(60), D(90), None, D(60), None, True),
        ("vip", "EUR"): (D(250), D(250), None, D(250), None, True),
    }
    assert len(prices) == 4


def test_one_missing_bound_uses_the_other_and_none_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    prices = prices_from_price_ranges(
        [
            {"type": "standard", "currency": "USD"},
            range_entry("standard", "CAD", None, 80),
            range_entry("standard", "GBP", 40, None),
            PriceRange(type="standard including fees", currency="USD"),
        ]
    )
    assert [(p.currency, p.min, p.max) for p in prices] == [
        ("CAD", D(80), D(80)),
        ("GBP", D(40), D(40)),
    ]
    assert warnings_of(caplog) == []


def test_face_only_entry_pairs_nothing_when_it_has_no_price() -> None:
    # the standard entry states no price, so the including-fees one stands alone
    (price,) = prices_from_price_ranges(
        [
            {"type": "standard", "currency": "GBP"},
            range_entry("standard including fees", "GBP", 9, 9),
        ]
    )
    assert (price.includes_fees, price.total, price.face_value) == (True, Decimal(9), None)


def test_total_below_face_is_not_paired(caplog: pytest.LogCaptureFixture) -> None:
    prices = prices_from_price_ranges(
        [
            range_entry("standard", "USD", 50, 60),
            range_entry("standard including fees", "USD", 40, 70),
        ]
    )
    assert [(p.includes_fees, p.price) for p in prices] == [(False, D(50)), (True, D(40))]
    assert all(p.fees is None for p in prices)
    (message,) = warnings_of(caplog)
    assert "below the face value" in message


def test_malformed_price_ranges_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    good = range_entry("standard", "USD", 10, 20)
    bad: list[Any] = [
        range_entry("standard", "US", 1, 2),
        range_entry("standard", "usd1", 1, 2),
        range_entry("standard", 840, 1, 2),
        range_entry("standard", "€UR", 1, 2),
        range_entry("standard", "GBP", 30, 20),
        range_entry("standard", "GBP", -5, 20),
        range_entry("standard", "GBP", "abc", 20),
        range_entry("standard", "GBP", 10, True),
        range_entry(None, "GBP", 1, 2),
        range_entry("  ", "GBP", 1, 2),
        42,
        PriceRange.model_construct(type="standard", currency="GBP", min=Decimal(5), max=Decimal(1)),
        PriceRange.model_construct(type="standard", currency="XX", min=Decimal(1), max=Decimal(1)),
    ]
    prices = prices_from_price_ranges([*bad[:6], good, *bad[6:]])
    assert [(p.currency, p.min, p.max) for p in prices] == [("USD", D(10), D(20))]
    messages = warnings_of(caplog)
    assert len(messages) == len(bad)
    for fragment in (
        "currency 'US' is not a 3-letter code",
        "'usd1'",
        "840",
        "'€UR'",
        "min 30 > max 20",
        "negative price",
        "'abc'",
        "True",
        "type None",
        "not a price range: int",
        "min 5 > max 1",
        "'XX'",
    ):
        assert any(fragment in message for message in messages), fragment


@pytest.mark.parametrize("body", [None, "standard", b"x", 3, {"type": "standard"}])
def test_price_ranges_of_the_wrong_type(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert prices_from_price_ranges(body) == []
    assert len(warnings_of(caplog)) == 1


def test_currency_is_kept_verbatim() -> None:
    (price,) = prices_from_price_ranges([range_entry("standard", "gbp", 1, 2)])
    assert price.currency == "gbp"


# --------------------------------------------------------------------------- Commerce offers

OFFERS_2016 = "commerce_v2_offers_us_2016.json"


def expected_offer_rows(raw: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Expected entries of the 2016 fixture, computed from its raw JSON."""
    zones = {zone["id"]: zone for zone in raw["priceZones"]["_embedded"]}
    area_names = {area["id"]: area["attributes"]["name"] for area in raw["areas"]["_embedded"]}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for offer in raw["_embedded"]:
        attributes = offer["attributes"]
        for price in attributes["prices"]:
            zone = zones[price["priceZone"]]
            areas = [ref["id"] for ref in zone["relationships"]["areas"]["_embedded"]]
            rows[(offer["id"], price["priceZone"])] = {
                "section": ", ".join(area_names[area_id] for area_id in areas),
                "price_zone": zone["attributes"]["name"],
                "ticket_type": attributes["description"],
                "offer_name": attributes["name"],
                "currency": attributes["currency"],
                "face_value": Decimal(price["value"]),
                "total": Decimal(price["total"]),
                "fees": Decimal(price["total"]) - Decimal(price["value"]),
            }
    return rows


def test_offers_2016_every_offer_and_zone_matches_the_raw_json() -> None:
    raw = load(OFFERS_2016)
    expected = expected_offer_rows(raw)
    prices = prices_from_offers(raw)
    assert len(prices) == len(expected) == 36
    assert_money_is_decimal(prices)
    seen = set()
    for price in prices:
        assert price.offer_id is not None
        matches = [
            key
            for key, row in expected.items()
            if key[0] == price.offer_id and row["price_zone"] == price.price_zone
        ]
        assert len(matches) == 1
        (key,) = matches
        seen.add(key)
        row = expected[key]
        assert price.section == row["section"]
        assert price.ticket_type == row["ticket_type"] == "Standard Ticket"
        assert price.offer_name == row["offer_name"]
        assert price.currency == row["currency"]
        assert price.price == price.min == price.max == price.face_value == row["face_value"]
        assert price.total == row["total"]
        assert price.fees == row["fees"]
        assert (price.market, price.source, price.includes_fees) == ("primary", "offers", False)
    assert seen == set(expected)


def test_offers_2016_known_values() -> None:
    prices = prices_from_offers(load(OFFERS_2016))
    top = [p for p in prices if p.offer_id == "00002C0B0009"]
    assert len(top) == 6
    level2 = next(p for p in top if p.price_zone == "Price Level 2")
    assert (level2.face_value, level2.total, level2.fees) == (
        Decimal("272.00"),
        Decimal("303.00"),
        Decimal("31.00"),
    )
    assert level2.section == "ORCH, CENTER, RC, LC"
    assert level2.offer_name == "275"
    level6 = next(p for p in top if p.price_zone == "Price Level 6")
    assert level6.section == "MEZZ, RIGHT, LEFT"
    cheapest = min(prices, key=lambda p: p.price)
    assert (cheapest.price, cheapest.total, cheapest.fees) == (
        Decimal("47.00"),
        Decimal("64.00"),
        Decimal("17.00"),
    )


def to_2018_shape(node: Any) -> Any:
    """Rewrite the 2016 body in the 2018 Swagger shape: ``_embedded`` lists become ``data``."""
    if isinstance(node, list):
        return [to_2018_shape(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {("data" if key == "_embedded" else key): to_2018_shape(v) for key, v in node.items()}


def test_offers_2018_shape_gives_the_same_prices() -> None:
    raw = load(OFFERS_2016)
    body = {
        "metadata": raw["metadata"],
        "limits": raw["limits"],
        "prices": to_2018_shape(raw["prices"]),
        "offers": to_2018_shape(raw["_embedded"]),
        "_embedded": {
            "priceZones": to_2018_shape(raw["priceZones"]),
            "areas": to_2018_shape(raw["areas"]),
        },
    }
    assert "data" in body["prices"]
    assert "_embedded" not in json.dumps(body["offers"])
    assert prices_from_offers(body) == prices_from_offers(raw)


def swagger_offers_body() -> dict[str, Any]:
    """A hand-built response in the 2018 Swagger shape exercising every fallback."""
    fees = [
        {"value": "1.50", "label": "Facility", "type": "facility"},
        {"label": "Distance", "type": "distance"},
    ]
    return {
        "limits": {"max": 8},
        "prices": {"data": [{"type": "offered-prices", "attributes": {"value": "20.00"}}]},
        "offers": [
            {
                "id": "000000000001",
                "type": "offers",
                "attributes": {
                    "name": "ADULT",
                    "description": "Standard Adult",
                    "currency": "USD",
                    "prices": [
                        {"priceZone": "10", "value": "150.00", "total": "165.50"},
                        {
                            "priceZone": "11",
                            "value": "100.00",
                            "fees": fees,
                            "taxes": [{"value": "0.25", "type": "service_tax"}],
                        },
                        {"priceZone": "12", "total": "90.00"},
                        {"priceZone": "99", "value": "5.00", "total": "5.00"},
                        {"value": "1.00"},
                    ],
                },
            },
            {
                "id": "CHILD1",
                "type": "offers",
                "attributes": {"name": "CHILD", "prices": [{"priceZone": 10, "value": 75}]},
            },
            {"id": "BARE", "attributes": {"currency": "USD", "prices": [{"value": "3"}]}},
            {"id": "NOPRICES", "attributes": {"name": "X"}},
        ],
        "_embedded": {
            "priceZones": {
                "data": [
                    {
                        "id": "10",
                        "type": "price-zones",
                        "attributes": {"currency": "USD", "name": "PRICE LEVEL 2"},
                        "relationships": {
                            "areas": {"data": [{"id": "2"}, {"id": "3"}, {"id": "2"}]}
                        },
                    },
                    {
                        "id": "11",
                        "attributes": {"currency": "USD", "name": "PRICE LEVEL 3"},
                        "relationships": {"areas": {}},
                    },
                    {"id": "12", "attributes": {"currency": "USD", "name": "PRICE LEVEL 4"}},
                    {"attributes": {"currency": "USD", "name": "NO ID"}},
                ]
            },
            "areas": {
                "data": [
                    {"id": "2", "attributes": {"rank": 7, "name": "BOX2"}},
                    {"id": "3", "attributes": {"rank": 8, "name": "BOX3"}},
                    {
                        "id": "22",
                        "attributes": {"name": "BENCH"},
                        "relationships": {"priceZones": {"data": [{"id": "11"}, {"id": "13"}]}},
                    },
                ]
            },
        },
    }


def test_offers_2018_hand_built(caplog: pytest.LogCaptureFixture) -> None:
    prices = prices_from_offers(swagger_offers_body())
    rows = [
        (
            p.offer_id,
            p.ticket_type,
            p.offer_name,
            p.section,
            p.price_zone,
            p.currency,
            p.price,
            p.face_value,
            p.total,
            p.fees,
            p.includes_fees,
        )
        for p in prices
    ]
    assert rows == [
        # areas through the zone's relationships, each name once
        ("000000000001", "Standard Adult", "ADULT", "BOX2, BOX3", "PRICE LEVEL 2", "USD",
         Decimal("150.00"), Decimal("150.00"), Decimal("165.50"), Decimal("15.50"), False),
        # no areas in the zone's relationships: the areas that point at the zone; no total:
        # fees are the itemised fees plus taxes (an item without a value itemises nothing)
        ("000000000001", "Standard Adult", "ADULT", "BENCH", "PRICE LEVEL 3", "USD",
         Decimal("100.00"), Decimal("100.00"), None, Decimal("1.75"), False),
        # no areas anywhere: the zone name; a total without a value is the price
        ("000000000001", "Standard Adult", "ADULT", "PRICE LEVEL 4", "PRICE LEVEL 4", "USD",
         Decimal("90.00"), None, Decimal("90.00"), None, True),
        # an unknown zone, and no zone at all
        ("000000000001", "Standard Adult", "ADULT", None, None, "USD",
         Decimal("5.00"), Decimal("5.00"), Decimal("5.00"), Decimal("0.00"), False),
        ("000000000001", "Standard Adult", "ADULT", None, None, "USD",
         Decimal("1.00"), Decimal("1.00"), None, None, False),
        # currency from the price zone, ticket type from the name
        ("CHILD1", "CHILD", "CHILD", "BOX2, BOX3", "PRICE LEVEL 2", "USD",
         Decimal(75), Decimal(75), None, None, False),
        ("BARE", "unknown", None, None, None, "USD",
         Decimal(3), Decimal(3), None, None, False),
    ]  # fmt: skip
    assert warnings_of(caplog) == []
    assert_money_is_decimal(prices)


def test_offers_2016_style_price_zones_key() -> None:
    body = {
        "price-zones": {
            "_embedded": [{"id": "1", "attributes": {"name": "PL1", "currency": "CAD"}}]
        },
        "_embedded": [{"id": "X", "attributes": {"prices": [{"priceZone": "1", "value": "9"}]}}],
    }
    (price,) = prices_from_offers(body)
    assert (price.section, price.price_zone, price.currency) == ("PL1", "PL1", "CAD")


def test_malformed_offer_prices_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    raw = load(OFFERS_2016)
    body = copy.deepcopy(raw)
    first = body["_embedded"][0]["attributes"]["prices"]
    first[0]["value"] = "abc"
    first[1]["total"] = "-3.00"
    first[2]["total"] = "1.00"  # below the face value
    first[3]["currency"] = "US$"
    first[4] = "not an object"
    del first[5]["value"]
    del first[5]["total"]
    second = body["_embedded"][1]["attributes"]["prices"]
    del second[0]["total"]
    second[0]["fees"][1]["value"] = "lots"  # a bad itemised fee: fees unknown, price kept

    prices = prices_from_offers(body)
    assert len(prices) == 36 - 6
    messages = warnings_of(caplog)
    for fragment in (
        "face value: not a price: 'abc'",
        "total: negative price: '-3.00'",
        "total 1.00 is below the face value 272.00",
        "currency 'US$' is not a 3-letter code",
        "price #4: not an object",
        "neither a face value nor a total",
        "ignoring the itemised fees",
    ):
        assert any(fragment in message for message in messages), fragment
    assert all(body["_embedded"][0]["id"] in m for m in messages if "itemised" not in m)
    kept = next(
        p
        for p in prices
        if p.offer_id == body["_embedded"][1]["id"] and p.price_zone == "Price Level 1"
    )
    assert (kept.face_value, kept.total, kept.fees) == (Decimal("247.00"), None, None)


@pytest.mark.parametrize("body", [None, [], "offers", 42, 1.5, True])
def test_offers_body_of_the_wrong_type(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert prices_from_offers(body) == []
    assert len(warnings_of(caplog)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"_embedded": []},
        {"offers": {"data": []}},
        {"offers": [1, "x", None]},
        {"_embedded": {"offers": {"data": [{"id": "A", "attributes": {"prices": []}}]}}},
        load("commerce_v2_offers_error_500_event_not_found.json"),
    ],
)
def test_offers_with_nothing_priced(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert prices_from_offers(body) == []
    assert warnings_of(caplog) == []


# --------------------------------------------------------------------------- Top Picks

TOP_PICKS = "top_picks_v1_docs_example.json"


def test_top_picks_docs_example_matches_the_raw_json() -> None:
    raw = load(TOP_PICKS)
    (pick,) = raw["picks"]
    (offer,) = raw["_embedded"]["offer"]
    (price,) = prices_from_top_picks(raw)
    assert price.market == "primary"
    assert price.source == "top_picks"
    assert price.section == pick["section"] == "103"
    assert price.area == pick["area"]["name"]
    assert price.row == pick["row"]
    assert price.seats == pick["seats"]
    assert price.description == "Full View"
    assert price.quality == pick["quality"]
    assert price.offer_id == offer["offerId"]
    assert price.ticket_type == offer["description"] == "Standard Ticket"
    assert price.currency == offer["currency"]
    assert price.price == price.min == price.max == price.face_value
    assert price.face_value == raw_decimal(offer["faceValue"]) == Decimal("76.5")
    assert price.total == raw_decimal(offer["totalPrice"]) == Decimal("93.25")
    charges = sum(raw_decimal(charge["amount"]) for charge in offer["charges"])
    assert price.fees == charges == Decimal("16.75")
    assert price.includes_fees is False
    assert_money_is_decimal([price])


@pytest.mark.parametrize(
    ("selection", "market"),
    [("resale", "resale"), ("RESALE ", "resale"), ("standard", "primary"), (None, "primary")],
)
def test_top_picks_resale_selection(selection: Any, market: str) -> None:
    raw = load(TOP_PICKS)
    raw["picks"][0]["selection"] = selection
    (price,) = prices_from_top_picks(raw)
    assert price.market == market
    assert price.face_value == Decimal("76.5")


def test_top_picks_primary_and_resale_together() -> None:
    raw = load(TOP_PICKS)
    resale = copy.deepcopy(raw["picks"][0])
    resale.update(selection="resale", section="104", row=7, seats=[9, 10, None])
    raw["picks"].append(resale)
    primary, second = prices_from_top_picks(raw)
    assert (primary.market, primary.section) == ("primary", "103")
    assert (second.market, second.section, second.row, second.seats) == (
        "resale",
        "104",
        "7",
        ["9", "10"],
    )


def test_top_picks_fallbacks(caplog: pytest.LogCaptureFixture) -> None:
    raw = load(TOP_PICKS)
    offer = raw["_embedded"]["offer"][0]
    no_charges = dict(offer, offerId="NOCHARGE", charges=[], name="Resale Ticket", description="")
    bad_charge = dict(
        offer, offerId="BADCHARGE", charges=[{"amount": "x"}], name=None, description=None
    )
    raw["_embedded"]["offer"] += [no_charges, bad_charge, {"name": "an offer without an id"}]
    pick = raw["picks"][0]
    plain = {
        "type": "general-seating",
        "area": {"name": "FLOOR"},
        "offers": [{"offerId": "NOCHARGE"}],
    }
    raw["picks"] = [
        pick,
        plain,
        dict(plain, section=None, offers=["BADCHARGE", "MISSING"]),
        "not a pick",
        {"section": "5"},
    ]
    prices = prices_from_top_picks(raw)
    assert [(p.offer_id, p.section, p.area, p.ticket_type, p.fees) for p in prices] == [
        ("GJ6DC7BQ", "103", "L100", "Standard Ticket", Decimal("16.75")),
        ("NOCHARGE", "FLOOR", "FLOOR", "Resale Ticket", Decimal("16.75")),
        ("BADCHARGE", "FLOOR", "FLOOR", "unknown", Decimal("16.75")),
    ]
    assert (prices[1].row, prices[1].seats, prices[1].quality) == (None, None, None)
    messages = warnings_of(caplog)
    assert len(messages) == 3
    assert any("ignoring the itemised charges" in m and "BADCHARGE" in m for m in messages)
    assert any("'MISSING'" in m and "no such offer" in m for m in messages)
    assert any("pick #3: not an object" in m for m in messages)


def test_top_picks_charges_win_over_total_minus_face() -> None:
    raw = load(TOP_PICKS)
    raw["_embedded"]["offer"][0]["totalPrice"] = 100  # docs: may omit order processing fees
    (price,) = prices_from_top_picks(raw)
    assert (price.total, price.fees) == (Decimal(100), Decimal("16.75"))


def test_malformed_top_pick_offers_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    raw = load(TOP_PICKS)
    offer = raw["_embedded"]["offer"][0]
    raw["_embedded"]["offers"] = raw["_embedded"].pop("offer")  # the plural key is read too
    variants = {
        "NOCUR": dict(offer, currency=None),
        "BADFACE": dict(offer, faceValue="free"),
        "NEG": dict(offer, totalPrice=-1),
        "LOW": dict(offer, totalPrice=10),
    }
    for offer_id, variant in variants.items():
        raw["_embedded"]["offers"].append(dict(variant, offerId=offer_id))
    raw["picks"][0]["offers"] += list(variants)
    (price,) = prices_from_top_picks(raw)
    assert price.offer_id == "GJ6DC7BQ"
    messages = warnings_of(caplog)
    assert len(messages) == 4
    for offer_id, fragment in (
        ("NOCUR", "currency None"),
        ("BADFACE", "face value: not a price: 'free'"),
        ("NEG", "total price: negative price: -1"),
        ("LOW", "total 10 is below the face value 76.5"),
    ):
        assert any(offer_id in m and fragment in m for m in messages), offer_id


@pytest.mark.parametrize(
    "body",
    [None, [], "picks", 7],
)
def test_top_picks_body_of_the_wrong_type(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert prices_from_top_picks(body) == []
    assert len(warnings_of(caplog)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"picks": None},
        {"picks": []},
        {"picks": [{"offers": None}]},
        {"picks": [{"offers": []}]},
    ],
)
def test_top_picks_with_nothing_priced(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert prices_from_top_picks(body) == []
    assert warnings_of(caplog) == []


# --------------------------------------------------------------------------- merging


def test_merge_orders_sources_as_given_and_drops_duplicates() -> None:
    offers = prices_from_offers(load(OFFERS_2016))
    picks = prices_from_top_picks(load(TOP_PICKS))
    raw = next(event for event in events(GB_PAGE) if event["id"] == "1FuYv9b00bZ7GeGe")
    ranges = prices_from_price_ranges(Event.model_validate(raw).price_ranges)

    merged = merge_prices(offers, picks, ranges, list(reversed(offers)), picks)
    assert len(merged) == len(offers) + len(picks) + len(ranges) == 38
    assert [p.source for p in merged] == ["offers"] * 36 + ["top_picks", "price_ranges"]
    offer_prices = [p.price for p in merged[:36]]
    assert offer_prices == sorted(offer_prices)
    # stable: equal prices keep the order they were given in
    first_47 = [p.price_zone for p in merged[:6]]
    assert first_47 == [p.price_zone for p in offers if p.price == Decimal("47.00")]

    reordered = merge_prices(ranges, picks, offers)
    assert [p.source for p in reordered][:2] == ["price_ranges", "top_picks"]
    assert merge_prices() == []
    assert merge_prices([], []) == []


def test_merge_sorts_by_currency_then_price_within_a_source() -> None:
    merged = merge_prices(
        [
            ticket(currency="USD", price=Decimal(5)),
            ticket(currency="GBP", price=Decimal(9)),
            ticket(source="offers", price=Decimal(50)),
            ticket(currency="GBP", price=Decimal(3)),
        ]
    )
    assert [(p.source, p.currency, p.price) for p in merged] == [
        ("price_ranges", "GBP", D(3)),
        ("price_ranges", "GBP", D(9)),
        ("price_ranges", "USD", D(5)),
        ("offers", "USD", D(50)),
    ]


def test_merge_duplicates_are_exact() -> None:
    one = ticket(price=Decimal("10.0"), seats=["1", "2"], tags={"a"})
    same = ticket(price=Decimal("10"), seats=["1", "2"], tags={"a"})
    other_seats = ticket(price=Decimal("10"), seats=["2", "1"], tags={"a"})
    other_market = ticket(market="resale")
    merged = merge_prices([one, same], [other_seats, other_market, one])
    assert merged == [one, other_seats, other_market]
    assert merged[0] is one
