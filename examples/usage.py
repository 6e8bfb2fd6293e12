"""Usage statistics: requests sent today, quota left, cache hits and latency.

Run it with ``python examples/usage.py`` (sandbox unless ``TICKETMASTER_API_KEY`` is set).
"""

from __future__ import annotations

import asyncio
import os

from ticketmaster_async import Settings, TicketmasterClient

EXAMPLE_EVENT_ID = "G5diZfkn0B-bh"


def settings() -> Settings:
    """The real API when a key is set in the environment, else the sandbox."""
    if os.environ.get("TICKETMASTER_API_KEY"):
        return Settings()
    return Settings(environment="sandbox")


async def main() -> None:
    async with TicketmasterClient(settings()) as tm:
        # The first call goes to the API; the second is answered from the cache.
        await tm.get_event_details(EXAMPLE_EVENT_ID)
        await tm.get_event_details(EXAMPLE_EVENT_ID)
        await tm.search_events("rock", size=5)

        stats = await tm.usage()
        print(f"requests today:  {stats.requests_today} of {stats.daily_limit}")
        print(f"quota remaining: {stats.quota_remaining}")
        print(
            f"cache:           {stats.cache_hits} hits, {stats.cache_misses} misses "
            f"({stats.cache_hit_rate:.0%} hit rate)"
        )
        print(f"errors:          {stats.errors or 'none'} ({stats.error_rate:.0%})")
        latency = ", ".join(f"{name} {ms:.1f} ms" for name, ms in stats.latency_ms.items())
        print(f"latency:         {latency}")
        print(f"circuit breaker: {stats.breaker_state}")


if __name__ == "__main__":
    asyncio.run(main())
