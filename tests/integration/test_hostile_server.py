"""The HTTP layer against misbehaving servers on real loopback sockets.

A body dripped byte by byte, a gzip bomb, an endless body, a server that never answers or
hangs up mid-body, a port nobody listens on: each ends in a typed error, within the timeout,
in bounded memory, with nothing reachable from the error holding the key.
"""

from __future__ import annotations

import asyncio
import time
import traceback
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ticketmaster_async import (
    APIConnectionError,
    APITimeoutError,
    ResponseValidationError,
    Settings,
    TicketmasterClient,
)
from ticketmaster_async import _http as http_module
from ticketmaster_async._deadline import CancelAfter
from ticketmaster_async._http import HTTPSender
from ticketmaster_async._redact import Redactor

from ..conftest import fixture_bytes, load_fixture
from .hostile import HostileServer, closed_port_url, head_bytes

pytestmark = pytest.mark.integration

KEY = "SECRET-KEY-3f9a7c0e"
#: A short key and a long one with characters that URL-encoding changes.
KEYS = ["Zq7x", "Wv8/Lm+Qa2Rt9_Ks4-Yp6.Hd3~Jf5Xc1"]
MiB = 1024 * 1024
EVENT_BODY = fixture_bytes("docs_example_event_details.json")
EVENT_ID = load_fixture("docs_example_event_details.json")["id"]


@asynccontextmanager
async def client(url: str, **settings: Any) -> AsyncIterator[TicketmasterClient]:
    """A real client on ``url``: in-memory store, no retries, real clock."""
    values: dict[str, Any] = {
        "api_key": KEY,
        "base_url": url,
        "db_path": ":memory:",
        "offers": False,
        "max_retries": 0,
    }
    values.update(settings)
    async with TicketmasterClient(Settings(**values)) as tm:
        yield tm


def sender(url: str, *, key: str = KEY, timeout: float = 5.0, **extra: Any) -> HTTPSender:
    return HTTPSender(base_url=url, api_key=key, timeout=timeout, redactor=Redactor(key), **extra)


# -- one deadline per attempt -----------------------------------------------------------------


def dripping(server: list[HostileServer]) -> Callable[..., Awaitable[None]]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server[0].read_head(reader)
        writer.write(head_bytes(200, {"Content-Type": "application/json", "Content-Length": "30"}))
        for _ in range(30):  # 30 bytes, one every 0.4 s: 12 s in all, each read well in time
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.4)

    return handler


async def test_a_drip_fed_body_times_out_within_the_timeout() -> None:
    box: list[HostileServer] = []
    async with HostileServer(dripping(box)) as server:
        box.append(server)
        async with client(server.url, timeout=1) as tm:
            started = time.monotonic()
            with pytest.raises(APITimeoutError) as info:
                await tm.get_event_details(EVENT_ID)
            elapsed = time.monotonic() - started
    assert elapsed < 5, f"the attempt took {elapsed:.1f} s: the timeout did not bound the body"
    assert info.value.request_sent is True
    assert "timeout=1 s" in str(info.value)


async def test_the_python_310_deadline_bounds_a_drip_fed_body_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_module, "deadline", CancelAfter)
    box: list[HostileServer] = []
    async with HostileServer(dripping(box)) as server:
        box.append(server)
        tm = sender(server.url, timeout=1)
        try:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await tm.get("/discovery/v2/events.json", {})
            elapsed = time.monotonic() - started
        finally:
            await tm.aclose()
    assert elapsed < 5


# -- bounded bodies -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 255 KiB of gzip that inflates to 256 MiB of zeros (built without holding those)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MiB)
    parts = [packer.compress(zeros) for _ in range(256)]
    parts.append(packer.flush())
    return b"".join(parts)


