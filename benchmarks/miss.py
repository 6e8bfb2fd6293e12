"""Figures 3 and 6: the cost of a cache miss, and single flight.

* 3a — a miss through the full pipeline (``refresh=True``: no cache read, limiter admission on
  the SQLite store, HTTP, quota sync and cache write in the background, parse) vs a raw
  ``httpx.AsyncClient.get`` + the same parse, against the same loopback server (spike arrest
  off, our limiter at 1e6/s so it never waits).
* 3b — vs hishel's miss + store (``AsyncSqliteStorage``; a fresh cache key per request through
  hishel's per-request ``caching`` extension, so every request looks up, misses and is
  stored). hishel looks its cache up first, so ours is measured the same way here: a client
  with ``cache_ttl=0``, whose every call reads the (always expired) entry, then fetches and
  stores. Both variants of ours run in the same interleaved rounds; the other ratios are in
  ``detail``.
* 6 — 200 identical concurrent calls: how many requests reach the server. Each round uses a
  new client on a new store file (a cold key while the store opens under the callers), then
  ``refresh=True`` on the now cached key; the figure is judged on every round.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from typing import Any

import httpx

from ticketmaster_async.models import Event

from .common import (
    API_KEY,
    EVENT_ID,
    EVENT_PATH,
    RunSize,
    client_for,
    event_path,
    hishel_client,
    loopback_api,
    scratch_dir,
)
from .harness import Figure, Goal, micros, percentile, ratio, run_interleaved, summarize


async def run(size: RunSize) -> list[Figure]:
    """Figures 3a, 3b and 6."""
    with scratch_dir() as tmp:
        async with contextlib.AsyncExitStack() as stack:
            api, server = await stack.enter_async_context(loopback_api())
            client = await stack.enter_async_context(
                client_for(server.url, os.path.join(tmp, "ours.sqlite3"))
            )
            expired = await stack.enter_async_context(
                client_for(server.url, os.path.join(tmp, "expired.sqlite3"), cache_ttl=0)
            )
            raw = httpx.AsyncClient(base_url=server.url)
            stack.push_async_callback(raw.aclose)
            hishel = hishel_client(server.url, os.path.join(tmp, "hishel.sqlite3"))
            stack.push_async_callback(hishel.aclose)
            params = {"apikey": API_KEY}
            keys = itertools.count()

            async def ours() -> Any:
                return await client.get_event_details(EVENT_ID, refresh=True)

            async def ours_lookup() -> Any:
                return await expired.get_event_details(EVENT_ID)

            async def raw_get() -> Any:
                response = await raw.get(EVENT_PATH, params=params)
                return Event.model_validate_json(response.content)

            async def hishel_miss() -> Any:
                caching = {"key": f"miss-{next(keys)}"}
                response = await hishel.get(
                    EVENT_PATH, params=params, extensions={"caching": caching}
                )
                assert not response.extensions["caching"]["from_cache"]
                return Event.model_validate_json(response.content)

            before = api.request_count
            samples = await run_interleaved(
                {
                    "ours": ours,
                    "ours_lookup": ours_lookup,
                    "raw": raw_get,
                    "hishel": hishel_miss,
                },
                rounds=size.miss_rounds,
                batch=size.miss_batch,
                warmup_rounds=size.warmup_rounds,
            )
            sent = api.request_count - before
            expected = len(samples) * size.miss_batch * (size.miss_rounds + size.warmup_rounds)
            assert sent == expected, f"{sent} requests reached the server, expected {expected}"
            assert api.count_429 == 0
            figures = _miss_figures(samples)
        figures.append(await _single_flight(size, tmp))
        return figures


def _miss_figures(samples: dict[str, list[float]]) -> list[Figure]:
    ours, lookup, raw, hishel = (
        summarize(samples[name]) for name in ("ours", "ours_lookup", "raw", "hishel")
    )
    vs_raw = ratio(samples["ours"], samples["raw"])
    vs_hishel = ratio(samples["hishel"], samples["ours_lookup"])
    lookup_vs_raw = ratio(samples["ours_lookup"], samples["raw"])
    refresh_vs_hishel = ratio(samples["hishel"], samples["ours"])
    absolute = {
        "ours_refresh_us": ours.as_dict(1e6),
        "ours_expired_lookup_us": lookup.as_dict(1e6),
        "raw_httpx_us": raw.as_dict(1e6),
        "hishel_us": hishel.as_dict(1e6),
        "ours_expired_lookup_over_raw": lookup_vs_raw.as_dict(),
        "hishel_over_ours_refresh": refresh_vs_hishel.as_dict(),
        "hishel_over_raw_median": hishel.median / raw.median,
    }
    return [
        Figure(
            key="miss_vs_raw_httpx",
            title="miss latency: ours (refresh) / raw httpx GET + parse",
            median=vs_raw.median,
            p95=vs_raw.p95,
            unit="×",
            goal=Goal("<=", 1.3),
            detail=absolute,
            note=f"ours {micros(ours.median)} µs, raw {micros(raw.median)} µs",
        ),
        Figure(
            key="miss_vs_hishel",
            title="miss speed-up: hishel lookup+miss+store / ours (expired entry)",
            median=vs_hishel.median,
            p95=vs_hishel.p95,
            unit="×",
            goal=Goal(">=", 2.5),
            detail=absolute,
            note=(
                f"hishel {micros(hishel.median)} µs, ours {micros(lookup.median)} µs; "
                f"ceiling hishel/raw {hishel.median / raw.median:.2f}×"
            ),
        ),
    ]


async def _single_flight(size: RunSize, tmp: str) -> Figure:
    """Each round: a new client on a new store file; ``callers`` identical concurrent calls of a
    key never asked before (the store opens under them: the "application just started" case),
    then ``callers`` identical ``refresh=True`` calls of the same key (store open, key cached)."""
    cold: list[int] = []
    refresh: list[int] = []
    async with loopback_api() as (api, server):
        event_ids = api.event_ids()
        for round_number in range(size.single_flight_rounds):
            event_id = event_ids[round_number % len(event_ids)]
            path = os.path.join(tmp, f"single-flight-{round_number}.sqlite3")
            async with client_for(server.url, path) as client:
                for refreshing, counts in ((False, cold), (True, refresh)):
                    before = len(api.requests_to(event_path(event_id)))
                    results = await asyncio.gather(
                        *(
                            client.get_event_details(event_id, refresh=refreshing)
                            for _ in range(size.single_flight_callers)
                        )
                    )
                    assert all(r is not None and r.id == event_id for r in results)
                    counts.append(len(api.requests_to(event_path(event_id))) - before)
    upstream = cold + refresh
    return Figure(
        key="single_flight_upstream",
        title=f"single flight: upstream requests per {size.single_flight_callers} calls",
        median=percentile(upstream, 50),
        p95=float(max(upstream)),
        unit="",
        goal=Goal("==", 1),
        judge_worst=True,
        detail={
            "callers": size.single_flight_callers,
            "cold_store_rounds": cold,
            "refresh_rounds": refresh,
        },
        note=(
            f"{len(cold)} cold-store + {len(refresh)} refresh rounds; worst cold {max(cold)}, "
            f"worst refresh {max(refresh)} (p95 column = worst round)"
        ),
    )
