"""mkdocs hook: the package's docstrings cross-reference in Sphinx style (``:meth:`aclose```,
``:class:`~._api.FakeDiscoveryAPI```); mkdocstrings renders those as a stray role before a code
span. This turns each into a link to the object's entry in the API reference when the name is
documented there, and into plain code otherwise (an ``optional`` autoref: never a warning).
"""

from __future__ import annotations

import inspect
import re
from functools import cache
from typing import Any

import ticketmaster_async
import ticketmaster_async.testing

__all__ = ["ROLE", "on_page_content", "resolve"]

#: A role mkdocstrings left in front of a code span: ``:meth:<code>~.x.y</code>``.
ROLE = re.compile(r":(?:meth|class|func|attr|data|exc|obj|mod|const):<code>(?P<name>[^<]+)</code>")

#: Classes whose members a bare name on a page most likely means, by page.
_PAGE_OWNERS = {
    "reference/sync-client.md": ("SyncTicketmasterClient", "TicketmasterClient"),
    "reference/testing.md": ("FakeDiscoveryAPI", "FakeServer"),
}
_DEFAULT_OWNERS = ("TicketmasterClient",)


@cache
def _public_names() -> dict[str, str]:
    """Short name → the identifier the API reference documents it under."""
    names: dict[str, str] = {}
    for module in (ticketmaster_async.testing, ticketmaster_async):
        for name in module.__all__:
            names[name] = f"{module.__name__}.{name}"
    return names


@cache
def _members(owner: str) -> frozenset[str]:
    path = _public_names().get(owner)
    cls = getattr(ticketmaster_async, owner, None) or getattr(
        ticketmaster_async.testing, owner, None
    )
    if path is None or not inspect.isclass(cls):
        return frozenset()
    return frozenset(name for name in dir(cls) if not name.startswith("_"))


def resolve(name: str, page: str = "") -> str | None:
    """The identifier of ``name`` (as written in a docstring role), or ``None``."""
    parts = [part for part in name.lstrip("~").split(".") if part]
    if not parts:
        return None
    names = _public_names()
    last = parts[-1]
    if len(parts) >= 2 and parts[-2] in names and last in _members(parts[-2]):
        return f"{names[parts[-2]]}.{last}"
    if last in names:
        return names[last]
    for owner in (*_PAGE_OWNERS.get(page, ()), *_DEFAULT_OWNERS):
        if last in _members(owner):
            return f"{names[owner]}.{last}"
    return None


def on_page_content(html: str, /, *, page: Any, config: Any, files: Any) -> str:
    """Turn every leftover Sphinx role on the page into a link or plain code."""

    def link(match: re.Match[str]) -> str:
        name = match["name"]
        shown = name.lstrip("~").split(".")[-1] if name.startswith(("~", ".")) else name
        identifier = resolve(name, page.file.src_uri)
        if identifier is None:
            return f"<code>{shown}</code>"
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return ROLE.sub(link, html)
