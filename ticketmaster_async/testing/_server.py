"""A small HTTP/1.1 loopback server carrying a :class:`FakeDiscoveryAPI` over real sockets.

It speaks just enough HTTP/1.1 for HTTP clients such as ``httpx``: persistent connections
(keep-alive, ``Connection: close``), ``Content-Length`` and chunked request bodies,
``Content-Length`` responses. It is built on ``asyncio.start_server`` and needs nothing beyond
the standard library.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from ._api import FakeDiscoveryAPI

__all__ = ["FakeServer", "serve"]

#: Longest request head (request line plus headers) accepted.
MAX_HEAD_BYTES = 64 * 1024
#: Longest request body accepted (the API takes none; clients may still send one).
MAX_BODY_BYTES = 1024 * 1024
#: Requests served on one connection before it is closed (``Connection: close`` on the last).
MAX_REQUESTS_PER_CONNECTION = 1000
#: Trailer lines accepted after a chunked body.
MAX_TRAILER_LINES = 100
#: After answering a malformed request, how long unread input is drained before closing, so
#: that the close does not reset the connection and destroy the answer in flight.
LINGER_SECONDS = 1.0
_CRLF = b"\r\n"


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class FakeServer:
    """Serve a :class:`FakeDiscoveryAPI` on a loopback socket.

    Use it as an async context manager::

        api = FakeDiscoveryAPI()
        async with FakeServer(api) as server:
            async with httpx.AsyncClient(base_url=server.url) as client:
                await client.get("/discovery/v2/events.json", params={"apikey": "k"})

    Leaving the block closes the listening socket and every client connection.

    Args:
        api: the fake that answers requests.
        host: the address to bind (keep it on loopback).
        port: the port; ``0`` picks a free one (read it back from :attr:`port`).
    """

    def __init__(self, api: FakeDiscoveryAPI, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = api
        self.host = host
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.connections_accepted = 0
        """How many client connections were accepted (to assert keep-alive reuse)."""

    @property
    def port(self) -> int:
        """The bound port.

        Raises:
            RuntimeError: the server is not running.
        """
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not running")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Start listening.

        Raises:
            RuntimeError: already started.
            OSError: the address cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("the server is already running")
        # Load the data set now, not inside the first request: that one-off pause would hold up
        # the requests queued behind it and skew their arrival times (and spike-arrest checks).
        self.api.event_ids()
        self._server = await asyncio.start_server(
            self._serve_connection, self.host, self._requested_port, limit=MAX_HEAD_BYTES
        )

    async def aclose(self) -> None:
        """Stop listening and close every client connection. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> FakeServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections_accepted += 1
        # asyncio runs every connection callback in a task of its own.
        task = cast("asyncio.Task[None]", asyncio.current_task())
        self._connections.add(task)
        try:
            await self._serve_requests(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # The client went away: nothing to answer.
        except asyncio.CancelledError:
            # Only aclose() cancels a connection. Ending normally matters: asyncio's stream
            # machinery asks a finished handler task for its exception, which a cancelled task
            # raises instead of returning.
            pass
        finally:
            writer.close()
            # The cancellation may also land here, while the connection is already closing.
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._connections.discard(task)

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        for served in range(1, MAX_REQUESTS_PER_CONNECTION + 1):
            try:
                head = await _read_head(reader)
                if head is None:
                    return
                method, target, version, headers = _parse_head(head)
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await _read_body(reader, headers)
            except _BadRequest as error:
                _write_response(writer, error.status, {}, b"", keep_alive=False, head_only=False)
                await writer.drain()
                await _linger(reader, writer)
                return
            split = urlsplit(target)
            params = parse_qsl(split.query, keep_blank_values=True)
            answer = self.api.handle(method, unquote(split.path) or "/", params, headers)
            if answer.delay > 0:
                await asyncio.sleep(answer.delay)
            if answer.drop:
                return  # Close the socket without a response.
            keep_alive = _keep_alive(version, headers) and served < MAX_REQUESTS_PER_CONNECTION
            _write_response(
                writer,
                answer.status,
                answer.headers,
                answer.body,
                keep_alive=keep_alive,
                head_only=method == "HEAD",
            )
            await writer.drain()
            if not keep_alive:
                return


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The request head, or ``None`` when the client closed between requests."""
    try:
        return await reader.readuntil(_CRLF + _CRLF)
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise _BadRequest(HTTPStatus.BAD_REQUEST) from None
        return None
    except asyncio.LimitOverrunError:
        raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE) from None


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(HTTPStatus.BAD_REQUEST)
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _BadRequest(HTTPStatus.BAD_REQUEST)
        name = name.lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return method.upper(), target, version, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    raw_length = headers.get("content-length", "0").strip() or "0"
    if not raw_length.isdigit():
        raise _BadRequest(HTTPStatus.BAD_REQUEST)
    length = int(raw_length)
    if length > MAX_BODY_BYTES:
        raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return await reader.readexactly(length)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while len(body) <= MAX_BODY_BYTES:
        size_line = await reader.readuntil(_CRLF)
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _BadRequest(HTTPStatus.BAD_REQUEST) from None
        if size == 0:
            for _ in range(MAX_TRAILER_LINES):
                if await reader.readuntil(_CRLF) == _CRLF:
                    return bytes(body)
            raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != _CRLF:
            raise _BadRequest(HTTPStatus.BAD_REQUEST)
    raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Half-close, then discard what the client still sends, for at most LINGER_SECONDS."""
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
        await asyncio.wait_for(_discard(reader), LINGER_SECONDS)


async def _discard(reader: asyncio.StreamReader) -> None:
    for _ in range(MAX_BODY_BYTES // MAX_HEAD_BYTES):
        if not await reader.read(MAX_HEAD_BYTES):
            return


def _keep_alive(version: str, headers: dict[str, str]) -> bool:
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    if "close" in tokens:
        return False
    return version != "HTTP/1.0" or "keep-alive" in tokens


def _write_response(
    writer: asyncio.StreamWriter,
    status: int,
    headers: dict[str, str],
    body: bytes,
    *,
    keep_alive: bool,
    head_only: bool,
) -> None:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}", f"Date: {formatdate(usegmt=True)}"]
    for name, value in headers.items():
        if name.lower() not in ("content-length", "connection", "date"):
            lines.append(f"{_header_text(name)}: {_header_text(value)}")
    lines.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
    writer.write(head if head_only else head + body)


def _header_text(text: str) -> str:
    """Header text without line breaks, so an injected header cannot split the response."""
    return text.replace("\r", " ").replace("\n", " ")


def serve(
    api: FakeDiscoveryAPI,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve *api* until SIGINT or SIGTERM (blocking; must run in the main thread).

    Args:
        api: the fake to serve.
        host: the address to bind.
        port: the port; ``0`` picks a free one.
        on_ready: called with the base URL once the server accepts connections.

    Raises:
        OSError: the address cannot be bound.
    """
    asyncio.run(_serve_until_signal(api, host=host, port=port, on_ready=on_ready))


async def _serve_until_signal(
    api: FakeDiscoveryAPI,
    *,
    host: str,
    port: int,
    on_ready: Callable[[str], None] | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            continue  # SIGINT then arrives as KeyboardInterrupt.
        previous[signum] = handler
    try:
        async with FakeServer(api, host=host, port=port) as server:
            if on_ready is not None:
                on_ready(server.url)
            await stop.wait()
    finally:
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            signal.signal(signum, handler)
