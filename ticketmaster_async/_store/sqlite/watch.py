"""The watch state and leases of :class:`~ticketmaster_async._store.sqlite.SQLiteStore` (version
0.2): their statements and methods.

Leases are one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` whose change count says whether the
lease was taken, on the loop-thread fast path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from .._rows import check_lease_ttl
from .connection import SQLiteCore

__all__ = ["SQLiteWatch"]

_WATCH_LOAD = "SELECT event_id, snapshot FROM watch_state WHERE watch = ?"
_WATCH_UPSERT = """
INSERT INTO watch_state (watch, event_id, snapshot) VALUES (?, ?, ?)
ON CONFLICT (watch, event_id) DO UPDATE SET snapshot = excluded.snapshot
"""
_WATCH_DELETE = "DELETE FROM watch_state WHERE watch = ? AND event_id = ?"
# A refused lease is the DO UPDATE's WHERE failing: no row changes (rowcount 0).
_LEASE_ACQUIRE = """
INSERT INTO leases (name, owner, expires_at) VALUES (:name, :owner, :now + :ttl)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE leases.owner = excluded.owner OR leases.expires_at <= :now
"""


class SQLiteWatch(SQLiteCore):
    """The watch-state and lease methods of the SQLite store."""

    async def watch_load(self, name: str) -> dict[str, str]:
        """Every ``event id -> snapshot`` of the watch ``name`` (on the worker thread)."""
        rows = await self._fetchall(_WATCH_LOAD, (name,))
        return {str(event_id): str(snapshot) for event_id, snapshot in rows}

    async def watch_save(self, name: str, changes: Mapping[str, str | None]) -> None:
        """Upsert and delete snapshots in one transaction on the worker thread."""
        if not changes:
            return
        upserts = [(name, k, v) for k, v in changes.items() if v is not None]
        deletes = [(name, k) for k, v in changes.items() if v is None]

        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(_WATCH_UPSERT, upserts)
            conn.executemany(_WATCH_DELETE, deletes)

        await self._batch(job)

    async def watch_forget(self, name: str) -> None:
        """Drop every snapshot of the watch ``name`` (one statement, on the worker thread)."""
        await self._execute("DELETE FROM watch_state WHERE watch = ?", (name,))

    # -- leases (version 0.2) ------------------------------------------------------------------

    async def lease_acquire(self, name: str, owner: str, *, now: float, ttl: float) -> bool:
        """Take or renew the lease in one upsert whose ``WHERE`` refuses a live lease of
        another owner (then nothing changes); on the loop thread when the file is free.

        Raises:
            ConfigurationError: ``ttl`` is not a positive number of seconds.
        """
        check_lease_ttl(ttl)
        changed = await self._write(
            _LEASE_ACQUIRE, {"name": name, "owner": owner, "now": now, "ttl": ttl}
        )
        return changed == 1

    async def lease_release(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it (one statement)."""
        await self._write("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))
