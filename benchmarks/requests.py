"""Figures 16–21: answers per request. The daily quota (5000), not microseconds, is what limits
a bot: these figures count the requests reaching the API, deterministically, on a loopback
fake API serving thousands of generated events; one times a pull against its physical floor,
and one measures what warming the cache costs a search miss.

16. Details of 1000 events found by a search: requests beyond the search (0.1: 1000).
17. ``get_events`` of 450 searchable ids (0.1: 450 details requests).
18. ``get_events`` of 450 ids of which 50 are past/unsearchable (0.1: 450).
19. ``iter_events(exhaustive=True)`` of 5000 matches: requests, over ``⌈5000/200⌉`` pages
    (0.1: stops at the deep-paging cap, 1000 events).
20. The same pull at the real 5 requests/s (spike arrest on at the fake): its time over the
    physical floor, ``⌈5000/200⌉`` slots of 0.2 s. For 19 and 20 the fake serves from its own
    process (the real API's CPU is not the client's); the others share the client's.
21. A search miss of 200 events (``refresh=True``, background writes drained): warming the
    per-event cache and recording price history, over the same miss without them
    (``extra_params`` turns warming off); interleaved.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import time
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection

from ticketmaster_async import TicketmasterClient
from ticketmaster_async.testing import FakeDiscoveryAPI

from .common import API_KEY, RunSize, client_for, loopback_api, scratch_dir
from .harness import Figure, Goal, micros, ratio, run_interleaved, summarize

PAGE = 200
RATE = 5.0
EXHAUSTIVE_MATCHES = 5000


def _window() -> tuple[datetime, datetime]:
    start = datetime.now(timezone.utc) + timedelta(days=2)
    return start, start + timedelta(days=300)


async def _drain(client: TicketmasterClient) -> None:
    await client._pipeline.drain()  # background writes (cache warm-up, history) finish


def _warm_up(api: FakeDiscoveryAPI) -> None:
    """Let the fake index its new events before anything is timed or counted (its first
    search over thousands of new events builds the index: seconds of the fake's own work)."""
    api.handle("GET", "/discovery/v2/events.json", {"apikey": API_KEY, "size": "1"})
    api.reset()


async def details_after_search(db_path: str) -> dict[str, int]:
    """Figure 16: a search for 1000 events, then each event's details."""
    async with loopback_api() as (api, server):
        start, end = _window()
        api.generate_events(1000, start=start, end=end, seed=16)
        _warm_up(api)
        async with client_for(server.url, db_path) as client:
            found = [e.id async for e in client.iter_events(city="Fakeville", limit=1000)]
            searched = api.request_count
            await _drain(client)
            for event_id in found:
                assert await client.get_event_details(event_id) is not None
            return {
                "events": len(found),
                "search_requests": searched,
                "requests_beyond_search": api.request_count - searched,
            }


async def get_events_counts(db_path: str, *, unsearchable: int) -> dict[str, int]:
    """Figures 17 and 18: ``get_events`` of 450 ids, ``unsearchable`` of them past/unlisted."""
    async with loopback_api() as (api, server):
        start, end = _window()
        ids = api.generate_events(450 - unsearchable, start=start, end=end, seed=17)
        _warm_up(api)
        template = api.get_event(ids[0]) or {}
        hidden = [f"PastEvent{n:05d}" for n in range(unsearchable)]
        for event_id in hidden:
            api.add_event(dict(template, id=event_id), searchable=False)
        async with client_for(server.url, db_path) as client:
            found = await client.get_events([*ids, *hidden])
        assert len(found) == 450 and all(found.values())
        return {"ids": 450, "unsearchable": unsearchable, "requests": api.request_count}


def _serve_in_child(
    rate: float | None, start: datetime, end: datetime, pipe: Connection
) -> None:  # pragma: no cover - runs in the child process
    """The fake API with :data:`EXHAUSTIVE_MATCHES` generated events, served on loopback from
    its own process (as the real API is another machine: its CPU is not the client's).

    Sends ``(url, ids)`` once listening, then ``(requests, answered_429)`` when told to stop.
    """

    async def serve() -> None:
        async with loopback_api(requests_per_second=rate) as (api, server):
            ids = api.generate_events(EXHAUSTIVE_MATCHES, start=start, end=end, seed=19)
            _warm_up(api)
            pipe.send((server.url, ids))
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            pipe.send((api.request_count, api.count_429))

    asyncio.run(serve())


async def exhaustive_pull(db_path: str, *, rate: float | None) -> dict[str, float]:
    """Figures 19 and 20: every one of 5000 matches, past the deep-paging cap, from a fake API
    in another process."""
    start, end = _window()
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_serve_in_child, args=(rate, start, end, theirs), daemon=True
    )
    child.start()
    loop = asyncio.get_running_loop()
    try:
        url, ids = await loop.run_in_executor(None, ours.recv)
        settings = {"requests_per_second": rate} if rate is not None else {}
        async with client_for(url, db_path, **settings) as client:
            began = time.perf_counter()
            found = [
                e.id
                async for e in client.iter_events(
                    city="Fakeville", start=start, end=end, exhaustive=True
                )
            ]
            elapsed = time.perf_counter() - began
        ours.send("stop")
        requests, answered_429 = await loop.run_in_executor(None, ours.recv)
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    assert sorted(found) == sorted(ids), "an exhaustive pull must return every match"
    return {
        "matches": EXHAUSTIVE_MATCHES,
        "distinct_events": len(set(found)),
        "requests": requests,
        "answered_429": answered_429,
        "seconds": elapsed,
    }


