"""Ticket prices of one event: sections, ticket types, face value and fees.

Run it with ``python examples/prices.py [EVENT_ID]`` (sandbox unless ``TICKETMASTER_API_KEY`` is
set). Prices are ``Decimal``, never float.
"""

from __future__ import annotations

import asyncio
import os
import sys

from ticketmaster_async import Settings, TicketmasterClient

#: The documentation's example event (Radiohead at Madison Square Garden); also in the sandbox.
EXAMPLE_EVENT_ID = "G5diZfkn0B-bh"


def settings() -> Settings:
    """The real API when a key is set in the environment, else the sandbox."""
    if os.environ.get("TICKETMASTER_API_KEY"):
        return Settings()
    return Settings(environment="sandbox")


async def main(event_id: str) -> None:
    async with TicketmasterClient(settings()) as tm:
        event = await tm.get_event_details(event_id)
        if event is None:  # the API said 404
            print(f"no event {event_id}")
            return
        print(f"{event.name} ({event.id})")
        # Merged from the Commerce offers (if the key may see them) and the event's priceRanges.
        prices = await tm.get_ticket_prices(event_id)
        if not prices:
            print("  no price information")
        for price in sorted(prices, key=lambda p: p.price):
            fees = f" + {price.fees} fees" if price.fees is not None else ""
            section = price.section or "any section"
            print(
                f"  {price.currency} {price.price}{fees}  {price.ticket_type}, {section}"
                f" ({price.market}, from {price.source})"
            )
        cheapest = min(prices, key=lambda p: p.total or p.price, default=None)
        if cheapest is not None:
            print(f"cheapest all-in: {cheapest.currency} {cheapest.total or cheapest.price}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else EXAMPLE_EVENT_ID))
