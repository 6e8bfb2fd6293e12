"""What the command line shows: the models as tables and key/value blocks (laid out to fit
the terminal by :mod:`.layout`), and their values as short text.

Which columns give way on a narrow terminal: a search drops PLACE, then VENUE; a price table
drops SOURCE, then MARKET, then ZONE; names, venues and sections are cut with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from rich.table import Table

from ..models import (
    Attraction,
    Event,
    FieldChange,
    PricePoint,
    PriceRange,
    TicketPrice,
    UsageStats,
    Venue,
)
from ..models._base import FreshModel, zone
from .layout import NO_VALUE, Column, fitted_table, key_values

__all__ = [
    "NO_VALUE",
    "attractions_table",
    "change_value",
    "event_block",
    "events_table",
    "format_instant",
    "format_money",
    "format_place",
    "format_price_range",
    "format_range",
    "format_start",
    "history_table",
    "prices_table",
    "stale_note",
    "usage_block",
    "venue_block",
    "venues_table",
]

TBA = "TBA"
MONEY_PLACES = 2
#: Marks a row served stale (explained by :func:`stale_note` under the table).
STALE_MARK = "*"


# -- values ----------------------------------------------------------------------------------


def format_instant(moment: datetime | None, tz_name: str | None = None) -> str:
    """``2021-03-11 18:00 GMT``: the instant in the IANA zone ``tz_name`` (UTC when unknown)."""
    if moment is None:
        return NO_VALUE
    tz = zone(tz_name)
    local = moment.astimezone(tz) if tz is not None else moment.astimezone(timezone.utc)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return NO_VALUE
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def event_zone(event: Event) -> str | None:
    """The zone an event's times are shown in: its venue's, else its own."""
    venue_zone = event.venue.timezone if event.venue is not None else None
    return venue_zone if zone(venue_zone) is not None else event.timezone


def format_start(event: Event) -> str:
    """The event's start in its venue's local time with the zone abbreviation
    (``2021-03-11 18:00 GMT``); ``TBA`` (after the date, when known) when there is no time."""
    if event.start is None:
        return f"{event.local_date.isoformat()} {TBA}" if event.local_date else TBA
    return format_instant(event.start, event_zone(event))


def format_money(amount: Decimal | None) -> str:
    """A money amount with at least two decimal places (more only when the API gave more)."""
    if amount is None:
        return NO_VALUE
    exponent = amount.as_tuple().exponent
    places = max(MONEY_PLACES, -exponent) if isinstance(exponent, int) else MONEY_PLACES
    return f"{amount:.{places}f}"


def format_range(low: Decimal | None, high: Decimal | None) -> str:
    """``low`` alone when both ends are equal, else ``low–high``."""
    if low is None and high is None:
        return NO_VALUE
    if low == high or high is None:
        return format_money(low)
    return f"{format_money(low)}–{format_money(high)}"


def format_place(venue: Venue | None) -> str:
    """``City, CC`` (or what is known of it)."""
    if venue is None:
        return NO_VALUE
    parts = [part for part in (venue.city, venue.state_code, venue.country_code) if part]
    return ", ".join(parts) if parts else NO_VALUE


def format_price_range(price_range: PriceRange) -> str:
    """``standard: GBP 40.00–159.50``."""
    amounts = format_range(price_range.min, price_range.max)
    return f"{price_range.type}: {price_range.currency} {amounts}"


def _price_ranges(ranges: Sequence[PriceRange]) -> str:
    return "; ".join(format_price_range(pr) for pr in ranges) or "none"


def change_value(change: FieldChange, tz_name: str | None = None) -> tuple[str, str]:
    """A watched field's value before and after, as short text."""
    return _field_text(change.before, tz_name), _field_text(change.after, tz_name)


def _field_text(value: Any, tz_name: str | None) -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        return format_instant(value, tz_name)
    if isinstance(value, str):  # EventStatus is a str enum: its value, not its repr
        return str(getattr(value, "value", value))
    if isinstance(value, tuple):  # a sale: (start, end); a presale: (name, start, end)
        return " – ".join(_field_text(part, tz_name) for part in value)
    if isinstance(value, list):
        if all(isinstance(item, PriceRange) for item in value):
            return _price_ranges(value)
        return "; ".join(_field_text(item, tz_name) for item in value) or "none"
    return str(value)


# -- the models ------------------------------------------------------------------------------


def _stale(model: FreshModel) -> str:
    return STALE_MARK if model.stale else ""


def stale_note(models: Iterable[FreshModel]) -> str | None:
    """The footnote that explains the stale marks, with the oldest stale answer's time;
    ``None`` when nothing is stale."""
    stale = [model for model in models if model.stale]
    if not stale:
        return None
    times = [model.fetched_at for model in stale if model.fetched_at is not None]
    when = f" from {_utc(min(times))}" if times else ""
    return f"{STALE_MARK} stale: the API was down; cached answer{when}"


EVENT_COLUMNS = (
    Column("WHEN", wrap=True),
    Column("NAME", shrink_to=16),
    Column("VENUE", shrink_to=12, drop=1),
    Column("PLACE", shrink_to=10, drop=2),
    Column("STATUS"),
    Column("ID"),
)


def events_table(events: Sequence[Event], *, width: int) -> Table:
    """Events: when (venue time), name, venue, place, status (``*``: stale), id."""
    rows = [
        [
            format_start(event),
            event.name or NO_VALUE,
            (event.venue.name if event.venue else None) or NO_VALUE,
            format_place(event.venue),
            event.status.value + _stale(event),
            event.id,
        ]
        for event in events
    ]
    return fitted_table(EVENT_COLUMNS, rows, width=width)


