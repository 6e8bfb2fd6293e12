"""Figure 8: cache-hit latency does not grow with the number of entries in the store.

Three SQLite stores are filled with 1 000, 10 000 and 100 000 entries (one bulk insert into the
store's own ``cache`` table, tags included, after ``SQLiteStore.open`` created the schema; not
100 000 HTTP calls), then one more entry is cached through the real pipeline and hit on each
store, interleaved. The figure is the hit latency on the largest store over the smallest.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from typing import Any

from ticketmaster_async import TicketmasterClient
from ticketmaster_async._store.sqlite import SQLiteStore
from ticketmaster_async.testing import FakeDiscoveryAPI

from .common import API_KEY, EVENT_ID, EVENT_PATH, RunSize, client_for, loopback_api, scratch_dir
from .harness import Figure, Goal, micros, ratio, run_interleaved, summarize

#: Column list of the store's cache table (schema version 1).
FILL = """INSERT INTO cache (key, status, body, headers, stored_at, expires_at, keep_until, tags)
VALUES (?, 200, ?, '{"content-type": "application/json;charset=utf-8"}', ?, ?, ?, ?)"""


def fill(path: str, entries: int, body: bytes) -> float:
    """Bulk-insert ``entries`` fresh entries into the store file at ``path`` (schema already
    created); returns the seconds it took."""
    started = time.perf_counter()
    now = time.time()
    rows = (
        (
            f"GET /discovery/v2/events/FILL{n:07d}.json",
            body,
            now - entries + n * 1e-3,
            now + 3600,
            now + 3600 + 86_400,
            json.dumps([f"event:FILL{n:07d}"]),
        )
        for n in range(entries)
    )
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("BEGIN")
        db.executemany(FILL, rows)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return time.perf_counter() - started


async def run(size: RunSize) -> list[Figure]:
    """Figure 8."""
    body = FakeDiscoveryAPI(requests_per_second=None).handle("GET", EVENT_PATH, {"apikey": API_KEY})
    sizes = size.growth_sizes
    with scratch_dir() as tmp:
        fill_seconds: dict[int, float] = {}
        paths: dict[int, str] = {}
        for entries in sizes:
            path = paths[entries] = os.path.join(tmp, f"store-{entries}.sqlite3")
            store = SQLiteStore(path, max_entries=10 * entries)
            await store.open()  # the schema, exactly as the client makes it
            await store.aclose()
            fill_seconds[entries] = round(fill(path, entries, body.body), 2)

        async with contextlib.AsyncExitStack() as stack:
            api, server = await stack.enter_async_context(loopback_api())
            clients: dict[int, TicketmasterClient] = {}
            for entries in sizes:
                clients[entries] = client = await stack.enter_async_context(
                    # A bound well above the fill, so no eviction runs.
                    client_for(server.url, paths[entries], cache_max_entries=10 * entries)
                )
                assert await client.get_event_details(EVENT_ID) is not None
                await client._pipeline.drain()
                count = await client._store.cache_count()
                assert count == entries + 1, f"store of {entries} holds {count}"
            upstream = api.request_count

            def hit(client: TicketmasterClient) -> Any:
                async def op() -> Any:
                    return await client.get_event_details(EVENT_ID)

                return op

            samples = await run_interleaved(
                {str(entries): hit(client) for entries, client in clients.items()},
                rounds=size.growth_rounds,
                batch=size.growth_batch,
                warmup_rounds=size.warmup_rounds,
            )
            assert api.request_count == upstream, "a cache hit went upstream"

    small, large = str(sizes[0]), str(sizes[-1])
    growth = ratio(samples[large], samples[small])
    detail: dict[str, Any] = {
        f"hit_us_{name}": summarize(values).as_dict(1e6) for name, values in samples.items()
    }
    detail["fill_seconds"] = fill_seconds
    for name in samples:
        if name not in (small, large):
            middle = ratio(samples[name], samples[small])
            detail[f"ratio_{name}_over_{small}"] = middle.as_dict()
    return [
        Figure(
            key="hit_cost_growth",
            title=f"hit latency with {int(large):,} / {int(small):,} entries in the store",
            median=growth.median,
            p95=growth.p95,
            unit="×",
            goal=Goal("<=", 1.2),
            detail=detail,
            note=(
                f"{micros(summarize(samples[small]).median)} µs → "
                f"{micros(summarize(samples[large]).median)} µs"
            ),
        )
    ]
