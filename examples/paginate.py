"""Follow the pages of a search: first one page with its totals, then every event with a limit.

Run it with ``python examples/paginate.py`` (sandbox unless ``TICKETMASTER_API_KEY`` is set).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter

from ticketmaster_async import Settings, TicketmasterClient


def settings() -> Settings:
    """The real API when a key is set in the environment, else the sandbox."""
    if os.environ.get("TICKETMASTER_API_KEY"):
        return Settings()
    return Settings(environment="sandbox")


async def main() -> None:
    async with TicketmasterClient(settings()) as tm:
        # One page, with the totals the API reports.
        page = await tm.search_events_page(country_code="GB", size=5)
        print(
            f"page {page.number} of {page.total_pages}: {len(page.items)} of "
            f"{page.total_elements} events in GB (more pages: {page.has_next})"
        )

        # iter_events follows the pages for you (each page cached and rate limited) and never
        # asks past the API's deep-paging cap (size * page < 1000). ``limit`` stops early.
        statuses: Counter[str] = Counter()
        async for event in tm.iter_events(country_code="GB", size=5, limit=12):
            statuses[event.status.value] += 1
        print(f"first {sum(statuses.values())} events by status: {dict(statuses)}")


if __name__ == "__main__":
    asyncio.run(main())
