"""Events: details, images, many by id, one search page, every page of a search."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .._cache import event_tag
from .._changes import price_payload
from .._constants import MAX_PAGE_SIZE
from .._endpoints import DETAIL, EVENTS, EventFilters
from .._exceptions import BadRequestError, ConfigurationError, ResponseValidationError
from .._params import check_id
from .._pipeline import Answer
from .._query import Endpoint
from ..models import Event, Image, Page
from ..models._base import TMModel
from ._base import Resource, check_limit
from .exhaustive import check_exhaustive, exhaustive_events

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

__all__ = ["EventsResource"]

_EXHAUSTIVE_HINT = "; pass exhaustive=True to read past it"
#: Ids asked for in one combined search (``id=a,b,...``): one full page.
MAX_IDS_PER_SEARCH = MAX_PAGE_SIZE
#: Flag set (for a day) when the API refused the combined ``id=`` search with HTTP 400.
IDS_SEARCH_REFUSED = "refused:ids-search"


def check_event_ids(ids: Any) -> list[str]:
    """Distinct valid ids in input order; a bare string or a bad id is a ConfigurationError."""
    if isinstance(ids, (str, bytes)):
        raise ConfigurationError("ids must be a list of event ids, not one string")
    try:
        items = list(ids)
    except TypeError:
        raise ConfigurationError(f"ids must be an iterable of event ids, got {ids!r}") from None
    return list(dict.fromkeys(check_id(item, what="event id") for item in items))


def _event_tags(event_id: str) -> tuple[str, ...]:
    return (event_tag(event_id),)


def _raw_bytes(event: Event) -> bytes:
    """The event as the API sent it, as a details answer's body."""
    return json.dumps(event.raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class EventsResource(Resource):
    """``get_event_details``, ``get_event_images``, ``get_events``, ``search_events_page``,
    ``search_events``, ``iter_events``; a search page from the network warms its events'
    details and records their price points."""

    async def get_event_details(
        self,
        event_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> Event | None:
        """One event by id, or ``None`` when the API says 404.

        Args:
            event_id: the event's id.
            locale: the API's ``locale`` (e.g. ``"en-us"``, ``"*"``).
            refresh: skip the cache read; the fresh answer is still stored.
            extra_params: further query parameters, sent verbatim.

        Raises:
            ConfigurationError: the id is not a Ticketmaster id, or a bad option (nothing sent).
            TicketmasterError: any other failure (see the error tree).
        """
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        return await self._get_one(
            Event,
            DETAIL["event"],
            event_id,
            options,
            method="get_event_details",
            what="event id",
            tags=_event_tags,
        )

    async def get_event_images(
        self,
        event_id: str,
        *,
        locale: str | None = None,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> list[Image] | None:
        """The images of one event (every size and ratio), or ``None`` when the API says 404.

        Raises:
            ConfigurationError: a bad id or option (nothing sent).
        """
        options = {"locale": locale, "refresh": refresh, "extra_params": extra_params}
        answer = await self._get_detail(
            DETAIL["event_images"], event_id, options, method="get_event_images", what="event id"
        )
        if answer is None:
            return None
        data = self._decode(answer)
        raw_images = data.get("images") if isinstance(data, dict) else None
        if not isinstance(raw_images, list):
            raise self._shape_error(answer, "an event's images")
        return [
            self._fresh(image, answer)
            for image in self._parse_list(Image, raw_images, answer, what="image")
        ]

    async def get_events(
        self,
        ids: Iterable[str],
        *,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> dict[str, Event | None]:
        """Many events by id, for as few requests as the API allows.

        Cached events cost nothing; the rest are asked for together (``id=a,b,…``, up to 200
        per request, with ``includeTBA``/``includeTBD``/``includeTest=yes``). An id such a
        search does not return (past and unlisted events are not searchable) is asked for by
        its own details request. If the API refuses the combined form (HTTP 400), per-id
        requests are used and the refusal is remembered for a day.

        Args:
            ids: event ids; duplicates are asked for once.
            refresh: skip the cache reads; fresh answers are still stored.
            extra_params: further query parameters for every request, sent verbatim.

        Returns:
            Every distinct id in input order, mapped to its event, or ``None`` when the API
            says 404.

        Raises:
            ConfigurationError: a bad id (or a bare string instead of a list), nothing sent.
            TicketmasterError: a request failed (the others still went out and were cached).
        """
        found, _ = await self._get_events(ids, refresh=refresh, extra_params=extra_params)
        return found

    async def _get_events(
        self,
        ids: Iterable[str],
        *,
        refresh: bool,
        extra_params: Mapping[str, str] | None,
    ) -> tuple[dict[str, Event | None], int]:
        """:meth:`get_events` and how many requests it could not answer from the cache."""
        wanted = check_event_ids(ids)
        detail = DETAIL["event"]
        detail_params = detail.query("get_events", {"extra_params": extra_params})
        EVENTS.query("get_events", {"extra_params": extra_params})  # checked before any request
        found: dict[str, Event | None] = {}
        if not refresh:
            for event_id in wanted:
                answer = await self._pipeline.cached(detail.url(event_id), detail_params)
                if answer is not None:
                    found[event_id] = self._cached_event(answer)
                    if found[event_id] is None and answer.status != 404:
                        del found[event_id]  # unreadable: ask again
        missing = [event_id for event_id in wanted if event_id not in found]
        requests = 0
        if missing and not await self._flag(IDS_SEARCH_REFUSED):
            for start in range(0, len(missing), MAX_IDS_PER_SEARCH):
                chunk = missing[start : start + MAX_IDS_PER_SEARCH]
                search: dict[str, Any] = {
                    "ids": chunk,
                    "size": MAX_IDS_PER_SEARCH,
                    "include_tba": True,
                    "include_tbd": True,
                    "include_test": True,
                    "refresh": refresh,
                    "extra_params": extra_params,
                }
                try:
                    page = await self._search_page(Event, EVENTS, search, method="get_events")
                except BadRequestError as exc:
                    await self._remember_flag(IDS_SEARCH_REFUSED, exc)
                    break
                requests += 1
                asked = set(chunk)
                found.update((event.id, event) for event in page.items if event.id in asked)
        rest = [event_id for event_id in wanted if event_id not in found]
        results = await asyncio.gather(
            *(
                self.get_event_details(event_id, refresh=refresh, extra_params=extra_params)
                for event_id in rest
            ),
            return_exceptions=True,
        )
        requests += len(rest)
        for event_id, result in zip(rest, results, strict=True):
            if isinstance(result, BaseException):
                raise result
            found[event_id] = result
        return {event_id: found[event_id] for event_id in wanted}, requests

    def _seen_one(self, found: TMModel, answer: Answer) -> None:
        if isinstance(found, Event):
            self._pipeline.record_history([(found.id, answer.fetched_at, price_payload(found))])

    def _seen_page(
        self,
        endpoint: Endpoint,
        values: Mapping[str, Any],
        params: Mapping[str, str],
        page: Page[Any],
        answer: Answer,
    ) -> None:
        """A search page of events from the network: each event's details are cached (under
        the key ``get_event_details`` reads, in the page's locale) and its price point kept."""
        if endpoint is not EVENTS:
            return
        events = [item for item in page.items if isinstance(item, Event)]
        self._pipeline.record_history(
            [(event.id, answer.fetched_at, price_payload(event)) for event in events]
        )
        if values.get("extra_params"):
            return  # the details of an unmodelled query may differ from the plain ones
        detail = DETAIL["event"]
        detail_params = {"locale": params["locale"]} if "locale" in params else {}
        self._pipeline.warm(
            [
                (detail.url(event.id), detail_params, _raw_bytes(event), _event_tags(event.id))
                for event in events
            ],
            stored_at=answer.fetched_at,
        )

    def _cached_event(self, answer: Answer) -> Event | None:
        if answer.status == 404:
            return None
        try:
            return self._parse_one(Event, answer)
        except ResponseValidationError:
            return None

    async def search_events_page(
        self,
        query: str | None = None,
        city: str | Sequence[str] | None = None,
        **filters: Unpack[EventFilters],
    ) -> Page[Event]:
        """One page of an event search, with ``number``, ``size``, ``total_elements``,
        ``total_pages`` and ``items``.

        Args:
            query: the API's ``keyword``.
            city: one city or several.
            **filters: keyword-only filters (:class:`EventFilters`; the full table is in the
                docs' parameter reference), ``refresh`` and ``extra_params``.

        Raises:
            TypeError: an unknown filter.
            ConfigurationError: a bad filter value (``size`` > 200, a page past the deep-paging
                cap, a naive datetime, ``radius`` without ``near``...), before any request.
        """
        values: dict[str, Any] = {"query": query, "city": city, **filters}
        return await self._search_page(Event, EVENTS, values, method="search_events_page")

    async def search_events(
        self,
        query: str | None = None,
        city: str | Sequence[str] | None = None,
        **filters: Unpack[EventFilters],
    ) -> list[Event]:
        """The events of one search page (see :meth:`search_events_page`)."""
        values: dict[str, Any] = {"query": query, "city": city, **filters}
        page = await self._search_page(Event, EVENTS, values, method="search_events")
        return page.items

    async def iter_events(
        self,
        query: str | None = None,
        city: str | Sequence[str] | None = None,
        *,
        limit: int | None = None,
        exhaustive: bool = False,
        **filters: Unpack[EventFilters],
    ) -> AsyncIterator[Event]:
        """Every event of a search, following pages. Without ``size``, pages are as large as
        the API allows (fewest requests). Each page goes through cache and limiter.

        The API serves no result past the 1000th of a query (``size * page < 1000``). By default
        iteration stops there, and one WARNING says how many matches it left out. With
        ``exhaustive=True`` it returns every match: sorted by date, the ``start``/``end`` window
        (default: now to two years ahead; or around ``local_start``/``local_end``) is split into
        windows that each fit under the cap; no event is yielded twice. Events whose date is
        to be announced have no place in a date window (the API leaves them out when a date is
        sent).

        Args:
            query: the API's ``keyword``.
            city: one city or several.
            limit: stop after this many events.
            exhaustive: read past the deep-paging cap (sorted by date; ``page`` not allowed).
            **filters: as :meth:`search_events_page`.

        Raises:
            TypeError / ConfigurationError: as :meth:`search_events_page`, before any request.
        """
        values: dict[str, Any] = {"query": query, "city": city, **filters}
        if not exhaustive:
            async for event in self._iterate(
                Event, EVENTS, values, method="iter_events", limit=limit, hint=_EXHAUSTIVE_HINT
            ):
                yield event
            return
        check_limit(limit)
        check_exhaustive(values)
        EVENTS.query("iter_events", values)  # every check before the first request

        async def page_of(window: dict[str, Any]) -> Page[Event]:
            return await self._search_page(Event, EVENTS, window, method="iter_events")

        now = datetime.fromtimestamp(self._clock(), tz=timezone.utc)
        async for event in exhaustive_events(page_of, values, limit=limit, now=now):
            yield event
