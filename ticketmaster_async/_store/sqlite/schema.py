"""The schema of :class:`~ticketmaster_async._store.sqlite.SQLiteStore`'s file: its migrations, its
version and the error for a file written by a newer version.

The schema carries a version (``PRAGMA user_version``) and migrates forward; a file from a newer
version is refused, never rewritten.
"""

from __future__ import annotations

from ..._exceptions import ConfigurationError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "UnsupportedSchemaError"]

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


class UnsupportedSchemaError(ConfigurationError):
    """The database file was written by a newer version of this library; it is left as is."""
