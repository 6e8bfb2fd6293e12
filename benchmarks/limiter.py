"""Figure 4: one limiter admission that is never limited (rate 1e6/s).

* 4a — ``RateLimiter.acquire()`` on the SQLite store vs the floor: one single-statement
  ``UPDATE … RETURNING`` through aiosqlite on a similar one-row table in the same kind of file.
  Ours runs that statement on the event-loop thread (no worker hop), so ``detail`` also has the
  floor of that: the same statement through a plain ``sqlite3`` connection on the loop thread.
* 4b — vs pyrate-limiter's ``SQLiteBucket`` (WAL, file lock, as its docs set it up for several
  processes) behind its ``Limiter.try_acquire_async``.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from pyrate_limiter import Duration, Limiter, Rate, SQLiteBucket

from ticketmaster_async._limiter import RateLimiter
from ticketmaster_async._store.sqlite import SQLiteStore

from .common import (
    UNLIMITED_DAILY,
    UNLIMITED_RATE,
    RunSize,
    floor_connection,
    loop_floor_connection,
    scratch_dir,
)
from .harness import Figure, Goal, compare_floors, micros, ratio, run_interleaved, summarize

FLOOR_TABLE = """CREATE TABLE floor_limiter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_free REAL NOT NULL DEFAULT 0,
    quota_used INTEGER NOT NULL DEFAULT 0
)"""
FLOOR_ADMIT = """UPDATE floor_limiter SET
    quota_used = quota_used + 1,
    next_free = max(next_free, ?) + ?
WHERE id = 1 AND quota_used < ?
RETURNING next_free, quota_used"""


async def run(size: RunSize) -> list[Figure]:
    """Figures 4a and 4b."""
    with scratch_dir() as tmp:
        async with contextlib.AsyncExitStack() as stack:
            store = SQLiteStore(os.path.join(tmp, "ours.sqlite3"), max_entries=1000)
            stack.push_async_callback(store.aclose)
            await store.open()
            limiter = RateLimiter(
                store, requests_per_second=UNLIMITED_RATE, daily_limit=UNLIMITED_DAILY
            )

            floor = await floor_connection(os.path.join(tmp, "floor.sqlite3"))
            stack.push_async_callback(floor.close)
            await floor.execute(FLOOR_TABLE)
            await floor.execute("INSERT INTO floor_limiter (id) VALUES (1)")
            interval = 1.0 / UNLIMITED_RATE
            loop_floor = loop_floor_connection(os.path.join(tmp, "floor.sqlite3"))
            stack.callback(loop_floor.close)

            bucket = SQLiteBucket.init_from_file(
                [Rate(int(UNLIMITED_RATE), Duration.SECOND)],
                db_path=os.path.join(tmp, "pyrate.sqlite3"),
                use_file_lock=True,
            )
            pyrate = Limiter(bucket)
            stack.callback(pyrate.close)

            async def ours() -> Any:
                admission = await limiter.acquire()
                assert admission.admitted
                return admission

            async def floor_admit() -> Any:
                rows = list(
                    await floor.execute_fetchall(
                        FLOOR_ADMIT, (time.time(), interval, UNLIMITED_DAILY)
                    )
                )
                assert rows
                return rows[0]

            async def loop_floor_admit() -> Any:
                rows = loop_floor.execute(
                    FLOOR_ADMIT, (time.time(), interval, UNLIMITED_DAILY)
                ).fetchall()
                assert rows
                return rows[0]

            async def pyrate_admit() -> Any:
                admitted = await pyrate.try_acquire_async("bench")
                assert admitted
                return admitted

            samples = await run_interleaved(
                {
                    "ours": ours,
                    "floor": floor_admit,
                    "loop_floor": loop_floor_admit,
                    "pyrate": pyrate_admit,
                },
                rounds=size.limiter_rounds,
                batch=size.limiter_batch,
                warmup_rounds=size.warmup_rounds,
            )
            quota = await store.quota_state(now=time.time(), daily_limit=UNLIMITED_DAILY)
    admissions = size.limiter_batch * (size.limiter_rounds + size.warmup_rounds)
    return _figures(samples, counted=quota.used, admissions=admissions)


def _figures(samples: dict[str, list[float]], *, counted: int, admissions: int) -> list[Figure]:
    floors = compare_floors(samples)
    pyrate = summarize(samples["pyrate"])
    absolute = {
        **floors.detail,
        "pyrate_us": pyrate.as_dict(1e6),
        "quota_counted": counted,
        "admissions": admissions,
    }
    vs_pyrate = ratio(samples["pyrate"], samples["ours"])
    return [
        Figure(
            key="limiter_vs_floor",
            title="limiter admission: ours / one UPDATE…RETURNING",
            median=floors.vs_floor.median,
            p95=floors.vs_floor.p95,
            unit="×",
            goal=Goal("<=", 1.5),
            detail=absolute,
            note=floors.note("statement"),
        ),
        Figure(
            key="limiter_vs_pyrate",
            title="limiter speed-up: pyrate-limiter SQLiteBucket / ours",
            median=vs_pyrate.median,
            p95=vs_pyrate.p95,
            unit="×",
            goal=Goal(">=", 2.5),
            detail=absolute,
            note=f"pyrate {micros(pyrate.median)} µs",
        ),
    ]
