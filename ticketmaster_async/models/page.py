"""Page: one page of a search answer."""

from __future__ import annotations

from typing import Generic, TypeVar

from ._base import FreshModel

__all__ = ["Page"]

T = TypeVar("T")


class Page(FreshModel, Generic[T]):
    """One page of results: ``number`` counts from 0.

    Like every model it carries ``fetched_at`` and ``stale`` (not fields: dumps leave them out
    and ``==`` ignores them); so does each of its items.
    """

    _FRESH_CHILDREN = ("items",)

    number: int
    size: int
    total_elements: int
    total_pages: int
    items: list[T]

    @property
    def has_next(self) -> bool:
        """Whether the API reports a further page."""
        return self.number + 1 < self.total_pages
