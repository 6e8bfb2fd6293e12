"""The HTTP layer: status → exception table, both error envelopes, Retry-After, key scrubbing."""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from ticketmaster_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from ticketmaster_async._http import (
    HTTPSender,
    RawResponse,
    error_from_response,
    parse_rate_limit_headers,
    parse_retry_after,
)
from ticketmaster_async._json import InvalidJSONError
from ticketmaster_async._json import loads as json_loads
from ticketmaster_async._redact import Redactor
from ticketmaster_async._timeutil import utc_from_epoch

from .clients import BASE, make_client
from .conftest import fixture_bytes

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
KEY = "SECRET-KEY-3f9a7c0e"
REDACTOR = Redactor(KEY)


def _raw(status: int, body: bytes = b"", **headers: str) -> RawResponse:
    return RawResponse(
        status, {k.lower().replace("_", "-"): v for k, v in headers.items()}, body, 1
    )


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (
            400,
            b'{"errors":[{"code":"DIS1015","detail":"bad size","status":"400"}]}',
            BadRequestError,
            "DIS1015",
        ),
        (
            401,
            fixture_bytes("error_401_invalid_apikey_docs.json"),
            AuthenticationError,
            "oauth.v2.InvalidApiKey",
        ),
        (
            403,
            b'{"fault":{"faultstring":"no","detail":{"errorcode":"x.Forbidden"}}}',
            PermissionDeniedError,
            "x.Forbidden",
        ),
        (404, fixture_bytes("error_404_event_not_found_DIS1004.json"), NotFoundError, "DIS1004"),
        (
            429,
            fixture_bytes("error_429_quota_violation_docs.json"),
            QuotaExceededError,
            "policies.ratelimit.QuotaViolation",
        ),
        (
            429,
            b'{"fault":{"faultstring":"Spike arrest violation. Allowed rate : 5ps",'
            b'"detail":{"errorcode":"policies.ratelimit.SpikeArrestViolation"}}}',
            RateLimitError,
            "policies.ratelimit.SpikeArrestViolation",
        ),
        (
            500,
            fixture_bytes("commerce_v2_offers_error_500_event_not_found.json"),
            ServerError,
            "40001",
        ),
        (502, b"<html>bad gateway</html>", ServerError, None),
        (503, b"", ServerError, None),
        (
            504,
            b'{"fault":{"faultstring":"Gateway Timeout","detail":{"errorcode":'
            b'"messaging.adaptors.http.flow.GatewayTimeout"}}}',
            ServerError,
            "messaging.adaptors.http.flow.GatewayTimeout",
        ),
        (418, b"{}", APIStatusError, None),
    ],
)
def test_status_to_exception_table(
    status: int, body: bytes, error_class: type[APIStatusError], code: str | None
) -> None:
    error = error_from_response(_raw(status, body), redactor=REDACTOR, now=NOW, path="/x")
    assert type(error) is error_class
    assert error.status_code == status
    assert error.error_code == code
    assert str(status) in str(error)


def test_error_detail_comes_from_either_envelope() -> None:
    fault = error_from_response(
        _raw(401, fixture_bytes("error_401_invalid_apikey_docs.json")), redactor=REDACTOR, now=NOW
    )
    assert fault.detail == "Invalid ApiKey"
    errors = error_from_response(
        _raw(404, fixture_bytes("error_404_event_not_found_DIS1004.json")),
        redactor=REDACTOR,
        now=NOW,
    )
    assert errors.detail is not None and errors.detail.startswith("Resource not found")


def test_quota_violation_scrubs_the_key_the_gateway_echoes() -> None:
    body = json.dumps(
        {
            "fault": {
                "faultstring": f"Rate limit quota violation. Quota limit  exceeded. "
                f"Identifier : {KEY}",
                "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
            }
        }
    ).encode()
    reset_ms = int((NOW + timedelta(hours=3)).timestamp() * 1000)
    error = error_from_response(
        _raw(429, body, rate_limit_reset=str(reset_ms)), redactor=REDACTOR, now=NOW
    )
    assert isinstance(error, QuotaExceededError)
    assert KEY not in str(error) and KEY not in repr(error) and KEY not in (error.detail or "")
    assert "***" in (error.detail or "")
    assert error.reset_at == NOW + timedelta(hours=3)
    assert error.retry_after == pytest.approx(3 * 3600)


