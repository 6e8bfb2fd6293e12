"""The response cache of :class:`~ticketmaster_async._store.sqlite.SQLiteStore`: its statements,
reads, writes, batches, purges and the eviction beyond ``max_entries``.

Cache bound: the oldest entries beyond ``max_entries`` are evicted every
``min(CACHE_EVICTION_MAX_CHECK_INTERVAL, max(1, max_entries // CACHE_EVICTION_SLACK_DIVISOR))``
writes of a store instance (on every write for small bounds). The upsert and the eviction are two
statements, so the table holds at most ``max_entries`` plus that interval per writing process
(1 % or 64 entries at most), the last one only between the two statements or after a process
died between them. A batch's eviction check runs inside its transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from ..._constants import SQLITE_LOOP_MAX_BODY_BYTES
from ..base import CacheEntry
from .connection import SQLiteCore

__all__ = ["SQLiteCache"]

_CACHE_GET = "SELECT status, body, headers, stored_at, expires_at FROM cache WHERE key = ?"
# Bodies over the size bound are left to the worker thread (NULL here); length() of a BLOB
# does not read its overflow pages.
_CACHE_GET_SMALL = """
SELECT status, CASE WHEN length(body) <= ? THEN body END, headers, stored_at, expires_at
FROM cache WHERE key = ?
"""
_CACHE_SET = """
INSERT INTO cache (key, status, body, headers, stored_at, expires_at, keep_until, tags)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    status = excluded.status, body = excluded.body, headers = excluded.headers,
    stored_at = excluded.stored_at, expires_at = excluded.expires_at,
    keep_until = excluded.keep_until, tags = excluded.tags
"""
_CACHE_EVICT = """
DELETE FROM cache WHERE key IN (
    SELECT key FROM cache ORDER BY stored_at, key
    LIMIT max(0, (SELECT count(*) FROM cache) - ?)
)
"""


class SQLiteCache(SQLiteCore):
    """The cache methods of the SQLite store."""

    _max_entries: int
    _check_every: int
    _writes_until_check: int

    async def cache_get(self, key: str) -> CacheEntry | None:
        """The entry under ``key`` even if expired, or None (one primary-key SELECT, on the
        loop thread unless the file is busy or the body is large)."""
        rows = await self._read(_CACHE_GET_SMALL, (SQLITE_LOOP_MAX_BODY_BYTES, key))
        if rows and rows[0][1] is None:  # a large body: read on the worker thread
            rows = await self._fetchall(_CACHE_GET, (key,))
        if not rows:
            return None
        status, body, headers, stored_at, expires_at = rows[0][:5]
        return CacheEntry(
            key=key,
            status=int(status),
            body=bytes(body),
            stored_at=float(stored_at),
            expires_at=float(expires_at),
            headers=json.loads(headers),
        )

    async def cache_set(self, entry: CacheEntry, *, tags: Sequence[str] = (), keep: float) -> None:
        """Upsert ``entry`` with its tags (one statement, on the loop thread when the file is
        free and the body small); evicts the oldest beyond the bound (on the worker thread)."""
        params = (
            entry.key,
            entry.status,
            entry.body,
            json.dumps(dict(entry.headers)),
            entry.stored_at,
            entry.expires_at,
            entry.expires_at + keep,
            json.dumps(list(dict.fromkeys(tags))),
        )
        if len(entry.body) <= SQLITE_LOOP_MAX_BODY_BYTES:
            await self._write(_CACHE_SET, params)
        else:
            await self._execute(_CACHE_SET, params)
        self._writes_until_check -= 1
        if self._writes_until_check <= 0:
            self._writes_until_check = self._check_every
            await self._execute(_CACHE_EVICT, (self._max_entries,))

    async def cache_invalidate_tag(self, tag: str) -> int:
        """Drop every entry indexed under ``tag``; returns how many."""
        return await self._write(
            "DELETE FROM cache WHERE key IN (SELECT key FROM cache_tags WHERE tag = ?)", (tag,)
        )

    async def cache_delete(self, key: str) -> None:
        """Drop one entry."""
        await self._write("DELETE FROM cache WHERE key = ?", (key,))

    async def cache_clear(self) -> int:
        """Drop every cached response (never quota, limiter, usage or flags)."""
        return await self._execute("DELETE FROM cache")

    async def cache_purge(self, *, now: float) -> int:
        """Drop entries whose keep time passed; returns how many."""
        return await self._execute("DELETE FROM cache WHERE keep_until < ?", (now,))

    async def cache_count(self) -> int:
        """How many entries are stored."""
        rows = await self._fetchall("SELECT count(*) FROM cache")
        return int(rows[0][0])

    async def cache_set_many(
        self, items: Sequence[tuple[CacheEntry, Sequence[str]]], *, keep: float
    ) -> None:
        """Upsert every ``(entry, tags)`` in one transaction on the worker thread (the eviction
        check, when due, inside it too). An empty batch does nothing."""
        if not items:
            return
        rows = [
            (
                entry.key,
                entry.status,
                entry.body,
                json.dumps(dict(entry.headers)),
                entry.stored_at,
                entry.expires_at,
                entry.expires_at + keep,
                json.dumps(list(dict.fromkeys(tags))),
            )
            for entry, tags in items
        ]
        self._writes_until_check -= len(rows)
        evict = self._writes_until_check <= 0
        if evict:
            self._writes_until_check = self._check_every
        max_entries = self._max_entries

        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(_CACHE_SET, rows)
            if evict:
                conn.execute(_CACHE_EVICT, (max_entries,))

        await self._batch(job)
