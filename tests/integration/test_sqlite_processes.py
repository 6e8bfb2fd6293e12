"""Real OS processes sharing one SQLite file: no over-admission, and no damage from SIGKILL.

The workers are this module run as a script (``python -m tests.integration.<this> ...``), so
they use exactly the installed package, in processes of their own.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from ticketmaster_async._limiter import RateLimiter
from ticketmaster_async._store.base import CacheEntry
from ticketmaster_async._store.sqlite import SQLiteStore

from .workers import READY, WORKER_TIMEOUT, run_together, start_worker, wait_ready

pytestmark = pytest.mark.integration

MODULE = "tests.integration.test_sqlite_processes"
PROCESSES = 3
ADMISSIONS_PER_PROCESS = 25
REQUESTS_PER_SECOND = 50.0
INTERVAL = 1.0 / REQUESTS_PER_SECOND
DAILY_LIMIT = 10_000
#: Float slack for differences of epoch seconds (an ulp at 1.7e9 is 2.4e-7 s).
EPSILON = 1e-6
HAMMER_READY_AFTER = 50
#: Evictions run every 2 writes, as a statement after the upsert: a worker killed between the
#: two leaves at most 2 entries over the bound (see the slack in sqlite.py's docstring).
HAMMER_MAX_ENTRIES = 200
HAMMER_EVICTION_SLACK = 2
HAMMER_INTERVAL = 1e-4
HAMMER_TAGS = 17
UNLIMITED = 10**9
KILL_AFTER_SECONDS = 0.3


# -- workers (run in child processes) ------------------------------------------------------------


async def _admit_worker(path: str, count: int) -> None:
    store = SQLiteStore(path, max_entries=1000)
    limiter = RateLimiter(store, requests_per_second=REQUESTS_PER_SECOND, daily_limit=DAILY_LIMIT)
    print(READY, flush=True)
    sys.stdin.readline()  # "go": every worker opens the new file and starts at once
    slots = []
    try:
        await store.open()
        for _ in range(count):
            admission = await limiter.acquire()  # sleeps for real until the slot
            assert admission.admitted
            slots.append(admission.slot)
    finally:
        await store.aclose()  # else its worker thread keeps this process alive
    print(json.dumps(slots), flush=True)


async def _hammer_worker(path: str) -> None:
    store = SQLiteStore(path, max_entries=HAMMER_MAX_ENTRIES)
    body = os.urandom(2048)
    for i in itertools.count():
        now = time.time()
        entry = CacheEntry(
            key=f"GET /events/{i}", status=200, body=body, stored_at=now, expires_at=now + 60
        )
        await store.cache_set(entry, tags=[f"event:{i % HAMMER_TAGS}"], keep=60.0)
        await store.admit(now=now, interval=HAMMER_INTERVAL, daily_limit=UNLIMITED)
        if i % 10 == 0:
            await store.usage_add("2024-01-01", {"requests": 10})
        if i == HAMMER_READY_AFTER:
            print(READY, flush=True)


def main(argv: list[str]) -> None:
    mode, path = argv[0], argv[1]
    if mode == "admit":
        asyncio.run(_admit_worker(path, int(argv[2])))
    else:
        asyncio.run(_hammer_worker(path))


# -- tests ---------------------------------------------------------------------------------------


def test_processes_share_slots_and_quota_without_over_admission(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    outputs = run_together(
        [start_worker(MODULE, "admit", path, str(ADMISSIONS_PER_PROCESS)) for _ in range(PROCESSES)]
    )

    owned = [(slot, owner) for owner, (out, _) in enumerate(outputs) for slot in json.loads(out)]
    owned.sort()
    slots = [slot for slot, _ in owned]
    total = PROCESSES * ADMISSIONS_PER_PROCESS
    assert len(set(slots)) == len(slots) == total
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= INTERVAL - EPSILON, gaps  # never two slots closer than the interval
    # The processes really competed: slots interleave and mostly follow back to back.
    back_to_back = sum(abs(gap - INTERVAL) < EPSILON for gap in gaps)
    assert back_to_back >= len(gaps) // 2, gaps
    switches = sum(a != b for (_, a), (_, b) in itertools.pairwise(owned))
    assert switches >= PROCESSES * 2, owned

    with sqlite3.connect(path) as raw:
        (used,) = raw.execute("SELECT quota_used FROM limiter").fetchone()
    raw.close()
    assert used == total


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_write_leaves_a_sound_file(tmp_path: Path) -> None:
    path = str(tmp_path / "killed.sqlite3")
    worker = start_worker(MODULE, "hammer", path)
    try:
        wait_ready(worker)
        time.sleep(KILL_AFTER_SECONDS)  # let it write for a while, then kill it mid-flight
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=WORKER_TIMEOUT)
    finally:
        worker.kill()
        worker.wait(timeout=WORKER_TIMEOUT)
    assert worker.returncode == -signal.SIGKILL

    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    (used,) = raw.execute("SELECT quota_used FROM limiter").fetchone()
    raw.close()
    assert used > HAMMER_READY_AFTER

    async def reopen() -> None:
        store = SQLiteStore(path, max_entries=HAMMER_MAX_ENTRIES)
        try:  # an unclosed store's worker thread would keep this test process alive at exit
            assert 0 < await store.cache_count() <= HAMMER_MAX_ENTRIES + HAMMER_EVICTION_SLACK
            admission = await store.admit(
                now=time.time(), interval=HAMMER_INTERVAL, daily_limit=UNLIMITED
            )
            assert admission.admitted
            assert await store.cache_invalidate_tag("event:3") > 0
            assert (await store.usage_get("2024-01-01"))["requests"] > 0
        finally:
            await store.aclose()

    asyncio.run(reopen())
    assert not list(tmp_path.glob("*.corrupt-*"))


if __name__ == "__main__":
    main(sys.argv[1:])
