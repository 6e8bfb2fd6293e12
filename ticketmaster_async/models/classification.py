"""Classifications: an event's or attraction's labels, and the segment → genre → sub-genre tree."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import TMModel

__all__ = ["Classification", "ClassificationRef", "Genre", "Segment", "SubGenre"]


class ClassificationRef(TMModel):
    """One level of a classification (segment, genre, sub-genre, type, sub-type)."""

    id: str | None = None
    name: str | None = None


class SubGenre(TMModel):
    """A sub-genre (``get_subgenre``, or the leaves of a genre)."""

    id: str
    name: str | None = None


class Genre(TMModel):
    """A genre and the sub-genres below it (``_embedded.subgenres`` in the API)."""

    _API_PATHS = {"sub_genres": ("_embedded", "subgenres")}

    id: str
    name: str | None = None
    sub_genres: list[SubGenre] = Field(default_factory=list)


class Segment(TMModel):
    """A segment (``Music``, ``Sports``, …) and the genres below it (``_embedded.genres``)."""

    _API_PATHS = {"genres": ("_embedded", "genres")}

    id: str
    name: str | None = None
    genres: list[Genre] = Field(default_factory=list)


class Classification(TMModel):
    """An event's or attraction's classification, or one from ``get_classification``.

    ``segment_tree`` is the ``segment`` read as a :class:`Segment`: for the classification
    endpoints, whose top level is a segment with its genres and sub-genres embedded, that is the
    whole tree; for an event's or attraction's entry (``{id, name}`` only) it is the segment with
    no genres. It is ``None`` when there is no segment.
    """

    _API_PATHS = {"segment_tree": ("segment",)}

    id: str | None = None
    primary: bool | None = None
    family: bool | None = None
    segment: ClassificationRef | None = None
    genre: ClassificationRef | None = None
    sub_genre: ClassificationRef | None = Field(default=None, alias="subGenre")
    type: ClassificationRef | None = None
    sub_type: ClassificationRef | None = Field(default=None, alias="subType")
    segment_tree: Segment | None = None

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        out = super()._prepare(data)
        if out.get("id") is None:
            segment = out.get("segment")
            if isinstance(segment, dict) and isinstance(segment.get("id"), str):
                out["id"] = segment["id"]
        return out

    @property
    def name(self) -> str | None:
        """The most specific meaningful name: genre, else segment."""
        for ref in (self.genre, self.segment):
            if ref is not None and ref.name and ref.name != "Undefined":
                return ref.name
        return None
