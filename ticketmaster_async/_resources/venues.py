"""Venues: details, one search page, every page of a search."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from typing import Any

from .._endpoints import DETAIL, VENUES, VenueFilters
from ..models import Page, Venue
from ._base import Resource

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

__all__ = ["VenuesResource"]


class VenuesResource(Resource):
    """``get_venue``, ``search_venues_page``, ``search_venues``, ``iter_venues``."""

    async def get_venue(
        self,
        venue_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> Venue | None:
        """One venue by id, or ``None`` on 404 (options as :meth:`get_event_details`)."""
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            Venue, DETAIL["venue"], venue_id, options, method="get_venue", what="venue id"
        )

    async def search_venues_page(
        self, query: str | None = None, **filters: Unpack[VenueFilters]
    ) -> Page[Venue]:
        """One page of a venue search (``query`` is the API's ``keyword``; filters:
        :class:`VenueFilters`). Raises as :meth:`search_events_page`."""
        values: dict[str, Any] = {"query": query, **filters}
        return await self._search_page(Venue, VENUES, values, method="search_venues_page")

    async def search_venues(
        self, query: str | None = None, **filters: Unpack[VenueFilters]
    ) -> list[Venue]:
        """The venues of one search page (see :meth:`search_venues_page`)."""
        values: dict[str, Any] = {"query": query, **filters}
        page = await self._search_page(Venue, VENUES, values, method="search_venues")
        return page.items

    async def iter_venues(
        self,
        query: str | None = None,
        *,
        limit: int | None = None,
        **filters: Unpack[VenueFilters],
    ) -> AsyncIterator[Venue]:
        """Every venue of a search, following pages up to the deep-paging cap (as
        :meth:`iter_events`)."""
        values: dict[str, Any] = {"query": query, **filters}
        async for venue in self._iterate(Venue, VENUES, values, method="iter_venues", limit=limit):
            yield venue
