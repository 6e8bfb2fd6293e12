"""Attractions: details, one search page, every page of a search."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from typing import Any

from .._endpoints import ATTRACTIONS, DETAIL, AttractionFilters
from ..models import Attraction, Page
from ._base import Resource

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

__all__ = ["AttractionsResource"]


class AttractionsResource(Resource):
    """``get_attraction``, ``search_attractions_page``, ``search_attractions``,
    ``iter_attractions``."""

    async def get_attraction(
        self,
        attraction_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> Attraction | None:
        """One attraction by id, or ``None`` on 404 (options as :meth:`get_event_details`)."""
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            Attraction,
            DETAIL["attraction"],
            attraction_id,
            options,
            method="get_attraction",
            what="attraction id",
        )

    async def search_attractions_page(
        self, query: str | None = None, **filters: Unpack[AttractionFilters]
    ) -> Page[Attraction]:
        """One page of an attraction search (``query`` is the API's ``keyword``; filters:
        :class:`AttractionFilters`). Raises as :meth:`search_events_page`."""
        values: dict[str, Any] = {"query": query, **filters}
        return await self._search_page(
            Attraction, ATTRACTIONS, values, method="search_attractions_page"
        )

    async def search_attractions(
        self, query: str | None = None, **filters: Unpack[AttractionFilters]
    ) -> list[Attraction]:
        """The attractions of one search page (see :meth:`search_attractions_page`)."""
        values: dict[str, Any] = {"query": query, **filters}
        page = await self._search_page(Attraction, ATTRACTIONS, values, method="search_attractions")
        return page.items

    async def iter_attractions(
        self,
        query: str | None = None,
        *,
        limit: int | None = None,
        **filters: Unpack[AttractionFilters],
    ) -> AsyncIterator[Attraction]:
        """Every attraction of a search, following pages up to the deep-paging cap (as
        :meth:`iter_events`)."""
        values: dict[str, Any] = {"query": query, **filters}
        async for item in self._iterate(
            Attraction, ATTRACTIONS, values, method="iter_attractions", limit=limit
        ):
            yield item
