"""The embedded :class:`~ticketmaster_async._store.base.Store`: one SQLite file shared by every
process of one machine.

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

The admission statement also counts the request under its UTC day on the limiter row (a trigger
moves a finished day's count into the usage table), so ``requests_today`` is exactly what was
admitted even when a process is killed; and it notices a wall clock stepped back against the
latest clock it saw (``last_now``), judged at the time the statement runs (see
:meth:`SQLiteStore.admit`), and moves the slot schedule back with it.

The file and its -wal/-shm are made private (``STORE_FILE_MODE``) at open, existing ones too (one
WARNING when they cannot be). The aiosqlite worker thread is a daemon that never prints a
traceback (:mod:`._worker`): a program that never closes its store still exits.

The schema carries a version (``PRAGMA user_version``) and migrates forward; a file from a newer
version is refused, never rewritten. A corrupt file is moved aside to
``<path>.corrupt-<timestamp>`` (with its -wal/-shm) and rebuilt, at open or when a statement
finds the corruption; a peer that then finds the path already replaced reconnects to the new file
without moving it. Caveat (SQLite's own): a process still holding the old file open may, when it
closes it, unlink the new -wal/-shm by name; corruption is rare enough that this is accepted.

Cache bound: the oldest entries beyond ``max_entries`` are evicted every
``min(CACHE_EVICTION_MAX_CHECK_INTERVAL, max(1, max_entries // CACHE_EVICTION_SLACK_DIVISOR))``
writes of a store instance (on every write for small bounds). The upsert and the eviction are two
statements, so the table holds at most ``max_entries`` plus that interval per writing process
(1 % or 64 entries at most), the last one only between the two statements or after a process
died between them.

Batches (version 0.2: :meth:`SQLiteStore.cache_set_many`, ``watch_save``, ``history_append``,
``history_purge``) are one ``BEGIN IMMEDIATE`` ... ``COMMIT`` run as ONE job of the worker thread
(``executemany`` of the single-row statement inside): other connections see all of a batch or
none of it, and no other statement of this store can slip into the open transaction (aiosqlite
runs one job at a time), so nothing is held open across an ``await``. A batch's eviction check
runs inside its transaction. Leases are one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``
whose change count says whether the lease was taken, on the loop-thread fast path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar, cast

import aiosqlite

from .._constants import (
    CACHE_EVICTION_MAX_CHECK_INTERVAL,
    CACHE_EVICTION_SLACK_DIVISOR,
    DAILY_WINDOW_SECONDS,
    LOGGER_NAME,
    QUOTA_RESET_MAX_AHEAD_SECONDS,
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_LOOP_MAX_BODY_BYTES,
    SQLITE_LOOP_WAL_CHECK_EVERY,
    SQLITE_RETURNING_MIN_VERSION,
    SQLITE_WAL_CHECKPOINT_BYTES,
    SQLITE_WAL_SWITCH_RETRY_SECONDS,
    STORE_FILE_MODE,
)
from .._exceptions import ConfigurationError
from . import _worker
from ._rows import (
    LimiterRow,
    admit_row,
    check_lease_ttl,
    check_max_points,
    mark_spent_row,
    quota_state_row,
    refusal,
    usage_cutoff_day,
)
from ._time import UtcDays, plausible_reset
from .base import Admission, CacheEntry, QuotaState, Store

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore", "UnsupportedSchemaError"]

logger = logging.getLogger(LOGGER_NAME)

_T = TypeVar("_T")
_Params = Sequence[Any] | Mapping[str, Any]

MEMORY_PATH = ":memory:"
_MILLISECONDS = 1000.0

#: ``MIGRATIONS[n]`` brings a file from schema version ``n`` to ``n + 1``; append, never edit.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS cache (
            key TEXT PRIMARY KEY,
            status INTEGER NOT NULL,
            body BLOB NOT NULL,
            headers TEXT NOT NULL DEFAULT '{}',
            stored_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            keep_until REAL NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]'
        )""",
        "CREATE INDEX IF NOT EXISTS cache_by_age ON cache (stored_at, key)",
        "CREATE INDEX IF NOT EXISTS cache_by_keep_until ON cache (keep_until)",
        """CREATE TABLE IF NOT EXISTS cache_tags (
            tag TEXT NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (tag, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS cache_tags_by_key ON cache_tags (key)",
        # The tag index follows its entries, so every cache write stays one statement.
        """CREATE TRIGGER IF NOT EXISTS cache_tags_on_insert AFTER INSERT ON cache BEGIN
            INSERT OR IGNORE INTO cache_tags (tag, key)
                SELECT value, new.key FROM json_each(new.tags);
        END""",
        """CREATE TRIGGER IF NOT EXISTS cache_tags_on_update AFTER UPDATE OF tags ON cache BEGIN
            DELETE FROM cache_tags WHERE key = old.key;
            INSERT OR IGNORE INTO cache_tags (tag, key)
                SELECT value, new.key FROM json_each(new.tags);
        END""",
        """CREATE TRIGGER IF NOT EXISTS cache_tags_on_delete AFTER DELETE ON cache BEGIN
            DELETE FROM cache_tags WHERE key = old.key;
        END""",
        """CREATE TABLE IF NOT EXISTS limiter (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            next_free REAL NOT NULL DEFAULT 0,
            last_slot REAL NOT NULL DEFAULT 0,
            quota_used INTEGER NOT NULL DEFAULT 0,
            reset_at REAL
        )""",
        "INSERT OR IGNORE INTO limiter (id) VALUES (1)",
        """CREATE TABLE IF NOT EXISTS usage (
            day TEXT NOT NULL,
            name TEXT NOT NULL,
            value INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, name)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS flags (
            name TEXT PRIMARY KEY,
            until REAL NOT NULL
        )""",
    ),
    (
        # Rewriting an entry with the same tags (every refresh) leaves the tag index alone:
        # 3 pages per cache write instead of 5.
        "DROP TRIGGER IF EXISTS cache_tags_on_update",
        """CREATE TRIGGER cache_tags_on_update AFTER UPDATE OF tags ON cache
        WHEN old.tags IS NOT new.tags BEGIN
            DELETE FROM cache_tags WHERE key = old.key;
            INSERT OR IGNORE INTO cache_tags (tag, key)
                SELECT value, new.key FROM json_each(new.tags);
        END""",
    ),
    (
        # The latest clock an admission saw (a clock stepped back is noticed against it), and
        # the admissions of the current UTC day, counted by the admission statement itself so
        # that requests_today never lags the quota (a killed process has nothing to flush).
        "ALTER TABLE limiter ADD COLUMN last_now REAL NOT NULL DEFAULT 0",
        "ALTER TABLE limiter ADD COLUMN day TEXT",
        "ALTER TABLE limiter ADD COLUMN day_requests INTEGER NOT NULL DEFAULT 0",
        # When the day changes, the finished day's count joins the usage table (same
        # statement, same transaction).
        """CREATE TRIGGER limiter_day_rollover AFTER UPDATE OF day ON limiter
        WHEN old.day IS NOT NULL AND old.day IS NOT new.day AND old.day_requests > 0 BEGIN
            INSERT INTO usage (day, name, value) VALUES (old.day, 'requests', old.day_requests)
            ON CONFLICT (day, name) DO UPDATE SET value = value + excluded.value;
        END""",
    ),
    (
        # Watches and price history (version 0.2): durable, never touched by the cache's bound,
        # cache_clear or cache_purge.
        """CREATE TABLE IF NOT EXISTS watch_state (
            watch TEXT NOT NULL,
            event_id TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            PRIMARY KEY (watch, event_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at REAL NOT NULL
        )""",
        # ``id`` orders the points of one event (append order): a new rowid is always above
        # every existing one.
        """CREATE TABLE IF NOT EXISTS price_history (
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL,
            at REAL NOT NULL,
            payload TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS price_history_by_event ON price_history (event_id, id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

# ``reset_at > :now`` is NULL (false) when no window started: the window then starts now. A
# stored reset is never read as more than :max_ahead ahead (an implausible server header).
_USED_NOW = "CASE WHEN reset_at > :now THEN quota_used ELSE 0 END"
_RESET_NOW = (
    "CASE WHEN reset_at > :now THEN min(reset_at, :now + :max_ahead) ELSE :now + :window END"
)
# ``fresh`` is the clock when the statement runs (see ``SQLiteStore.admit``); before it by more
# than one interval, ``last_now`` says the clock was stepped back: the schedule moves back too.
_STEPPED_BACK = "fresh < last_now - :interval"
_NEXT_FREE = f"CASE WHEN {_STEPPED_BACK} THEN next_free - (last_now - fresh) ELSE next_free END"
_ADMIT_TEMPLATE = f"""
UPDATE limiter SET
    quota_used = {_USED_NOW} + 1,
    reset_at = {_RESET_NOW},
    last_slot = max({_NEXT_FREE}, :now),
    next_free = max({_NEXT_FREE}, :now) + :interval,
    last_now = CASE WHEN {_STEPPED_BACK} THEN fresh ELSE max(last_now, fresh) END,
    day_requests = CASE WHEN day IS :day THEN day_requests + 1 ELSE 1 END,
    day = :day
{{source}}WHERE id = 1 AND {_USED_NOW} < :daily_limit
RETURNING last_slot, quota_used, reset_at
"""
# On the loop thread the statement runs at once: the clock read just before it is fresh.
_ADMIT_NOW = _ADMIT_TEMPLATE.replace("fresh", ":fresh").format(source="")
# On the worker thread it may first wait for another process's lock: the clock is read when
# it runs (our reading plus the time waited, from a function SQLite calls under the lock).
_ADMIT_AFTER_WAIT = (
    "WITH clock(fresh) AS MATERIALIZED (SELECT :now + tm_elapsed(:sent))"
    + _ADMIT_TEMPLATE.format(source="FROM clock ")
)
_ELAPSED_FUNCTION = "tm_elapsed"
_RELEASE_SLOT = """
UPDATE limiter SET
    next_free = CASE WHEN next_free = :slot + :interval THEN :slot ELSE next_free END,
    quota_used = max(quota_used - 1, 0),
    day_requests = CASE WHEN day IS :day THEN max(day_requests - 1, 0) ELSE day_requests END
WHERE id = 1
"""
# :reset is already checked (``plausible_reset``): NULL or a future, plausible time.
_NEW_RESET = f"CASE WHEN :reset IS NOT NULL THEN :reset ELSE {_RESET_NOW} END"
_QUOTA_SYNC = f"""
UPDATE limiter SET
    quota_used = CASE WHEN :available IS NULL THEN {_USED_NOW}
                      ELSE max({_USED_NOW}, :daily_limit - :available) END,
    reset_at = {_NEW_RESET}
WHERE id = 1
"""
_MARK_SPENT = f"""
UPDATE limiter SET quota_used = :daily_limit, reset_at = {_NEW_RESET}
WHERE id = 1
RETURNING reset_at
"""
_LIMITER_ROW = (
    "SELECT next_free, quota_used, reset_at, last_now, day, day_requests FROM limiter WHERE id = 1"
)
_LIMITER_WRITE = """
UPDATE limiter SET next_free = ?, quota_used = ?, reset_at = ?, last_now = ?, day = ?,
    day_requests = ?
WHERE id = 1
"""
_USAGE_GET = """
SELECT name, value FROM usage WHERE day = :day
UNION ALL
SELECT 'requests', day_requests FROM limiter WHERE id = 1 AND day = :day AND day_requests > 0
"""

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
_USAGE_ADD = """
INSERT INTO usage (day, name, value) SELECT ?, key, value FROM json_each(?) WHERE true
ON CONFLICT (day, name) DO UPDATE SET value = value + excluded.value
"""
_FLAG_SET = """
INSERT INTO flags (name, until) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET until = excluded.until
"""


class UnsupportedSchemaError(ConfigurationError):
    """The database file was written by a newer version of this library; it is left as is."""


def _is_corruption(exc: BaseException) -> bool:
    # SQLITE_CORRUPT and SQLITE_NOTADB are the codes the sqlite3 module raises as a plain
    # DatabaseError; busy, locked, read-only or I/O failures are OperationalError subclasses and
    # must never cost the user the file.
    return type(exc) is sqlite3.DatabaseError


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    # sqlite_errorcode only exists from Python 3.11: the message is what 3.10 offers.
    return "locked" in str(exc) or "busy" in str(exc)


def _elapsed_since(sent: float) -> float:
    """Seconds on this process's monotonic clock since ``sent`` (SQLite calls it, under the
    write lock, on the worker thread)."""
    return max(0.0, time.monotonic() - sent)


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _row_of(values: Sequence[Any]) -> LimiterRow:
    next_free, quota_used, reset_at, last_now, day, day_requests = values
    return LimiterRow(
        next_free=float(next_free),
        quota_used=int(quota_used),
        reset_at=_float_or_none(reset_at),
        last_now=float(last_now),
        day=None if day is None else str(day),
        day_requests=int(day_requests),
    )


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


class SQLiteStore(Store):
    """A :class:`Store` in one SQLite file, safe for many tasks and many processes.

    Args:
        path: the database file (its directory is created), or ``":memory:"`` for a private
            in-memory database.
        max_entries: cache bound; the oldest entries are evicted beyond it (see the module
            docstring for the slack).
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

    # -- connection --------------------------------------------------------------------------

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

    def _close_fast(self) -> None:
        fast, self._fast = self._fast, None
        if fast is not None:
            with contextlib.suppress(sqlite3.Error):
                fast.close()

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
            await db.create_function(_ELAPSED_FUNCTION, 1, _elapsed_since)
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

    async def _update_limiter(self, decide: Callable[[LimiterRow], _T]) -> _T:
        """Read the limiter row, ``decide`` on it (mutating it), write it back: one transaction."""

        async def body(db: aiosqlite.Connection) -> _T:
            rows = list(await db.execute_fetchall(_LIMITER_ROW))
            row = _row_of(rows[0])
            result = decide(row)
            await db.execute(
                _LIMITER_WRITE,
                (
                    row.next_free,
                    row.quota_used,
                    row.reset_at,
                    row.last_now,
                    row.day,
                    row.day_requests,
                ),
            )
            return result

        return await self._transaction(body)

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

    # -- cache -------------------------------------------------------------------------------

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

    # -- per-second limiter + daily quota -----------------------------------------------------

    async def admit(self, *, now: float, interval: float, daily_limit: int) -> Admission:
        """Count one request (quota and the day's ``requests``) and reserve the next slot unless
        the quota is spent: one ``UPDATE ... RETURNING``, on the loop thread unless another
        process holds the file.

        The clock compared with ``last_now`` (a clock stepped back) is the one when the
        statement runs: on the loop thread ``now`` plus the few microseconds since; on the
        worker thread, where the statement may first wait for another process's write lock,
        ``now`` plus the time waited, read by a SQL function under the lock. A caller's stale
        ``now`` is therefore never taken for a clock stepped back."""
        sent = time.monotonic()
        day = self._days.of(now)
        # Not connected yet (learn the version first), or SQLite < 3.35 (no RETURNING).
        if (self._db is None or self._tx_lock is not None) and await self._legacy():
            return await self._update_limiter(
                lambda row: admit_row(
                    row,
                    now=now,
                    interval=interval,
                    daily_limit=daily_limit,
                    day=day,
                    fresh=now + _elapsed_since(sent),
                )
            )
        params = {
            "now": now,
            "interval": interval,
            "daily_limit": daily_limit,
            "window": DAILY_WINDOW_SECONDS,
            "max_ahead": QUOTA_RESET_MAX_AHEAD_SECONDS,
            "day": day,
        }
        done = self._fast_run(_ADMIT_NOW, {**params, "fresh": now + _elapsed_since(sent)})
        if done is not None:
            await self._fast_committed()
            rows = done[0]
        else:
            rows = await self._fetchall(_ADMIT_AFTER_WAIT, {**params, "sent": sent})
        if rows:
            slot, used, reset_at = rows[0]
            return Admission(
                admitted=True,
                wait=slot - now,
                slot=slot,
                quota_remaining=daily_limit - used,
                reset_at=reset_at,
                day=day,
            )
        # Refused (the rare path): report the state that refused it.
        return refusal(await self._limiter_row(), now=now, daily_limit=daily_limit)

    async def _legacy(self) -> bool:
        """Whether this SQLite lacks RETURNING (known once connected)."""
        await self._conn()
        return self._tx_lock is not None

    async def _limiter_row(self) -> LimiterRow:
        rows = await self._read(_LIMITER_ROW)
        return _row_of(rows[0])

    async def release_slot(self, *, slot: float, interval: float, day: str | None = None) -> None:
        """Give back an unused slot (compare-and-set: only if no later slot was reserved since),
        its quota unit and its count in ``day``'s requests (while the row still counts that
        day), in one statement."""
        await self._write(_RELEASE_SLOT, {"slot": slot, "interval": interval, "day": day})

    async def quota_sync(
        self, *, now: float, daily_limit: int, available: int | None, reset_at: float | None
    ) -> None:
        """Apply the server's view of the quota in one statement; it can only lower what is
        left and set a future, plausible reset."""
        if available is None and reset_at is None:
            return
        await self._write(
            _QUOTA_SYNC,
            {
                "now": now,
                "daily_limit": daily_limit,
                "available": available,
                "reset": plausible_reset(reset_at, now),
                "window": DAILY_WINDOW_SECONDS,
                "max_ahead": QUOTA_RESET_MAX_AHEAD_SECONDS,
            },
        )

    async def quota_mark_spent(
        self, *, now: float, daily_limit: int, reset_at: float | None
    ) -> float:
        """Nothing is left until the returned reset time."""
        if await self._legacy():
            return await self._update_limiter(
                lambda row: mark_spent_row(row, now=now, daily_limit=daily_limit, reset_at=reset_at)
            )
        rows = await self._write_returning(
            _MARK_SPENT,
            {
                "now": now,
                "daily_limit": daily_limit,
                "reset": plausible_reset(reset_at, now),
                "window": DAILY_WINDOW_SECONDS,
                "max_ahead": QUOTA_RESET_MAX_AHEAD_SECONDS,
            },
        )
        return float(rows[0][0])

    async def quota_state(self, *, now: float, daily_limit: int) -> QuotaState:
        """Read the quota (a window whose reset passed reads as fresh)."""
        return quota_state_row(await self._limiter_row(), now=now, daily_limit=daily_limit)

    # -- usage counters ------------------------------------------------------------------------

    async def usage_add(self, day: str, counters: Mapping[str, int]) -> None:
        """Add ``counters`` to ``day`` in one upsert; the first write of a day drops days older
        than the keep period."""
        if not counters:
            return
        await self._write(_USAGE_ADD, (day, json.dumps(dict(counters))))
        if self._usage_purged_for != day:
            self._usage_purged_for = day
            await self._write("DELETE FROM usage WHERE day < ?", (usage_cutoff_day(day),))

    async def usage_get(self, day: str) -> dict[str, int]:
        """The totals of ``day`` across every process (``requests``: with the admissions the
        limiter row counts for that day)."""
        totals: dict[str, int] = {}
        for name, value in await self._read(_USAGE_GET, {"day": day}):
            totals[str(name)] = totals.get(str(name), 0) + int(value)
        return totals

    # -- flags -----------------------------------------------------------------------------------

    async def flag_set(self, name: str, *, until: float) -> None:
        """Remember ``name`` until ``until``."""
        await self._write(_FLAG_SET, (name, until))

    async def flag_get(self, name: str, *, now: float) -> float | None:
        """``until`` of a flag still in force, else None."""
        rows = await self._read("SELECT until FROM flags WHERE name = ? AND until > ?", (name, now))
        return float(rows[0][0]) if rows else None

    # -- batches (version 0.2) -----------------------------------------------------------------

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

    # -- watch state (version 0.2) -----------------------------------------------------------

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

    # -- price history (version 0.2) -----------------------------------------------------------

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


# -- statements of version 0.2 -------------------------------------------------------------------

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
_HISTORY_LAST = "SELECT payload FROM price_history WHERE event_id = ? ORDER BY id DESC LIMIT 1"
_HISTORY_INSERT = "INSERT INTO price_history (event_id, at, payload) VALUES (?, ?, ?)"
# Everything from the (max_points + 1)-th newest point down; nothing when there are fewer.
_HISTORY_TRIM = """
DELETE FROM price_history WHERE event_id = ? AND id <= (
    SELECT id FROM price_history WHERE event_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?
)
"""
_HISTORY_GET = "SELECT at, payload FROM price_history WHERE event_id = ? ORDER BY id"
_HISTORY_STALE_EVENTS = """
SELECT event_id FROM price_history
WHERE id IN (SELECT max(id) FROM price_history GROUP BY event_id) AND at < ?
"""
