"""Reading a response body with a bound on its decoded size.

The HTTP layer feeds the raw bytes off the wire, chunk by chunk; a ``gzip``/``deflate`` body is
inflated here with bounded output (``decompressobj().decompress(data, max_length)``), so a
small compressed body that inflates to gigabytes costs at most the bound in memory.
"""

from __future__ import annotations

import zlib

__all__ = ["BodyError", "BoundedBody"]

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS
#: Decoded bytes kept for ``ResponseValidationError.body_start`` (more than it shows: the key
#: is scrubbed before the excerpt is cut).
HEAD_BYTES = 4096


class BodyError(Exception):
    """The body cannot be used: too large, an unknown coding, or corrupt compressed data.

    Attributes:
        reason: what went wrong, for the error message.
        head: the first decoded bytes read (at most ``HEAD_BYTES``), unscrubbed.
    """

    def __init__(self, reason: str, head: bytes) -> None:
        super().__init__(reason)
        self.reason = reason
        self.head = head


class BoundedBody:
    """Collects one body, decoding its ``Content-Encoding``, up to ``limit`` decoded bytes.

    Args:
        content_encoding: the ``Content-Encoding`` header (``None``, ``identity``, ``gzip``,
            ``x-gzip`` or ``deflate``; anything else is a :class:`BodyError` at once).
        content_length: the ``Content-Length`` header, if any: an identity body declared
            larger than ``limit`` fails on its first chunk.
        limit: the largest decoded size accepted.

    Raises:
        BodyError: from the constructor (unknown coding), :meth:`feed` or :meth:`finish`.
    """

    def __init__(
        self, content_encoding: str | None, content_length: str | None, limit: int
    ) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._inflater: zlib._Decompress | None = None
        self._deflate_first = False
        self._fed = False
        coding = _coding(content_encoding)
        if coding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(_GZIP_WBITS)
        elif coding == "deflate":
            # Servers send either zlib-wrapped (RFC 9110) or raw deflate data; the first chunk
            # tells which (what httpx's own decoder does).
            self._inflater = zlib.decompressobj(_ZLIB_WBITS)
            self._deflate_first = True
        elif coding != "identity":
            raise BodyError("an unsupported Content-Encoding", b"")
        self._declared_too_large = self._inflater is None and _declared(content_length) > limit

    def feed(self, data: bytes) -> None:
        """Add the next raw chunk. Raises BodyError past the limit or on corrupt data."""
        self._fed = self._fed or bool(data)
        if self._inflater is None:
            self._add(data)
            if self._declared_too_large:
                raise self._too_large_error(self._head())
            return
        if self._deflate_first and data:
            self._deflate_first = False
            try:
                self._inflate(data)
            except zlib.error:
                self._inflater = zlib.decompressobj(_RAW_DEFLATE_WBITS)
                self._parts, self._size = [], 0
            else:
                return
        try:
            self._inflate(data)
        except zlib.error:
            raise BodyError("corrupt compressed data", self._head()) from None

    def decoded(self, content: bytes) -> bytes:
        """Check a body an in-memory transport has already read and decoded (a test double's
        ``httpx.Response(content=...)``): only the limit applies."""
        if len(content) > self._limit:
            raise self._too_large_error(content[:HEAD_BYTES])
        return content

    def finish(self) -> bytes:
        """The whole decoded body. Raises BodyError past the limit or on corrupt data."""
        if self._inflater is not None and self._fed:
            try:
                self._add(self._inflater.flush())
            except zlib.error:
                raise BodyError("corrupt compressed data", self._head()) from None
            if not self._inflater.eof:
                raise BodyError("truncated compressed data", self._head())
        parts = self._parts
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _inflate(self, data: bytes) -> None:
        inflater = self._inflater
        assert inflater is not None
        while data:
            # At most one byte past the limit is ever produced: enough to know it is too large.
            piece = inflater.decompress(data, self._limit - self._size + 1)
            self._add(piece)
            data = inflater.unconsumed_tail
            if not piece and data:  # pragma: no cover - zlib always progresses with room left
                raise BodyError("corrupt compressed data", self._head())

    def _add(self, piece: bytes) -> None:
        if piece:
            self._parts.append(piece)
            self._size += len(piece)
            if self._size > self._limit:
                raise self._too_large_error(self._head())

    def _too_large_error(self, head: bytes) -> BodyError:
        return BodyError(f"a body larger than max_response_bytes ({self._limit} bytes)", head)

    def _head(self) -> bytes:
        head = b""
        for part in self._parts:
            head += part[: HEAD_BYTES - len(head)]
            if len(head) >= HEAD_BYTES:
                break
        return head


def _coding(header: str | None) -> str:
    """The one content coding of ``header`` (``identity`` dropped); ``?`` for a chain."""
    if header is None:
        return "identity"
    codings = [c for c in (p.strip().lower() for p in header.split(",")) if c and c != "identity"]
    if not codings:
        return "identity"
    return codings[0] if len(codings) == 1 else "?"


def _declared(content_length: str | None) -> int:
    if content_length is None:
        return 0
    try:
        return int(content_length.strip())
    except ValueError:
        return 0
