"""Cache keys and tags: what identifies a cached answer, with the API key never part of it."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

__all__ = ["cache_key", "event_tag"]

_KEY_PARAM = "apikey"


def cache_key(path: str, params: Mapping[str, str], *, method: str = "GET") -> str:
    """``METHOD path?sorted params``; the ``apikey`` parameter is dropped if present."""
    items = sorted((k, v) for k, v in params.items() if k.lower() != _KEY_PARAM)
    query = urlencode(items)
    return f"{method.upper()} {path}?{query}" if query else f"{method.upper()} {path}"


def event_tag(event_id: str) -> str:
    """The tag under which everything cached for one event (details, prices) is indexed."""
    return f"event:{event_id}"
