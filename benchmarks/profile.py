"""``python -m benchmarks.profile {hit,miss,limiter} [N]``: where our side of a figure spends its
time, with pyinstrument (wall clock of the event-loop thread).

It sets up the same scenario as the figure (SQLite store on a temporary file, loopback fake
API, limiter at 1e6/s) and profiles ``N`` sequential operations of ours only, after a warm-up.
Besides the profile it prints how many store round trips each operation made.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from pyinstrument import Profiler

from ticketmaster_async._limiter import RateLimiter
from ticketmaster_async._store.sqlite import SQLiteStore

from .common import (
    EVENT_ID,
    UNLIMITED_DAILY,
    UNLIMITED_RATE,
    client_for,
    loopback_api,
    scratch_dir,
)

STORE_CALLS = (
    "cache_get",
    "cache_set",
    "admit",
    "release_slot",
    "quota_sync",
    "usage_add",
    "cache_count",
)


def _count_store_calls(store: Any, counts: Counter[str]) -> None:
    """Wrap the store's methods so that every call is counted (diagnostic runs only)."""
    for name in STORE_CALLS:
        method = getattr(store, name)

        def counted(method: Any = method, name: str = name) -> Any:
            @functools.wraps(method)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                counts[name] += 1
                return await method(*args, **kwargs)

            return wrapper

        setattr(store, name, counted())


async def _profile(op: Callable[[], Awaitable[Any]], n: int, store: Any) -> None:
    for _ in range(max(n // 10, 20)):
        await op()
    counts: Counter[str] = Counter()
    _count_store_calls(store, counts)
    for _ in range(100):
        await op()
    per_op = {name: count / 100 for name, count in sorted(counts.items())}
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    started = time.perf_counter()
    profiler.start()
    for _ in range(n):
        await op()
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"{n} operations, {elapsed / n * 1e6:.0f} µs each under the profiler")
    print(f"store calls per operation: {per_op}")


async def main(what: str, n: int) -> None:
    with scratch_dir() as tmp:
        async with contextlib.AsyncExitStack() as stack:
            if what == "limiter":
                store = SQLiteStore(os.path.join(tmp, "ours.sqlite3"), max_entries=1000)
                stack.push_async_callback(store.aclose)
                limiter = RateLimiter(
                    store, requests_per_second=UNLIMITED_RATE, daily_limit=UNLIMITED_DAILY
                )
                await _profile(limiter.acquire, n, store)
                return
            _, server = await stack.enter_async_context(loopback_api())
            client = await stack.enter_async_context(
                client_for(server.url, os.path.join(tmp, "ours.sqlite3"))
            )
            refresh = what == "miss"

            async def op() -> Any:
                return await client.get_event_details(EVENT_ID, refresh=refresh)

            await _profile(op, n, client._store)


if __name__ == "__main__":
    kinds = ("hit", "miss", "limiter")
    if len(sys.argv) < 2 or sys.argv[1] not in kinds:
        sys.exit(f"usage: python -m benchmarks.profile {{{','.join(kinds)}}} [N]")
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000))