def test_spike_arrest_ignores_daily_reset_as_a_wait() -> None:
    reset_ms = int((NOW + timedelta(hours=3)).timestamp() * 1000)
    body = (
        b'{"fault":{"faultstring":"Spike",'
        b'"detail":{"errorcode":"policies.ratelimit.SpikeArrestViolation"}}}'
    )
    error = error_from_response(
        _raw(429, body, rate_limit_reset=str(reset_ms)), redactor=REDACTOR, now=NOW
    )
    assert isinstance(error, RateLimitError) and not isinstance(error, QuotaExceededError)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=42), usegmt=True), 42.0),
        (format_datetime(NOW - timedelta(seconds=42), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        ("-3", None),
        ("nan", None),
        ("inf", None),
        ("99999999", 99999999.0),
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_rate_limit_headers() -> None:
    limits = parse_rate_limit_headers(
        {"rate-limit": "5000", "rate-limit-available": "4990", "rate-limit-reset": "1453180594367"}
    )
    assert limits.limit == 5000 and limits.available == 4990
    assert limits.reset_at == pytest.approx(1453180594.367)
    garbage = parse_rate_limit_headers({"rate-limit-available": "lots", "rate-limit-reset": "-1"})
    assert garbage.available is None and garbage.reset_at is None


async def test_key_added_below_httpx_logging_and_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"Rate-Limit-Available": "9"})

    sender = HTTPSender(
        base_url="https://app.ticketmaster.com",
        api_key=KEY,
        timeout=5,
        redactor=REDACTOR,
        transport=httpx.MockTransport(handler),
    )
    caplog.set_level(logging.DEBUG)
    try:
        raw = await sender.get("/discovery/v2/events.json", {"keyword": "rock"})
    finally:
        await sender.aclose()
    assert raw.status == 200 and json.loads(raw.body) == {"ok": True}
    assert raw.headers["rate-limit-available"] == "9"
    assert seen[0].url.params["apikey"] == KEY
    assert seen[0].url.params["keyword"] == "rock"
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)
    assert all(KEY not in r.getMessage() for r in caplog.records)


async def test_network_errors_are_typed_and_scrubbed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    sender = HTTPSender(
        base_url="https://app.ticketmaster.com",
        api_key=KEY,
        timeout=5,
        redactor=REDACTOR,
        transport=httpx.MockTransport(handler),
    )
    try:
        with pytest.raises(APIConnectionError) as info:
            await sender.get("/discovery/v2/events.json", {})
    finally:
        await sender.aclose()
    assert not isinstance(info.value, APITimeoutError)
    assert KEY not in str(info.value)
    # Not chained to the httpx error (its frames hold the keyed request), but named after it.
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert "ConnectError: cannot connect to " in str(info.value)
    assert "apikey=***" in str(info.value)
    assert info.value.request_sent is False


async def test_timeouts_are_api_timeout_errors() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get("https://app.ticketmaster.com/discovery/v2/events.json").mock(
            side_effect=httpx.ReadTimeout("slow")
        )
        sender = HTTPSender(
            base_url="https://app.ticketmaster.com", api_key=KEY, timeout=5, redactor=REDACTOR
        )
        try:
            with pytest.raises(APITimeoutError):
                await sender.get("/discovery/v2/events.json", {})
        finally:
            await sender.aclose()


def test_redactor_forms() -> None:
    redactor = Redactor("a b/c")
    assert redactor.text("k=a b/c&k2=a%20b%2Fc&k3=a+b%2Fc") == "k=***&k2=***&k3=***"
    assert redactor.bytes(b"xx a b/c") == b"xx ***"
    assert "a b/c" not in repr(redactor)
    assert Redactor(None).text("unchanged") == "unchanged"


