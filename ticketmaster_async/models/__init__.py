"""Pydantic v2 models of the Discovery API's events, venues, attractions and prices."""

from .attraction import Attraction
from .changes import EventChange, FieldChange, PricePoint
from .classification import Classification, ClassificationRef, Genre, Segment, SubGenre
from .event import Event, EventStatus
from .extras import Accessibility, AgeRestrictions, BoxOffice, Market, Outlet, Product, Promoter
from .media import Image
from .page import Page
from .pricing import TicketPrice
from .sales import Presale, PriceRange, PublicSale, Sales
from .suggestions import Suggestions
from .usage import UsageStats
from .venue import Venue

__all__ = [
    "Accessibility",
    "AgeRestrictions",
    "Attraction",
    "BoxOffice",
    "Classification",
    "ClassificationRef",
    "Event",
    "EventChange",
    "EventStatus",
    "FieldChange",
    "Genre",
    "Image",
    "Market",
    "Outlet",
    "Page",
    "Presale",
    "PricePoint",
    "PriceRange",
    "Product",
    "Promoter",
    "PublicSale",
    "Sales",
    "Segment",
    "SubGenre",
    "Suggestions",
    "TicketPrice",
    "UsageStats",
    "Venue",
]
