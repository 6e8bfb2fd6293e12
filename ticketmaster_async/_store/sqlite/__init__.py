"""The embedded :class:`~ticketmaster_async._store.base.Store`, one SQLite file shared by every
process of one machine: the public :class:`SQLiteStore`, assembled from its rooms, and its
lifecycle (open, pragmas, migration, WAL checkpoints, close).

One aiosqlite connection (one worker thread) per store, opened lazily under a lock, in WAL mode
with ``busy_timeout``. Every write is a single SQL statement, hence atomic across processes
without holding a transaction open across ``await``: the limiter decision is one
``UPDATE ... RETURNING``, cache tags are kept in step with their entries by triggers, usage
counters are one ``INSERT ... SELECT FROM json_each`` upsert. Only an SQLite older than 3.35 (no
``RETURNING``) falls back to ``BEGIN IMMEDIATE`` transactions of several statements; then a lock
keeps other tasks' statements out of the open transaction.

The hot statements (admission, a cache read or write of a body up to
``SQLITE_LOOP_MAX_BODY_BYTES``, quota sync, usage, flags, one-key deletes) first run on a second,
plain connection on the event-loop thread: a point statement costs 5–60 µs there, less than the
hop to the worker thread and back (100–300 µs on a loaded machine). That connection never waits:
``busy_timeout = 0``, so when another process holds the write lock the statement goes to the
worker at once and waits its turn there; it never checkpoints (the worker runs a ``TRUNCATE``
checkpoint when the WAL passes ``SQLITE_WAL_CHECKPOINT_BYTES``); it exists only in WAL mode
with ``synchronous = NORMAL``, where a commit appends to the WAL without fsync. Any error on it
sends the statement to the worker, which reports, retries or recovers as before. Bulk statements
(eviction, purge, clear, count) always run on the worker.

The file and its -wal/-shm are made private (``STORE_FILE_MODE``) at open, existing ones too (one
WARNING when they cannot be). The aiosqlite worker thread is a daemon that never prints a
traceback (:mod:`._worker`): a program that never closes its store still exits.

The schema carries a version (``PRAGMA user_version``) and migrates forward; a file from a newer
version is refused, never rewritten. A corrupt file is moved aside to
``<path>.corrupt-<timestamp>`` (with its -wal/-shm) and rebuilt, at open or when a statement
finds the corruption; a peer that then finds the path already replaced reconnects to the new file
without moving it. Caveat (SQLite's own): a process still holding the old file open may, when it
closes it, unlink the new -wal/-shm by name; corruption is rare enough that this is accepted.

The rooms, each a mixin over :class:`~.connection.SQLiteCore`: :mod:`.cache` (the cache bound
is described there), :mod:`.limits` (admission, quota, usage, flags), :mod:`.watch` (watch
state, leases), :mod:`.history` (price history); :mod:`.schema` holds the migrations and
:mod:`.connection` how statements and batches run.

Names tests replace on this module (``time``, ``MIGRATIONS``, ``SCHEMA_VERSION``,
``SQLITE_LOOP_WAL_CHECK_EVERY``, ``SQLITE_WAL_CHECKPOINT_BYTES``) are read here, at call time.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time

import aiosqlite

from ..._constants import (
    CACHE_EVICTION_MAX_CHECK_INTERVAL,
    CACHE_EVICTION_SLACK_DIVISOR,
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_LOOP_WAL_CHECK_EVERY,
    SQLITE_RETURNING_MIN_VERSION,
    SQLITE_WAL_CHECKPOINT_BYTES,
    SQLITE_WAL_SWITCH_RETRY_SECONDS,
)
from .. import _worker
from .._time import UtcDays
from .cache import SQLiteCache
from .connection import MEMORY_PATH, _is_busy, _is_corruption, logger
from .history import SQLiteHistory
from .limits import ELAPSED_FUNCTION, SQLiteLimits
from .schema import MIGRATIONS, SCHEMA_VERSION, UnsupportedSchemaError
from .watch import SQLiteWatch

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore", "UnsupportedSchemaError"]

_MILLISECONDS = 1000.0


def _elapsed_since(sent: float) -> float:
    """Seconds on this process's monotonic clock since ``sent`` (SQLite calls it, under the
    write lock, on the worker thread)."""
    return max(0.0, time.monotonic() - sent)


class SQLiteStore(SQLiteCache, SQLiteLimits, SQLiteWatch, SQLiteHistory):
    """A :class:`Store` in one SQLite file, safe for many tasks and many processes.

    Args:
        path: the database file (its directory is created), or ``":memory:"`` for a private
            in-memory database.
        max_entries: cache bound; the oldest entries are evicted beyond it (see :mod:`.cache`
            for the slack).
        busy_timeout_ms: how long a statement waits for another process's write lock.

    Raises:
        UnsupportedSchemaError: (on first use) the file has a newer schema than this library.
    """

    kind = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_entries: int,
        busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    ) -> None:
        self._path = os.fspath(path)
        self._max_entries = max_entries
        self._busy_timeout_ms = busy_timeout_ms
        self._db: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        # Set only on SQLite < 3.35: multi-statement transactions must not interleave.
        self._tx_lock: asyncio.Lock | None = None
        self._closed = False
        self._file_id: tuple[int, int] | None = None
        self._check_every = min(
            CACHE_EVICTION_MAX_CHECK_INTERVAL,
            max(1, max_entries // CACHE_EVICTION_SLACK_DIVISOR),
        )
        self._writes_until_check = 1
        self._usage_purged_for: str | None = None
        # The loop-thread connection (WAL files only): see ``_open_fast``.
        self._fast: sqlite3.Connection | None = None
        self._fast_commits = 0
        self._checkpointing: asyncio.Task[None] | None = None
        self._housekeeping: set[asyncio.Task[None]] = set()
        self._days = UtcDays()
        self._mode_warned = False

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def uses_returning(self) -> bool:
        """Whether limiter decisions are single ``UPDATE ... RETURNING`` statements (known after
        :meth:`open`; False means the ``BEGIN IMMEDIATE`` fallback for SQLite < 3.35)."""
        return self._tx_lock is None

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, set the pragmas and migrate the schema. Idempotent.

        Raises:
            RuntimeError: the store was closed.
            UnsupportedSchemaError: the file has a newer schema than this library.
        """
        async with self._open_lock:
            if self._closed:
                raise RuntimeError("SQLiteStore used after aclose()")
            if self._db is not None:
                return
            legacy = sqlite3.sqlite_version_info < SQLITE_RETURNING_MIN_VERSION
            self._tx_lock = asyncio.Lock() if legacy else None
            try:
                self._db = await self._connect()
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc):
                    raise
                self._move_aside(exc)
                self._db = await self._connect()
            self._fast = self._open_fast()

    async def _fast_committed(self) -> None:
        """Count a write on the loop-thread connection and keep the WAL small (the loop never
        checkpoints). Every ``SQLITE_LOOP_WAL_CHECK_EVERY`` writes the WAL's size is read; past
        ``SQLITE_WAL_CHECKPOINT_BYTES`` the worker runs a checkpoint in the background. A caller
        that writes in a loop without ever yielding to the event loop would starve that task:
        past four times the size, the write waits for the checkpoint."""
        self._fast_commits += 1
        if self._fast_commits < SQLITE_LOOP_WAL_CHECK_EVERY:
            return
        self._fast_commits = 0
        try:
            wal_bytes = os.stat(self._path + "-wal").st_size
        except OSError:
            return
        if wal_bytes < SQLITE_WAL_CHECKPOINT_BYTES:
            return
        running = self._checkpointing
        if running is None or running.done():
            task = asyncio.get_running_loop().create_task(self._checkpoint())
            self._checkpointing = task
            self._housekeeping.add(task)
            task.add_done_callback(self._housekeeping.discard)
        elif wal_bytes >= 4 * SQLITE_WAL_CHECKPOINT_BYTES:
            await asyncio.shield(running)

    async def _checkpoint(self) -> None:
        # TRUNCATE waits (busy timeout, on the worker) for the writers of the moment, copies the
        # whole WAL into the file and empties it; loop-thread writes meanwhile go to the worker.
        try:
            await self._fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        except (sqlite3.Error, RuntimeError, ValueError) as exc:
            logger.debug("checkpoint of %s failed: %s", self._path, exc)

    async def _connect(self) -> aiosqlite.Connection:
        in_memory = self._path == MEMORY_PATH
        if not in_memory:
            self._create_file()
        connection = aiosqlite.connect(
            self._path,
            isolation_level=None,
            timeout=self._busy_timeout_ms / _MILLISECONDS,
        )
        # Its worker thread must never keep the process alive (a store never closed) nor print
        # a traceback (a statement finishing after the event loop closed).
        _worker.make_quiet_daemon(connection)
        db = await connection
        try:
            await db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            await db.create_function(ELAPSED_FUNCTION, 1, _elapsed_since)
            if not in_memory:
                await self._enable_wal(db)
                self._restrict_file_modes()
            await db.execute("PRAGMA synchronous = NORMAL")
            await self._migrate(db)
        except BaseException:
            await db.close()
            raise
        return db

    async def _enable_wal(self, db: aiosqlite.Connection) -> None:
        # Processes opening a new file together all upgrade SHARED -> EXCLUSIVE here; SQLite
        # answers SQLITE_BUSY at once instead of calling the busy handler, so wait in turns.
        attempts = max(
            1, round(self._busy_timeout_ms / _MILLISECONDS / SQLITE_WAL_SWITCH_RETRY_SECONDS)
        )
        attempt = 1
        while True:
            try:
                await db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if attempt >= attempts or not _is_busy(exc):
                    raise
            attempt += 1
            await asyncio.sleep(SQLITE_WAL_SWITCH_RETRY_SECONDS)

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        version = await self._user_version(db)
        if version == SCHEMA_VERSION:
            return
        self._refuse_newer(version)
        await db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated between the read above and BEGIN.
            version = await self._user_version(db)
            self._refuse_newer(version)
            for step in MIGRATIONS[version:]:
                for statement in step:
                    await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise

    @staticmethod
    async def _user_version(db: aiosqlite.Connection) -> int:
        rows = list(await db.execute_fetchall("PRAGMA user_version"))
        return int(rows[0][0])

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise UnsupportedSchemaError(
                f"{self._path} has schema version {version}; this version of ticketmaster_async "
                f"knows up to {SCHEMA_VERSION}. Upgrade the library or point it at another file."
            )

    async def aclose(self) -> None:
        """Close the connection (its worker thread ends). Idempotent; the store cannot be used
        afterwards."""
        self._closed = True
        if self._housekeeping:
            await asyncio.gather(*self._housekeeping, return_exceptions=True)
        async with self._open_lock:
            self._close_fast()
            db, self._db = self._db, None
            if db is not None:
                await db.close()

    # -- clock (this module's ``time``, read at call time) ---------------------------------

    def _monotonic(self) -> float:
        """This process's monotonic clock (when an admission was sent)."""
        return time.monotonic()

    def _elapsed(self, sent: float) -> float:
        """Seconds on this process's monotonic clock since ``sent``."""
        return _elapsed_since(sent)
