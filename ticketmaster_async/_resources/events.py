"""Events: details, one search page, every page of a search."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .._cache import event_tag
from .._endpoints import DETAIL, EVENTS, EventFilters
from ..models import Event, Image, Page
from ._base import Resource, check_limit
from .exhaustive import check_exhaustive, exhaustive_events

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

__all__ = ["EventsResource"]

_EXHAUSTIVE_HINT = "; pass exhaustive=True to read past it"


def _event_tags(event_id: str) -> tuple[str, ...]:
    return (event_tag(event_id),)


class EventsResource(Resource):
    """``get_event_details``, ``search_events_page``, ``search_events``, ``iter_events``."""

    async def get_event_details(
        self,
        event_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> Event | None:
        """One event by id, or ``None`` when the API says 404.

        Args:
            event_id: the event's id.
            locale: the API's ``locale`` (e.g. ``"en-us"``, ``"*"``).
            refresh: skip the cache read; the fresh answer is still stored.
            extra_params: further query parameters, sent verbatim.

        Raises:
            ConfigurationError: the id is not a Ticketmaster id, or a bad option (nothing sent).
            TicketmasterError: any other failure (see the error tree).
        """
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            Event,
            DETAIL["event"],
            event_id,
            options,
            method="get_event_details",
            what="event id",
            tags=_event_tags,
        )

    async def get_event_images(
        self,
        event_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> list[Image] | None:
        """The images of one event (every size and ratio), or ``None`` when the API says 404.

        Raises:
            ConfigurationError: a bad id or option (nothing sent).
        """
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        answer = await self._get_detail(
            DETAIL["event_images"], event_id, options, method="get_event_images", what="event id"
        )
        if answer is None:
            return None
        data = self._decode(answer)
        raw_images = data.get("images") if isinstance(data, dict) else None
        if not isinstance(raw_images, list):
            raise self._shape_error(answer, "an event's images")
        return self._parse_list(Image, raw_images, answer, what="image")

    async def search_events_page(
        self,
        query: str | None = None,
        city: str | Sequence[str] | None = None,
        **filters: Unpack[EventFilters],
    ) -> Page[Event]:
        """One page of an event search, with ``number``, ``size``, ``total_elements``,
        ``total_pages`` and ``items``.

        Args:
            query: the API's ``keyword``.
            city: one city or several.
            **filters: keyword-only filters (:class:`EventFilters`; the full table is in the
                docs' parameter reference), ``refresh`` and ``extra_params``.

        Raises:
            TypeError: an unknown filter.
            ConfigurationError: a bad filter value (``size`` > 200, a page past the deep-paging
                cap, a naive datetime, ``radius`` without ``near``...), before any request.
        """
        values: dict[str, Any] = {"query": query, "city": city, **filters}
        return await self._search_page(Event, EVENTS, values, method="search_events_page")

    async def search_events(
        self,
        query: str | None = None,
        city: str | Sequence[str] | None = None,
        **filters: Unpack[EventFilters],
    ) -> list[Event]:
        """The events of one search page (see :meth:`search_events_page`)."""
        values: dict[str, Any] = {"query": query, "city": city, **filters}
        page = await self._search_page(Event, EVENTS, values, method="search_events")
        return page.items

    async def iter_events(
        self,
        query: str | None = None,
        city: str | Sequence[str] | None = None,
        *,
        limit: int | None = None,
        exhaustive: bool = False,
        **filters: Unpack[EventFilters],
    ) -> AsyncIterator[Event]:
        """Every event of a search, following pages. Without ``size``, pages are as large as
        the API allows (fewest requests). Each page goes through cache and limiter.

        The API serves no result past the 1000th of a query (``size * page < 1000``). By default
        iteration stops there, and one WARNING says how many matches it left out. With
        ``exhaustive=True`` it returns every match: sorted by date, the ``start``/``end`` window
        (default: now to two years ahead; or around ``local_start``/``local_end``) is split into
        windows that each fit under the cap; no event is yielded twice. Events whose date is
        to be announced have no place in a date window (the API leaves them out when a date is
        sent).

        Args:
            query: the API's ``keyword``.
            city: one city or several.
            limit: stop after this many events.
            exhaustive: read past the deep-paging cap (sorted by date; ``page`` not allowed).
            **filters: as :meth:`search_events_page`.

        Raises:
            TypeError / ConfigurationError: as :meth:`search_events_page`, before any request.
        """
        values: dict[str, Any] = {"query": query, "city": city, **filters}
        if not exhaustive:
            async for event in self._iterate(
                Event, EVENTS, values, method="iter_events", limit=limit, hint=_EXHAUSTIVE_HINT
            ):
                yield event
            return
        check_limit(limit)
        check_exhaustive(values)
        EVENTS.query("iter_events", values)  # every check before the first request

        async def page_of(window: dict[str, Any]) -> Page[Event]:
            return await self._search_page(Event, EVENTS, window, method="iter_events")

        now = datetime.fromtimestamp(self._clock(), tz=timezone.utc)
        async for event in exhaustive_events(page_of, values, limit=limit, now=now):
            yield event
