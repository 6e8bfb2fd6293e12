"""The data the fake API serves: real recorded Ticketmaster responses, shipped as package data.

``data/dataset.json`` is built from the recorded responses in ``tests/fixtures`` by
:func:`build_dataset` (regenerate it with ``python -m ticketmaster_async.testing._data
tests/fixtures``). Events, venues, attractions and classifications are kept verbatim except that
every ``images`` array is cut to its first image, to keep the package small. Venues and
attractions are collected from the events' ``_embedded`` objects; the detail fixtures win over
those embedded copies. Classifications are the recorded "Arts & Theatre" detail plus one
segment → genre → sub-genre tree per other segment, derived from the events' classifications.

The same venue or attraction is embedded in many events (with long texts such as
``generalInfo``), so the file stores each distinct embedded object once, in ``shared``, and
refers to it as ``{"$shared": index}``; :func:`load_dataset` puts the objects back.

``data/synthetic.json`` holds a handful of SYNTHETIC events (ids starting with ``SYNTH``, urls on
``sandbox.ticketmaster.invalid``, an ``info`` text saying so) so that a search for London, the
example city of the docs, returns something. Everything else is real data.
"""

from __future__ import annotations

import copy
import functools
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard

__all__ = [
    "DATASET_FILE",
    "EVENT_FIXTURES",
    "SYNTHETIC_FILE",
    "Dataset",
    "build_dataset",
    "derive_classifications",
    "iter_classification_nodes",
    "load_dataset",
    "pack",
    "strip_images",
    "unpack",
]

JSONObject = dict[str, Any]

DATASET_FILE = "dataset.json"
SYNTHETIC_FILE = "synthetic.json"
SHARED_REF = "$shared"
_SHARED_KINDS = frozenset({"venues", "attractions"})

#: Recorded responses the events come from, in "relevance" order. A search page contributes its
#: ``_embedded.events``; a single event document contributes itself.
EVENT_FIXTURES = (
    "search_gb_page0_cancelled_rescheduled_fees_2020.json",
    "search_us_page1_nba_suns_timetba_2023.json",
    "search_us_page0_mixed_status_rescheduled_offsale_2019.json",
    "docs_example_event_details.json",
    "search_us_page0_2017.json",
    "search_us_single_result_page_lady_gaga_2017.json",
    "docs_example_search_events_size1_timetba_offsale.json",
    "event_us_rv_pass_2016_sdkjs.json",
    "search_events_with_options_2016_sdkjs.json",
    "search_events_page_2016_sdkjs.json",
)
VENUE_DETAIL_FIXTURES = ("venue_details_2016_sdkjs.json",)
ATTRACTION_DETAIL_FIXTURES = ("attraction_details_2016_sdkjs.json",)
CLASSIFICATION_DETAIL_FIXTURES = ("classification_details_2016_sdkjs.json",)
OFFERS_FIXTURE = "commerce_v2_offers_us_2016.json"
TOP_PICKS_FIXTURE = "top_picks_v1_docs_example.json"


@dataclass
class Dataset:
    """One private, mutable copy of the fake API's data.

    Attributes:
        events: raw Discovery event objects, in relevance order.
        venues: raw venue objects.
        attractions: raw attraction objects.
        classifications: raw classification objects (``{"segment": {...}, "_links": ...}``).
        offers_template: a recorded Commerce offers body, adapted per event by the fake.
        top_picks_template: the documented Top Picks body, adapted per event by the fake.
    """

    events: list[JSONObject]
    venues: list[JSONObject]
    attractions: list[JSONObject]
    classifications: list[JSONObject]
    offers_template: JSONObject
    top_picks_template: JSONObject


@functools.cache
def _read_packaged(name: str) -> str:
    return (resources.files(__package__ or "ticketmaster_async.testing") / "data" / name).read_text(
        encoding="utf-8"
    )


def load_dataset() -> Dataset:
    """Return a fresh copy of the shipped data (the real dataset plus the synthetic events).

    The files are read once per process; every call parses them again so that callers may
    mutate what they get. Within one copy, an embedded venue or attraction shared by several
    events is one object.
    """
    real = unpack(json.loads(_read_packaged(DATASET_FILE)))
    synthetic = json.loads(_read_packaged(SYNTHETIC_FILE))
    events: list[JSONObject] = real["events"] + synthetic["events"]
    venues = _merge_by_id(real["venues"], _embedded(synthetic["events"], "venues"))
    attractions = _merge_by_id(real["attractions"], _embedded(synthetic["events"], "attractions"))
    return Dataset(
        events=events,
        venues=venues,
        attractions=attractions,
        classifications=real["classifications"],
        offers_template=real["offers_template"],
        top_picks_template=real["top_picks_template"],
    )


def build_dataset(fixtures_dir: Path) -> JSONObject:
    """Build the content of ``data/dataset.json`` from the recorded responses in *fixtures_dir*.

    Args:
        fixtures_dir: the ``tests/fixtures`` directory of the source tree.

    Returns:
        A JSON-ready dict with ``events``, ``venues``, ``attractions``, ``classifications``,
        ``offers_template`` and ``top_picks_template``.
    """

    def read(name: str) -> Any:
        return json.loads((fixtures_dir / name).read_text(encoding="utf-8"))

    events: list[JSONObject] = []
    seen: set[str] = set()
    for name in EVENT_FIXTURES:
        document = read(name)
        found = document.get("_embedded", {}).get("events", [])
        for event in found if found else [document]:
            if event["id"] not in seen:
                seen.add(event["id"])
                events.append(strip_images(event))
    venues = _merge_by_id(
        _embedded(events, "venues"), [strip_images(read(n)) for n in VENUE_DETAIL_FIXTURES]
    )
    attractions = _merge_by_id(
        _embedded(events, "attractions"),
        [strip_images(read(n)) for n in ATTRACTION_DETAIL_FIXTURES],
    )
    recorded = [read(name) for name in CLASSIFICATION_DETAIL_FIXTURES]
    recorded_ids = {c["segment"]["id"] for c in recorded}
    derived = [c for c in derive_classifications(events) if c["segment"]["id"] not in recorded_ids]
    return {
        "events": events,
        "venues": venues,
        "attractions": attractions,
        "classifications": recorded + derived,
        "offers_template": read(OFFERS_FIXTURE),
        "top_picks_template": read(TOP_PICKS_FIXTURE),
    }


