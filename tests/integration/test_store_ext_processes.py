"""Real OS processes racing for one watch lease on one SQLite file (and on one Redis prefix):
exactly one of them wins each round.

Round ``r`` is the instant ``NOW + r * TTL`` (the store's injected clock): the lease taken in
round ``r - 1`` ends exactly then, so in every round the first process to ask takes it and every
later one is refused, whatever round the others are in (a process that is ahead holds the lease
past the rounds of those behind). Two winners of one round would be two processes polling one
watch at once. So that the processes really race, each round starts on the same tick of the
machine's wall clock in every process (ticks ``TICK`` seconds apart).

The workers are this module run as a script (``python -m tests.integration.<this> ...``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import sys
import time
from pathlib import Path

import pytest

from tests.redis_server import RedisServer, redis_server_fixture, unique_prefix  # noqa: F401
from ticketmaster_async._store.base import Store
from ticketmaster_async._store.redis import RedisStore
from ticketmaster_async._store.sqlite import SQLiteStore

from .workers import READY, run_together, start_worker

pytestmark = pytest.mark.integration

MODULE = "tests.integration.test_store_ext_processes"
PROCESSES = 3
ROUNDS = 100
NOW = 1_700_000_000.0
TTL = 60.0
#: Seconds between two rounds on the wall clock, and from "go" to the first round at least.
TICK = 0.01
START_MARGIN = 0.02


# -- worker (runs in a child process) --------------------------------------------------------------


def _open(backend: str, location: str) -> Store:
    if backend == "sqlite":
        return SQLiteStore(location, max_entries=100)
    url, prefix = location.split(" ", 1)
    return RedisStore(url, prefix=prefix, max_entries=100, use_server_time=False)


async def _lease_worker(backend: str, location: str, owner: str) -> None:
    store = _open(backend, location)
    try:
        await store.open()
        print(READY, flush=True)
        sys.stdin.readline()  # "go": every worker starts at once
        first_tick = math.ceil((time.time() + START_MARGIN) / TICK)
        won = []
        for r in range(ROUNDS):
            await asyncio.sleep(max(0.0, (first_tick + r) * TICK - time.time()))
            if await store.lease_acquire("watch", owner, now=NOW + r * TTL, ttl=TTL):
                won.append(r)
    finally:
        await store.aclose()  # else its worker thread keeps this process alive
    print(json.dumps(won), flush=True)


def main(argv: list[str]) -> None:
    backend, location, owner = argv
    asyncio.run(_lease_worker(backend, location, owner))


# -- tests -----------------------------------------------------------------------------------------


def _race(backend: str, location: str) -> None:
    outputs = run_together(
        [start_worker(MODULE, backend, location, f"w{i}") for i in range(PROCESSES)]
    )

    won = [json.loads(out) for out, _ in outputs]
    winners = collections.Counter(r for rounds in won for r in rounds)
    assert sorted(winners) == list(range(ROUNDS))  # every round was won...
    assert set(winners.values()) == {1}, [r for r, n in winners.items() if n > 1]  # ...once
    # The processes really raced: more than one of them held the lease at some point.
    assert sum(1 for rounds in won if rounds) >= 2, [len(rounds) for rounds in won]


def test_processes_on_one_sqlite_file_never_share_a_lease(tmp_path: Path) -> None:
    path = tmp_path / "leases.sqlite3"

    async def create() -> None:  # created (and migrated) once, before the race
        store = SQLiteStore(path, max_entries=100)
        await store.open()
        await store.aclose()

    asyncio.run(create())
    _race("sqlite", str(path))


def test_processes_on_one_redis_prefix_never_share_a_lease(redis_server: RedisServer) -> None:
    _race("redis", f"{redis_server.url} {unique_prefix()}")


if __name__ == "__main__":
    main(sys.argv[1:])
