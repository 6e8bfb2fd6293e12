"""What a watch reports: a changed event, the fields that changed, and price history points."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ._base import TMModel
from .event import Event, EventStatus
from .sales import PriceRange

__all__ = ["EventChange", "FieldChange", "PricePoint"]


class _Strict(TMModel):
    """Built by the package's own watch code: a bad value is a bug, never API noise to drop."""

    _LENIENT = False


class FieldChange(_Strict):
    """One compared field of an event (``status``, ``start``, ``name``, ``venue``,
    ``price_ranges``, ``onsale``, ``presales``): its value before and after."""

    field: str
    before: Any = None
    after: Any = None


class EventChange(_Strict):
    """One change a watch saw.

    ``kind`` is ``"new"`` (first seen), ``"changed"`` (``changes`` lists what differs from
    ``previous``) or ``"gone"`` (``event`` is the last version seen).
    """

    kind: Literal["new", "changed", "gone"]
    event: Event
    previous: Event | None = None
    changes: list[FieldChange] = Field(default_factory=list)
    detected_at: datetime


class PricePoint(_Strict):
    """An event's status and price ranges as seen at one moment (``price_history``)."""

    at: datetime
    status: EventStatus
    price_ranges: list[PriceRange] = Field(default_factory=list)
