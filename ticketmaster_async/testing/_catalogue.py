"""The data the fake API serves: events, venues, attractions and classifications, and the
changes a test scripts into them (add, update, remove).

It starts as the shipped recorded data (:mod:`._data`), parsed once per process and shared by
every fake. Raw objects are never mutated in place: a change replaces the event's object with a
new one (copy on write), so the shared data stays pristine and a record (:mod:`._index`) built
from an object stays true to it. Not thread-safe on its own: :class:`~._api.FakeDiscoveryAPI`
calls it under its lock.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ._data import Dataset, JSONObject, iter_classification_nodes, load_dataset
from ._index import (
    Record,
    attraction_record,
    classification_record,
    event_record,
    event_zone,
    venue_record,
)

__all__ = ["CONVENIENCES", "Catalogue"]

_INSTANT = "%Y-%m-%dT%H:%M:%SZ"
#: The keywords of :meth:`Catalogue.update_event` that are not raw keys.
CONVENIENCES = frozenset({"status", "start", "price_ranges", "onsale_start", "onsale_end"})


@functools.cache
def _shared_dataset() -> Dataset:
    """The shipped data, parsed once per process and shared by every fake.

    The fakes never mutate these objects: they answer with them, copy them before adapting
    them, and replace (never edit) an event they change.
    """
    return load_dataset()


class Catalogue:
    """Events, venues, attractions and classifications by id (loaded on first use)."""

    def __init__(self) -> None:
        self._dataset: Dataset | None = None
        self._events: dict[str, JSONObject] = {}
        self._venues: dict[str, JSONObject] = {}
        self._attractions: dict[str, JSONObject] = {}
        self._unsearchable: set[str] = set()
        self._records: dict[str, Record] = {}
        self._lists: dict[str, list[Record]] = {}

    def _load(self) -> Dataset:
        if self._dataset is None:
            dataset = _shared_dataset()
            self._events = {event["id"]: event for event in dataset.events}
            self._venues = {venue["id"]: venue for venue in dataset.venues}
            self._attractions = {item["id"]: item for item in dataset.attractions}
            self._dataset = dataset
        return self._dataset

    @property
    def dataset(self) -> Dataset:
        """The shipped data (classifications and the price-source templates)."""
        return self._load()

    @property
    def events(self) -> Mapping[str, JSONObject]:
        """Raw events by id, in relevance order (searchable or not)."""
        self._load()
        return self._events

    @property
    def venues(self) -> Mapping[str, JSONObject]:
        """Raw venues by id."""
        self._load()
        return self._venues

    @property
    def attractions(self) -> Mapping[str, JSONObject]:
        """Raw attractions by id."""
        self._load()
        return self._attractions

    @property
    def classifications(self) -> list[JSONObject]:
        """Raw classification objects (a segment with its genres and sub-genres)."""
        return self._load().classifications

    # ------------------------------------------------------------------ records

    def records(self, kind: str) -> list[Record]:
        """The records a search of *kind* (``events``, ``venues``, ``attractions``,
        ``classifications``) walks, in relevance order; events only when searchable."""
        self._load()
        found = self._lists.get(kind)
        if found is None:
            found = self._lists[kind] = self._build(kind)
        return found

    def _build(self, kind: str) -> list[Record]:
        if kind == "events":
            built = [
                self.event_record(event_id)
                for event_id in self._events
                if event_id not in self._unsearchable
            ]
        elif kind == "venues":
            built = [venue_record(raw) for raw in self._venues.values()]
        elif kind == "attractions":
            built = [attraction_record(raw) for raw in self._attractions.values()]
        else:
            built = [classification_record(raw) for raw in self.classifications]
        for position, record in enumerate(built):
            record.position = position
        return built

    def event_record(self, event_id: str) -> Record:
        """The record of a served event (rebuilt when its object was replaced)."""
        raw = self.events[event_id]
        record = self._records.get(event_id)
        if record is None or record.raw is not raw:
            record = self._records[event_id] = event_record(raw)
        return record

    # ------------------------------------------------------------------ changes

    def add_event(self, event: Mapping[str, Any], *, searchable: bool = True) -> str:
        """Serve a copy of *event* (replacing one with the same id); its embedded venues and
        attractions become searchable too. Returns its id.

        Raises:
            ValueError: the event has no string ``id``.
        """
        raw = copy.deepcopy(dict(event))
        if not isinstance(raw.get("id"), str) or not raw["id"]:
            raise ValueError("an event needs a non-empty string id")
        self._store(raw, searchable=searchable)
        return str(raw["id"])

    def add_events(self, events: list[JSONObject]) -> None:
        """Serve freshly built events as they are (no copy: the caller hands them over)."""
        self._load()
        for raw in events:
            self._store(raw, searchable=True)

    def _store(self, raw: JSONObject, *, searchable: bool) -> None:
        self._load()
        self._events[raw["id"]] = raw
        if searchable:
            self._unsearchable.discard(raw["id"])
        else:
            self._unsearchable.add(raw["id"])
        self._index_embedded(raw)
        self._lists.pop("events", None)

    def _index_embedded(self, event: JSONObject) -> None:
        embedded = event.get("_embedded")
        embedded = embedded if isinstance(embedded, dict) else {}
        for kind, table in (("venues", self._venues), ("attractions", self._attractions)):
            for item in embedded.get(kind) or []:
                item_id = item.get("id") if isinstance(item, dict) else None
                if isinstance(item_id, str) and item_id not in table:
                    table[item_id] = item
                    self._lists.pop(kind, None)

    def update_event(self, event_id: str, changes: Mapping[str, Any]) -> None:
        """Replace the event by a changed copy (see ``FakeDiscoveryAPI.update_event``).

        Raises:
            KeyError: no event has this id.
            ValueError: a change is malformed (the event is left as it was).
        """
        current = self.events.get(event_id)
        if current is None:
            raise KeyError(f"no event with id {event_id!r}")
        if "id" in changes:
            raise ValueError("update_event cannot change an event's id")
        raw = dict(current)
        for key, value in changes.items():
            if key in CONVENIENCES:
                continue
            if value is None:
                raw.pop(key, None)
            else:
                raw[key] = copy.deepcopy(value)
        _apply_conveniences(raw, changes)
        self._events[event_id] = raw
        self._index_embedded(raw)
        self._lists.pop("events", None)

    def remove_event(self, event_id: str) -> None:
        """Stop serving the event (details answer 404, searches leave it out).

        Raises:
            KeyError: no event has this id.
        """
        if event_id not in self.events:
            raise KeyError(f"no event with id {event_id!r}")
        del self._events[event_id]
        self._unsearchable.discard(event_id)
        self._records.pop(event_id, None)
        self._lists.pop("events", None)

    # ------------------------------------------------------------------ classifications

    def classification(self, node_id: str) -> JSONObject | None:
        """The classification holding the segment, genre or sub-genre *node_id* (the last one
        when several do)."""
        found = None
        for classification in self.classifications:
            for _, node in iter_classification_nodes(classification):
                if node["id"] == node_id:
                    found = classification
        return found

    def classification_node(self, kind: str, node_id: str) -> JSONObject | None:
        """The segment, genre or sub-genre (*kind*: ``segments`` ...) with id *node_id*."""
        for classification in self.classifications:
            for node_kind, node in iter_classification_nodes(classification):
                if node_kind == kind and node["id"] == node_id:
                    return node
        return None


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def _branch(raw: JSONObject, *keys: str) -> JSONObject:
    """A private copy of ``raw[keys[0]][keys[1]]...`` (made on the way), to change in place."""
    node = raw
    for key in keys:
        child = node.get(key)
        node[key] = copy.deepcopy(child) if isinstance(child, dict) else {}
        node = node[key]
    return node


def _apply_conveniences(raw: JSONObject, changes: Mapping[str, Any]) -> None:
    # Check every value before changing anything.
    status = changes.get("status")
    if status is not None and not (isinstance(status, str) and status):
        raise ValueError(f"status must be a non-empty string, got {status!r}")
    start = changes.get("start")
    if start is not None:
        start = _aware(start, "start")
    onsale = {
        api: _aware(changes[name], name)
        for name, api in (("onsale_start", "startDateTime"), ("onsale_end", "endDateTime"))
        if changes.get(name) is not None
    }
    prices = changes.get("price_ranges")
    if prices is not None and not (
        isinstance(prices, list) and all(isinstance(p, Mapping) for p in prices)
    ):
        raise ValueError("price_ranges must be a list of price range objects")
    if status is not None:
        _branch(raw, "dates", "status")["code"] = status
    if start is not None:
        when = start.astimezone(event_zone(raw))
        dates = _branch(raw, "dates", "start")
        dates["localDate"] = when.strftime("%Y-%m-%d")
        dates["localTime"] = when.strftime("%H:%M:%S")
        dates["dateTime"] = start.astimezone(timezone.utc).strftime(_INSTANT)
        for flag in ("dateTBD", "dateTBA", "timeTBA", "noSpecificTime"):
            if flag in dates:
                dates[flag] = False
    for key, value in onsale.items():
        _branch(raw, "sales", "public")[key] = value.astimezone(timezone.utc).strftime(_INSTANT)
    if prices is not None:
        raw["priceRanges"] = [dict(copy.deepcopy(p)) for p in prices]
