"""``watch``: one line per new, changed or gone event until interrupted.

A line is ``WHEN  KIND  ID  NAME  field before → after; ...`` (the local time it was seen; cut
to the terminal's width), or with ``--json`` one JSON object per line::

    {"kind": "changed", "event_id": "G5vYZ4F1pE4G1", "name": "Radiohead",
     "changes": [{"field": "status", "before": "onsale", "after": "cancelled"}],
     "detected_at": "2026-05-01T12:00:00Z"}

Without ``--name`` the watch is named after what it watches (its ids, or its query and
filters), so running the same command again reports only what changed since.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter

from .._cli_args import filter_values
from .._client import TicketmasterClient
from .._endpoints import EVENTS
from .._exceptions import ConfigurationError
from ..models import EventChange
from .output import Output, is_terminal
from .render import NO_VALUE, change_value, event_zone

__all__ = ["change_document", "change_line", "default_name", "watch"]

#: Watches the command line names itself start with this.
NAME_PREFIX = "cli-"
_NAME_DIGEST_CHARS = 16
_CHANGES_SEPARATOR = "; "
_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def default_name(ids: Sequence[str] | None, query: str | None, filters: Mapping[str, Any]) -> str:
    """A stable name for what is watched: the same ids, or the same search, give the same
    name (so a restart resumes the watch)."""
    if ids:
        key = "ids:" + ",".join(sorted(set(ids)))
    else:
        key = "search:" + json.dumps({"query": query, **filters}, sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:_NAME_DIGEST_CHARS]
    return NAME_PREFIX + digest


def change_line(change: EventChange) -> str:
    """The change as one line of text."""
    event = change.event
    when = change.detected_at.astimezone()
    parts = [f"{when:%Y-%m-%d %H:%M}", f"{change.kind:<7}", event.id, event.name or NO_VALUE]
    if change.changes:
        tz_name = event_zone(event)
        described = []
        for field_change in change.changes:
            before, after = change_value(field_change, tz_name)
            described.append(f"{field_change.field} {before} → {after}")
        parts.append(_CHANGES_SEPARATOR.join(described))
    return "  ".join(parts)


def change_document(change: EventChange) -> dict[str, Any]:
    """The change as one JSON object: kind, event id, name, changed fields (before and after,
    as their model dumps), detected_at."""
    return {
        "kind": change.kind,
        "event_id": change.event.id,
        "name": change.event.name,
        "changes": [field_change.model_dump(mode="json") for field_change in change.changes],
        "detected_at": _ANY.dump_python(change.detected_at, mode="json"),
    }


async def watch(tm: TicketmasterClient, args: argparse.Namespace, out: Output) -> int:
    """``watch (--ids A,B | [QUERY] [--FILTER ...]) [--every S] [--name N] [--budget B]``.

    Raises:
        ConfigurationError: neither ids nor a search, or both; a bad option.
    """
    filters = filter_values(args, EVENTS, skip=("query", "ids", "page"))
    ids: list[str] | None = args.ids
    searching = args.query is not None or bool(filters)
    if ids and searching:
        raise ConfigurationError("watch takes --ids or a search (QUERY, filters), not both")
    if not ids and not searching:
        raise ConfigurationError("watch needs --ids A,B or a search (a QUERY or filters)")
    name = args.name if args.name is not None else default_name(ids, args.query, filters)
    options: dict[str, Any] = {"name": name, "budget": args.budget}
    if args.every is not None:
        options["every"] = args.every
    changes: AsyncIterator[EventChange] = (
        tm.watch_events(ids, **options)
        if ids
        else tm.watch_search(args.query, **options, **filters)
    )
    if is_terminal(sys.stderr):
        sys.stderr.write(f"watching as {name!r}; Ctrl-C to stop\n")
    async for change in changes:
        if out.mode == "json":
            out.json_line(change_document(change))
        else:
            out.text(change_line(change), cut=True)
    return 0  # pragma: no cover - a watch never ends by itself: Ctrl-C (130) or an error
