"""Shared fixtures: recorded API responses and helpers to load them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

#: Search pages recorded from the real API (2016–2023, US and GB).
SEARCH_PAGES = sorted(
    p.name for p in FIXTURES.glob("*.json") if p.name.startswith(("search_", "docs_example_search"))
)
#: Single event objects recorded from the real API or its docs.
EVENT_DETAILS = ["docs_example_event_details.json", "event_us_rv_pass_2016_sdkjs.json"]


def load_fixture(name: str) -> Any:
    """The parsed JSON of ``tests/fixtures/<name>``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of ``tests/fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()


def all_recorded_events() -> list[tuple[str, dict[str, Any]]]:
    """(fixture name, raw event) for every event in every recorded page and detail."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name in SEARCH_PAGES:
        for raw in load_fixture(name).get("_embedded", {}).get("events", []):
            out.append((name, raw))
    for name in EVENT_DETAILS:
        out.append((name, load_fixture(name)))
    return out


@pytest.fixture
def api_key() -> str:
    """A recognisable fake key, to prove it never leaks."""
    return "SECRET-KEY-3f9a7c0e"
