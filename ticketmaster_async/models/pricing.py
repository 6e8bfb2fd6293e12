"""TicketPrice: one priced entry from any of the three price sources."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from ._base import TMModel

__all__ = ["PriceSource", "TicketMarket", "TicketPrice"]

#: Where a ticket is sold: first hand, or resold by another fan.
TicketMarket = Literal["primary", "resale"]
PriceSource = Literal["price_ranges", "offers", "top_picks"]


class TicketPrice(TMModel):
    """A price the key can see for an event.

    ``price``/``min``/``max`` are face values unless ``includes_fees`` is true; ``total`` is the
    face value plus every charge and ``fees`` is ``total - face_value`` when both are known.

    Optional detail, ``None`` when the source does not say: ``offer_id`` and ``offer_name``
    (Commerce / Top Picks offer id and its short name, e.g. ``"ADULT"``), ``price_zone`` (the
    Commerce price-zone name, e.g. ``"Price Level 2"``), ``area`` (Top Picks area name, e.g.
    ``"L100"``), ``row`` and ``seats`` (Top Picks), ``description`` (Top Picks seat notes such as
    ``"Full View"``) and ``quality`` (Top Picks seat quality, 0..1).
    """

    _LENIENT = False  # built by this package's own code: a bad value is a bug, not API noise

    section: str | None = None
    ticket_type: str
    market: TicketMarket = "primary"
    currency: str
    price: Decimal
    min: Decimal
    max: Decimal
    face_value: Decimal | None = None
    total: Decimal | None = None
    fees: Decimal | None = None
    includes_fees: bool = False
    source: PriceSource
    offer_id: str | None = None
    offer_name: str | None = None
    price_zone: str | None = None
    area: str | None = None
    row: str | None = None
    seats: list[str] | None = None
    description: str | None = None
    quality: float | None = None
