"""The commands: each asks the client, then shows the answer as a table, JSON or the API's
raw JSON (see :mod:`.output`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from rich.console import RenderableType

from .._cli_args import filter_values
from .._client import TicketmasterClient
from .._constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from .._endpoints import EVENTS, SUGGEST
from ..models import Event, Suggestions
from ..models._base import FreshModel, TMModel
from .output import Output, dump
from .render import (
    NO_VALUE,
    attractions_table,
    event_block,
    events_table,
    format_place,
    format_start,
    history_table,
    prices_table,
    stale_note,
    usage_block,
    venue_block,
    venues_table,
)
from .watch import watch

__all__ = ["COMMANDS", "EXIT_NOT_FOUND", "EXIT_OK", "Command"]

EXIT_OK = 0
EXIT_NOT_FOUND = 1

#: A model ``event`` / ``venue`` show by id.
_Shown = TypeVar("_Shown", bound=TMModel)

Command = Callable[[TicketmasterClient, argparse.Namespace, Output], Awaitable[int]]


def _not_found(resource_id: str) -> int:
    sys.stderr.write(f"not found: {resource_id}\n")
    return EXIT_NOT_FOUND


def _show_events(out: Output, events: Sequence[Event]) -> None:
    if out.mode == "json":
        out.json([dump(event) for event in events])
    elif out.mode == "raw":
        out.json([event.raw for event in events])
    elif events:
        out.show(events_table(events, width=out.width))
        _note(out, events)
    else:
        out.text("no events found")


def _note(out: Output, models: Sequence[FreshModel]) -> None:
    note = stale_note(models)
    if note is not None:
        out.text(note)


async def search(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``search [QUERY] [--limit N] [--all] [--FILTER ...]``."""
    filters = filter_values(args, EVENTS, skip=("query",))
    limit: int | None = args.limit
    if limit is None and not args.all:
        limit = DEFAULT_PAGE_SIZE
    # Without --size, pages are as large as the API allows (up to the limit): one page unless
    # the limit is larger.
    page_size = filters.get("size") or MAX_PAGE_SIZE
    several_pages = args.all or (limit is not None and limit > page_size)
    events: list[Event] = []
    with out.progress("events", total=limit, show=several_pages) as advance:
        async for event in tm.iter_events(args.query, limit=limit, exhaustive=args.all, **filters):
            events.append(event)
            advance()
    _show_events(out, events)
    return EXIT_OK


def _show_one(
    out: Output, wanted: str, found: _Shown | None, block: Callable[[_Shown], RenderableType]
) -> int:
    """One model by id: its block, its clean dump (``--json``) or the API's JSON (``--raw``)."""
    if found is None:
        return _not_found(wanted)
    if out.mode == "json":
        out.json(dump(found))
    elif out.mode == "raw":
        out.json(found.raw)
    else:
        out.show(block(found))
    return EXIT_OK


async def event(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``event ID``."""
    return _show_one(out, args.id, await tm.get_event_details(args.id), event_block)


async def prices(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``prices ID``."""
    # The event first: its name and venue head the table, and an unknown id is "not found"
    # rather than an error. get_ticket_prices then reads it from the cache.
    found = await tm.get_event_details(args.id)
    if found is None:
        return _not_found(args.id)
    ticket_prices = await tm.get_ticket_prices(args.id)
    if out.mode == "json":
        out.json([dump(price) for price in ticket_prices])
        return EXIT_OK
    venue = found.venue
    out.text(found.name or found.id)
    out.text(f"{(venue.name if venue else None) or NO_VALUE} · {format_place(venue)}")
    out.text(format_start(found))
    out.text("")
    if ticket_prices:
        out.show(prices_table(ticket_prices, width=out.width))
    else:
        out.text("no price information for this event")
    _note(out, [found])
    return EXIT_OK


async def venue(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``venue ID``."""
    return _show_one(out, args.id, await tm.get_venue(args.id), venue_block)


def _show_suggestions(out: Output, found: Suggestions) -> None:
    sections: list[tuple[str, RenderableType]] = []
    if found.attractions:
        sections.append(("ATTRACTIONS", attractions_table(found.attractions, width=out.width)))
    if found.venues:
        sections.append(("VENUES", venues_table(found.venues, width=out.width)))
    if found.events:
        sections.append(("EVENTS", events_table(found.events, width=out.width)))
    if not sections:
        out.text("no suggestions")
        return
    for index, (title, table) in enumerate(sections):
        if index:
            out.text("")
        out.text(title)
        out.show(table)
    _note(out, [found])


async def suggest(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``suggest QUERY [--FILTER ...]``."""
    found = await tm.suggest(args.query, **filter_values(args, SUGGEST, skip=("query",)))
    if out.mode == "json":
        out.json(dump(found))
    elif out.mode == "raw":
        out.json(found.raw)
    else:
        _show_suggestions(out, found)
    return EXIT_OK


async def history(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``history ID``: only the local store is read."""
    points = await tm.price_history(args.id)
    if out.mode == "json":
        out.json([dump(point) for point in points])
    elif points:
        out.show(history_table(points, width=out.width))
    else:
        out.text(f"no price history for {args.id}")
    return EXIT_OK


async def usage(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``usage``: only the local store is read."""
    stats = await tm.usage()
    if out.mode == "json":
        out.json(dump(stats))
    else:
        out.show(usage_block(stats))
    return EXIT_OK


async def cache(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``cache clear``: only the local store is touched."""
    # "clear" is the only action; argparse refuses anything else.
    cleared = await tm.clear_cache()
    if out.mode == "json":
        out.json({"cleared": cleared})
    else:
        out.text(f"cleared {cleared} cached response{'' if cleared == 1 else 's'}")
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    "search": search,
    "event": event,
    "prices": prices,
    "venue": venue,
    "suggest": suggest,
    "watch": watch,
    "history": history,
    "usage": usage,
    "cache": cache,
}
