"""Bounded body decoding and the per-attempt deadline, piece by piece."""

from __future__ import annotations

import asyncio
import zlib

import pytest

from ticketmaster_async._body import HEAD_BYTES, BodyError, BoundedBody
from ticketmaster_async._deadline import CancelAfter

from .conftest import fixture_bytes

BODY = fixture_bytes("search_us_single_result_page_lady_gaga_2017.json")


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _feed(reader: BoundedBody, data: bytes, step: int) -> bytes:
    for start in range(0, len(data), step):
        reader.feed(data[start : start + step])
    return reader.finish()


@pytest.mark.parametrize("step", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        (None, BODY),
        ("gzip", _gzip(BODY)),
        ("GZip", _gzip(BODY)),
        ("identity, gzip", _gzip(BODY)),
        ("deflate", zlib.compress(BODY)),
    ],
)
def test_a_body_decodes_the_same_in_chunks_of_any_size(
    coding: str | None, encoded: bytes, step: int
) -> None:
    assert _feed(BoundedBody(coding, None, len(BODY)), encoded, step) == BODY


@pytest.mark.parametrize("step", [1, 333, 1 << 16])
def test_an_inflating_body_stops_one_byte_past_the_limit(step: int) -> None:
    limit = 10_000
    bomb = _gzip(bytes(50 * limit))
    reader = BoundedBody("gzip", None, limit)
    with pytest.raises(BodyError) as info:
        _feed(reader, bomb, step)
    assert reader._size == limit + 1  # inflated no further than needed to know
    assert info.value.head == bytes(HEAD_BYTES)
    assert "max_response_bytes (10000 bytes)" in info.value.reason


def test_an_identity_body_declared_too_large_fails_on_its_first_chunk() -> None:
    reader = BoundedBody(None, str(50 * 1024 * 1024), 1000)
    with pytest.raises(BodyError) as info:
        reader.feed(b"abc")
    assert info.value.head == b"abc"


@pytest.mark.parametrize("declared", ["garbage", "", "-5", "1000"])
def test_an_unusable_or_honest_content_length_is_not_trusted(declared: str) -> None:
    reader = BoundedBody(None, declared, 1000)
    assert _feed(reader, b"x" * 1000, 100) == b"x" * 1000


def test_an_empty_compressed_body_is_empty() -> None:
    assert BoundedBody("gzip", "0", 10).finish() == b""


def test_an_already_decoded_body_is_only_measured() -> None:
    assert BoundedBody("gzip", None, 3).decoded(b"abc") == b"abc"
    with pytest.raises(BodyError):
        BoundedBody(None, None, 2).decoded(b"abc")


# -- the Python 3.10 deadline ---------------------------------------------------------------


async def test_cancel_after_turns_its_expiry_into_a_timeout() -> None:
    with pytest.raises(asyncio.TimeoutError):
        async with CancelAfter(0.01):
            await asyncio.sleep(10)


async def test_cancel_after_leaves_a_block_that_ends_in_time_alone() -> None:
    async with CancelAfter(0.05):
        await asyncio.sleep(0)
    await asyncio.sleep(0.1)  # the deadline's timer was cancelled: no late cancellation


async def test_cancel_after_passes_an_outside_cancellation_through() -> None:
    async def guarded() -> None:
        async with CancelAfter(10):
            await asyncio.sleep(10)

    task = asyncio.ensure_future(guarded())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