def answering(
    server: list[HostileServer], *answers: tuple[dict[str, str], bytes]
) -> Callable[..., Awaitable[None]]:
    """Answers the n-th request with ``answers[n]`` (the last one repeated), 200."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server[0].read_head(reader)
        headers, body = answers[min(len(server[0].heads), len(answers)) - 1]
        writer.write(head_bytes(200, {"Content-Length": str(len(body)), **headers}) + body)
        await writer.drain()

    return handler


async def test_a_gzip_bomb_is_refused_in_bounded_memory_and_not_cached(gzip_bomb: bytes) -> None:
    assert len(gzip_bomb) < 300 * 1024
    box: list[HostileServer] = []
    handler = answering(
        box,
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzip_bomb),
        ({"Content-Type": "application/json"}, EVENT_BODY),
    )
    async with HostileServer(handler) as server:
        box.append(server)
        async with client(server.url) as tm:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseValidationError) as info:
                    await tm.get_event_details(EVENT_ID)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            event = await tm.get_event_details(EVENT_ID)  # not served from a cache
    assert peak < 64 * MiB, f"peak {peak / MiB:.0f} MiB while refusing a 256 MiB body"
    assert info.value.status_code == 200
    assert "max_response_bytes" in str(info.value)
    assert info.value.body_start == "\x00" * 200  # the first decoded bytes
    assert len(server.heads) == 2
    assert event is not None and event.id == EVENT_ID


@pytest.mark.parametrize("framing", ["content-length", "until-close"])
async def test_a_50_mib_body_is_abandoned_just_past_the_cap(framing: str) -> None:
    total = 50 * MiB
    sent = [0]
    finished = [False]
    box: list[HostileServer] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await box[0].read_head(reader)
        headers = {"Content-Type": "application/json", "Connection": "close"}
        if framing == "content-length":
            headers["Content-Length"] = str(total)
        writer.write(head_bytes(200, headers))
        piece = b"x" * (256 * 1024)
        while sent[0] < total:
            writer.write(piece)
            await writer.drain()
            sent[0] += len(piece)
        finished[0] = True

    async with HostileServer(handler) as server:
        box.append(server)
        async with client(server.url) as tm:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseValidationError) as info:
                    await tm.get_event_details(EVENT_ID)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            for _ in range(100):  # let the server notice the hang-up (bounded)
                if not server._tasks:
                    break
                await asyncio.sleep(0.01)
    assert not finished[0], "the whole 50 MiB body was read"
    assert sent[0] < 40 * MiB
    assert peak < 48 * MiB, f"peak {peak / MiB:.0f} MiB"
    assert info.value.body_start == "x" * 200


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _zlib(data: bytes) -> bytes:
    return zlib.compress(data)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


CODINGS: list[tuple[str | None, Callable[[bytes], bytes]]] = [
    (None, lambda data: data),
    ("identity", lambda data: data),
    ("gzip", _gzip),
    ("x-gzip", _gzip),
    ("deflate", _zlib),
    ("deflate", _raw_deflate),
]


@pytest.mark.parametrize(("coding", "encode"), CODINGS)
@pytest.mark.parametrize("size", [1000, 1001])
async def test_a_body_exactly_at_the_cap_passes_one_byte_more_does_not(
    coding: str | None, encode: Callable[[bytes], bytes], size: int
) -> None:
    body = bytes(range(256)) * 3 + b'{"pad": "' + b"p" * (size - 768 - 11) + b'"}'
    assert len(body) == size
    headers = {"Content-Encoding": coding} if coding else {}
    box: list[HostileServer] = []
    async with HostileServer(answering(box, (headers, encode(body)))) as server:
        box.append(server)
        tm = sender(server.url, max_response_bytes=1000)
        try:
            if size <= 1000:
                raw = await tm.get("/discovery/v2/events.json", {})
                assert raw.body == body
            else:
                with pytest.raises(ResponseValidationError) as info:
                    await tm.get("/discovery/v2/events.json", {})
                assert info.value.status_code == 200
                assert info.value.body_start == body[:200].decode("utf-8", "replace")
        finally:
            await tm.aclose()


async def test_a_compressed_fixture_decodes_to_the_same_bytes() -> None:
    box: list[HostileServer] = []
    answer = ({"Content-Encoding": "gzip"}, _gzip(EVENT_BODY))
    async with HostileServer(answering(box, answer)) as server:
        box.append(server)
        tm = sender(server.url)
        try:
            raw = await tm.get("/discovery/v2/events.json", {})
        finally:
            await tm.aclose()
    assert raw.body == EVENT_BODY
    # Only codings decoded with a bound are offered (httpx would add br/zstd when installed).
    assert b"\r\naccept-encoding: gzip, deflate\r\n" in server.heads[0].lower()


@pytest.mark.parametrize(
    ("coding", "body", "reason"),
    [
        ("br", b"\x0b\x02\x80{}\x03", "unsupported Content-Encoding"),
        ("gzip, gzip", _gzip(_gzip(b"{}")), "unsupported Content-Encoding"),
        ("gzip", b"\x1f\x8b\x08\x00garbage-after-a-gzip-magic", "corrupt compressed data"),
        ("gzip", _gzip(b"[1, 2, 3]")[:-12], "truncated compressed data"),
        ("deflate", b"neither zlib nor raw deflate \xff\xff", "corrupt compressed data"),
    ],
)
async def test_unknown_codings_and_corrupt_data_are_validation_errors(
    coding: str, body: bytes, reason: str
) -> None:
    box: list[HostileServer] = []
    async with HostileServer(answering(box, ({"Content-Encoding": coding}, body))) as server:
        box.append(server)
        tm = sender(server.url)
        try:
            with pytest.raises(ResponseValidationError) as info:
                await tm.get("/discovery/v2/events.json", {})
        finally:
            await tm.aclose()
    assert reason in str(info.value)


# -- nothing reachable from a network error holds the key --------------------------------------


def formatted_chain(error: BaseException) -> str:
    """What Sentry or ``pytest -l`` would record: every exception reachable through
    ``__cause__``/``__context__``, formatted with the locals of every frame."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    texts: list[str] = []
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        summary = traceback.TracebackException(
            type(current), current, current.__traceback__, capture_locals=True
        )
        texts.append("".join(summary.format()))
        pending += [current.__cause__, current.__context__]
    return "\n".join(texts)


