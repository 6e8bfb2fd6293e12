"""Attraction model: a performer, team or show."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import Field

from .._constants import LOGGER_NAME
from ._base import TMModel
from ._lenient import shown
from .classification import Classification, ClassificationRef
from .media import Image

__all__ = ["Attraction", "Classification", "ClassificationRef"]

logger = logging.getLogger(LOGGER_NAME)


def _links_by_name(value: Any, owner: str) -> dict[str, list[str]]:
    """``{"youtube": [{"url": u}, …], …}`` → ``{"youtube": [u, …], …}``.

    Entries without a ``url`` (``musicbrainz`` sends ``{"id": …}``) are left to ``.raw``, and a
    name with no url at all is left out; an entry whose url is not a string, or that is not an
    object, is dropped with a WARNING naming ``owner``.
    """
    if not isinstance(value, dict):
        logger.warning("ignored the malformed externalLinks of %s", owner)
        return {}
    links: dict[str, list[str]] = {}
    for name, entries in value.items():
        urls: list[str] = []
        for link in entries if isinstance(entries, list) else [entries]:
            url = link.get("url") if isinstance(link, dict) else None
            if isinstance(url, str):
                urls.append(url)
            elif not isinstance(link, dict) or "url" in link:
                logger.warning("ignored a malformed %s link of %s", shown(str(name)), owner)
        if urls:
            links[str(name)] = urls
    return links


class Attraction(TMModel):
    """A performer, team or show. ``Attraction.model_validate(raw)`` accepts the API's JSON.

    ``external_links`` maps a site name (``"youtube"``, ``"wiki"``, …) to its urls;
    ``upcoming_events`` is the API's ``upcomingEvents._total``.
    """

    _API_PATHS = {"upcoming_events": ("upcomingEvents", "_total")}

    id: str
    name: str | None = None
    url: str | None = None
    locale: str | None = None
    classifications: list[Classification] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    external_links: dict[str, list[str]] = Field(default_factory=dict)
    upcoming_events: int | None = None

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        out = super()._prepare(data)
        if "external_links" not in out and out.get("externalLinks") is not None:
            out["external_links"] = _links_by_name(out["externalLinks"], cls._owner(out))
        return out
