"""Event model: one raw Discovery event object in, typed and timezone-aware fields out."""

from __future__ import annotations

import enum
import logging
from datetime import date, datetime, tzinfo
from typing import Any

from pydantic import Field, field_validator, model_validator

from .._constants import LOGGER_NAME
from ._base import (
    TMModel,
    as_str,
    get_path,
    local_to_utc,
    parse_date,
    parse_datetime_utc,
    parse_time,
    to_zone,
    zone,
)
from ._lenient import valid_entries
from .attraction import Attraction
from .classification import Classification
from .extras import Accessibility, AgeRestrictions, Outlet, Product, Promoter
from .media import Image, best_image
from .sales import Presale, PriceRange, PublicSale, Sales
from .venue import Venue

__all__ = ["Event", "EventStatus", "Presale", "PriceRange", "PublicSale", "Sales"]

logger = logging.getLogger(LOGGER_NAME)

#: Flags of a ``dates.start``-like object saying its wall time is not known.
_NO_TIME_FLAGS = ("timeTBA", "noSpecificTime", "dateTBA", "dateTBD")


class EventStatus(str, enum.Enum):
    """``dates.status.code``; ``canceled`` maps to ``cancelled``, anything else to ``unknown``."""

    ONSALE = "onsale"
    OFFSALE = "offsale"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"
    RESCHEDULED = "rescheduled"
    UNKNOWN = "unknown"

    @classmethod
    def from_code(cls, code: Any) -> EventStatus:
        """Map a raw status code (any spelling or type) to a member."""
        if not isinstance(code, str):
            return cls.UNKNOWN
        text = code.strip().lower()
        if text == "canceled":
            return cls.CANCELLED
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN


def _instant(part: Any, tz: tzinfo | None, where: str) -> datetime | None:
    """The UTC instant of a ``{localDate, localTime, dateTime, …TBA}`` object (``where`` names it
    in a WARNING when it is not an object).

    ``dateTime`` when present, else ``localDate`` + ``localTime`` in ``tz``, else ``None`` (also
    when a TBA/TBD/no-specific-time flag says the wall time is not known, or the instant cannot
    be represented).
    """
    if not isinstance(part, dict):
        if part is not None:
            logger.warning("ignored the malformed %s", where)
        return None
    moment = parse_datetime_utc(part.get("dateTime"))
    if moment is not None or tz is None:
        return moment
    if any(part.get(flag) is True for flag in _NO_TIME_FLAGS):
        return None
    day, at = parse_date(part.get("localDate")), parse_time(part.get("localTime"))
    return local_to_utc(day, at, tz) if day is not None and at is not None else None


