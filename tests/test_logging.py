"""Observability: one INFO line per upstream request, warnings for trouble, never the key."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from ticketmaster_async import ServerError
from ticketmaster_async._redact import Redactor

from .clients import BASE, TEST_KEY, make_client
from .conftest import fixture_bytes

EVENTS = f"{BASE}/discovery/v2/events.json"


def _ours(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "ticketmaster_async" and r.levelno == level
    ]


async def test_one_info_line_per_upstream_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with respx.mock(assert_all_called=True) as router:
        router.get(EVENTS).mock(
            return_value=httpx.Response(
                200,
                content=fixture_bytes("search_us_page0_2017.json"),
                headers={"Rate-Limit-Available": "4321"},
            )
        )
        async with make_client() as tm:
            await tm.search_events("rock", city="Chicago")
            await tm.search_events("rock", city="Chicago")  # cache hit: no request, no line
            await tm.search_events("jazz")
    lines = _ours(caplog, logging.INFO)
    assert len(lines) == 2
    first = lines[0]
    assert first.startswith("GET /discovery/v2/events.json?city=Chicago&keyword=rock&page=0")
    for part in ("status=200", "elapsed_ms=", "attempt=1", "cache=miss", "quota_left="):
        assert part in first
    assert all(TEST_KEY not in r.getMessage() for r in caplog.records)


async def test_retries_warn_and_final_failure_is_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with respx.mock(assert_all_called=True) as router:
        router.get(EVENTS).mock(return_value=httpx.Response(503))
        async with make_client(max_retries=2, debug=True) as tm:
            with pytest.raises(ServerError):
                await tm.search_events("rock")
    assert len(_ours(caplog, logging.INFO)) == 3
    warnings = _ours(caplog, logging.WARNING)
    assert sum("retrying after ServerError" in w for w in warnings) == 2
    assert any("GET /discovery/v2/events.json failed" in e for e in _ours(caplog, logging.ERROR))
    assert _ours(caplog, logging.DEBUG)  # debug=True logs (truncated) bodies
    for record in caplog.records:
        assert TEST_KEY not in record.getMessage()


def test_library_never_configures_logging_at_import() -> None:
    import importlib

    import ticketmaster_async

    importlib.reload(ticketmaster_async)
    logger = logging.getLogger("ticketmaster_async")
    assert all(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert logger.level == logging.NOTSET


def _spelled(key: str) -> list[str]:
    """The key as a server might echo it: letters percent-encoded in lower-case hex, or every
    character JSON-escaped in upper-case hex."""
    return [
        "".join(f"%{ord(c):02x}" if i % 2 else c for i, c in enumerate(key)),
        "".join(f"\\u{ord(c):04X}" for c in key),
    ]


@pytest.mark.parametrize("spelled", _spelled(TEST_KEY))
@pytest.mark.parametrize("envelope", ["json", "html"])
async def test_failure_lines_scrub_every_spelling_of_the_key(
    caplog: pytest.LogCaptureFixture, spelled: str, envelope: str
) -> None:
    if envelope == "json":  # the detail is parsed: the escapes are decoded to the raw key
        body = f'{{"errors":[{{"code":"X1","detail":"bad key {spelled}"}}]}}'.encode()
    else:  # the detail is an excerpt of the body as sent
        body = f"<html>upstream refused /x?apikey={spelled}</html>".encode()
    caplog.set_level(logging.DEBUG)
    with respx.mock(assert_all_called=True) as router:
        router.get(EVENTS).mock(return_value=httpx.Response(503, content=body))
        async with make_client(max_retries=0, debug=True) as tm:
            with pytest.raises(ServerError) as info:
                await tm.search_events("rock")
    redactor = Redactor(TEST_KEY)
    errors = _ours(caplog, logging.ERROR)
    assert errors and all("***" in line for line in errors)
    for record in caplog.records:
        message = record.getMessage()
        assert redactor.text(message) == message, message
    assert redactor.text(str(info.value)) == str(info.value)
