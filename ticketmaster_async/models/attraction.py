"""Attraction and classification models."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ._base import TMModel, as_str

__all__ = ["Attraction", "Classification", "ClassificationRef"]


class ClassificationRef(TMModel):
    """One level of a classification (segment, genre, sub-genre, type, sub-type)."""

    id: str | None = None
    name: str | None = None


class Classification(TMModel):
    """An event's or attraction's classification, or a classification from
    ``get_classification`` (whose top level is a segment, kept with its embedded genres)."""

    id: str | None = None
    primary: bool | None = None
    family: bool | None = None
    segment: ClassificationRef | None = None
    genre: ClassificationRef | None = None
    sub_genre: ClassificationRef | None = Field(default=None, alias="subGenre")
    type: ClassificationRef | None = None
    sub_type: ClassificationRef | None = Field(default=None, alias="subType")

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key in ("segment", "genre", "subGenre", "sub_genre", "type", "subType", "sub_type"):
            if key in out and not isinstance(out[key], (dict, ClassificationRef)):
                out[key] = None
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


class Attraction(TMModel):
    """A performer, team or show. ``Attraction.model_validate(raw)`` accepts the API's JSON."""

    id: str
    name: str | None = None
    url: str | None = None
    locale: str | None = None
    classifications: list[Classification] = []

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key in ("name", "url", "locale"):
            if key in out and not isinstance(out[key], str):
                out[key] = as_str(out[key])
        raw = out.get("classifications")
        if raw is not None:
            out["classifications"] = (
                [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
            )
        return out
