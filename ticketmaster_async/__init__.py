"""ticketmaster_async: an asyncio client for the Ticketmaster Discovery API v2 and ticket prices.

Rate limited by construction (5 requests/s, 5000/day), cached in one SQLite file (or Redis),
retried with backoff behind a circuit breaker, and typed with pydantic v2 models.
"""

import logging as _logging

from ._client import EventFilters, TicketmasterClient
from ._config import Settings
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TicketmasterError,
)
from ._sync_client import SyncTicketmasterClient
from .models import (
    Accessibility,
    AgeRestrictions,
    Attraction,
    BoxOffice,
    Classification,
    ClassificationRef,
    Event,
    EventChange,
    EventStatus,
    FieldChange,
    Genre,
    Image,
    Market,
    Outlet,
    Page,
    Presale,
    PricePoint,
    PriceRange,
    Product,
    Promoter,
    PublicSale,
    Sales,
    Segment,
    SubGenre,
    Suggestions,
    TicketPrice,
    UsageStats,
    Venue,
)

__version__ = "0.2.0"

# A library never configures logging; the NullHandler only keeps "no handler" warnings away.
_logger = _logging.getLogger("ticketmaster_async")
if not any(isinstance(h, _logging.NullHandler) for h in _logger.handlers):
    _logger.addHandler(_logging.NullHandler())

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Accessibility",
    "AgeRestrictions",
    "Attraction",
    "AuthenticationError",
    "BadRequestError",
    "BoxOffice",
    "CircuitOpenError",
    "Classification",
    "ClassificationRef",
    "ConfigurationError",
    "Event",
    "EventChange",
    "EventFilters",
    "EventStatus",
    "FieldChange",
    "Genre",
    "Image",
    "Market",
    "NotFoundError",
    "Outlet",
    "Page",
    "PermissionDeniedError",
    "Presale",
    "PricePoint",
    "PriceRange",
    "Product",
    "Promoter",
    "PublicSale",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseValidationError",
    "Sales",
    "Segment",
    "ServerError",
    "Settings",
    "SubGenre",
    "Suggestions",
    "SyncTicketmasterClient",
    "TicketPrice",
    "TicketmasterClient",
    "TicketmasterError",
    "UsageStats",
    "Venue",
    "__version__",
]
