"""Pydantic v2 models of the Discovery API's events, venues, attractions and prices."""

from .attraction import Attraction, Classification, ClassificationRef
from .event import Event, EventStatus, Presale, PriceRange, PublicSale, Sales
from .page import Page
from .pricing import TicketPrice
from .usage import UsageStats
from .venue import Venue

__all__ = [
    "Attraction",
    "Classification",
    "ClassificationRef",
    "Event",
    "EventStatus",
    "Page",
    "Presale",
    "PriceRange",
    "PublicSale",
    "Sales",
    "TicketPrice",
    "UsageStats",
    "Venue",
]
