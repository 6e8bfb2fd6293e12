"""Distances on the Earth for the fake API's geo searches (``geoPoint`` + ``radius`` + ``unit``)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["EARTH_RADIUS", "UNITS", "haversine", "location_of"]

#: The mean Earth radius in each ``unit`` the API takes.
EARTH_RADIUS = {"miles": 3958.8, "km": 6371.0}
#: How a geo result names its unit (``units`` next to ``distance``).
UNITS = {"miles": "MILES", "km": "KILOMETERS"}


def haversine(
    origin: tuple[float, float], point: tuple[float, float], *, unit: str = "miles"
) -> float:
    """The great-circle distance between two ``(latitude, longitude)`` points in *unit*."""
    lat1, lon1 = map(math.radians, origin)
    lat2, lon2 = map(math.radians, point)
    half_chord = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS[unit] * math.asin(min(1.0, math.sqrt(half_chord)))


def location_of(venue: Any) -> tuple[float, float] | None:
    """A venue's ``location`` as ``(latitude, longitude)``; ``None`` when it has no usable one.

    Real venues send the coordinates as JSON strings (``"52.479932"``); numbers work too.
    """
    location = venue.get("location") if isinstance(venue, dict) else None
    if not isinstance(location, dict):
        return None
    try:
        latitude = float(location["latitude"])
        longitude = float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude
