"""Figure 7: memory and store size stay bounded.

Run in a child process of its own (``python -m benchmarks.memory``) so that nothing the other
benchmarks allocated is counted.

* 7a — RSS growth over ``memory_calls`` (100 000) fresh cache hits of ``get_event_details`` over
  100 cached events, 10 concurrent tasks, after a warm-up; measured with ``psutil`` after
  ``gc.collect()``.
* 7b — rows left after writing 10× ``max_entries`` distinct entries through
  ``SQLiteStore.cache_set``: at most ``max_entries`` plus the documented eviction slack.
* 7c — the database file (with ``-wal`` and ``-shm``) after 10× ``max_entries`` writes vs after
  2×: the file stops growing once the bound is reached.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped, unused-ignore]

from ticketmaster_async._constants import (
    CACHE_EVICTION_MAX_CHECK_INTERVAL,
    CACHE_EVICTION_SLACK_DIVISOR,
)
from ticketmaster_async._store.base import CacheEntry
from ticketmaster_async._store.sqlite import SQLiteStore
from ticketmaster_async.testing import FakeDiscoveryAPI

from .common import (
    API_KEY,
    EVENT_PATH,
    RunSize,
    client_for,
    file_size,
    loopback_api,
    scratch_dir,
)
from .harness import Figure, Goal

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
CACHED_EVENTS = 100
CONCURRENCY = 50
CHILD_TIMEOUT = 600.0


def eviction_slack(max_entries: int) -> int:
    """Entries a store may hold beyond ``max_entries`` (see ``_store/sqlite/cache.py``)."""
    every = min(
        CACHE_EVICTION_MAX_CHECK_INTERVAL, max(1, max_entries // CACHE_EVICTION_SLACK_DIVISOR)
    )
    return every - 1


async def run(size: RunSize) -> list[Figure]:
    """Figures 7a, 7b and 7c (measured in a child process)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.memory",
        str(size.memory_calls),
        str(size.memory_bound_entries),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), CHILD_TIMEOUT)
    if child.returncode != 0:
        raise RuntimeError(f"memory benchmark failed: {err.decode()}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    bound = result["bound"]
    allowed_rows = bound["max_entries"] + eviction_slack(bound["max_entries"])
    hits = result["hits"]
    return [
        Figure(
            key="memory_rss_growth_mb",
            title=f"RSS growth over {hits['calls']:,} cached calls",
            median=hits["rss_growth_mb"],
            p95=None,
            unit="MB",
            goal=Goal("<", 20.0),
            detail=hits,
            note=(
                f"RSS {hits['rss_before_mb']:.0f}→{hits['rss_after_mb']:.0f} MB; "
                f"store {hits['rows_after']} rows, {hits['file_after_bytes'] / MB:.2f} MB"
            ),
        ),
        Figure(
            key="store_rows_bounded",
            title=f"rows after {bound['writes']:,} writes, max_entries={bound['max_entries']:,}",
            median=float(bound["rows_after_10x"]),
            p95=None,
            unit="",
            goal=Goal("<=", float(allowed_rows)),
            detail=bound,
            note=f"bound + eviction slack = {allowed_rows}",
        ),
        Figure(
            key="store_file_bounded",
            title="store file peak after 10× / after 2× max_entries writes",
            median=bound["file_after_10x_bytes"] / bound["file_after_2x_bytes"],
            p95=None,
            unit="×",
            goal=Goal("<=", 1.25),
            detail=bound,
            note=(
                f"{bound['file_after_2x_bytes'] / MB:.2f} → "
                f"{bound['file_after_10x_bytes'] / MB:.2f} MB (db + wal + shm, peak over the "
                "last max_entries writes)"
            ),
        ),
    ]


# -- the child process -------------------------------------------------------------------------


def _rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


async def _hits(calls: int, tmp: str) -> dict[str, Any]:
    db_path = os.path.join(tmp, "hits.sqlite3")
    async with loopback_api() as (api, server), client_for(server.url, db_path) as client:
        ids = api.event_ids()[:CACHED_EVENTS]
        for event_id in ids:  # misses: cache every event once
            assert await client.get_event_details(event_id) is not None
        await client._pipeline.drain()
        upstream = api.request_count

        async def worker(offset: int, count: int) -> None:
            for n in range(count):
                await client.get_event_details(ids[(offset + n) % len(ids)])

        async def hit(total: int) -> None:
            each = total // CONCURRENCY
            await asyncio.gather(*(worker(k * 7, each) for k in range(CONCURRENCY)))

        await hit(max(calls // 20, 1000))  # warm-up: caches, pools, lazy imports
        await client._pipeline.drain()
        rows_before = await client._store.cache_count()
        file_before = file_size(db_path)
        rss_before = _rss()
        started = time.perf_counter()
        await hit(calls)
        elapsed = time.perf_counter() - started
        await client._pipeline.drain()
        rss_after = _rss()
        assert api.request_count == upstream, "a cached call went upstream"
        rows_after = await client._store.cache_count()
        file_after = file_size(db_path)
    return {
        "calls": calls,
        "cached_events": len(ids),
        "concurrency": CONCURRENCY,
        "seconds": round(elapsed, 2),
        "rss_before_mb": round(rss_before / MB, 2),
        "rss_after_mb": round(rss_after / MB, 2),
        "rss_growth_mb": round((rss_after - rss_before) / MB, 2),
        "rows_before": rows_before,
        "rows_after": rows_after,
        "file_before_bytes": file_before,
        "file_after_bytes": file_after,
    }


async def _bound(max_entries: int, tmp: str, body: bytes) -> dict[str, Any]:
    db_path = os.path.join(tmp, "bound.sqlite3")
    store = SQLiteStore(db_path, max_entries=max_entries)
    sizes: dict[int, tuple[int, int]] = {}
    # The file's peak over the max_entries writes before each sample: the WAL swings between
    # empty and its checkpoint threshold, so one reading would compare two random moments.
    peak = 0
    try:
        now = time.time()
        writes = 10 * max_entries
        for n in range(1, writes + 1):
            entry = CacheEntry(
                key=f"GET /discovery/v2/events/BOUND{n:08d}.json",
                status=200,
                body=body,
                stored_at=now + n * 1e-3,
                expires_at=now + 3600,
                headers={"content-type": "application/json"},
            )
            await store.cache_set(entry, tags=(f"event:BOUND{n:08d}",), keep=86_400.0)
            if n % max_entries == 1:
                peak = 0
            peak = max(peak, file_size(db_path))
            if n in (2 * max_entries, writes):
                sizes[n] = (await store.cache_count(), peak)
    finally:
        await store.aclose()
    return {
        "max_entries": max_entries,
        "writes": writes,
        "body_bytes": len(body),
        "rows_after_2x": sizes[2 * max_entries][0],
        "rows_after_10x": sizes[writes][0],
        "file_after_2x_bytes": sizes[2 * max_entries][1],
        "file_after_10x_bytes": sizes[writes][1],
    }


async def _child(calls: int, max_entries: int) -> dict[str, Any]:
    with scratch_dir() as tmp:
        hits = await _hits(calls, tmp)
        api = FakeDiscoveryAPI(requests_per_second=None)
        body = api.handle("GET", EVENT_PATH, {"apikey": API_KEY}).body
        bound = await _bound(max_entries, tmp, body)
    return {"hits": hits, "bound": bound}


def _parse_size(argv: list[str]) -> tuple[int, int]:
    if len(argv) == 2:
        return int(argv[0]), int(argv[1])
    size = RunSize.full()
    return size.memory_calls, size.memory_bound_entries


if __name__ == "__main__":
    calls, max_entries = _parse_size(sys.argv[1:])
    print(json.dumps(asyncio.run(_child(calls, max_entries))), flush=True)
