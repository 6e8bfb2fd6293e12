"""Figures 1 and 2: a fresh cache hit of ``get_event_details`` on the SQLite store.

* 1a — latency vs the floor: one raw aiosqlite point read of the same body bytes from a table in
  the same kind of file (WAL, ``synchronous=NORMAL``, autocommit) over one open connection,
  plus the same ``Event.model_validate_json`` parse. Ours reads small bodies on the event-loop
  thread (no worker hop), so ``detail`` also has the floor of that: the same read through a
  plain ``sqlite3`` connection on the loop thread, plus the parse.
* 1b — latency vs hishel's ``AsyncSqliteStorage`` cache hit through ``httpx`` on the same
  response from the same loopback server, plus the same parse.
* 2 — throughput of cached reads with 50 concurrent tasks vs the floor at the same concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

from ticketmaster_async._cache import cache_key
from ticketmaster_async.models import Event

from .common import (
    API_KEY,
    EVENT_ID,
    EVENT_PATH,
    RunSize,
    client_for,
    floor_connection,
    hishel_client,
    loop_floor_connection,
    loopback_api,
    scratch_dir,
)
from .harness import Figure, Goal, compare_floors, micros, ratio, run_interleaved, summarize

FLOOR_TABLE = "CREATE TABLE floor_cache (key TEXT PRIMARY KEY, body BLOB NOT NULL)"
FLOOR_READ = "SELECT body FROM floor_cache WHERE key = ?"


async def run(size: RunSize) -> list[Figure]:
    """Figures 1a, 1b and 2."""
    with scratch_dir() as tmp:
        async with contextlib.AsyncExitStack() as stack:
            api, server = await stack.enter_async_context(loopback_api())
            client = await stack.enter_async_context(
                client_for(server.url, os.path.join(tmp, "ours.sqlite3"))
            )
            # Ours: cache the entry through the real pipeline, wait for the background write.
            assert await client.get_event_details(EVENT_ID) is not None
            await client._pipeline.drain()
            key = cache_key(EVENT_PATH, {})
            entry = await client._store.cache_get(key)
            assert entry is not None, "the entry was not cached"
            body = entry.body

            # The floor: the same bytes in a table of the same kind of file.
            floor = await floor_connection(os.path.join(tmp, "floor.sqlite3"))
            stack.push_async_callback(floor.close)
            await floor.execute(FLOOR_TABLE)
            await floor.execute("INSERT INTO floor_cache VALUES (?, ?)", (key, body))
            loop_floor = loop_floor_connection(os.path.join(tmp, "floor.sqlite3"))
            stack.callback(loop_floor.close)

            # hishel against the same server; its default (non-RFC) mode caches every
            # successful GET whatever the headers say: a forced cache, as the fake needs.
            hishel = hishel_client(server.url, os.path.join(tmp, "hishel.sqlite3"))
            stack.push_async_callback(hishel.aclose)
            params = {"apikey": API_KEY}
            first = await hishel.get(EVENT_PATH, params=params)
            assert first.status_code == 200 and first.content == body
            second = await hishel.get(EVENT_PATH, params=params)
            assert second.extensions["caching"]["from_cache"], "hishel did not serve from cache"
            upstream = api.request_count

            async def ours() -> Any:
                return await client.get_event_details(EVENT_ID)

            async def floor_read() -> Any:
                rows = list(await floor.execute_fetchall(FLOOR_READ, (key,)))
                return Event.model_validate_json(rows[0][0])

            async def loop_floor_read() -> Any:
                row = loop_floor.execute(FLOOR_READ, (key,)).fetchone()
                return Event.model_validate_json(row[0])

            async def hishel_hit() -> Any:
                response = await hishel.get(EVENT_PATH, params=params)
                return Event.model_validate_json(response.content)

            latency = await run_interleaved(
                {
                    "ours": ours,
                    "floor": floor_read,
                    "loop_floor": loop_floor_read,
                    "hishel": hishel_hit,
                },
                rounds=size.hit_rounds,
                batch=size.hit_batch,
                warmup_rounds=size.warmup_rounds,
            )
            throughput = await _throughput(size, ours, floor_read)
            assert api.request_count == upstream, "a cache hit went upstream"
            return [*_latency_figures(latency, len(body)), _throughput_figure(size, throughput)]


async def _throughput(
    size: RunSize,
    ours: Callable[[], Awaitable[Any]],
    floor_read: Callable[[], Awaitable[Any]],
) -> dict[str, list[float]]:
    def concurrent(op: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        async def worker() -> None:
            for _ in range(size.throughput_ops_per_task):
                await op()

        async def batch() -> None:
            await asyncio.gather(*(worker() for _ in range(size.throughput_tasks)))

        return batch

    return await run_interleaved(
        {"ours": concurrent(ours), "floor": concurrent(floor_read)},
        rounds=size.throughput_rounds,
        batch=1,
        warmup_rounds=size.warmup_rounds,
    )


def _latency_figures(samples: dict[str, list[float]], body_bytes: int) -> list[Figure]:
    floors = compare_floors(samples)
    hishel = summarize(samples["hishel"])
    absolute = {**floors.detail, "hishel_us": hishel.as_dict(1e6), "body_bytes": body_bytes}
    vs_hishel = ratio(samples["hishel"], samples["ours"])
    return [
        Figure(
            key="cache_hit_vs_floor",
            title="cache hit latency: ours / raw aiosqlite read + parse",
            median=floors.vs_floor.median,
            p95=floors.vs_floor.p95,
            unit="×",
            goal=Goal("<=", 1.5),
            detail=absolute,
            note=floors.note("read"),
        ),
        Figure(
            key="cache_hit_vs_hishel",
            title="cache hit speed-up: hishel SQLite hit / ours",
            median=vs_hishel.median,
            p95=vs_hishel.p95,
            unit="×",
            goal=Goal(">=", 5.0),
            detail=absolute,
            note=f"hishel {micros(hishel.median)} µs",
        ),
    ]


def _throughput_figure(size: RunSize, samples: dict[str, list[float]]) -> Figure:
    ops = size.throughput_tasks * size.throughput_ops_per_task
    ours, floor = summarize(samples["ours"]), summarize(samples["floor"])
    # Batch time floor / ours is throughput ours / floor.
    relative = ratio(samples["floor"], samples["ours"])
    return Figure(
        key="cached_throughput_vs_floor",
        title=f"cached reads/s, {size.throughput_tasks} tasks: ours / floor",
        median=relative.median,
        p95=relative.p95,
        unit="×",
        goal=Goal(">=", 0.8),
        detail={
            "tasks": size.throughput_tasks,
            "ops_per_batch": ops,
            "ours_ops_per_s_median": round(ops / ours.median),
            "floor_ops_per_s_median": round(ops / floor.median),
            "ours_batch_ms": ours.as_dict(1e3),
            "floor_batch_ms": floor.as_dict(1e3),
        },
        note=f"ours {ops / ours.median:,.0f}/s, floor {ops / floor.median:,.0f}/s",
    )
