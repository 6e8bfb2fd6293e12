"""Shared set-up of the benchmarks: run sizes, the loopback fake API, clients, floor tables."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import aiosqlite
import httpx
from hishel import AsyncSqliteStorage
from hishel.httpx import AsyncCacheTransport

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI, FakeServer

__all__ = [
    "API_KEY",
    "EVENT_ID",
    "EVENT_PATH",
    "UNLIMITED_DAILY",
    "UNLIMITED_RATE",
    "RunSize",
    "client_for",
    "event_path",
    "floor_connection",
    "hishel_client",
    "loop_floor_connection",
    "loopback_api",
    "scratch_dir",
]

API_KEY = "bench-key-0123456789"
EVENT_ID = SANDBOX_EVENT_ID
#: A rate so high the per-second limiter never makes anyone wait.
UNLIMITED_RATE = 1e6
#: A daily budget no benchmark can spend (client and fake alike).
UNLIMITED_DAILY = 10**9
#: The same busy timeout as the store's.
BUSY_TIMEOUT_MS = 5000


def event_path(event_id: str) -> str:
    """The Discovery path of one event's details."""
    return f"/discovery/v2/events/{event_id}.json"


EVENT_PATH = event_path(EVENT_ID)


@dataclass(frozen=True)
class RunSize:
    """How much work each figure does: the full run (~3–4 min here) or ``--quick`` (~30 s)."""

    quick: bool
    hit_rounds: int
    hit_batch: int
    throughput_rounds: int
    throughput_tasks: int
    throughput_ops_per_task: int
    miss_rounds: int
    miss_batch: int
    limiter_rounds: int
    limiter_batch: int
    utilisation_requests_one: int
    utilisation_processes: int
    utilisation_requests_each: int
    single_flight_callers: int
    single_flight_rounds: int
    memory_calls: int
    memory_bound_entries: int
    growth_sizes: tuple[int, ...]
    growth_rounds: int
    growth_batch: int
    warmup_rounds: int

    @classmethod
    def full(cls) -> RunSize:
        return cls(
            quick=False,
            hit_rounds=200,
            hit_batch=10,
            throughput_rounds=40,
            throughput_tasks=50,
            throughput_ops_per_task=10,
            miss_rounds=120,
            miss_batch=5,
            limiter_rounds=200,
            limiter_batch=10,
            utilisation_requests_one=25,
            utilisation_processes=3,
            utilisation_requests_each=10,
            single_flight_callers=200,
            single_flight_rounds=20,
            memory_calls=100_000,
            memory_bound_entries=1000,
            growth_sizes=(1_000, 10_000, 100_000),
            growth_rounds=200,
            growth_batch=10,
            warmup_rounds=3,
        )

    @classmethod
    def smoke(cls) -> RunSize:
        return cls(
            quick=True,
            hit_rounds=40,
            hit_batch=5,
            throughput_rounds=8,
            throughput_tasks=50,
            throughput_ops_per_task=4,
            miss_rounds=25,
            miss_batch=4,
            limiter_rounds=40,
            limiter_batch=5,
            utilisation_requests_one=10,
            utilisation_processes=3,
            utilisation_requests_each=4,
            single_flight_callers=200,
            single_flight_rounds=4,
            memory_calls=10_000,
            memory_bound_entries=200,
            growth_sizes=(1_000, 5_000, 20_000),
            growth_rounds=40,
            growth_batch=5,
            warmup_rounds=1,
        )


@contextmanager
def scratch_dir() -> Iterator[str]:
    """A temporary directory for the benchmark's database files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tm-bench-") as path:
        yield path


@asynccontextmanager
async def loopback_api(
    requests_per_second: float | None = None,
) -> AsyncIterator[tuple[FakeDiscoveryAPI, FakeServer]]:
    """The fake Discovery API on a real loopback socket (spike arrest off unless a rate is
    given; a daily quota nothing reaches)."""
    api = FakeDiscoveryAPI(requests_per_second=requests_per_second, daily_limit=UNLIMITED_DAILY)
    async with FakeServer(api) as server:
        yield api, server


@asynccontextmanager
async def client_for(url: str, db_path: str, **settings: Any) -> AsyncIterator[TicketmasterClient]:
    """Our client on the SQLite store at ``db_path``, talking to ``url``; the limiter never
    waits unless ``requests_per_second`` is given."""
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": url,
        "db_path": db_path,
        "offers": False,
        "requests_per_second": UNLIMITED_RATE,
        "daily_limit": UNLIMITED_DAILY,
    }
    values.update(settings)
    async with TicketmasterClient(Settings(**values)) as client:
        yield client


async def floor_connection(path: str) -> aiosqlite.Connection:
    """One aiosqlite connection to a file set up like the store's: WAL, ``synchronous=NORMAL``,
    autocommit, the same busy timeout."""
    db = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA synchronous = NORMAL")
    return db


def hishel_client(url: str, database_path: str) -> httpx.AsyncClient:
    """httpx with hishel's SQLite storage (``AsyncSqliteStorage`` at ``database_path``) in
    front, against ``url``."""
    storage = AsyncSqliteStorage(database_path=database_path)
    return httpx.AsyncClient(
        base_url=url, transport=AsyncCacheTransport(httpx.AsyncHTTPTransport(), storage=storage)
    )


def loop_floor_connection(path: str) -> sqlite3.Connection:
    """A plain ``sqlite3`` connection to a floor file, set up like the store's loop-thread
    connection: autocommit, ``synchronous=NORMAL`` (the file is already in WAL mode), no busy
    wait."""
    db = sqlite3.connect(path, isolation_level=None, timeout=0)
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    return db


def file_size(path: str) -> int:
    """Bytes of a SQLite database with its ``-wal`` and ``-shm`` files."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            total += os.path.getsize(path + suffix)
    return total
