"""Argument checks and query building: bad input is a ConfigurationError before any request."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ._constants import DEEP_PAGING_CAP, DEFAULT_PAGE_SIZE, ID_PATTERN, MAX_PAGE_SIZE
from ._exceptions import ConfigurationError

__all__ = [
    "EVENT_SORTS",
    "SOURCES",
    "VENUE_SORTS",
    "check_id",
    "check_page",
    "format_instant",
    "search_params",
]

EVENT_SORTS = frozenset(
    {
        "name,asc",
        "name,desc",
        "date,asc",
        "date,desc",
        "relevance,asc",
        "relevance,desc",
        "distance,asc",
        "name,date,asc",
        "name,date,desc",
        "date,name,asc",
        "date,name,desc",
        "distance,date,asc",
        "onSaleStartDate,asc",
        "id,asc",
        "venueName,asc",
        "venueName,desc",
        "random",
    }
)
VENUE_SORTS = frozenset(
    {"name,asc", "name,desc", "relevance,asc", "relevance,desc", "distance,asc", "distance,desc"}
)
SOURCES = frozenset({"ticketmaster", "universe", "frontgate", "tmr"})
_MAX_TEXT = 200


def check_id(value: Any, *, what: str = "id") -> str:
    """A Ticketmaster id (letters, digits, ``-``, ``_``; 1–64 characters) or ConfigurationError."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise ConfigurationError(
            f"invalid {what} {shown}: expected 1-64 letters, digits, '-' or '_'"
        )
    return value


def format_instant(value: Any, *, what: str) -> str:
    """An aware datetime as the API's ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    if not isinstance(value, datetime):
        raise ConfigurationError(f"{what} must be a timezone-aware datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            f"{what} must be timezone-aware (naive datetimes are ambiguous): {value.isoformat()}"
        )
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any, *, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > _MAX_TEXT or any(ord(ch) < 32 for ch in value):
        raise ConfigurationError(f"{what} is too long or contains control characters")
    return value


def _int(value: Any, *, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{what} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigurationError(f"{what} must be {bound}, got {value}")
    return value


def check_page(size: int | None, page: int | None) -> tuple[int, int]:
    """(size, page) within ``1 <= size <= 200`` and the deep-paging cap ``size * page < 1000``."""
    size = DEFAULT_PAGE_SIZE if size is None else _int(size, what="size", low=1, high=MAX_PAGE_SIZE)
    page = 0 if page is None else _int(page, what="page", low=0)
    if size * page >= DEEP_PAGING_CAP:
        raise ConfigurationError(
            f"page {page} with size {size} is past the API's deep-paging cap "
            f"(size * page must be < {DEEP_PAGING_CAP})"
        )
    return size, page


def _code(value: Any, *, what: str, length: int) -> str:
    text = _text(value, what=what)
    if len(text) != length or not text.isalpha():
        raise ConfigurationError(f"{what} must be a {length}-letter code, got {value!r}")
    return text


def _choice(value: Any, *, what: str, allowed: frozenset[str]) -> str:
    text = _text(value, what=what)
    if text not in allowed:
        raise ConfigurationError(f"{what} must be one of {sorted(allowed)}, got {value!r}")
    return text


def _sources(value: Any) -> str:
    text = _text(value, what="source")
    parts = [p.strip() for p in text.split(",")]
    for part in parts:
        if part not in SOURCES:
            raise ConfigurationError(f"source must be among {sorted(SOURCES)}, got {value!r}")
    return ",".join(parts)


def search_params(
    *,
    query: Any = None,
    city: Any = None,
    country_code: Any = None,
    state_code: Any = None,
    postal_code: Any = None,
    start: Any = None,
    end: Any = None,
    classification_name: Any = None,
    venue_id: Any = None,
    attraction_id: Any = None,
    sort: Any = None,
    size: Any = None,
    page: Any = None,
    locale: Any = None,
    source: Any = None,
    sorts: frozenset[str] = EVENT_SORTS,
) -> dict[str, str]:
    """Checked snake_case filters → the API's camelCase query parameters."""
    params: dict[str, str] = {}
    if query is not None:
        params["keyword"] = _text(query, what="query")
    if city is not None:
        params["city"] = _text(city, what="city")
    if country_code is not None:
        params["countryCode"] = _code(country_code, what="country_code", length=2)
    if state_code is not None:
        params["stateCode"] = _text(state_code, what="state_code")
    if postal_code is not None:
        params["postalCode"] = _text(postal_code, what="postal_code")
    start_text = format_instant(start, what="start") if start is not None else None
    end_text = format_instant(end, what="end") if end is not None else None
    if start is not None and end is not None and start > end:
        raise ConfigurationError(f"start {start.isoformat()} is after end {end.isoformat()}")
    if start_text is not None:
        params["startDateTime"] = start_text
    if end_text is not None:
        params["endDateTime"] = end_text
    if classification_name is not None:
        params["classificationName"] = _text(classification_name, what="classification_name")
    if venue_id is not None:
        params["venueId"] = check_id(venue_id, what="venue_id")
    if attraction_id is not None:
        params["attractionId"] = check_id(attraction_id, what="attraction_id")
    if sort is not None:
        params["sort"] = _choice(sort, what="sort", allowed=sorts)
    if locale is not None:
        params["locale"] = _text(locale, what="locale")
    if source is not None:
        params["source"] = _sources(source)
    checked_size, checked_page = check_page(size, page)
    params["size"] = str(checked_size)
    params["page"] = str(checked_page)
    return params