class Event(TMModel):
    """An event. ``Event.model_validate(raw)`` parses one raw Discovery event object.

    Dates are aware: ``start`` is the UTC instant (from ``dates.start.dateTime``, else
    ``localDate`` + ``localTime`` in the event's zone, else ``None`` when the time is TBA/TBD or
    not specific); ``local_start`` is the same instant in the event's IANA zone
    (``dates.timezone``, else the venue's). ``end`` (``dates.end``), ``initial_start`` (a
    rescheduled event's ``dates.initialStartDate``) and ``doors_open`` (``doorsTimes``) follow
    the same rules. A date that cannot be represented (outside years 1–9999 once converted) is
    ``None``, with a WARNING.

    ``venue`` is the first of ``venues``, a convenience left out of dumps. ``missing_fields``
    names which of name/venue/start/price_ranges the API left out. ``seatmap_url`` is
    ``seatmap.staticUrl`` and ``ticket_limit`` is ``ticketLimit.info``; ``distance`` and
    ``units`` are present on geo searches.
    """

    _API_PATHS = {
        "price_ranges": ("priceRanges",),
        "attractions": ("_embedded", "attractions"),
        "venues": ("_embedded", "venues"),
        "please_note": ("pleaseNote",),
        "seatmap_url": ("seatmap", "staticUrl"),
        "ticket_limit": ("ticketLimit", "info"),
        "age_restrictions": ("ageRestrictions",),
    }

    id: str
    name: str = ""
    type: str | None = None
    url: str | None = None
    locale: str | None = None
    test: bool = False
    status: EventStatus = EventStatus.UNKNOWN
    status_code: str | None = None
    start: datetime | None = None
    local_start: datetime | None = None
    local_date: date | None = None
    end: datetime | None = None
    initial_start: datetime | None = None
    doors_open: datetime | None = None
    span_multiple_days: bool = False
    timezone: str | None = None
    venue: Venue | None = Field(default=None, exclude=True)
    venues: list[Venue] = Field(default_factory=list)
    attractions: list[Attraction] = Field(default_factory=list)
    classifications: list[Classification] = Field(default_factory=list)
    price_ranges: list[PriceRange] = Field(default_factory=list)
    sales: Sales | None = None
    images: list[Image] = Field(default_factory=list)
    info: str | None = None
    please_note: str | None = None
    seatmap_url: str | None = None
    ticket_limit: str | None = None
    age_restrictions: AgeRestrictions | None = None
    accessibility: Accessibility | None = None
    promoter: Promoter | None = None
    promoters: list[Promoter] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    outlets: list[Outlet] = Field(default_factory=list)
    distance: float | None = None
    units: str | None = None
    missing_fields: list[str] = Field(default_factory=list)

    def best_image(self, ratio: str | None = "16_9", *, min_width: int = 0) -> Image | None:
        """The image to show: the widest non-fallback image of ``ratio`` at least ``min_width``
        wide; else the widest non-fallback image of any ratio at least that wide; else the
        widest image of all. ``ratio=None`` means any ratio.

        Returns:
            The chosen image; ``None`` only when the event has no images.
        """
        return best_image(self.images, ratio, min_width=min_width)

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        out = super()._prepare(data)
        name = out.get("name")
        if not isinstance(name, str):
            out["name"] = as_str(name) or ""
            if name is not None and not out["name"]:
                logger.warning("ignored the malformed name of %s", cls._owner(out))
        if "venues" in out:
            # Parsed here rather than by the field: the first venue's zone places local times.
            venues = valid_entries(
                out["venues"], Venue.model_validate, lambda: f"venues of {cls._owner(out)}"
            )
            out["venues"] = venues
            out.setdefault("venue", venues[0] if venues else None)
        dates = out.get("dates")
        if dates is not None and not isinstance(dates, dict):
            logger.warning("ignored the malformed dates of %s", cls._owner(out))
            dates = None
        venue_zone = getattr(out.get("venue"), "timezone", None)
        zone_name = next(
            (
                candidate.strip()
                for candidate in (get_path(dates, "timezone"), venue_zone)
                if isinstance(candidate, str) and zone(candidate) is not None
            ),
            None,
        )
        tz = zone(zone_name)
        if dates is not None:
            cls._apply_dates(out, dates, zone_name, tz)
        if "doorsTimes" in out:
            where = f"doorsTimes of {cls._owner(out)}"
            out.setdefault("doors_open", _instant(out["doorsTimes"], tz, where))
        return out

    @classmethod
    def _apply_dates(
        cls, out: dict[str, Any], dates: dict[str, Any], zone_name: str | None, tz: tzinfo | None
    ) -> None:
        owner = cls._owner(out)
        code = get_path(dates, "status", "code")
        out.setdefault("status", EventStatus.from_code(code))
        out.setdefault("status_code", code if isinstance(code, str) else None)
        out.setdefault("timezone", zone_name)
        start = _instant(dates.get("start"), tz, f"dates.start of {owner}")
        local_start = to_zone(start, tz) if start is not None and tz is not None else None
        local_date = parse_date(get_path(dates, "start", "localDate"))
        if local_date is None and local_start is not None:
            local_date = local_start.date()
        out.setdefault("start", start)
        out.setdefault("local_start", local_start)
        out.setdefault("local_date", local_date)
        if dates.get("spanMultipleDays") is not None:
            out.setdefault("span_multiple_days", dates["spanMultipleDays"])
        out.setdefault("end", _instant(dates.get("end"), tz, f"dates.end of {owner}"))
        initial = dates.get("initialStartDate")
        out.setdefault("initial_start", _instant(initial, tz, f"initialStartDate of {owner}"))

    @field_validator("start", "local_start", "end", "initial_start", "doors_open")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be timezone-aware")
        return value

    @model_validator(mode="after")
    def _derived(self) -> Event:
        # ``venue`` is ``venues[0]``; ``_prepare`` fills it from ``venues``, this the other way.
        if self.venue is not None and not self.venues:
            self.venues = [self.venue]
        if "missing_fields" not in self.model_fields_set:
            self.missing_fields = [
                field
                for field, missing in (
                    ("name", not self.name),
                    ("venue", self.venue is None),
                    ("price_ranges", not self.price_ranges),
                    ("start", self.start is None),
                )
                if missing
            ]
        return self
