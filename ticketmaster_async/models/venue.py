"""Venue model, parsed from a raw Discovery venue object."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictInt

from ._base import TMModel
from .extras import BoxOffice, Market
from .media import Image

__all__ = ["Venue"]


def _dma_ids(value: Any) -> Any:
    """``[{"id": 294}, …]`` as sent → ``[294, …]``; a dump's ``[294, …]`` passes unchanged."""
    if not isinstance(value, list):
        return value
    return [item.get("id") if isinstance(item, dict) else item for item in value]


class Venue(TMModel):
    """A venue. ``Venue.model_validate(raw)`` accepts the API's JSON as sent.

    Coordinates are strings in real responses; they become floats (``None`` when absent or
    not a number). ``state_code`` and ``state_name`` are ``None`` for countries without states
    (e.g. GB). ``markets`` are Ticketmaster markets (string ids), ``dmas`` the designated
    market area ids. ``parking``, ``accessible_seating``, ``general_rule`` and ``child_rule``
    are the API's free-text ``parkingDetail``, ``accessibleSeatingDetail`` and
    ``generalInfo.generalRule`` / ``childRule``; ``upcoming_events`` is
    ``upcomingEvents._total``. ``distance`` and ``units`` are present on geo searches.
    """

    _API_PATHS = {
        "postal_code": ("postalCode",),
        "state_code": ("state", "stateCode"),
        "state_name": ("state", "name"),
        "country_code": ("country", "countryCode"),
        "country_name": ("country", "name"),
        "latitude": ("location", "latitude"),
        "longitude": ("location", "longitude"),
        "box_office": ("boxOfficeInfo",),
        "parking": ("parkingDetail",),
        "accessible_seating": ("accessibleSeatingDetail",),
        "general_rule": ("generalInfo", "generalRule"),
        "child_rule": ("generalInfo", "childRule"),
        "upcoming_events": ("upcomingEvents", "_total"),
    }

    id: str
    name: str | None = None
    city: str | None = None
    state_code: str | None = None
    state_name: str | None = None
    country_code: str | None = None
    country_name: str | None = None
    postal_code: str | None = None
    address: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    timezone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    url: str | None = None
    images: list[Image] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    markets: list[Market] = Field(default_factory=list)
    dmas: Annotated[list[StrictInt], BeforeValidator(_dma_ids)] = Field(default_factory=list)
    box_office: BoxOffice | None = None
    parking: str | None = None
    accessible_seating: str | None = None
    general_rule: str | None = None
    child_rule: str | None = None
    upcoming_events: int | None = None
    distance: float | None = None
    units: str | None = None

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        out = super()._prepare(data)
        # ``city`` and ``address`` are objects in the API and strings in a dump.
        city = out.get("city")
        if isinstance(city, dict):
            out["city"] = city.get("name")
        address = out.get("address")
        if isinstance(address, dict):
            lines = [
                line
                for key in ("line1", "line2", "line3")
                if isinstance(line := address.get(key), str)
            ]
            out["address_lines"] = lines
            out["address"] = lines[0] if lines else None
        return out
