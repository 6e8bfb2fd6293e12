"""Geohashes: the Discovery API's ``geoPoint`` is a geohash string, not ``lat,long``.

A geohash interleaves the bits of longitude and latitude (longitude first), halving each range
per bit, and writes every 5 bits as one character of a base-32 alphabet without ``a``, ``i``,
``l`` and ``o``. Nine characters locate a point within about 5 m x 5 m.
"""

from __future__ import annotations

__all__ = ["ALPHABET", "GEOHASH_PRECISION", "decode", "encode"]

ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"
#: Characters sent as ``geoPoint`` (about 4.8 m x 4.8 m at the equator).
GEOHASH_PRECISION = 9
_BITS_PER_CHAR = 5
_INDEX = {char: index for index, char in enumerate(ALPHABET)}


def encode(latitude: float, longitude: float, precision: int = GEOHASH_PRECISION) -> str:
    """The geohash of a point. The caller checks the ranges (-90..90, -180..180)."""
    lat_low, lat_high = -90.0, 90.0
    lon_low, lon_high = -180.0, 180.0
    chars: list[str] = []
    value = 0
    bits = 0
    even = True  # even bits refine the longitude
    while len(chars) < precision:
        if even:
            middle = (lon_low + lon_high) / 2
            if longitude >= middle:
                value = value * 2 + 1
                lon_low = middle
            else:
                value *= 2
                lon_high = middle
        else:
            middle = (lat_low + lat_high) / 2
            if latitude >= middle:
                value = value * 2 + 1
                lat_low = middle
            else:
                value *= 2
                lat_high = middle
        even = not even
        bits += 1
        if bits == _BITS_PER_CHAR:
            chars.append(ALPHABET[value])
            value = 0
            bits = 0
    return "".join(chars)


def decode(geohash: str) -> tuple[float, float, float, float]:
    """``(latitude, longitude, latitude_error, longitude_error)``: the centre of the cell and
    half its size in degrees.

    Raises:
        ValueError: an empty string or a character outside the geohash alphabet.
    """
    if not geohash:
        raise ValueError("an empty geohash")
    lat_low, lat_high = -90.0, 90.0
    lon_low, lon_high = -180.0, 180.0
    even = True
    for char in geohash.lower():
        index = _INDEX.get(char)
        if index is None:
            raise ValueError(f"not a geohash character: {char!r}")
        for shift in range(_BITS_PER_CHAR - 1, -1, -1):
            bit = (index >> shift) & 1
            if even:
                middle = (lon_low + lon_high) / 2
                if bit:
                    lon_low = middle
                else:
                    lon_high = middle
            else:
                middle = (lat_low + lat_high) / 2
                if bit:
                    lat_low = middle
                else:
                    lat_high = middle
            even = not even
    return (
        (lat_low + lat_high) / 2,
        (lon_low + lon_high) / 2,
        (lat_high - lat_low) / 2,
        (lon_high - lon_low) / 2,
    )
