"""Every :class:`Store` backend behind one parametrised fixture.

Not a conftest: test modules opt in with
``from tests.store_backends import store_factory_fixture, store_fixture  # noqa: F401``, which
registers the fixtures ``store`` and ``store_factory`` (registered by name, so test parameters do
not shadow the imports). A new backend (Redis) joins every behaviour test by adding its name to
:data:`BACKENDS` and a branch to :func:`_build`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from ticketmaster_async._store.base import Store
from ticketmaster_async._store.memory import MemoryStore
from ticketmaster_async._store.sqlite import SQLiteStore

__all__ = ["BACKENDS", "SQLITE_BACKENDS", "StoreFactory", "store_factory_fixture", "store_fixture"]

#: "sqlite-legacy" is the SQLite store with RETURNING pretended missing (SQLite < 3.35), so the
#: ``BEGIN IMMEDIATE`` fallback runs the same behaviour tests.
BACKENDS = ["memory", "sqlite", "sqlite-legacy"]
SQLITE_BACKENDS = frozenset({"sqlite", "sqlite-legacy"})
#: Large enough that no behaviour test but the eviction ones ever evicts.
TEST_MAX_ENTRIES = 1000
_LEGACY_SQLITE_VERSION = (3, 34, 1)

#: ``await make(max_entries=..., name=...)``: a new, opened store of the parametrised backend;
#: the same ``name`` gives another store on the same SQLite file.
StoreFactory = Callable[..., Awaitable[Store]]


def _build(kind: str, tmp_path: Path, *, max_entries: int, name: str) -> Store:
    if kind == "memory":
        return MemoryStore(max_entries=max_entries)
    return SQLiteStore(tmp_path / "state" / name, max_entries=max_entries)


@pytest.fixture(name="store_factory", params=BACKENDS)
async def store_factory_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StoreFactory]:
    """A factory of opened stores of one backend; every store is closed after the test."""
    kind: str = request.param
    if kind == "sqlite-legacy":
        monkeypatch.setattr(sqlite3, "sqlite_version_info", _LEGACY_SQLITE_VERSION)
    created: list[Store] = []

    async def make(*, max_entries: int = TEST_MAX_ENTRIES, name: str = "store.sqlite3") -> Store:
        built = _build(kind, tmp_path, max_entries=max_entries, name=name)
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
