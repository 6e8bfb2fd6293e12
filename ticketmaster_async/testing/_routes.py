"""The Discovery application behind the gateway: which endpoint a path names, and its body.

Searches and suggest go to :mod:`._search`; details, images, classification nodes and the price
sources (Commerce offers, Top Picks) are answered here from the :class:`~._catalogue.Catalogue`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TypeAlias

from ._catalogue import Catalogue
from ._data import JSONObject
from ._responses import (
    OFFERS_EVENT_NOT_FOUND,
    Reply,
    adapt_offers,
    adapt_top_picks,
    encode_body,
    not_found,
)
from ._search import search, suggest

__all__ = ["Answer", "dispatch", "merge", "route"]


#: A route's body (an object, or bytes already encoded) and its extra headers.
Answer: TypeAlias = tuple[JSONObject | bytes, dict[str, str]]


def dispatch(
    catalogue: Catalogue,
    route: tuple[str, ...],
    path: str,
    pairs: list[tuple[str, str]],
    params: dict[str, str],
) -> Answer:
    """The body and extra headers answering *route* (from :func:`route`).

    Raises:
        Reply: an error answer (404, 400, the Commerce 500).
    """
    kind = route[0]
    locale = params.get("locale") or "en-us"
    if kind in ("search", "suggest"):
        if kind == "search":
            body, unknown = search(catalogue, route[1], path, pairs, params)
        else:
            body, unknown = suggest(catalogue, path, pairs, params)
        # The real API names the parameters it ignored in this header.
        return body, ({"X-Unknown-Params": ",".join(unknown)} if unknown else {})
    if kind == "offers":
        return _offers(catalogue, route[1]), {}
    if kind == "top_picks":
        return _top_picks(catalogue, route[1]), {}
    return _detail(catalogue, route, locale), {}


def _detail(catalogue: Catalogue, route: tuple[str, ...], locale: str) -> JSONObject | bytes:
    kind, resource_id = route[0], route[-1]
    found: JSONObject | None
    if kind == "classification_node":
        found = catalogue.classification_node(route[1], resource_id)
    elif kind in ("event", "images"):
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
    if kind == "event":
        record = catalogue.event_record(resource_id)
        if record.encoded is None:
            record.encoded = encode_body(found)
        return record.encoded
    return found


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
    """What *path* names: ``("search", kind)``, ``("suggest",)``, ``("event", id)``, ...; with
    or without ``.json``. ``None`` for a path the API does not serve."""
    parts = [part for part in path.split("/") if part]
    if parts and parts[-1].endswith(".json"):
        parts[-1] = parts[-1][: -len(".json")]
    match parts:
        case ["discovery", "v2", ("events" | "venues" | "attractions" | "classifications") as kind]:
            return ("search", kind)
        case ["discovery", "v2", "suggest"]:
            return ("suggest",)
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