def _recording_sender(
    base_url: str, respond: httpx.Response | None = None
) -> tuple[HTTPSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return respond if respond is not None else httpx.Response(200, json={})

    sender = HTTPSender(
        base_url=base_url,
        api_key=KEY,
        timeout=5,
        redactor=REDACTOR,
        transport=httpx.MockTransport(handler),
    )
    return sender, seen


@pytest.mark.parametrize(
    "base_url",
    [
        "https://app.ticketmaster.com",
        "https://app.ticketmaster.com/",
        "http://127.0.0.1:8080/prefix",
        "http://[::1]:8080/prefix/",
    ],
)
@pytest.mark.parametrize(
    "params",
    [{}, {"keyword": "AC/DC & friends é", "latlong": "51.5,-0.12", "size": "20"}],
    ids=["no-params", "params"],
)
async def test_request_url_is_what_httpx_would_build_plus_the_key(
    base_url: str, params: dict[str, str]
) -> None:
    sender, seen = _recording_sender(base_url)
    try:
        await sender.get("/discovery/v2/events.json", params)
    finally:
        await sender.aclose()
    async with httpx.AsyncClient(base_url=base_url) as reference:
        expected = reference.build_request(
            "GET", "/discovery/v2/events.json", params={**params, "apikey": KEY}
        )
    assert seen[0].url == expected.url
    assert seen[0].headers["host"] == expected.headers["host"]
    assert seen[0].headers["accept"] == "application/json"


async def test_cookies_are_never_kept() -> None:
    response = httpx.Response(200, json={}, headers={"Set-Cookie": "session=abc; Path=/"})
    sender, seen = _recording_sender("https://app.ticketmaster.com", response)
    try:
        await sender.get("/discovery/v2/events.json", {})
        await sender.get("/discovery/v2/events.json", {})
        stored = list(sender._client.cookies.jar)
    finally:
        await sender.aclose()
    assert len(seen) == 2
    assert "cookie" not in seen[1].headers
    assert stored == []  # not even parsed: the API is keyed, not session-based


async def test_only_the_headers_that_matter_are_kept() -> None:
    response = httpx.Response(
        200,
        json={},
        headers=[
            ("Content-Type", "application/json"),
            ("Rate-Limit-Available", "5"),
            ("rate-limit-available", "4"),
            ("Rate-Limit-Reset", "1700000000000"),
            ("X-Other", "dropped"),
        ],
    )
    sender, _ = _recording_sender("https://app.ticketmaster.com", response)
    try:
        raw = await sender.get("/discovery/v2/events.json", {})
    finally:
        await sender.aclose()
    assert raw.headers == {
        "content-type": "application/json",
        "rate-limit-available": "5, 4",  # as httpx's Headers would join them
        "rate-limit-reset": "1700000000000",
    }


# -- implausible Rate-Limit headers --------------------------------------------------------------

NOW_S = NOW.timestamp()
IN_3H_MS = str(int((NOW_S + 3 * 3600) * 1000))


@pytest.mark.parametrize(
    ("headers", "expected", "debug_lines"),
    [
        ({"rate-limit": "5000", "rate-limit-available": "4990"}, (5000, 4990, None), 0),
        ({"rate-limit-reset": IN_3H_MS}, (None, None, NOW_S + 3 * 3600), 0),
        ({"rate-limit-reset": "99999999999999999"}, (None, None, None), 1),
        ({"rate-limit-reset": "9" * 400}, (None, None, None), 1),
        ({"rate-limit-reset": str(int((NOW_S + 49 * 3600) * 1000))}, (None, None, None), 1),
        ({"rate-limit-reset": str(int((NOW_S - 60) * 1000))}, (None, None, None), 1),
        ({"rate-limit-reset": "0"}, (None, None, None), 1),
        ({"rate-limit-reset": "-1"}, (None, None, None), 1),
        ({"rate-limit-available": "-5", "rate-limit": "-1"}, (None, None, None), 2),
        ({"rate-limit-available": "lots"}, (None, None, None), 1),
        ({"rate-limit-available": "5, 4"}, (None, None, None), 1),
        ({"rate-limit-available": "1_000"}, (None, None, None), 1),
        ({"rate-limit": "1000000001"}, (None, None, None), 1),
        ({"rate-limit-available": "1000000001"}, (None, None, None), 1),
        ({"rate-limit": "1000000000"}, (10**9, None, None), 0),
        ({"rate-limit": "5000", "rate-limit-available": "5001"}, (5000, None, None), 1),
        ({"rate-limit": "5000", "rate-limit-available": "5000"}, (5000, 5000, None), 0),
    ],
)
def test_implausible_rate_limit_headers_are_ignored_with_one_debug_line_each(
    headers: dict[str, str],
    expected: tuple[int | None, int | None, float | None],
    debug_lines: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ticketmaster_async")
    limits = parse_rate_limit_headers(headers, now=NOW_S)
    assert (limits.limit, limits.available) == expected[:2]
    assert limits.reset_at == (pytest.approx(expected[2]) if expected[2] else None)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(lines) == debug_lines, lines
    assert all(line.startswith("ignoring the Rate-Limit") for line in lines)


def test_without_now_only_unrepresentable_resets_are_ignored() -> None:
    assert parse_rate_limit_headers({"rate-limit-reset": "99999999999999999"}).reset_at is None
    # Far from any clock, but a date: judged only when the caller passes ``now``.
    far = parse_rate_limit_headers({"rate-limit-reset": "1900000000000"})
    assert far.reset_at == pytest.approx(1_900_000_000)


@pytest.mark.parametrize(
    "reset", ["99999999999999999", "9" * 30, str(int((NOW_S + 72 * 3600) * 1000)), "1000"]
)
def test_a_429_with_an_impossible_reset_is_built_without_it(reset: str) -> None:
    error = error_from_response(
        _raw(429, fixture_bytes("error_429_quota_violation_docs.json"), rate_limit_reset=reset),
        redactor=REDACTOR,
        now=NOW,
    )
    assert isinstance(error, QuotaExceededError)
    assert error.reset_at is None and error.retry_after is None


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # OverflowError inside email.utils
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Mon, 99 Jan 2020 00:00:00 GMT",
        "1e999",
    ],
)
def test_an_impossible_retry_after_is_no_wait(value: str) -> None:
    assert parse_retry_after(value, now=NOW) is None
    error = error_from_response(_raw(503, b"", retry_after=value), redactor=REDACTOR, now=NOW)
    assert isinstance(error, ServerError) and error.retry_after is None


