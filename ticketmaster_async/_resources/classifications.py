"""Classifications: details, one search page, every page of a search."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from typing import Any

from .._endpoints import CLASSIFICATIONS, DETAIL, ClassificationFilters
from ..models import Classification, Genre, Page, Segment, SubGenre
from ._base import Resource

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

__all__ = ["ClassificationsResource"]


class ClassificationsResource(Resource):
    """``get_classification``, ``search_classifications_page``, ``search_classifications``,
    ``iter_classifications``."""

    async def get_classification(
        self,
        classification_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> Classification | None:
        """One classification (segment, genre...) by id, or ``None`` on 404."""
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            Classification,
            DETAIL["classification"],
            classification_id,
            options,
            method="get_classification",
            what="classification id",
        )

    async def get_segment(
        self,
        segment_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> Segment | None:
        """One segment (e.g. Music) with its genres and their sub-genres, or ``None`` on 404."""
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            Segment, DETAIL["segment"], segment_id, options, method="get_segment", what="segment id"
        )

    async def get_genre(
        self,
        genre_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> Genre | None:
        """One genre (e.g. Rock) with its sub-genres, or ``None`` on 404."""
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            Genre, DETAIL["genre"], genre_id, options, method="get_genre", what="genre id"
        )

    async def get_subgenre(
        self,
        subgenre_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> SubGenre | None:
        """One sub-genre (e.g. Alternative Rock), or ``None`` on 404."""
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            SubGenre,
            DETAIL["subgenre"],
            subgenre_id,
            options,
            method="get_subgenre",
            what="sub-genre id",
        )

    async def search_classifications_page(
        self, query: str | None = None, **filters: Unpack[ClassificationFilters]
    ) -> Page[Classification]:
        """One page of a classification search (filters: :class:`ClassificationFilters`)."""
        values: dict[str, Any] = {"query": query, **filters}
        return await self._search_page(
            Classification, CLASSIFICATIONS, values, method="search_classifications_page"
        )

    async def search_classifications(
        self, query: str | None = None, **filters: Unpack[ClassificationFilters]
    ) -> list[Classification]:
        """The classifications of one search page."""
        values: dict[str, Any] = {"query": query, **filters}
        page = await self._search_page(
            Classification, CLASSIFICATIONS, values, method="search_classifications"
        )
        return page.items

    async def iter_classifications(
        self,
        query: str | None = None,
        *,
        limit: int | None = None,
        **filters: Unpack[ClassificationFilters],
    ) -> AsyncIterator[Classification]:
        """Every classification of a search, following pages up to the deep-paging cap."""
        values: dict[str, Any] = {"query": query, **filters}
        async for item in self._iterate(
            Classification, CLASSIFICATIONS, values, method="iter_classifications", limit=limit
        ):
            yield item
