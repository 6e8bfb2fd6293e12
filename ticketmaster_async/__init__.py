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
    Attraction,
    Classification,
    ClassificationRef,
    Event,
    EventStatus,
    Page,
    Presale,
    PriceRange,
    PublicSale,
    Sales,
    TicketPrice,
    UsageStats,
    Venue,
)

__version__ = "0.1.0"

# A library never configures logging; the NullHandler only keeps "no handler" warnings away.
_logger = _logging.getLogger("ticketmaster_async")
if not any(isinstance(h, _logging.NullHandler) for h in _logger.handlers):
    _logger.addHandler(_logging.NullHandler())

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Attraction",
    "AuthenticationError",
    "BadRequestError",
    "CircuitOpenError",
    "Classification",
    "ClassificationRef",
    "ConfigurationError",
    "Event",
    "EventFilters",
    "EventStatus",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Presale",
    "PriceRange",
    "PublicSale",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseValidationError",
    "Sales",
    "ServerError",
    "Settings",
    "SyncTicketmasterClient",
    "TicketPrice",
    "TicketmasterClient",
    "TicketmasterError",
    "UsageStats",
    "Venue",
    "__version__",
]
