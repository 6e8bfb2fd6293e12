"""A bot that watches a search and says what changed: new events, price and status changes,
events that went away. What people otherwise build by hand with a database and a polling loop.

Run it with ``python examples/watch_bot.py``. It runs against the built-in sandbox (a fake
Discovery API, in-process, no network), where a small script plays the outside world: prices
change, a show is cancelled, one is added, one disappears. The bot stops after those changes.

Against the real API you would drop the script, keep the loop running (cancel the task or
Ctrl-C to stop), and leave ``every`` and ``budget`` to keep the daily quota safe; what the watch
has seen is kept in the store under its ``name``, so a restart reports only what changed since.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from ticketmaster_async import EventChange, EventStatus, PriceRange, Settings, TicketmasterClient
from ticketmaster_async.testing import FakeDiscoveryAPI

#: The sandbox's world changes this many times; then the bot stops.
SCRIPTED_CHANGES = 4


async def play_the_world(api: FakeDiscoveryAPI, ids: list[str]) -> None:
    """What happens out there while the bot watches (sandbox only)."""
    await asyncio.sleep(1.5)
    api.update_event(
        ids[0], price_ranges=[{"type": "standard", "currency": "GBP", "min": 25, "max": 80}]
    )
    await asyncio.sleep(1.0)
    api.update_event(ids[1], status="cancelled")
    await asyncio.sleep(1.0)
    api.remove_event(ids[2])
    await asyncio.sleep(1.0)
    extra = api.get_event(ids[3]) or {}
    api.add_event(dict(extra, id="SYNTHLateAddition1", name="Late Addition: Rock Encore"))


def shown(value: object) -> str:
    """A changed value as a person reads it."""
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value) or "none"
    if isinstance(value, PriceRange):
        return f"{value.min:.2f}-{value.max:.2f} {value.currency}"
    if isinstance(value, EventStatus):
        return value.value
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return str(value)


def describe(change: EventChange) -> str:
    """One line per change, as a bot would post it."""
    event = change.event
    if change.kind == "new":
        when = f"{event.local_start:%Y-%m-%d %H:%M}" if event.local_start else "date TBA"
        return f"NEW      {event.name} ({when})"
    if change.kind == "gone":
        return f"GONE     {event.name}"
    fields = "; ".join(f"{c.field} {shown(c.before)} -> {shown(c.after)}" for c in change.changes)
    return f"CHANGED  {event.name}: {fields}"


async def main() -> None:
    api = FakeDiscoveryAPI()
    now = datetime.now(timezone.utc)
    ids = api.generate_events(
        6,
        start=now + timedelta(days=7),
        end=now + timedelta(days=60),
        city="London",
        keyword="Rock",
        country_code="GB",
        timezone="Europe/London",
        seed=1,
    )
    # A sandbox has no real quota to protect: a high daily limit lets one-second rounds run.
    settings = Settings(environment="sandbox", daily_limit=1_000_000)
    async with TicketmasterClient(settings, transport=api.transport()) as tm:

        async def bot() -> None:
            later = 0
            async for change in tm.watch_search("rock", city="London", every=1, name="london-rock"):
                print(describe(change), flush=True)
                later += change.kind != "new" or change.event.id == "SYNTHLateAddition1"
                if later >= SCRIPTED_CHANGES:
                    return

        world = asyncio.create_task(play_the_world(api, ids))
        await asyncio.wait_for(bot(), timeout=30)  # a demo: never run away
        await world
        history = await tm.price_history(ids[0])
        print(f"price history of {ids[0]}: {len(history)} points")


if __name__ == "__main__":
    asyncio.run(main())
