"""Geohash encoding of ``near=(lat, lon)`` and the decoding the fake API uses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketmaster_async._geohash import ALPHABET, decode, encode

# Published reference points: the geohash.org example (Jutland, 57.64911,10.40744 ->
# u4pruydqqvj) and Wikipedia's "ezs42" (42.6, -5.6); the corners of the world.
KNOWN = [
    (57.64911, 10.40744, 11, "u4pruydqqvj"),
    (57.64911, 10.40744, 9, "u4pruydqq"),
    (42.6, -5.6, 5, "ezs42"),
    (-90.0, -180.0, 4, "0000"),
    (89.99999, 179.99999, 4, "zzzz"),
    (0.0, 0.0, 6, "s00000"),
]


@pytest.mark.parametrize(("lat", "lon", "precision", "expected"), KNOWN)
def test_known_points(lat: float, lon: float, precision: int, expected: str) -> None:
    assert encode(lat, lon, precision) == expected


def test_default_precision_is_nine_characters() -> None:
    assert encode(51.5, -0.12) == encode(51.5, -0.12, 9)
    assert len(encode(51.5, -0.12)) == 9


@given(
    st.floats(min_value=-90, max_value=90, allow_nan=False),
    st.floats(min_value=-180, max_value=180, allow_nan=False),
    st.integers(min_value=1, max_value=12),
)
def test_decode_contains_the_encoded_point(lat: float, lon: float, precision: int) -> None:
    code = encode(lat, lon, precision)
    assert len(code) == precision and set(code) <= set(ALPHABET)
    mid_lat, mid_lon, lat_err, lon_err = decode(code)
    assert abs(mid_lat - lat) <= lat_err + 1e-9
    assert abs(mid_lon - lon) <= lon_err + 1e-9
    # A longer hash is a refinement of the shorter one.
    assert encode(lat, lon, precision + 1).startswith(code)


def test_decode_is_case_insensitive() -> None:
    assert decode("U4PRUYDQQ") == decode("u4pruydqq")


@pytest.mark.parametrize("bad", ["", "u4pa", "u4p!"])
def test_decode_rejects_non_geohashes(bad: str) -> None:
    with pytest.raises(ValueError, match="geohash"):
        decode(bad)