def pack(dataset: JSONObject) -> JSONObject:
    """Store each distinct embedded venue/attraction once (see the module docstring)."""
    shared: list[JSONObject] = []
    index: dict[str, int] = {}

    def ref(item: JSONObject) -> JSONObject:
        key = json.dumps(item, sort_keys=True)
        if key not in index:
            index[key] = len(shared)
            shared.append(item)
        return {SHARED_REF: index[key]}

    events = []
    for event in dataset["events"]:
        event = dict(event)
        if isinstance(event.get("_embedded"), dict):
            event["_embedded"] = {
                kind: [ref(item) for item in items] if kind in _SHARED_KINDS else items
                for kind, items in event["_embedded"].items()
            }
        events.append(event)
    return {
        **dataset,
        "events": events,
        "venues": [ref(item) for item in dataset["venues"]],
        "attractions": [ref(item) for item in dataset["attractions"]],
        "shared": shared,
    }


def unpack(packed: JSONObject) -> JSONObject:
    """Inverse of :func:`pack`."""
    shared: list[JSONObject] = packed.pop("shared")

    def resolve(items: list[JSONObject]) -> list[JSONObject]:
        return [shared[item[SHARED_REF]] for item in items]

    for event in packed["events"]:
        embedded = event.get("_embedded")
        if isinstance(embedded, dict):
            for kind in _SHARED_KINDS.intersection(embedded):
                embedded[kind] = resolve(embedded[kind])
    packed["venues"] = resolve(packed["venues"])
    packed["attractions"] = resolve(packed["attractions"])
    return packed


def strip_images(value: Any) -> Any:
    """Return a deep copy of *value* with every ``images`` list cut to its first element."""
    if isinstance(value, dict):
        return {
            key: (
                [strip_images(item) for item in inner[:1]]
                if key == "images" and isinstance(inner, list)
                else strip_images(inner)
            )
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [strip_images(item) for item in value]
    return value


def derive_classifications(events: Iterable[JSONObject]) -> list[JSONObject]:
    """One classification object per segment seen in *events*, with its genres and sub-genres.

    The shape follows the recorded ``GET /discovery/v2/classifications/{id}`` response.
    """
    roots: dict[str, JSONObject] = {}
    for event in events:
        for entry in event.get("classifications", []):
            _add_path(roots, entry)
    return [
        {
            "_links": {"self": {"href": f"/discovery/v2/classifications/{sid}?locale=en-us"}},
            "segment": segment,
        }
        for sid, segment in roots.items()
    ]


def _add_path(roots: dict[str, JSONObject], entry: JSONObject) -> None:
    segment, genre, subgenre = entry.get("segment"), entry.get("genre"), entry.get("subGenre")
    if not _is_named(segment):
        return
    root = roots.setdefault(segment["id"], _node("segments", segment))
    if not _is_named(genre):
        return
    genre_node = _find_or_add(root, "genres", genre)
    if _is_named(subgenre):
        _find_or_add(genre_node, "subgenres", subgenre)


def _is_named(node: Any) -> TypeGuard[JSONObject]:
    return isinstance(node, dict) and bool(node.get("id")) and bool(node.get("name"))


def _node(kind: str, source: JSONObject) -> JSONObject:
    href = f"/discovery/v2/classifications/{kind}/{source['id']}?locale=en-us"
    return {"id": source["id"], "name": source["name"], "_links": {"self": {"href": href}}}


def _find_or_add(parent: JSONObject, kind: str, source: JSONObject) -> JSONObject:
    children: list[JSONObject] = parent.setdefault("_embedded", {}).setdefault(kind, [])
    for child in children:
        if child["id"] == source["id"]:
            return child
    child = _node(kind, source)
    children.append(child)
    return child


def _embedded(events: Iterable[JSONObject], kind: str) -> list[JSONObject]:
    return [item for event in events for item in event.get("_embedded", {}).get(kind, [])]


def _merge_by_id(*groups: list[JSONObject]) -> list[JSONObject]:
    """Deduplicate by ``id``; a later group replaces an earlier copy but keeps its position."""
    merged: dict[str, JSONObject] = {}
    for group in groups:
        for item in group:
            merged[item["id"]] = copy.deepcopy(item)
    return list(merged.values())


def iter_classification_nodes(classification: JSONObject) -> Iterator[tuple[str, JSONObject]]:
    """Yield ``(kind, node)`` for the segment, genres and sub-genres of one classification."""
    segment = classification.get("segment")
    if not isinstance(segment, dict):
        return
    yield "segments", segment
    for genre in segment.get("_embedded", {}).get("genres", []):
        yield "genres", genre
        for subgenre in genre.get("_embedded", {}).get("subgenres", []):
            yield "subgenres", subgenre


def _main(argv: list[str]) -> int:  # pragma: no cover - maintenance helper
    fixtures = Path(argv[0]) if argv else Path("tests/fixtures")
    target = Path(__file__).with_name("data") / DATASET_FILE
    data = build_dataset(fixtures)
    target.write_text(
        json.dumps(pack(data), ensure_ascii=False, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {target} ({len(data['events'])} events)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