async def warming_cost(size: RunSize, db_path: str) -> tuple[Figure, dict[str, float]]:
    """Figure 21."""
    async with loopback_api() as (api, server):
        start, end = _window()
        api.generate_events(PAGE, start=start, end=end, seed=21)
        _warm_up(api)
        async with client_for(server.url, db_path) as client:

            async def warming() -> None:
                await client.search_events_page(city="Fakeville", size=PAGE, refresh=True)
                await _drain(client)

            async def plain() -> None:
                await client.search_events_page(
                    city="Fakeville", size=PAGE, refresh=True, extra_params={"cold": "1"}
                )
                await _drain(client)

            rounds = max(6, size.miss_rounds // 6)
            samples = await run_interleaved(
                {"warming": warming, "plain": plain},
                rounds=rounds,
                batch=1,
                warmup_rounds=size.warmup_rounds,
            )
    stats = ratio(samples["warming"], samples["plain"])
    ours, floor = summarize(samples["warming"]), summarize(samples["plain"])
    figure = Figure(
        key="search_miss_warming_cost",
        title="search miss of 200 events: with cache warming + history / without",
        median=stats.median,
        p95=stats.p95,
        unit="×",
        goal=Goal("<=", 1.5),
        detail={
            "warming_us": ours.as_dict(micros(1)),
            "plain_us": floor.as_dict(micros(1)),
            "ratio": stats.as_dict(),
        },
        note=(
            "Both sides fetch, parse and cache the page; 'warming' also writes the 200 events "
            "under their details keys in one batch and their price points. Timed with the "
            "background writes drained, so it is the whole cost, not what the caller waits."
        ),
    )
    return figure, {"warming_ms": ours.median / 1e6, "plain_ms": floor.median / 1e6}


async def run(size: RunSize) -> list[Figure]:
    """Figures 16–21."""
    with scratch_dir() as tmp:

        def db(name: str) -> str:
            return os.path.join(tmp, f"{name}.sqlite3")

        details = await details_after_search(db("details"))
        searchable = await get_events_counts(db("ids"), unsearchable=0)
        mixed = await get_events_counts(db("mixed"), unsearchable=50)
        pull = await exhaustive_pull(db("pull"), rate=None)
        paced = await exhaustive_pull(db("paced"), rate=RATE)
        warm_figure, _ = await warming_cost(size, db("warm"))
    pages = math.ceil(EXHAUSTIVE_MATCHES / PAGE)
    floor_seconds = pages / RATE
    return [
        Figure(
            key="requests_details_after_search",
            title="details of 1000 events found by a search: requests beyond the search",
            median=details["requests_beyond_search"],
            p95=None,
            unit="requests",
            goal=Goal("<=", 5),
            detail={**details, "version_0_1": 1000},
            note="Each search page warms its events' details; 0.1 sent one request per event.",
        ),
        Figure(
            key="requests_get_events_450",
            title="get_events of 450 searchable ids: requests",
            median=searchable["requests"],
            p95=None,
            unit="requests",
            goal=Goal("<=", 3),
            detail={**searchable, "version_0_1": 450},
        ),
        Figure(
            key="requests_get_events_450_50_unsearchable",
            title="get_events of 450 ids, 50 past/unsearchable: requests",
            median=mixed["requests"],
            p95=None,
            unit="requests",
            goal=Goal("<=", 53),
            detail={**mixed, "version_0_1": 450},
        ),
        Figure(
            key="requests_exhaustive_5000",
            title="exhaustive pull of 5000 matches: requests / ⌈5000/200⌉ pages",
            median=pull["requests"] / pages,
            p95=None,
            unit="×",
            goal=Goal("<=", 1.15),
            detail={**pull, "pages": pages, "version_0_1_events": 1000},
            note="Every match, each once (checked); 0.1 stopped at the cap (1000 events).",
        ),
        Figure(
            key="exhaustive_5000_time_vs_floor",
            title="exhaustive pull of 5000 at 5 req/s: time / ⌈5000/200⌉ slots",
            median=paced["seconds"] / floor_seconds,
            p95=None,
            unit="×",
            goal=Goal("<=", 1.25),
            detail={**paced, "floor_seconds": floor_seconds},
            note=(
                "The fake runs in its own process, as the real API is another machine, and "
                "arrests bursts (5/s, 10 % jitter); each page is parsed and warms the cache "
                "between slots."
            ),
        ),
        warm_figure,
    ]
