"""mkdocs hook: the parameter reference, generated at build time from the endpoint descriptions.

``ticketmaster_async._endpoints`` describes every parameter once (keyword, API name, Python
type, one line of documentation); the client's checks, the query string, the CLI's flags and
the fake API's filters are all read from it, and so is this page: the hook replaces
:data:`MARKER` in ``reference/parameters.md`` with one table per endpoint. Nothing here is a
hand-copied table, so the page cannot drift from the code.
"""

from __future__ import annotations

import re
from typing import Any

from ticketmaster_async._endpoints import DETAIL, ENDPOINTS
from ticketmaster_async._query import (
    DistanceSortNeedsNear,
    Endpoint,
    LocalRange,
    Needs,
    Ordered,
)

__all__ = ["DETAIL_METHODS", "MARKER", "PAGE", "SEARCH_METHODS", "on_page_markdown", "render"]

#: The page the tables go into (relative to ``docs/``) and the line they replace.
PAGE = "reference/parameters.md"
MARKER = "<!-- parameter-tables -->"

#: The public methods that take each search endpoint's keywords.
SEARCH_METHODS: dict[str, tuple[str, ...]] = {
    "events": ("search_events", "search_events_page", "iter_events", "watch_search"),
    "venues": ("search_venues", "search_venues_page", "iter_venues"),
    "attractions": ("search_attractions", "search_attractions_page", "iter_attractions"),
    "classifications": (
        "search_classifications",
        "search_classifications_page",
        "iter_classifications",
    ),
    "suggest": ("suggest",),
}
#: The public method of each detail endpoint.
DETAIL_METHODS: dict[str, str] = {
    "event": "get_event_details",
    "event_images": "get_event_images",
    "venue": "get_venue",
    "attraction": "get_attraction",
    "classification": "get_classification",
    "segment": "get_segment",
    "genre": "get_genre",
    "subgenre": "get_subgenre",
}

_TITLES = {
    "events": "Events",
    "venues": "Venues",
    "attractions": "Attractions",
    "classifications": "Classifications",
    "suggest": "Suggest",
}
_CODE_SPAN = re.compile(r"(`[^`]*`)")


def _cell(text: str) -> str:
    """``text`` safe in a table cell: a ``|`` outside code would end the cell."""
    parts = _CODE_SPAN.split(text)
    return "".join(part if part.startswith("`") else part.replace("|", "\\|") for part in parts)


def _method_links(names: tuple[str, ...]) -> str:
    return ", ".join(f"[`{name}`][ticketmaster_async.TicketmasterClient.{name}]" for name in names)


def describe_rule(rule: Any) -> str:
    """One sentence for a rule between parameters (every rule the endpoints use)."""
    if isinstance(rule, Needs):
        return f"`{rule.name}` needs `{rule.required}`."
    if isinstance(rule, LocalRange):
        return (
            f"`{rule.start}` and `{rule.end}` are sent together as one "
            f"`{rule.api}=FROM,TO`; a missing side is sent as a wide bound; "
            f"`{rule.start}` must not be after `{rule.end}`."
        )
    if isinstance(rule, Ordered):
        return f"`{rule.first}` must not be after `{rule.second}`."
    if isinstance(rule, DistanceSortNeedsNear):
        return "A `distance,...` sort needs `near`."
    doc = (type(rule).__doc__ or "").strip()
    if not doc:
        raise ValueError(f"no description for the rule {rule!r}: describe it in the hook")
    return doc.splitlines()[0]


def _rows(endpoint: Endpoint) -> list[str]:
    positional = dict(endpoint.positional)
    rows = [
        "| keyword | Python type | sent as | what it does |",
        "|---|---|---|---|",
    ]
    for keyword, param in endpoint.params.items():
        shown = f"`{keyword}`"
        if keyword in positional:
            place = list(positional).index(keyword) + 1
            shown += f" ({place}{'st' if place == 1 else 'nd'} positional)"
        rows.append(f"| {shown} | `{param.kind.type_doc()}` | `{param.api}` | {_cell(param.doc)} |")
    return rows


def _search_section(name: str, endpoint: Endpoint) -> list[str]:
    methods = SEARCH_METHODS[name]
    lines = [
        f"## {_TITLES.get(name, name.title())}",
        "",
        f"`GET {endpoint.path}` · {_method_links(methods)}",
        "",
        *_rows(endpoint),
        "",
    ]
    notes = [describe_rule(rule) for rule in endpoint.rules]
    if endpoint.paged:
        notes.append(
            "`size` and `page` are always sent; `size * page` must stay under 1000 "
            "(the API's deep-paging cap)."
        )
    if notes:
        lines += ["Rules, checked before anything is sent:", ""]
        lines += [f"- {note}" for note in notes]
        lines.append("")
    return lines


def _detail_section() -> list[str]:
    lines = [
        "## Details",
        "",
        "Every detail method takes the id as its first argument and these keywords:",
        "",
        "| method | `GET` path |",
        "|---|---|",
    ]
    for name, endpoint in DETAIL.items():
        method = DETAIL_METHODS[name]
        lines.append(
            f"| [`{method}`][ticketmaster_async.TicketmasterClient.{method}] | `{endpoint.path}` |"
        )
    shared = {
        keyword: param for endpoint in DETAIL.values() for keyword, param in endpoint.params.items()
    }
    differing = [endpoint.name for endpoint in DETAIL.values() if endpoint.params != shared]
    if differing:
        raise ValueError(f"detail endpoints with their own parameters: {differing}")
    lines += ["", *_rows(next(iter(DETAIL.values()))), ""]
    return lines


def render() -> str:
    """The Markdown of every table, search endpoints first, then the detail endpoints."""
    lines: list[str] = []
    for name, endpoint in ENDPOINTS.items():
        lines += _search_section(name, endpoint)
    lines += _detail_section()
    return "\n".join(lines)


def on_page_markdown(markdown: str, /, *, page: Any, config: Any, files: Any) -> str:
    """Replace the marker on the parameter reference page with the generated tables."""
    if page.file.src_uri != PAGE:
        return markdown
    if markdown.count(MARKER) != 1:
        raise ValueError(f"{PAGE} must contain the line {MARKER!r} exactly once")
    return markdown.replace(MARKER, render())
