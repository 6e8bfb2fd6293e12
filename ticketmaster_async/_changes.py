"""What a watch compares and what price history records: an event's snapshot of the watched
fields, the changes between two snapshots, and the price point of an event.

A snapshot is the JSON of the compared fields only (``status``, ``start``, ``name``, ``venue``
by id, ``price_ranges``, ``onsale`` — the public sale's start and end — and ``presales``), in a
canonical form (price ranges and presales sorted), so that two snapshots are equal exactly when
nothing a user watches has changed. Snapshots are what the store keeps between rounds and
restarts; a partial :class:`Event` can be rebuilt from one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .models import Event, EventStatus, FieldChange, PricePoint, PriceRange
from .models._base import parse_datetime_utc

__all__ = [
    "COMPARED_FIELDS",
    "changes_between",
    "event_from_snapshot",
    "price_payload",
    "price_point",
    "snapshot_of",
]

#: The fields a watch compares, in the order changes are reported.
COMPARED_FIELDS = ("status", "start", "name", "venue", "price_ranges", "onsale", "presales")
Snapshot = dict[str, Any]


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ranges(ranges: list[PriceRange]) -> list[list[Any]]:
    return sorted(
        [
            [
                r.type,
                r.currency,
                str(r.min) if r.min is not None else None,
                str(r.max) if r.max is not None else None,
            ]
            for r in ranges
        ],
        key=lambda row: [str(part) for part in row],
    )


def snapshot_of(event: Event) -> Snapshot:
    """The compared fields of ``event``, JSON-ready and canonical."""
    sales = event.sales
    public = sales.public if sales is not None else None
    presales = sales.presales if sales is not None else []
    return {
        "status": event.status.value,
        "start": _instant(event.start),
        "name": event.name,
        "venue": event.venue.id if event.venue is not None else None,
        "price_ranges": _ranges(event.price_ranges),
        "onsale": [
            _instant(public.start if public is not None else None),
            _instant(public.end if public is not None else None),
        ],
        "presales": sorted(
            ([p.name, _instant(p.start), _instant(p.end)] for p in presales),
            key=lambda row: [str(part) for part in row],
        ),
    }


def encode_snapshot(snapshot: Snapshot) -> str:
    """The snapshot as stored (compact, keys sorted)."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"))


def decode_snapshot(text: str) -> Snapshot | None:
    """A stored snapshot, or ``None`` when it is unreadable (it is then treated as unseen)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def event_from_snapshot(event_id: str, snapshot: Snapshot) -> Event:
    """A partial event holding just the snapshot's fields (what a watch remembers)."""
    onsale = snapshot.get("onsale") or [None, None]
    raw: dict[str, Any] = {
        "id": event_id,
        "name": snapshot.get("name") or "",
        "dates": {
            "start": {"dateTime": snapshot.get("start")},
            "status": {"code": snapshot.get("status")},
        },
        "priceRanges": [
            {"type": t, "currency": c, "min": lo, "max": hi}
            for t, c, lo, hi in snapshot.get("price_ranges") or []
        ],
        "sales": {
            "public": {"startDateTime": onsale[0], "endDateTime": onsale[1]},
            "presales": [
                {"name": n, "startDateTime": s, "endDateTime": e}
                for n, s, e in snapshot.get("presales") or []
            ],
        },
    }
    if snapshot.get("venue"):
        raw["_embedded"] = {"venues": [{"id": snapshot["venue"]}]}
    return Event.model_validate(raw)


def _friendly(field: str, value: Any) -> Any:
    """A snapshot value as users read it (``FieldChange.before`` / ``after``)."""
    if field == "status":
        return EventStatus.from_code(value)
    if field == "start":
        return parse_datetime_utc(value)
    if field == "price_ranges":
        return [
            PriceRange.model_validate({"type": t, "currency": c, "min": lo, "max": hi})
            for t, c, lo, hi in value or []
        ]
    if field == "onsale":
        start, end = (value or [None, None])[:2]
        return (parse_datetime_utc(start), parse_datetime_utc(end))
    if field == "presales":
        return [(n, parse_datetime_utc(s), parse_datetime_utc(e)) for n, s, e in value or []]
    return value


def changes_between(before: Snapshot, after: Snapshot) -> list[FieldChange]:
    """The compared fields whose values differ, in :data:`COMPARED_FIELDS` order."""
    return [
        FieldChange(
            field=field,
            before=_friendly(field, before.get(field)),
            after=_friendly(field, after.get(field)),
        )
        for field in COMPARED_FIELDS
        if before.get(field) != after.get(field)
    ]


def price_payload(event: Event) -> str:
    """What a price-history point records: status and price ranges, canonical."""
    return json.dumps(
        {"status": event.status.value, "price_ranges": _ranges(event.price_ranges)},
        sort_keys=True,
        separators=(",", ":"),
    )


def price_point(at: datetime, payload: str) -> PricePoint | None:
    """A stored point as a :class:`PricePoint` (``None`` when unreadable)."""
    data = decode_snapshot(payload)
    if data is None:
        return None
    return PricePoint(
        at=at,
        status=EventStatus.from_code(data.get("status")),
        price_ranges=_friendly("price_ranges", data.get("price_ranges")),
    )
