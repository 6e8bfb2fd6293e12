"""The Discovery application behind the gateway: which endpoint a path names, and its body.

Searches go to :mod:`._filters`; details, images, classification nodes and the price sources
(Commerce offers, Top Picks) are answered here from the :class:`~._catalogue.Catalogue`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from ._catalogue import Catalogue
from ._data import JSONObject
from ._filters import VENUE_FIELDS, paging, search_classifications, search_events, search_named
from ._responses import (
    OFFERS_EVENT_NOT_FOUND,
    Reply,
    adapt_offers,
    adapt_top_picks,
    not_found,
    page_body,
)

__all__ = ["dispatch", "merge", "route"]


def dispatch(
    catalogue: Catalogue,
    route: tuple[str, ...],
    path: str,
    pairs: list[tuple[str, str]],
    params: dict[str, str],
) -> JSONObject:
    kind = route[0]
    locale = params.get("locale") or "en-us"
    if kind == "search":
        return _search(catalogue, route[1], path, pairs, params)
    if kind == "offers":
        return _offers(catalogue, route[1])
    if kind == "top_picks":
        return _top_picks(catalogue, route[1])
    if kind == "classification_node":
        node = catalogue.classification_node(route[1], route[2])
        if node is None:
            raise not_found(route[2], locale)
        return node
    resource_id = route[1]
    found: JSONObject | None
    if kind in ("event", "images"):
        found = catalogue.events.get(resource_id)
    elif kind == "venue":
        found = catalogue.venues.get(resource_id)
    elif kind == "attraction":
        found = catalogue.attractions.get(resource_id)
    else:  # classification
        found = catalogue.classification(resource_id)
    if found is None:
        raise not_found(resource_id, locale)
    if kind == "images":
        href = f"/discovery/v2/events/{resource_id}/images?locale={locale}"
        return {
            "type": "event",
            "id": resource_id,
            "images": found.get("images", []),
            "_links": {"self": {"href": href}},
        }
    return found


def _search(
    catalogue: Catalogue,
    kind: str,
    path: str,
    pairs: list[tuple[str, str]],
    params: dict[str, str],
) -> JSONObject:
    size, page = paging(params)
    items: list[JSONObject]
    if kind == "events":
        items = search_events(list(catalogue.events.values()), params)
    elif kind == "venues":
        items = search_named(list(catalogue.venues.values()), params, VENUE_FIELDS)
    elif kind == "attractions":
        items = search_named(list(catalogue.attractions.values()), params, {})
    else:
        items = search_classifications(catalogue.classifications, params)
    return page_body(kind, path, pairs, items, size, page)


def _offers(catalogue: Catalogue, event_id: str) -> JSONObject:
    event = catalogue.events.get(event_id)
    if event is None:
        raise Reply(500, copy.deepcopy(OFFERS_EVENT_NOT_FOUND))
    return adapt_offers(catalogue.dataset.offers_template, event_id, event)


def _top_picks(catalogue: Catalogue, event_id: str) -> JSONObject:
    event = catalogue.events.get(event_id)
    if event is None:
        # Not captured from the real API; a plausible body.
        raise Reply(
            404, {"errors": [{"code": "404", "detail": "Event not found", "status": "404"}]}
        )
    return adapt_top_picks(catalogue.dataset.top_picks_template, event)


def merge(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Repeated names are joined with ``,`` (the API's array syntax)."""
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged[name] = f"{merged[name]},{value}" if name in merged and name != "apikey" else value
    return merged


def route(path: str) -> tuple[str, ...] | None:
    parts = [part for part in path.split("/") if part]
    if parts and parts[-1].endswith(".json"):
        parts[-1] = parts[-1][: -len(".json")]
    match parts:
        case ["discovery", "v2", ("events" | "venues" | "attractions" | "classifications") as kind]:
            return ("search", kind)
        case ["discovery", "v2", "events", event_id]:
            return ("event", event_id)
        case ["discovery", "v2", "events", event_id, "images"]:
            return ("images", event_id)
        case ["discovery", "v2", ("venues" | "attractions" | "classifications") as kind, item_id]:
            return (kind[:-1], item_id)
        case [
            "discovery",
            "v2",
            "classifications",
            ("segments" | "genres" | "subgenres") as kind,
            node_id,
        ]:
            return ("classification_node", kind, node_id)
        case ["commerce", "v2", "events", event_id, "offers"]:
            return ("offers", event_id)
        case ["top-picks", "v1", "events", event_id]:
            return ("top_picks", event_id)
    return None
