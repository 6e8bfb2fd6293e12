"""Event model: one raw Discovery event object in, typed and timezone-aware fields out."""

from __future__ import annotations

import enum
import logging
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from ._base import (
    TMModel,
    as_str,
    get_path,
    parse_date,
    parse_datetime_utc,
    parse_money,
    zone,
)
from .attraction import Attraction, Classification
from .venue import Venue

__all__ = ["Event", "EventStatus", "Presale", "PriceRange", "PublicSale", "Sales"]

logger = logging.getLogger("ticketmaster_async")


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


class PriceRange(TMModel):
    """One ``priceRanges[]`` entry: ``standard`` = face value, ``... including fees`` = total."""

    type: str
    currency: str
    min: Decimal | None = None
    max: Decimal | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Decimal | None:
        return None if value is None else parse_money(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"not an ISO 4217 currency code: {value!r}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> PriceRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self


class PublicSale(TMModel):
    """``sales.public``: the general on-sale window."""

    start: datetime | None = Field(default=None, alias="startDateTime")
    end: datetime | None = Field(default=None, alias="endDateTime")
    start_tbd: bool | None = Field(default=None, alias="startTBD")
    start_tba: bool | None = Field(default=None, alias="startTBA")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> datetime | None:
        return parse_datetime_utc(value)


class Presale(PublicSale):
    """One ``sales.presales[]`` entry."""

    name: str | None = None
    description: str | None = None
    url: str | None = None


class Sales(TMModel):
    """``sales``: the public window and any presales."""

    public: PublicSale | None = None
    presales: list[Presale] = []

    @field_validator("public", mode="before")
    @classmethod
    def _public(cls, value: Any) -> Any:
        return value if isinstance(value, (dict, PublicSale)) else None

    @field_validator("presales", mode="before")
    @classmethod
    def _presales(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return []
        return [p for p in value if isinstance(p, (dict, Presale))]


def _valid_items(raw: Any, model: type[TMModel], what: str, event_id: Any) -> list[Any]:
    """The entries of ``raw`` that ``model`` accepts; the others are logged and dropped."""
    if not isinstance(raw, list):
        return []
    kept: list[Any] = []
    for item in raw:
        try:
            kept.append(model.model_validate(item))
        except ValidationError as exc:
            logger.warning(
                "dropped a malformed %s of event %r: %s",
                what,
                event_id,
                "; ".join(e["msg"] for e in exc.errors(include_url=False, include_input=False)),
            )
    return kept


def _parse_local_time(value: Any) -> time | None:
    if not isinstance(value, str):
        return None
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        return None


class Event(TMModel):
    """An event. ``Event.model_validate(raw)`` parses one raw Discovery event object.

    ``start`` is the UTC instant (from ``dates.start.dateTime``, else ``localDate`` +
    ``localTime`` in the event's zone, else ``None`` when the time is TBA/TBD or not specific);
    ``local_start`` is the same instant in the event's IANA zone (``dates.timezone``, else the
    venue's). ``missing_fields`` names which of name/venue/start/price_ranges the API left out.
    """

    id: str
    name: str = ""
    url: str | None = None
    locale: str | None = None
    status: EventStatus = EventStatus.UNKNOWN
    status_code: str | None = None
    start: datetime | None = None
    local_start: datetime | None = None
    local_date: date | None = None
    timezone: str | None = None
    venue: Venue | None = None
    venues: list[Venue] = []
    attractions: list[Attraction] = []
    classifications: list[Classification] = []
    price_ranges: list[PriceRange] = []
    sales: Sales | None = None
    missing_fields: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        event_id = out.get("id")
        if not isinstance(event_id, str) and event_id is not None:
            out["id"] = as_str(event_id) or event_id
        missing: list[str] = []

        name = out.get("name")
        if not isinstance(name, str) or not name:
            out["name"] = as_str(name) or ""
            missing.append("name")
        for key in ("url", "locale"):
            if key in out and not isinstance(out[key], str):
                out[key] = as_str(out[key])

        venues: list[Venue] | None = None
        if "_embedded" in out:
            embedded = out.get("_embedded")
            venues = _valid_items(get_path(embedded, "venues"), Venue, "venue", event_id)
            out.setdefault(
                "attractions",
                _valid_items(get_path(embedded, "attractions"), Attraction, "attraction", event_id),
            )
        elif isinstance(out.get("venues"), list):
            venues = _valid_items(out["venues"], Venue, "venue", event_id)
        if venues is not None:
            out["venues"] = venues
            out.setdefault("venue", venues[0] if venues else None)
        if not out.get("venue"):
            missing.append("venue")

        if "classifications" in out:
            out["classifications"] = _valid_items(
                out["classifications"], Classification, "classification", event_id
            )
        if "sales" in out and not isinstance(out["sales"], (dict, Sales)):
            out["sales"] = None

        if "priceRanges" in out:
            out["price_ranges"] = _valid_items(
                out["priceRanges"], PriceRange, "price range", event_id
            )
        elif "price_ranges" in out:
            out["price_ranges"] = _valid_items(
                out["price_ranges"], PriceRange, "price range", event_id
            )
        if not out.get("price_ranges"):
            missing.append("price_ranges")

        dates = out.get("dates")
        if isinstance(dates, dict):
            cls._apply_dates(out, dates)
        if out.get("start") is None:
            missing.append("start")
        out.setdefault("missing_fields", missing)
        return out

    @staticmethod
    def _apply_dates(out: dict[str, Any], dates: dict[str, Any]) -> None:
        code = get_path(dates, "status", "code")
        out.setdefault("status", EventStatus.from_code(code))
        out.setdefault("status_code", code if isinstance(code, str) else None)

        venue = out.get("venue")
        venue_zone_name = venue.timezone if isinstance(venue, Venue) else None
        zone_name: str | None = None
        for candidate in (dates.get("timezone"), venue_zone_name):
            if zone(candidate) is not None:
                zone_name = str(candidate).strip()
                break
        tz = zone(zone_name)
        out.setdefault("timezone", zone_name)

        start_raw = dates.get("start")
        start_raw = start_raw if isinstance(start_raw, dict) else {}
        local_date = parse_date(start_raw.get("localDate"))
        start = parse_datetime_utc(start_raw.get("dateTime"))
        no_time = any(
            start_raw.get(flag) is True
            for flag in ("timeTBA", "noSpecificTime", "dateTBA", "dateTBD")
        )
        if start is None and not no_time and local_date is not None and tz is not None:
            local_time = _parse_local_time(start_raw.get("localTime"))
            if local_time is not None:
                start = datetime.combine(local_date, local_time, tzinfo=tz).astimezone(timezone.utc)
        local_start = start.astimezone(tz) if start is not None and tz is not None else None
        if local_date is None and local_start is not None:
            local_date = local_start.date()
        out.setdefault("start", start)
        out.setdefault("local_start", local_start)
        out.setdefault("local_date", local_date)

    @field_validator("start", "local_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be timezone-aware")
        return value