def event_block(event: Event) -> Table:
    """One event as a key/value block."""
    venue = event.venue
    venue_text = NO_VALUE
    if venue is not None:
        venue_text = f"{venue.name or NO_VALUE} ({venue.id})"
    public = event.sales.public if event.sales is not None else None
    on_sale = NO_VALUE
    if public is not None and (public.start or public.end):
        tz_name = event_zone(event)
        on_sale = f"{format_instant(public.start, tz_name)} – {format_instant(public.end, tz_name)}"
    pairs = [
        ("name", event.name or NO_VALUE),
        ("id", event.id),
        ("status", event.status.value),
        ("when", format_start(event)),
        ("venue", venue_text),
        ("city", format_place(venue)),
        ("sale", on_sale),
        ("url", event.url or NO_VALUE),
        ("prices", "\n".join(format_price_range(pr) for pr in event.price_ranges)),
    ]
    return key_values(pairs + _freshness(event))


def _freshness(model: FreshModel) -> list[tuple[str, str]]:
    if not model.stale:
        return []
    return [("fetched", f"{_utc(model.fetched_at)} (stale: the API was unavailable)")]


def _fees(price: TicketPrice) -> str:
    if price.fees is not None:
        return format_money(price.fees)
    return "incl." if price.includes_fees else NO_VALUE


def _zone_of(price: TicketPrice) -> str:
    place = price.price_zone or price.area or ""
    if price.row:
        place = f"{place} row {price.row}".strip()
    return place or NO_VALUE


def prices_table(prices: Sequence[TicketPrice], *, width: int) -> Table:
    """Ticket prices: section, ticket type, market, price, fees, currency, source.

    A ZONE column (Commerce price zone, or Top Picks area and row) follows the section when any
    price has one: without it, rows of the same section in different zones look duplicated.
    """
    with_zone = any(price.price_zone or price.area or price.row for price in prices)
    columns = [
        Column("SECTION", shrink_to=10),
        Column("ZONE", shrink_to=10, drop=2),
        Column("TICKET TYPE", shrink_to=10),
        Column("MARKET", drop=1),
        Column("PRICE", right=True),
        Column("FEES", right=True),
        Column("CURRENCY"),
        Column("SOURCE", drop=3),
    ]
    rows = [
        [
            price.section or NO_VALUE,
            _zone_of(price),
            price.ticket_type,
            price.market,
            format_range(price.min, price.max),
            _fees(price),
            price.currency,
            price.source,
        ]
        for price in prices
    ]
    if not with_zone:
        del columns[1]
        for row in rows:
            del row[1]
    return fitted_table(columns, rows, width=width)


def venue_block(venue: Venue) -> Table:
    """One venue as a key/value block."""
    location = NO_VALUE
    if venue.latitude is not None and venue.longitude is not None:
        location = f"{venue.latitude}, {venue.longitude}"
    address = "\n".join(venue.address_lines) if venue.address_lines else venue.address
    pairs = [
        ("name", venue.name or NO_VALUE),
        ("id", venue.id),
        ("address", address or NO_VALUE),
        ("city", venue.city or NO_VALUE),
        ("state", venue.state_code or NO_VALUE),
        ("postal code", venue.postal_code or NO_VALUE),
        ("country", venue.country_code or NO_VALUE),
        ("time zone", venue.timezone or NO_VALUE),
        ("location", location),
        ("url", venue.url or NO_VALUE),
    ]
    return key_values(pairs + _freshness(venue))


def venues_table(venues: Sequence[Venue], *, width: int) -> Table:
    """Venues: name (``*``: stale), place, id."""
    rows = [
        [(venue.name or NO_VALUE) + _stale(venue), format_place(venue), venue.id]
        for venue in venues
    ]
    columns = (Column("NAME", shrink_to=12), Column("PLACE", shrink_to=8, drop=1), Column("ID"))
    return fitted_table(columns, rows, width=width)


def attractions_table(attractions: Sequence[Attraction], *, width: int) -> Table:
    """Attractions: name (``*``: stale), upcoming events, id."""
    rows = [
        [
            (attraction.name or NO_VALUE) + _stale(attraction),
            NO_VALUE if attraction.upcoming_events is None else str(attraction.upcoming_events),
            attraction.id,
        ]
        for attraction in attractions
    ]
    columns = (Column("NAME", shrink_to=12), Column("UPCOMING", right=True, drop=1), Column("ID"))
    return fitted_table(columns, rows, width=width)


def history_table(points: Sequence[PricePoint], *, width: int) -> Table:
    """Price history: when it was seen (UTC), status, price ranges (they wrap)."""
    rows = [
        [_utc(point.at), point.status.value, _price_ranges(point.price_ranges)] for point in points
    ]
    columns = (Column("SEEN"), Column("STATUS"), Column("PRICES", wrap=True))
    return fitted_table(columns, rows, width=width)


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def usage_block(stats: UsageStats) -> Table:
    """Usage statistics as a key/value block."""
    errors = ", ".join(f"{name} {count}" for name, count in stats.errors.items()) or "none"
    latency = (
        "  ".join(f"{name} {value:.1f} ms" for name, value in stats.latency_ms.items())
        or "no requests yet"
    )
    return key_values(
        [
            ("requests today", str(stats.requests_today)),
            ("daily limit", str(stats.daily_limit)),
            ("quota remaining", str(stats.quota_remaining)),
            ("quota resets at", _utc(stats.quota_resets_at)),
            ("cache hits", str(stats.cache_hits)),
            ("cache misses", str(stats.cache_misses)),
            ("cache hit rate", _percent(stats.cache_hit_rate)),
            ("stale served", str(stats.stale_served)),
            ("coalesced", str(stats.coalesced)),
            ("errors", errors),
            ("error rate", _percent(stats.error_rate)),
            ("latency", latency),
            ("circuit breaker", stats.breaker_state),
        ]
    )
