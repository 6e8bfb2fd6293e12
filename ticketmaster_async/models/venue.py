"""Venue model, parsed from a raw Discovery venue object."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator, model_validator

from ._base import TMModel, as_str, parse_float

__all__ = ["Venue"]


class Venue(TMModel):
    """A venue. ``Venue.model_validate(raw)`` accepts the API's JSON as sent.

    Coordinates are strings in real responses; they become floats (``None`` when absent or
    not a number). ``state_code`` is ``None`` for countries without states (e.g. GB).
    """

    id: str
    name: str | None = None
    city: str | None = None
    state_code: str | None = None
    country_code: str | None = None
    postal_code: str | None = None
    address: str | None = None
    address_lines: list[str] = []
    timezone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_api(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        if "postalCode" in out and "postal_code" not in out:
            out["postal_code"] = as_str(out["postalCode"])
        city = out.get("city")
        if isinstance(city, dict):
            out["city"] = as_str(city.get("name"))
        state = out.get("state")
        if isinstance(state, dict) and "state_code" not in out:
            out["state_code"] = as_str(state.get("stateCode"))
        country = out.get("country")
        if isinstance(country, dict) and "country_code" not in out:
            out["country_code"] = as_str(country.get("countryCode"))
        address = out.get("address")
        if isinstance(address, dict):
            lines = [
                line
                for key in ("line1", "line2", "line3")
                if isinstance(line := address.get(key), str)
            ]
            out["address_lines"] = lines
            out["address"] = lines[0] if lines else None
        location = out.get("location")
        if isinstance(location, dict):
            out.setdefault("latitude", location.get("latitude"))
            out.setdefault("longitude", location.get("longitude"))
        for key in ("name", "timezone", "url"):
            if key in out and not isinstance(out[key], str):
                out[key] = as_str(out[key])
        if "id" in out and not isinstance(out["id"], str):
            out["id"] = as_str(out["id"]) or out["id"]
        return out

    @field_validator("latitude", "longitude", mode="before")
    @classmethod
    def _coordinate(cls, value: Any) -> float | None:
        return parse_float(value)
