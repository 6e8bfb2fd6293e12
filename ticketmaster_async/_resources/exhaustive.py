"""Reading every match of an event search past the deep-paging cap, in date windows.

The API serves no result past the 1000th of a query (``size * page < 1000``). Sorted by date, a
window ``[start, end]`` is read page by page; when its ``totalElements`` says it does not fit
under the cap, the window is split at the start of the last event read: the part before it has
been read whole, the rest ``[last start - 1 s, end]`` is a new window, read the same way. Each
window costs what its pages cost (the split reuses the pages already read, so ``N`` matches
cost about ``N / 200`` requests); events seen twice at a boundary are yielded once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from .._constants import (
    DEEP_PAGING_CAP,
    EXHAUSTIVE_DEFAULT_SPAN_SECONDS,
    LOGGER_NAME,
    MAX_PAGE_SIZE,
    MAX_ZONE_OFFSET_SECONDS,
)
from .._exceptions import ConfigurationError
from ..models import Event, Page

__all__ = ["DATE_SORT", "exhaustive_events"]

logger = logging.getLogger(LOGGER_NAME)

DATE_SORT = "date,asc"
#: A window restarts this much before the last start read, so that events sharing that
#: instant are read again whether the API's ``startDateTime`` is inclusive or not.
_OVERLAP = timedelta(seconds=1)
_ZONE_SLACK = timedelta(seconds=MAX_ZONE_OFFSET_SECONDS)

SearchPage = Callable[[dict[str, Any]], Awaitable[Page[Event]]]


def _as_utc_bound(value: date | datetime, slack: timedelta) -> datetime:
    """A venue-local bound as an instant that covers it in every time zone."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    return moment.replace(tzinfo=timezone.utc) + slack


def window_of(values: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """The instants the windows cover: ``start``/``end`` when given, else derived from
    ``local_start``/``local_end``, else from now to two years ahead."""
    start = values.get("start")
    if start is None:
        local_start = values.get("local_start")
        start = _as_utc_bound(local_start, -_ZONE_SLACK) if local_start is not None else now
    end = values.get("end")
    if end is None:
        local_end = values.get("local_end")
        end = (
            _as_utc_bound(local_end, _ZONE_SLACK)
            if local_end is not None
            else start + timedelta(seconds=EXHAUSTIVE_DEFAULT_SPAN_SECONDS)
        )
    return start.astimezone(timezone.utc).replace(microsecond=0), end.astimezone(timezone.utc)


def _start_of(event: Event) -> datetime | None:
    if event.start is not None:
        return event.start
    if event.local_date is not None:
        return _as_utc_bound(event.local_date, -_ZONE_SLACK)
    return None


def check_exhaustive(values: Mapping[str, Any]) -> None:
    """ConfigurationError for options an exhaustive read cannot honour."""
    if values.get("page") is not None:
        raise ConfigurationError("exhaustive=True reads every page: do not pass page")
    sort = values.get("sort")
    if sort is not None and sort != DATE_SORT:
        raise ConfigurationError(f"exhaustive=True sorts by date ({DATE_SORT!r}), not {sort!r}")


async def exhaustive_events(
    search_page: SearchPage,
    values: Mapping[str, Any],
    *,
    limit: int | None,
    now: datetime,
) -> AsyncIterator[Event]:
    """Every event matching ``values`` (checked filters) in date order, past the cap.

    Args:
        search_page: fetches one page for the given filter values.
        values: the search's keyword values (``start``/``end`` bound the windows).
        limit: stop after this many events.
        now: the default start of the windows.
    """
    window_start, end = window_of(values, now)
    size = values.get("size") or MAX_PAGE_SIZE
    seen: set[str] = set()
    while True:
        last_start: datetime | None = None
        page_number = 0
        while True:
            page = await search_page(
                {
                    **values,
                    "sort": DATE_SORT,
                    "start": window_start,
                    "end": end,
                    "size": size,
                    "page": page_number,
                }
            )
            for event in page.items:
                last_start = _start_of(event) or last_start
                if event.id in seen:
                    continue
                seen.add(event.id)
                yield event
                if limit is not None and len(seen) >= limit:
                    return
            if not page.items or page.number + 1 >= page.total_pages:
                return  # the window reaches the end: nothing is left
            page_number += 1
            if size * page_number >= DEEP_PAGING_CAP:
                break
        next_start = last_start - _OVERLAP if last_start is not None else None
        if next_start is None or next_start <= window_start:
            # More than the cap's worth of events at one instant: no window can split them.
            skip_to = window_start + _OVERLAP
            logger.warning(
                "more than %d matching events start at %s; some of them cannot be read",
                DEEP_PAGING_CAP,
                window_start.isoformat(),
            )
            next_start = skip_to
        window_start = next_start