# -- bodies that break parsers ---------------------------------------------------------------

NESTED = b"[" * 100_000


@pytest.mark.parametrize(("status", "error_class"), [(404, NotFoundError), (500, ServerError)])
def test_a_deeply_nested_error_body_gives_the_typed_error(
    status: int, error_class: type[APIStatusError]
) -> None:
    error = error_from_response(_raw(status, NESTED), redactor=REDACTOR, now=NOW)
    assert type(error) is error_class
    assert error.error_code is None and error.detail == "[" * 200


async def test_a_deeply_nested_5xx_body_through_the_client_is_a_server_error() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/discovery/v2/events.json").respond(500, content=NESTED)
        async with make_client(max_retries=0) as tm:
            with pytest.raises(ServerError) as info:
                await tm.search_events("rock")
    assert info.value.status_code == 500


@pytest.mark.parametrize(
    "body", [NESTED, b"{" * 50_000, b'{"a":', b"\xff\xfe\xfa", b"1" * 5000, "[1".encode("utf-16")]
)
def test_json_loads_raises_only_its_value_error(body: bytes) -> None:
    with pytest.raises(InvalidJSONError) as info:
        json_loads(body)
    assert isinstance(info.value, ValueError)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_json_loads_detects_the_encoding_as_json_does() -> None:
    assert json_loads("[1]".encode("utf-16")) == [1] == json_loads("[1]")


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=timezone.utc)),
        (1_700_000_000.5, datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc)),
        (None, None),
        (math.nan, None),
        (math.inf, None),
        (-math.inf, None),
        (1e20, None),
        (-1e20, None),
        (10**400, None),
        (253_402_300_800, None),  # the first second of the year 10000
    ],
)
def test_utc_from_epoch_never_raises(seconds: float | None, expected: datetime | None) -> None:
    assert utc_from_epoch(seconds) == expected


