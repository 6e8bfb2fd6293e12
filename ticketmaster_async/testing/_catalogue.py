"""The data the fake API serves: events, venues, attractions and classifications.

It starts as the shipped recorded data (:mod:`._data`), parsed once per process and shared by
every fake; the shared objects are never mutated. Events added later live in this catalogue's
own indexes. Not thread-safe on its own: :class:`~._api.FakeDiscoveryAPI` calls it under its
lock.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from ._data import Dataset, JSONObject, iter_classification_nodes, load_dataset

__all__ = ["Catalogue"]


@functools.cache
def _shared_dataset() -> Dataset:
    """The shipped data, parsed once per process and shared by every fake.

    The fakes never mutate these objects: they answer with them, copy them before adapting
    them, and keep added events in their own indexes.
    """
    return load_dataset()


class Catalogue:
    """Events, venues, attractions and classifications by id (loaded on first use)."""

    def __init__(self) -> None:
        self._dataset: Dataset | None = None
        self._events: dict[str, JSONObject] = {}
        self._venues: dict[str, JSONObject] = {}
        self._attractions: dict[str, JSONObject] = {}

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
    def events(self) -> dict[str, JSONObject]:
        """Raw events by id, in relevance order."""
        self._load()
        return self._events

    @property
    def venues(self) -> dict[str, JSONObject]:
        """Raw venues by id."""
        self._load()
        return self._venues

    @property
    def attractions(self) -> dict[str, JSONObject]:
        """Raw attractions by id."""
        self._load()
        return self._attractions

    @property
    def classifications(self) -> list[JSONObject]:
        """Raw classification objects (a segment with its genres and sub-genres)."""
        return self._load().classifications

    def add_event(self, event: Mapping[str, Any]) -> None:
        """Serve a copy of *event* (replacing one with the same id); its embedded venues and
        attractions become searchable too.

        Raises:
            ValueError: the event has no string ``id``.
        """
        raw = copy.deepcopy(dict(event))
        if not isinstance(raw.get("id"), str) or not raw["id"]:
            raise ValueError("an event needs a non-empty string id")
        self.events[raw["id"]] = raw
        self._index_embedded(raw)

    def _index_embedded(self, event: JSONObject) -> None:
        embedded = event.get("_embedded") or {}
        for venue in embedded.get("venues") or []:
            if isinstance(venue, dict) and isinstance(venue.get("id"), str):
                self._venues.setdefault(venue["id"], venue)
        for attraction in embedded.get("attractions") or []:
            if isinstance(attraction, dict) and isinstance(attraction.get("id"), str):
                self._attractions.setdefault(attraction["id"], attraction)

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
