"""Suggestions: what ``/discovery/v2/suggest`` answers for a few typed letters."""

from __future__ import annotations

from pydantic import Field

from ._base import TMModel
from .attraction import Attraction
from .event import Event
from .venue import Venue

__all__ = ["Suggestions"]


class Suggestions(TMModel):
    """Attractions, venues and events matching a partial query.

    ``Suggestions.model_validate(body)`` reads a suggest answer
    (``{"_embedded": {"attractions": [...], "venues": [...], "events": [...]}}``); each list
    is empty when the API leaves it out, and a malformed entry is dropped (with a WARNING),
    never the whole answer. Each entry carries the answer's ``fetched_at`` and ``stale``, like
    the object itself. Anything else the API sends (``products``, ``_links``) stays in
    ``.raw``.
    """

    _FRESH_CHILDREN = ("attractions", "venues", "events")
    _API_PATHS = {
        "attractions": ("_embedded", "attractions"),
        "venues": ("_embedded", "venues"),
        "events": ("_embedded", "events"),
    }

    attractions: list[Attraction] = Field(default_factory=list)
    venues: list[Venue] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
