"""Search events by keyword and city, one page, and print them.

Run it with ``python examples/search.py``. Without ``TICKETMASTER_API_KEY`` it uses the built-in
sandbox (a fake Discovery API, in-process, no network); with the variable set it asks the real API.
"""

from __future__ import annotations

import asyncio
import os

from ticketmaster_async import Settings, TicketmasterClient


def settings() -> Settings:
    """The real API when a key is set in the environment, else the sandbox."""
    if os.environ.get("TICKETMASTER_API_KEY"):
        return Settings()  # every field from TICKETMASTER_* environment variables
    return Settings(environment="sandbox")


async def main() -> None:
    async with TicketmasterClient(settings()) as tm:
        # One page of results; ``query`` is the API's keyword, filters are keyword-only.
        events = await tm.search_events("rock", city="London", size=10)
        print(f"{len(events)} rock events in London")
        for event in events:
            # ``local_start`` is already in the event's own time zone; None when the time is TBA.
            when = f"{event.local_start:%Y-%m-%d %H:%M %Z}" if event.local_start else "TBA"
            venue = event.venue.name if event.venue else "venue unknown"
            print(f"  {when:<22} {event.name} @ {venue} [{event.status.value}]")


if __name__ == "__main__":
    asyncio.run(main())