# -- the sender: scrubbing, request_sent, no chaining ----------------------------------------


async def test_2xx_bodies_keep_the_keys_text_error_bodies_lose_it() -> None:
    key = "test"
    data = b'{"name": "Greatest test", "test": false, "href": "/e?apikey=test&x=1"}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if request.url.path.endswith("ok") else 404, content=data)

    sender = HTTPSender(
        base_url=BASE,
        api_key=key,
        timeout=5,
        redactor=Redactor(key),
        transport=httpx.MockTransport(handler),
    )
    try:
        ok = await sender.get("/ok", {})
        missing = await sender.get("/missing", {})
    finally:
        await sender.aclose()
    assert ok.body == data.replace(b"apikey=test", b"apikey=***")
    assert missing.body == data.replace(b"test", b"***")


@pytest.mark.parametrize(
    ("raised", "error_class", "request_sent"),
    [
        (httpx.ConnectError("refused"), APIConnectionError, False),
        (httpx.ConnectTimeout("slow connect"), APITimeoutError, False),
        (httpx.PoolTimeout("no connection free"), APITimeoutError, False),
        (httpx.UnsupportedProtocol("gopher"), APIConnectionError, False),
        (httpx.LocalProtocolError("bad header"), APIConnectionError, False),
        (httpx.ReadTimeout("slow answer"), APITimeoutError, True),
        (httpx.WriteTimeout("slow send"), APITimeoutError, True),
        (httpx.ReadError("reset"), APIConnectionError, True),
        (httpx.WriteError("broken pipe"), APIConnectionError, True),
        (httpx.RemoteProtocolError("disconnected"), APIConnectionError, True),
        (httpx.DecodingError("bad chunk"), APIConnectionError, True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
async def test_request_sent_says_whether_the_request_may_have_reached_the_server(
    raised: Exception, error_class: type[APIConnectionError], request_sent: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error_class: Any = type(raised)
        raise error_class(f"{raised} on {request.url}", request=request)

    sender = HTTPSender(
        base_url=BASE,
        api_key=KEY,
        timeout=5,
        redactor=REDACTOR,
        transport=httpx.MockTransport(handler),
    )
    try:
        with pytest.raises(APIConnectionError) as info:
            await sender.get("/discovery/v2/events.json", {"keyword": "rock"})
    finally:
        await sender.aclose()
    error = info.value
    assert type(error) is error_class
    assert error.request_sent is request_sent
    assert type(raised).__name__ in str(error)  # named after the httpx error, for debugging
    assert KEY not in str(error) and "apikey=***" in str(error)
    assert error.__cause__ is None and error.__context__ is None


async def test_an_in_memory_body_over_the_limit_is_refused() -> None:
    body = b'{"pad": "' + b"x" * 100 + b'"}'
    sender = HTTPSender(
        base_url=BASE,
        api_key=KEY,
        timeout=5,
        redactor=REDACTOR,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
        max_response_bytes=len(body) - 1,
    )
    try:
        with pytest.raises(ResponseValidationError) as info:
            await sender.get("/discovery/v2/events.json", {})
        sender._max_response_bytes = len(body)
        assert (await sender.get("/discovery/v2/events.json", {})).body == body
    finally:
        await sender.aclose()
    assert info.value.status_code == 200 and info.value.body_start == body.decode()
