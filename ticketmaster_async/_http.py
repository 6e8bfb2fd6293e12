"""The HTTP layer: the only module that imports httpx.

It sends one GET under one deadline (connect, send and the whole body), adds the API key below
the level httpx logs at (a transport wrapper), reads the body with a bound on its decoded size,
maps network failures to the error tree, and scrubs the key from every body and message. Errors
are raised without chaining to the httpx exception: the frames below it hold the keyed request.
What an answer means (status → error, rate-limit headers) is in ``_response``; its names are
re-exported here.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from ._body import BodyError, BoundedBody
from ._constants import ACCEPT_ENCODING, DEFAULT_MAX_RESPONSE_BYTES, USER_AGENT
from ._deadline import deadline
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ResponseValidationError,
    TicketmasterError,
)
from ._redact import Redactor
from ._response import (
    RateLimitHeaders,
    RawResponse,
    error_from_response,
    parse_rate_limit_headers,
    parse_retry_after,
)

__all__ = [
    "HTTPSender",
    "RateLimitHeaders",
    "RawResponse",
    "error_from_response",
    "parse_rate_limit_headers",
    "parse_retry_after",
]

#: Characters of a refused body kept in ``ResponseValidationError.body_start``.
_BODY_START = 200


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
        # much); httpx logs the original's URL and attaches the original to errors. The copy is
        # never bound to a local of this frame, and the scrubbed error is raised after the
        # ``except`` (no ``__context__``): nothing reachable from it holds the key.
        url = request.url
        try:
            return await self._inner.handle_async_request(
                httpx.Request(
                    request.method,
                    httpx.URL(f"{url}{'&' if url.query else '?'}{self._key_param}"),
                    headers=request.headers,
                    stream=request.stream,
                    extensions=request.extensions,
                )
            )
        except httpx.TransportError as exc:
            scrubbed = type(exc)(self._redactor.text(str(exc)), request=request)
        raise scrubbed

    async def aclose(self) -> None:
        await self._inner.aclose()


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


#: Headers read to decode the body, never kept.
_BODY_HEADERS = frozenset((b"content-encoding", b"content-length"))


def _kept_headers(raw: list[tuple[bytes, bytes]]) -> tuple[dict[str, str], dict[str, str]]:
    """(the headers that matter, the body's framing headers), by lower-case name, in one pass
    over the raw list (a repeated name joins its values with ", ", as ``Headers.__getitem__``
    does)."""
    kept: dict[str, str] = {}
    body: dict[str, str] = {}
    for name, value in raw:
        lowered = name.lower()
        if lowered in _KEPT_HEADERS:
            into = kept
        elif lowered in _BODY_HEADERS:
            into = body
        else:
            continue
        key = lowered.decode("latin-1")
        text = value.decode("latin-1")
        into[key] = f"{into[key]}, {text}" if key in into else text
    return kept, body


#: httpx errors raised before the request could have reached the server.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.InvalidURL,
)


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
    """One pooled ``httpx.AsyncClient`` sending GETs to the API with the key added below logging.

    Args:
        base_url: the API root (``Settings.base_url``).
        api_key: the key, added to every request's query just before the wire.
        timeout: seconds one :meth:`get` may take in all: connect, send and the whole body.
        redactor: scrubs the key from bodies and messages.
        transport: an httpx transport to use instead of the network (tests, the sandbox).
        max_response_bytes: the largest body, after decompression, one :meth:`get` reads.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float,
        redactor: Redactor,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._redactor = redactor
        self._timeout = timeout
        self._max_response_bytes = max_response_bytes
        if transport is None:
            _warm_up_http_stack()
        inner = transport if transport is not None else httpx.AsyncHTTPTransport(retries=0)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            transport=_KeyTransport(inner, api_key, redactor),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                # Only the codings decoded here with a bound (httpx would also offer br/zstd).
                "Accept-Encoding": ACCEPT_ENCODING,
            },
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
        """Send one GET and read its whole body, within ``timeout`` seconds in all.

        Returns:
            The answer, any status. A 2xx body is returned as sent except for echoes of the key
            as the ``apikey`` query parameter; any other body has the key scrubbed throughout.

        Raises:
            APITimeoutError: the attempt took longer than ``timeout``.
            APIConnectionError: the network failed (``request_sent`` says whether the request
                may have reached the server).
            ResponseValidationError: the body is larger than ``max_response_bytes`` after
                decompression, in an unsupported ``Content-Encoding``, or corrupt.
        """
        started = time.perf_counter()
        request = self._request(path, params)
        # Each error is built inside its ``except`` and raised after it, so that it has no
        # ``__context__``: the httpx exception's frames hold the keyed request.
        error: TicketmasterError
        try:
            async with deadline(self._timeout):
                response = await self._client.send(request, stream=True)
                try:
                    headers, body = await self._read(response)
                finally:
                    await response.aclose()
        except asyncio.TimeoutError:  # the deadline: before OSError (3.11: TimeoutError)
            error = APITimeoutError(
                f"timed out after {self._elapsed(started):.0f} ms on GET {path} "
                f"(the whole attempt is bounded by timeout={self._timeout:g} s)"
            )
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            error = self._network_error(exc, path, started)
        except BodyError as exc:
            status = response.status_code
            error = ResponseValidationError(
                f"the API answered HTTP {status} with {exc.reason} on GET {path}",
                status_code=status,
                body_start=self._redactor.excerpt(exc.head, _BODY_START),
            )
        else:
            status = response.status_code
            scrubbed = (
                self._redactor.query_echoes(body)
                if 200 <= status < 300
                else self._redactor.bytes(body)
            )
            return RawResponse(
                status=status, headers=headers, body=scrubbed, elapsed_ms=self._elapsed(started)
            )
        raise error

    async def _read(self, response: httpx.Response) -> tuple[dict[str, str], bytes]:
        """(the headers that matter, the decoded body) of a streamed response."""
        kept, framing = _kept_headers(response.headers.raw)
        reader = BoundedBody(
            framing.get("content-encoding"),
            framing.get("content-length"),
            self._max_response_bytes,
        )
        if response.is_stream_consumed:
            # An in-memory transport (MockTransport, respx, the fake API) built the response
            # from bytes it already held, and httpx has read and decoded them.
            return kept, reader.decoded(response.content)
        async for chunk in response.aiter_raw():
            reader.feed(chunk)
        return kept, reader.finish()

    def _network_error(self, exc: Exception, path: str, started: float) -> APIConnectionError:
        """Our error for an httpx (or socket) failure: its type name and scrubbed message."""
        sent = not isinstance(exc, _NOT_SENT)
        reason = self._redactor.text(str(exc))
        what = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"timed out after {self._elapsed(started):.0f} ms on GET {path} ({what})",
                request_sent=sent,
            )
        return APIConnectionError(
            f"could not reach the API on GET {path}: {what}", request_sent=sent
        )

    @staticmethod
    def _elapsed(started: float) -> float:
        return (time.perf_counter() - started) * 1000.0

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
