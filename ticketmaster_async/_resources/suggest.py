"""Suggest: attractions, venues and events matching a few letters, in one request."""

from __future__ import annotations

import sys
from typing import Any

from .._endpoints import SUGGEST, SuggestFilters
from ..models import Suggestions
from ._base import Resource

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

__all__ = ["SuggestResource"]


class SuggestResource(Resource):
    """``suggest``."""

    async def suggest(self, query: str, **filters: Unpack[SuggestFilters]) -> Suggestions:
        """Suggestions for what a user is typing: ``attractions``, ``venues`` and ``events``
        (each empty when the API leaves it out).

        Args:
            query: the text typed so far (the API's ``keyword``).
            **filters: :class:`SuggestFilters` (``near``, ``radius``, ``unit``,
                ``country_code``, ``segment_id``, ``size`` per kind, ``locale``, ``source``,
                ``include_tba``, ``include_tbd``, ``include_fuzzy``, ``include_spellcheck``),
                ``refresh`` and ``extra_params``.

        Raises:
            TypeError / ConfigurationError: as :meth:`search_events_page`, before any request.
        """
        values: dict[str, Any] = {"query": query, **filters}
        params = SUGGEST.query("suggest", values)
        answer = await self._get(SUGGEST.url(), params, refresh=bool(values.get("refresh", False)))
        self._raise_not_found(answer, SUGGEST.url())
        return self._parse_one(Suggestions, answer)
