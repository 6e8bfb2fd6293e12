"""Every :class:`Store` backend behind one parametrised fixture.

Not a conftest: test modules opt in with
``from tests.store_backends import store_factory_fixture, store_fixture  # noqa: F401``, which
registers the fixtures ``store`` and ``store_factory`` (registered by name, so test parameters do
not shadow the imports). A new backend joins every behaviour test by adding its name to
:data:`BACKENDS` and a branch to :func:`_build`.

"redis" runs on the session's real ``redis-server`` (:mod:`tests.redis_server`; skipped without
one, failed in CI), each test under a key prefix of its own. Its scripts take the caller's ``now``
(``use_server_time=False``) so the tests can drive time as on the other backends; the scripts are
the same ones that read Redis ``TIME`` in production (``tests/test_store_redis.py`` covers that).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as redis_asyncio

from ticketmaster_async._store.base import Store
from ticketmaster_async._store.memory import MemoryStore
from ticketmaster_async._store.redis import RedisStore
from ticketmaster_async._store.sqlite import SQLiteStore

from .redis_server import session_redis_server, unique_prefix

__all__ = [
    "BACKENDS",
    "SQLITE_BACKENDS",
    "StoreFactory",
    "store_factory_fixture",
    "store_fixture",
    "write_limiter_row",
]

#: "sqlite-legacy" is the SQLite store with RETURNING pretended missing (SQLite < 3.35), so the
#: ``BEGIN IMMEDIATE`` fallback runs the same behaviour tests.
BACKENDS = ["memory", "sqlite", "sqlite-legacy", "redis"]
SQLITE_BACKENDS = frozenset({"sqlite", "sqlite-legacy"})
#: Large enough that no behaviour test but the eviction ones ever evicts.
TEST_MAX_ENTRIES = 1000
_LEGACY_SQLITE_VERSION = (3, 34, 1)

#: ``await make(max_entries=..., name=...)``: a new, opened store of the parametrised backend;
#: the same ``name`` gives another store on the same SQLite file (or Redis prefix).
StoreFactory = Callable[..., Awaitable[Store]]


def _build(
    kind: str, tmp_path: Path, *, max_entries: int, name: str, redis: tuple[str, str] | None
) -> Store:
    if kind == "memory":
        return MemoryStore(max_entries=max_entries)
    if redis is not None:
        url, prefix = redis
        return RedisStore(
            url, prefix=f"{prefix}:{name}", max_entries=max_entries, use_server_time=False
        )
    return SQLiteStore(tmp_path / "state" / name, max_entries=max_entries)


@pytest.fixture(name="store_factory", params=BACKENDS)
async def store_factory_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StoreFactory]:
    """A factory of opened stores of one backend; every store is closed after the test."""
    kind: str = request.param
    if kind == "sqlite-legacy":
        monkeypatch.setattr(sqlite3, "sqlite_version_info", _LEGACY_SQLITE_VERSION)
    redis = None
    if kind == "redis":
        redis = (session_redis_server(request.config).url, unique_prefix())
    created: list[Store] = []

    async def make(*, max_entries: int = TEST_MAX_ENTRIES, name: str = "store.sqlite3") -> Store:
        built = _build(kind, tmp_path, max_entries=max_entries, name=name, redis=redis)
        created.append(built)
        await built.open()
        return built

    yield make
    for built in created:
        await built.aclose()


@pytest.fixture(name="store")
async def store_fixture(store_factory: StoreFactory) -> Store:
    """An opened store of each backend, closed after the test."""
    return await store_factory()


async def write_limiter_row(store: Store, *, quota_used: int, reset_at: float) -> None:
    """Write the limiter/quota state straight into the backend's storage, bypassing the store's
    checks (as another process, an older version or a bad server header could have left it)."""
    if isinstance(store, MemoryStore):
        store._limiter.quota_used = quota_used
        store._limiter.reset_at = reset_at
    elif isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as raw:
            raw.execute(
                "UPDATE limiter SET quota_used = ?, reset_at = ? WHERE id = 1",
                (quota_used, reset_at),
            )
        raw.close()
    elif isinstance(store, RedisStore):
        client = redis_asyncio.Redis.from_url(store._url)
        try:
            await client.hset(
                f"{store.prefix}:lim", mapping={"u": str(quota_used), "r": repr(reset_at)}
            )
        finally:
            await client.aclose()
    else:  # pragma: no cover - a new backend must say how its row is written
        raise TypeError(f"no raw access to {type(store).__name__}")
