"""What an event's sale looks like: price ranges, the public on-sale window and presales."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator

from ._base import TMModel, parse_datetime_utc, parse_money

__all__ = ["Presale", "PriceRange", "PublicSale", "Sales"]


class PriceRange(TMModel):
    """One ``priceRanges[]`` entry: ``standard`` = face value, ``... including fees`` = total.

    Strict on purpose: an entry with a bad currency, a negative or non-numeric bound, or
    ``min > max`` does not validate, so the event drops that entry (and only that entry).
    """

    _LENIENT = False

    type: str
    currency: str
    min: Decimal | None = None
    max: Decimal | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Decimal | None:
        return None if value is None else parse_money(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"not an ISO 4217 currency code: {value!r}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> PriceRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self


class PublicSale(TMModel):
    """``sales.public``: the general on-sale window (aware UTC instants)."""

    start: datetime | None = Field(default=None, alias="startDateTime")
    end: datetime | None = Field(default=None, alias="endDateTime")
    start_tbd: bool | None = Field(default=None, alias="startTBD")
    start_tba: bool | None = Field(default=None, alias="startTBA")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> datetime | None:
        return parse_datetime_utc(value)


class Presale(PublicSale):
    """One ``sales.presales[]`` entry."""

    name: str | None = None
    description: str | None = None
    url: str | None = None


class Sales(TMModel):
    """``sales``: the public window and any presales."""

    public: PublicSale | None = None
    presales: list[Presale] = Field(default_factory=list)