Scenario = Callable[[list[HostileServer]], Callable[..., Awaitable[None]]]


def never_answers(server: list[HostileServer]) -> Callable[..., Awaitable[None]]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server[0].read_head(reader)
        await asyncio.sleep(30)  # bounded: the server's exit cancels it

    return handler


def hangs_up_mid_body(server: list[HostileServer]) -> Callable[..., Awaitable[None]]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server[0].read_head(reader)
        writer.write(head_bytes(200, {"Content-Length": "1000"}) + b'{"partial": ')
        await writer.drain()

    return handler


def hangs_up_without_answering(server: list[HostileServer]) -> Callable[..., Awaitable[None]]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server[0].read_head(reader)

    return handler


@asynccontextmanager
async def scenario_url(scenario: Scenario | None) -> AsyncIterator[str]:
    """The URL of a server behaving as ``scenario`` says; ``None``: a closed port."""
    if scenario is None:
        yield closed_port_url()
        return
    box: list[HostileServer] = []
    async with HostileServer(scenario(box)) as server:
        box.append(server)
        yield server.url


SCENARIOS: list[tuple[str, Scenario | None, type[APIConnectionError], bool]] = [
    ("refused", None, APIConnectionError, False),
    ("never-answers", never_answers, APITimeoutError, True),
    ("hangs-up-mid-body", hangs_up_mid_body, APIConnectionError, True),
    ("hangs-up-without-answering", hangs_up_without_answering, APIConnectionError, True),
]


async def caught(call: Callable[[], Awaitable[object]]) -> APIConnectionError:
    """The error ``call()`` raises, caught in a frame of its own: the traceback ends here, not
    in the test's frame (whose locals hold the key, as a parameter)."""
    try:
        await call()
    except APIConnectionError as error:
        return error
    raise AssertionError("no APIConnectionError")


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    ("name", "scenario", "error_class", "request_sent"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
@pytest.mark.parametrize("through", ["client", "sender"])
async def test_no_frame_reachable_from_a_network_error_holds_the_key(
    through: str,
    name: str,
    scenario: Scenario | None,
    error_class: type[APIConnectionError],
    request_sent: bool,
    key: str,
) -> None:
    async with scenario_url(scenario) as url:
        if through == "client":
            async with client(url, api_key=key, timeout=0.5) as tm:
                error = await caught(lambda: tm.get_event_details(EVENT_ID))
        else:
            tm_sender = sender(url, key=key, timeout=0.5)
            try:
                error = await caught(
                    lambda: tm_sender.get(f"/discovery/v2/events/{EVENT_ID}.json", {"locale": "*"})
                )
            finally:
                await tm_sender.aclose()
    assert type(error) is error_class, f"{name}: {error!r}"
    assert error.request_sent is request_sent, name
    recorded = formatted_chain(error)
    assert "    path = '/discovery/v2/events/" in recorded  # the frames' locals are recorded
    assert key not in recorded
    assert Redactor(key).text(recorded) == recorded, "the key, in some spelling, is recorded"
    assert error.__cause__ is None and error.__context__ is None
