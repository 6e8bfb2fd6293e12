"""The connection core every room of
:class:`~ticketmaster_async._store.sqlite.SQLiteStore` runs its statements through: the
loop-thread fast path, the worker thread, batches, and the corrupt-file recovery.

Batches (version 0.2: ``cache_set_many``, ``watch_save``, ``history_append``,
``history_purge``) are one ``BEGIN IMMEDIATE`` ... ``COMMIT`` run as ONE job of the worker thread
(``executemany`` of the single-row statement inside): other connections see all of a batch or
none of it, and no other statement of this store can slip into the open transaction (aiosqlite
runs one job at a time), so nothing is held open across an ``await``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar, cast

import aiosqlite

from ..._constants import LOGGER_NAME, STORE_FILE_MODE
from ..base import Store

__all__ = ["MEMORY_PATH", "SQLiteCore"]

logger = logging.getLogger(LOGGER_NAME)

_T = TypeVar("_T")
_Params = Sequence[Any] | Mapping[str, Any]

MEMORY_PATH = ":memory:"


def _is_corruption(exc: BaseException) -> bool:
    # SQLITE_CORRUPT and SQLITE_NOTADB are the codes the sqlite3 module raises as a plain
    # DatabaseError; busy, locked, read-only or I/O failures are OperationalError subclasses and
    # must never cost the user the file.
    return type(exc) is sqlite3.DatabaseError


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    # sqlite_errorcode only exists from Python 3.11: the message is what 3.10 offers.
    return "locked" in str(exc) or "busy" in str(exc)


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


class SQLiteCore(Store):
    """What every room of the SQLite store shares: the connections and how statements run on
    them (the store in ``__init__`` sets this state and supplies the hooks below)."""

    _path: str
    _busy_timeout_ms: int
    _db: aiosqlite.Connection | None
    _open_lock: asyncio.Lock
    # Set only on SQLite < 3.35: multi-statement transactions must not interleave.
    _tx_lock: asyncio.Lock | None
    _closed: bool
    _file_id: tuple[int, int] | None
    # The loop-thread connection (WAL files only): see ``_open_fast``.
    _fast: sqlite3.Connection | None
    _mode_warned: bool

    @abc.abstractmethod
    async def _fast_committed(self) -> None:
        """Count a write on the loop-thread connection (and keep the WAL small)."""

    @abc.abstractmethod
    def _monotonic(self) -> float:
        """This process's monotonic clock."""

    @abc.abstractmethod
    def _elapsed(self, sent: float) -> float:
        """Seconds on :meth:`_monotonic` since ``sent``."""

    def _open_fast(self) -> sqlite3.Connection | None:
        """A second, plain connection for the hot statements, used on the event-loop thread.

        It never waits: ``busy_timeout = 0`` (a locked file answers SQLITE_BUSY at once and the
        statement goes to the worker thread instead), ``wal_autocheckpoint = 0`` (checkpoints run
        on the worker thread) and only in WAL mode with ``synchronous = NORMAL`` (a commit
        appends to the WAL without fsync). None when the file is not in WAL mode or cannot be
        opened a second time: every statement then takes the worker thread.
        """
        if self._path == MEMORY_PATH:
            return None
        try:
            # timeout=0 is busy_timeout 0: SQLITE_BUSY at once, no busy handler.
            fast = sqlite3.connect(
                self._path, isolation_level=None, timeout=0, check_same_thread=False
            )
        except sqlite3.Error:
            return None
        try:
            fast.execute("PRAGMA wal_autocheckpoint = 0")
            fast.execute("PRAGMA synchronous = NORMAL")
            mode = fast.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                fast.close()
                return None
        except sqlite3.Error:
            fast.close()
            return None
        return fast

    def _fast_run(self, sql: str, params: _Params) -> tuple[list[Any], int] | None:
        """Run one statement on the loop-thread connection: (rows, rowcount), or None when it
        could not run there at once (busy, locked, not open, any error); the caller then runs it
        on the worker thread, which waits, retries and reports errors as usual. A statement
        that failed changed nothing (autocommit: it is rolled back whole)."""
        fast = self._fast
        if fast is None:
            return None
        try:
            cursor = fast.execute(sql, params)
            rows = cursor.fetchall()
        except sqlite3.Error:
            if fast.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    fast.execute("ROLLBACK")
            return None
        return rows, cursor.rowcount

    async def _read(self, sql: str, params: _Params = ()) -> list[Any]:
        """A small read: on the loop thread when it can run at once, else on the worker."""
        done = self._fast_run(sql, params)
        if done is not None:
            return done[0]
        return await self._fetchall(sql, params)

    async def _write(self, sql: str, params: _Params = ()) -> int:
        """A small single-statement write; how many rows it changed. On the loop thread when
        the file is free at once, else on the worker (which waits its turn): one hop."""
        done = self._fast_run(sql, params)
        if done is None:
            return await self._execute(sql, params)
        await self._fast_committed()
        return done[1]

    async def _write_returning(self, sql: str, params: _Params) -> list[Any]:
        """Like :meth:`_write` for an ``... RETURNING`` statement: the rows it returned."""
        done = self._fast_run(sql, params)
        if done is None:
            return await self._fetchall(sql, params)
        await self._fast_committed()
        return done[0]

    def _close_fast(self) -> None:
        fast, self._fast = self._fast, None
        if fast is not None:
            with contextlib.suppress(sqlite3.Error):
                fast.close()

    def _create_file(self) -> None:
        directory = os.path.dirname(os.path.abspath(self._path))
        os.makedirs(directory, exist_ok=True)
        fd = os.open(self._path, os.O_CREAT | os.O_RDWR, STORE_FILE_MODE)
        os.close(fd)
        self._file_id = _file_identity(self._path)

    def _restrict_file_modes(self) -> None:
        """Make the file and its -wal/-shm private (``STORE_FILE_MODE``): a file created by an
        older version or another tool may be readable by others. SQLite gives new -wal/-shm the
        mode of the database. One WARNING per store when a file cannot be changed (another
        user's file)."""
        refused: list[str] = []
        for suffix in ("", "-wal", "-shm"):
            path = self._path + suffix
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode)
            except OSError:
                continue  # no such side file (yet)
            if mode & ~STORE_FILE_MODE == 0:
                continue
            try:
                os.chmod(path, STORE_FILE_MODE)
            except OSError as exc:
                refused.append(f"{os.path.basename(path)} ({oct(mode)}: {exc.strerror})")
        if refused and not self._mode_warned:
            self._mode_warned = True
            logger.warning(
                "cannot make the state file private (mode %s): %s; it holds cached answers and "
                "quota state: restrict it or its directory yourself",
                oct(STORE_FILE_MODE),
                ", ".join(refused),
            )

    def _move_aside(self, exc: BaseException) -> None:
        """Rename a corrupt file (and its -wal/-shm) out of the way, unless another process
        already replaced it with a fresh one."""
        if self._path == MEMORY_PATH or _file_identity(self._path) != self._file_id:
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        aside = f"{self._path}.corrupt-{stamp}"
        os.replace(self._path, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(self._path + suffix, aside + suffix)
        logger.warning(
            "cache database %s is unreadable (%s); moved it to %s and started a fresh one",
            self._path,
            exc,
            aside,
        )

    async def _conn(self) -> aiosqlite.Connection:
        db = self._db
        if db is not None:
            return db
        await self.open()
        assert self._db is not None
        return self._db

    async def _recover(self, db: aiosqlite.Connection, exc: BaseException) -> None:
        """A statement met a corrupt file: close, move it aside; the next call starts afresh."""
        async with self._open_lock:
            if self._db is not db:
                return  # another task already recovered
            self._db = None
            self._close_fast()
            try:
                await db.close()
            finally:
                self._move_aside(exc)

    async def _call(self, fn: Callable[[aiosqlite.Connection], Awaitable[_T]]) -> _T:
        db = await self._conn()
        try:
            if self._tx_lock is None:
                return await fn(db)
            async with self._tx_lock:
                return await fn(db)
        except sqlite3.DatabaseError as exc:
            if _is_corruption(exc):
                await self._recover(db, exc)
            raise

    async def _fetchall(self, sql: str, params: _Params = ()) -> list[sqlite3.Row]:
        async def run(db: aiosqlite.Connection) -> list[sqlite3.Row]:
            return list(await db.execute_fetchall(sql, params))

        return await self._call(run)

    async def _execute(self, sql: str, params: _Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""

        async def run(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(sql, params)
            return cursor.rowcount

        return await self._call(run)

    async def _transaction(self, body: Callable[[aiosqlite.Connection], Awaitable[_T]]) -> _T:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (the fallback for SQLite without RETURNING)."""

        async def run(db: aiosqlite.Connection) -> _T:
            await db.execute("BEGIN IMMEDIATE")
            try:
                result = await body(db)
                await db.execute("COMMIT")
            except BaseException:
                await asyncio.shield(db.execute("ROLLBACK"))
                raise
            return result

        return await self._call(run)

    async def _batch(self, job: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``job`` inside one ``BEGIN IMMEDIATE`` ... ``COMMIT`` as ONE job of the worker
        thread; any failure rolls the whole batch back.

        Three separate hops (BEGIN, the statements, COMMIT) would let a statement this store
        queued meanwhile (an admission whose loop-thread attempt met the batch's write lock)
        run inside the transaction and vanish with its rollback.
        """

        def transaction(conn: sqlite3.Connection) -> _T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = job(conn)
                conn.execute("COMMIT")
            except BaseException:
                # Some errors (a full disk, an I/O error) already rolled it back: then this
                # ROLLBACK fails, harmlessly.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            return result

        async def run(db: aiosqlite.Connection) -> _T:
            # aiosqlite runs the functions it queues one at a time on its thread, but has no
            # public way to queue one of ours.
            submit = cast("Callable[..., Awaitable[_T]]", db._execute)
            return await submit(transaction, db._conn)

        return await self._call(run)
