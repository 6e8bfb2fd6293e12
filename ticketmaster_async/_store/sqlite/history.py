"""The price history of :class:`~ticketmaster_async._store.sqlite.SQLiteStore` (version 0.2): its
statements, appends, reads and purges.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .._rows import check_max_points
from .connection import SQLiteCore

__all__ = ["SQLiteHistory"]

_HISTORY_LAST = "SELECT payload FROM price_history WHERE event_id = ? ORDER BY id DESC LIMIT 1"
_HISTORY_INSERT = "INSERT INTO price_history (event_id, at, payload) VALUES (?, ?, ?)"
# Everything from the (max_points + 1)-th newest point down; nothing when there are fewer.
_HISTORY_TRIM = """
DELETE FROM price_history WHERE event_id = ? AND id <= (
    SELECT id FROM price_history WHERE event_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?
)
"""
# The last payload of each of up to _LAST_CHUNK events (one statement, on the loop thread).
_LAST_CHUNK = 200
_HISTORY_LASTS = """
SELECT event_id, payload FROM price_history WHERE id IN (
    SELECT max(id) FROM price_history WHERE event_id IN ({marks}) GROUP BY event_id
)
"""
_HISTORY_GET = "SELECT at, payload FROM price_history WHERE event_id = ? ORDER BY id"
_HISTORY_STALE_EVENTS = """
SELECT event_id FROM price_history
WHERE id IN (SELECT max(id) FROM price_history GROUP BY event_id) AND at < ?
"""


class SQLiteHistory(SQLiteCore):
    """The price-history methods of the SQLite store."""

    async def history_append(
        self, points: Sequence[tuple[str, float, str]], *, max_points: int
    ) -> int:
        """Append-on-difference and trim to ``max_points`` per event, in one transaction on the
        worker thread; returns how many points were appended.

        Raises:
            ConfigurationError: ``max_points`` is below 1.
        """
        check_max_points(max_points)
        if not points:
            return 0
        batch = list(points)
        if self._fast is not None and self._nothing_new(batch):
            return 0  # the usual case (prices seen again unchanged): no write, no thread hop

        def job(conn: sqlite3.Connection) -> int:
            appended = 0
            touched: dict[str, None] = {}
            for event_id, at, payload in batch:
                last = conn.execute(_HISTORY_LAST, (event_id,)).fetchone()
                if last is not None and last[0] == payload:
                    continue
                conn.execute(_HISTORY_INSERT, (event_id, at, payload))
                appended += 1
                touched[event_id] = None
            conn.executemany(
                _HISTORY_TRIM, [(event_id, event_id, max_points) for event_id in touched]
            )
            return appended

        return await self._batch(job)

    def _nothing_new(self, batch: list[tuple[str, float, str]]) -> bool:
        """Whether every point of ``batch`` repeats its event's last point, as read on the
        loop-thread connection (a read it cannot make at once counts as "maybe new": the
        worker's transaction decides). Skipping then is the same as appending in that
        transaction: it would append nothing."""
        events = list(dict.fromkeys(event_id for event_id, _, _ in batch))
        last: dict[str, str] = {}
        for start in range(0, len(events), _LAST_CHUNK):
            chunk = events[start : start + _LAST_CHUNK]
            sql = _HISTORY_LASTS.format(marks=",".join("?" * len(chunk)))
            done = self._fast_run(sql, chunk)
            if done is None:
                return False
            last.update((str(event_id), str(payload)) for event_id, payload in done[0])
        return all(last.get(event_id) == payload for event_id, _, payload in batch)

    async def history_get(self, event_id: str) -> list[tuple[float, str]]:
        """The points of ``event_id``, oldest first (on the worker thread)."""
        rows = await self._fetchall(_HISTORY_GET, (event_id,))
        return [(float(at), str(payload)) for at, payload in rows]

    async def history_purge(self, *, before: float) -> int:
        """Drop the history of every event whose last point is older than ``before``, in one
        transaction on the worker thread; returns how many events."""

        def job(conn: sqlite3.Connection) -> int:
            old = [(row[0],) for row in conn.execute(_HISTORY_STALE_EVENTS, (before,))]
            conn.executemany("DELETE FROM price_history WHERE event_id = ?", old)
            return len(old)

        return await self._batch(job)
