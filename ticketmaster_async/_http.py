"""The HTTP layer: the only module that imports httpx.

It sends one GET, adds the API key below the level httpx logs at (a transport wrapper), maps
network failures and error statuses to the error tree, and scrubs the key from every message.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import httpx

from ._constants import LOGGER_NAME, USER_AGENT
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from ._redact import Redactor

__all__ = [
    "HTTPSender",
    "RawResponse",
    "error_from_response",
    "parse_rate_limit_headers",
    "parse_retry_after",
]

logger = logging.getLogger(LOGGER_NAME)

QUOTA_VIOLATION = "policies.ratelimit.QuotaViolation"
SPIKE_ARREST_VIOLATION = "policies.ratelimit.SpikeArrestViolation"
RATE_LIMIT_PREFIX = "policies.ratelimit."
_BODY_EXCERPT = 200


@dataclass(frozen=True)
class RawResponse:
    """What the HTTP layer hands up: status, the headers that matter, body bytes (key scrubbed)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed_ms: float


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: the API is keyed, not session-based, and httpx would
    otherwise rebuild every response's headers as an ``email.message.Message`` to look for
    ``Set-Cookie`` (~10 % of a request's CPU)."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


class _KeyTransport(httpx.AsyncBaseTransport):
    """Adds ``apikey`` to the URL just before the wire, below httpx's request logging, and
    scrubs the key from any transport error raised below."""

    def __init__(self, inner: httpx.AsyncBaseTransport, api_key: str, redactor: Redactor) -> None:
        self._inner = inner
        self._key_param = urlencode({"apikey": api_key})
        self._redactor = redactor

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # A copy with the keyed URL (one string parse: URL.copy_add_param costs 2.5 times as
        # much); httpx logs the original's URL and attaches the original to errors.
        url = request.url
        keyed = httpx.Request(
            request.method,
            httpx.URL(f"{url}{'&' if url.query else '?'}{self._key_param}"),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        try:
            return await self._inner.handle_async_request(keyed)
        except httpx.TransportError as exc:
            scrubbed = type(exc)(self._redactor.text(str(exc)), request=request)
            raise scrubbed from None

    async def aclose(self) -> None:
        await self._inner.aclose()


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    Garbage, negative or non-finite values give ``None`` (no server-given wait); a date in the
    past gives ``0``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RateLimitHeaders:
    """``Rate-Limit*`` response headers."""

    limit: int | None
    available: int | None
    reset_at: float | None  # epoch seconds


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders:
    """``Rate-Limit``, ``Rate-Limit-Available`` and ``Rate-Limit-Reset`` (epoch milliseconds)."""
    reset_ms = _int_header(headers, "rate-limit-reset")
    return RateLimitHeaders(
        limit=_int_header(headers, "rate-limit"),
        available=_int_header(headers, "rate-limit-available"),
        reset_at=reset_ms / 1000.0 if reset_ms else None,
    )


def _error_fields(body: bytes, redactor: Redactor) -> tuple[str | None, str | None]:
    """(error_code, detail) from either error envelope; (None, None) if neither."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    fault = data.get("fault")
    if isinstance(fault, dict):
        detail = fault.get("detail")
        code = detail.get("errorcode") if isinstance(detail, dict) else None
        text = fault.get("faultstring")
        return (
            code if isinstance(code, str) else None,
            redactor.text(text) if isinstance(text, str) else None,
        )
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        text = first.get("detail")
        return (
            str(code) if isinstance(code, (str, int)) else None,
            redactor.text(text) if isinstance(text, str) else None,
        )
    return None, None


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
}


def error_from_response(
    response: RawResponse, *, redactor: Redactor, now: datetime, path: str = ""
) -> APIStatusError:
    """The typed error for a non-2xx answer (status → exception, both error envelopes)."""
    status = response.status
    code, detail = _error_fields(response.body, redactor)
    if detail is None and response.body:
        detail = redactor.text(response.body[:_BODY_EXCERPT].decode("utf-8", "replace"))
    where = f" for {path}" if path else ""
    message = f"HTTP {status}{where}"
    if code:
        message += f" [{code}]"
    if detail:
        message += f": {detail}"
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    if status == 429:
        limits = parse_rate_limit_headers(response.headers)
        reset_at = (
            datetime.fromtimestamp(limits.reset_at, tz=timezone.utc) if limits.reset_at else None
        )
        if code == QUOTA_VIOLATION:
            if retry_after is None and reset_at is not None:
                retry_after = max(0.0, (reset_at - now).total_seconds())
            return QuotaExceededError(
                message,
                error_code=code,
                detail=detail,
                retry_after=retry_after,
                reset_at=reset_at,
            )
        if retry_after is None and code != SPIKE_ARREST_VIOLATION and reset_at is not None:
            retry_after = max(0.0, (reset_at - now).total_seconds())
        return RateLimitError(
            message, error_code=code, detail=detail, retry_after=retry_after, reset_at=reset_at
        )
    if status >= 500:
        return ServerError(
            message, status_code=status, error_code=code, detail=detail, retry_after=retry_after
        )
    error_class = _STATUS_ERRORS.get(status, APIStatusError)
    return error_class(message, status_code=status, error_code=code, detail=detail)


_KEPT_HEADERS = frozenset(
    (
        b"content-type",
        b"retry-after",
        b"rate-limit",
        b"rate-limit-available",
        b"rate-limit-over",
        b"rate-limit-reset",
    )
)


def _kept_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers that matter, by lower-case name, in one pass over the raw list (a repeated
    name joins its values with ", ", as ``Headers.__getitem__`` does)."""
    kept: dict[str, str] = {}
    for name, value in raw:
        lowered = name.lower()
        if lowered in _KEPT_HEADERS:
            key = lowered.decode("latin-1")
            text = value.decode("latin-1")
            kept[key] = f"{kept[key]}, {text}" if key in kept else text
    return kept


def _warm_up_http_stack() -> None:
    """Import what httpcore imports lazily on its first request (anyio: ~40 ms).

    Paid at construction instead of inside the first rate-limit slot, where it would delay that
    request past its slot and squeeze it against the next one at the gateway's spike arrest.
    """
    try:
        import anyio._backends._asyncio  # noqa: F401
        import httpcore._backends.anyio  # noqa: F401
    except ImportError:  # pragma: no cover - other httpcore layouts: nothing to warm
        pass


class HTTPSender:
    """One pooled ``httpx.AsyncClient`` sending GETs to the API with the key added below logging."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float,
        redactor: Redactor,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._redactor = redactor
        if transport is None:
            _warm_up_http_stack()
        inner = transport if transport is not None else httpx.AsyncHTTPTransport(retries=0)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            transport=_KeyTransport(inner, api_key, redactor),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            cookies=_NoCookies(),
            follow_redirects=False,
        )
        # What ``AsyncClient.build_request`` would merge on every call, merged once: the base
        # URL (with its trailing slash), the default headers and the timeout.
        base = str(self._client.base_url)
        self._base = base if base.endswith("/") else base + "/"
        self._headers = self._client.headers
        self._extensions = {"timeout": self._client.timeout.as_dict()}

    def _request(self, path: str, params: Mapping[str, str]) -> httpx.Request:
        """The GET request for ``path`` (relative to the base URL, like httpx joins it) with
        ``params`` encoded as httpx encodes them; one URL parse instead of build_request's
        merge of base URL, path and parameters (~2.5× cheaper)."""
        url = self._base + path.lstrip("/")
        if params:
            url += "?" + urlencode(list(params.items()))
        return httpx.Request("GET", url, headers=self._headers, extensions=self._extensions)

    async def get(self, path: str, params: Mapping[str, str]) -> RawResponse:
        """Send one GET. Raises APITimeoutError / APIConnectionError (``from`` the httpx error)."""
        started = time.perf_counter()
        try:
            response = await self._client.send(self._request(path, params))
            body = response.content
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"timed out after {self._elapsed(started):.0f} ms on GET {path}"
            ) from exc
        except httpx.HTTPError as exc:
            reason = self._redactor.text(str(exc)) or type(exc).__name__
            raise APIConnectionError(f"could not reach the API on GET {path}: {reason}") from exc
        headers = _kept_headers(response.headers.raw)
        return RawResponse(
            status=response.status_code,
            headers=headers,
            body=self._redactor.bytes(body),
            elapsed_ms=self._elapsed(started),
        )

    @staticmethod
    def _elapsed(started: float) -> float:
        return (time.perf_counter() - started) * 1000.0

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
