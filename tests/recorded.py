"""Every recorded venue, attraction and classification object, for table-driven model tests.

Events come from ``conftest.all_recorded_events()``; the venues and attractions embedded in
those events count as recorded objects too (deduplicated), next to the detail fixtures.
"""

from __future__ import annotations

import json
from typing import Any

from .conftest import all_recorded_events, load_fixture

Recorded = list[tuple[str, dict[str, Any]]]


def _unique(found: Recorded) -> Recorded:
    seen: set[str] = set()
    out: Recorded = []
    for name, raw in found:
        key = json.dumps(raw, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append((name, raw))
    return out


def _embedded(kind: str) -> Recorded:
    return [
        (name, item)
        for name, event in all_recorded_events()
        for item in event.get("_embedded", {}).get(kind, [])
    ]


def recorded_venues() -> Recorded:
    """(fixture name, raw venue): the venue detail and every venue embedded in an event."""
    detail = "venue_details_2016_sdkjs.json"
    return _unique([(detail, load_fixture(detail)), *_embedded("venues")])


def recorded_attractions() -> Recorded:
    """(fixture name, raw attraction): the attraction detail and every embedded attraction."""
    detail = "attraction_details_2016_sdkjs.json"
    return _unique([(detail, load_fixture(detail)), *_embedded("attractions")])


def recorded_classifications() -> Recorded:
    """(fixture name, raw classification): the classification detail (a segment with its
    genres embedded) and every event's and attraction's classification entries."""
    detail = "classification_details_2016_sdkjs.json"
    found: Recorded = [(detail, load_fixture(detail))]
    for name, event in all_recorded_events():
        found += [(name, c) for c in event.get("classifications", [])]
    for name, attraction in recorded_attractions():
        found += [(name, c) for c in attraction.get("classifications", [])]
    return _unique(found)


def ids(recorded: Recorded) -> list[str]:
    """Readable parametrize ids: ``fixture:id``."""
    return [f"{name}:{raw.get('id', index)}" for index, (name, raw) in enumerate(recorded)]
