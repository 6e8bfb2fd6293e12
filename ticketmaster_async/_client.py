"""TicketmasterClient: the public async client."""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from pydantic import ValidationError

from . import pricing
from ._cache import event_tag
from ._config import Settings
from ._constants import (
    DEEP_PAGING_CAP,
    LOGGER_NAME,
    MAX_PAGE_SIZE,
    OPTIONAL_SOURCE_REFUSAL_TTL,
    SANDBOX_API_KEY,
    SANDBOX_BASE_URL,
)
from ._exceptions import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ResponseValidationError,
    TicketmasterError,
)
from ._http import HTTPSender, RawResponse, error_from_response
from ._params import VENUE_SORTS, check_id, check_page, search_params
from ._pipeline import Answer, Pipeline, utc_day
from ._redact import Redactor
from ._store.base import Store
from .models import (
    Attraction,
    Classification,
    Event,
    Page,
    TicketPrice,
    UsageStats,
    Venue,
)
from .models._base import TMModel

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Unpack

if TYPE_CHECKING:
    import httpx

__all__ = ["EventFilters", "TicketmasterClient"]

logger = logging.getLogger(LOGGER_NAME)

DISCOVERY = "/discovery/v2"
_BODY_START = 200
M = TypeVar("M", bound=TMModel)


class EventFilters(TypedDict, total=False):
    """Keyword-only filters of the event searches (snake_case; sent as the API's camelCase)."""

    country_code: str
    state_code: str
    postal_code: str
    start: datetime
    end: datetime
    classification_name: str
    venue_id: str
    attraction_id: str
    sort: str
    size: int
    page: int
    locale: str
    source: str
    refresh: bool


_EVENT_FILTERS = frozenset(EventFilters.__annotations__)


def _check_filters(method: str, filters: Mapping[str, Any]) -> None:
    unknown = sorted(set(filters) - _EVENT_FILTERS)
    if unknown:
        raise TypeError(f"{method}() got unexpected keyword argument(s): {', '.join(unknown)}")


def _decode(answer: Answer) -> Any:
    try:
        return json.loads(answer.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResponseValidationError(
            f"the API answered HTTP {answer.status} with a body that is not JSON",
            status_code=answer.status,
            body_start=answer.body[:_BODY_START].decode("utf-8", "replace"),
        ) from exc


def _shape_error(answer: Answer, what: str) -> ResponseValidationError:
    return ResponseValidationError(
        f"the API answered HTTP {answer.status} with JSON that is not {what}",
        status_code=answer.status,
        body_start=answer.body[:_BODY_START].decode("utf-8", "replace"),
    )


def _as_int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class TicketmasterClient:
    """Async client of the Ticketmaster Discovery API v2 and its ticket prices.

    Every request goes through the response cache, single flight, the circuit breaker, retries,
    the daily quota and the per-second limiter. Use as ``async with TicketmasterClient() as tm``
    or call :meth:`aclose`.

    Args:
        settings: configuration; ``None`` reads ``Settings()`` from ``TICKETMASTER_*`` env vars.
        transport: an ``httpx.AsyncBaseTransport`` to send through (the test seam: respx,
            ``httpx.ASGITransport``, ``ticketmaster_async.testing``).

    Raises:
        ConfigurationError: invalid settings (e.g. no API key outside ``sandbox``).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        _clock: Any = None,
        _monotonic: Any = None,
        _sleep: Any = None,
        _store: Store | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        sandbox = self.settings.environment == "sandbox"
        api_key = (
            self.settings.api_key.get_secret_value()
            if self.settings.api_key is not None
            else SANDBOX_API_KEY
        )
        self._redactor = Redactor(api_key)
        base_url = self.settings.base_url
        if sandbox:
            if transport is None:
                from .testing import FakeDiscoveryAPI

                transport = FakeDiscoveryAPI().transport()
            if "base_url" not in self.settings.model_fields_set:
                base_url = SANDBOX_BASE_URL
        self._store = _store if _store is not None else self._make_store(sandbox)
        self._sender = HTTPSender(
            base_url=base_url,
            api_key=api_key,
            timeout=self.settings.timeout,
            redactor=self._redactor,
            transport=transport,
        )
        extra: dict[str, Any] = {}
        if _clock is not None:
            extra["clock"] = _clock
        if _monotonic is not None:
            extra["monotonic"] = _monotonic
        if _sleep is not None:
            extra["sleep"] = _sleep
        self._pipeline = Pipeline(
            settings=self.settings,
            store=self._store,
            sender=self._sender,
            redactor=self._redactor,
            **extra,
        )
        self._clock = _clock if _clock is not None else time.time
        self._closed = False

    def _make_store(self, sandbox: bool) -> Store:
        settings = self.settings
        if settings.redis_url is not None:
            from ._store.redis import make_redis_store

            store: Store = make_redis_store(settings)
            return store
        in_memory = settings.db_path == ":memory:" or (
            sandbox and "db_path" not in settings.model_fields_set
        )
        if in_memory:
            from ._store.memory import MemoryStore

            return MemoryStore(max_entries=settings.cache_max_entries)
        from ._constants import FALLBACK_CACHE_MAX_ENTRIES
        from ._store.fallback import FallbackStore
        from ._store.memory import MemoryStore
        from ._store.sqlite import SQLiteStore

        # A file that cannot be opened (bad path, disk I/O error) must not turn answers into
        # errors: one WARNING, then in-process limits and cache until the file works again.
        return FallbackStore(
            SQLiteStore(settings.db_path, max_entries=settings.cache_max_entries),
            fallback=MemoryStore(
                max_entries=min(settings.cache_max_entries, FALLBACK_CACHE_MAX_ENTRIES)
            ),
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<TicketmasterClient environment={self.settings.environment!r} "
            f"store={self._store.kind!r} {state}>"
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> TicketmasterClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish background writes and release the HTTP pool and the store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._pipeline.aclose()
        finally:
            try:
                await self._store.aclose()
            finally:
                await self._sender.aclose()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            warnings.warn(
                f"unclosed {self!r}: use 'async with' or 'await client.aclose()'",
                ResourceWarning,
                stacklevel=2,
            )

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this TicketmasterClient is closed")

    # -- plumbing ----------------------------------------------------------------------------

    async def _get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        tags: Sequence[str] = (),
        refresh: bool = False,
        retry: bool = True,
    ) -> Answer:
        self._check_open()
        return await self._pipeline.get(path, params or {}, tags=tags, refresh=refresh, retry=retry)

    def _raise_for(self, answer: Answer, path: str) -> None:
        if answer.status == 404:
            raise error_from_response(
                RawResponse(answer.status, {}, answer.body, 0.0),
                redactor=self._redactor,
                now=datetime.now(timezone.utc),
                path=path,
            )

    async def _get_one(
        self, model: type[M], path: str, *, tags: Sequence[str] = (), refresh: bool
    ) -> M | None:
        answer = await self._get(path, tags=tags, refresh=refresh)
        if answer.status == 404:
            return None
        data = _decode(answer)
        if not isinstance(data, dict):
            raise _shape_error(answer, f"a {model.__name__} object")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise _shape_error(answer, f"a valid {model.__name__}") from exc

    async def _get_page(
        self, model: type[M], path: str, embedded: str, params: Mapping[str, str], *, refresh: bool
    ) -> Page[M]:
        answer = await self._get(path, params, refresh=refresh)
        self._raise_for(answer, path)
        data = _decode(answer)
        if not isinstance(data, dict):
            raise _shape_error(answer, "a search page")
        raw_items = data.get("_embedded", {})
        raw_items = raw_items.get(embedded) if isinstance(raw_items, dict) else None
        items: list[M] = []
        for raw in raw_items if isinstance(raw_items, list) else []:
            try:
                items.append(model.model_validate(raw))
            except ValidationError as exc:
                item_id = raw.get("id") if isinstance(raw, dict) else None
                logger.warning(
                    "skipped a malformed %s (id %r) in a search page: %s",
                    model.__name__,
                    item_id,
                    "; ".join(e["msg"] for e in exc.errors(include_url=False, include_input=False)),
                )
        raw_page = data.get("page")
        page: dict[str, Any] = raw_page if isinstance(raw_page, dict) else {}
        size = _as_int(page.get("size"), int(params.get("size", len(items)) or 0))
        total = _as_int(page.get("totalElements"), len(items))
        return Page[M](
            number=_as_int(page.get("number"), int(params.get("page", 0))),
            size=size,
            total_elements=total,
            total_pages=_as_int(page.get("totalPages"), 1 if items else 0),
            items=items,
        )

    # -- events ------------------------------------------------------------------------------

    async def get_event_details(self, event_id: str, *, refresh: bool = False) -> Event | None:
        """One event by id, or ``None`` when the API says 404.

        Raises:
            ConfigurationError: the id is not a Ticketmaster id (nothing sent).
            TicketmasterError: any other failure (see the error tree).
        """
        event_id = check_id(event_id, what="event id")
        return await self._get_one(
            Event,
            f"{DISCOVERY}/events/{event_id}.json",
            tags=(event_tag(event_id),),
            refresh=refresh,
        )

    async def search_events_page(
        self,
        query: str | None = None,
        city: str | None = None,
        **filters: Unpack[EventFilters],
    ) -> Page[Event]:
        """One page of an event search, with ``number``, ``size``, ``total_elements``,
        ``total_pages`` and ``items``.

        ``query`` is the API's ``keyword``; filters are keyword-only (see :class:`EventFilters`).

        Raises:
            TypeError: an unknown filter.
            ConfigurationError: a bad filter value (``size`` > 200, a page past the deep-paging
                cap, a naive datetime...), before any request.
        """
        _check_filters("search_events_page", filters)
        options: dict[str, Any] = dict(filters)
        refresh = bool(options.pop("refresh", False))
        params = search_params(query=query, city=city, **options)
        return await self._get_page(
            Event, f"{DISCOVERY}/events.json", "events", params, refresh=refresh
        )

    async def search_events(
        self,
        query: str | None = None,
        city: str | None = None,
        **filters: Unpack[EventFilters],
    ) -> list[Event]:
        """The events of one search page (see :meth:`search_events_page`)."""
        _check_filters("search_events", filters)
        page = await self.search_events_page(query, city, **filters)
        return page.items

    async def iter_events(
        self,
        query: str | None = None,
        city: str | None = None,
        *,
        limit: int | None = None,
        **filters: Unpack[EventFilters],
    ) -> AsyncIterator[Event]:
        """Every event of a search, following pages, never past the deep-paging cap
        (``size * page < 1000``). Without ``size``, pages are as large as the API allows
        (fewest requests). Each page goes through cache and limiter.

        Raises:
            TypeError / ConfigurationError: as :meth:`search_events_page`, before any request.
        """
        _check_filters("iter_events", filters)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ConfigurationError(f"limit must be an integer, got {limit!r}")
        if limit is not None and limit < 0:
            raise ConfigurationError(f"limit must be >= 0, got {limit}")
        if "size" not in filters:
            filters["size"] = min(MAX_PAGE_SIZE, limit) if limit else MAX_PAGE_SIZE
        size, page_number = check_page(filters.get("size"), filters.get("page"))
        checked: dict[str, Any] = {k: v for k, v in filters.items() if k != "refresh"}
        search_params(query=query, city=city, **checked)  # fail before the first request
        yielded = 0
        while limit is None or yielded < limit:
            if size * page_number >= DEEP_PAGING_CAP:
                return
            filters["page"] = page_number
            page = await self.search_events_page(query, city, **filters)
            for event in page.items:
                yield event
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            if not page.items or page.number + 1 >= page.total_pages:
                return
            page_number += 1

    # -- venues, attractions, classifications -----------------------------------------------

    async def get_venue(self, venue_id: str, *, refresh: bool = False) -> Venue | None:
        """One venue by id, or ``None`` on 404."""
        venue_id = check_id(venue_id, what="venue id")
        return await self._get_one(Venue, f"{DISCOVERY}/venues/{venue_id}.json", refresh=refresh)

    async def get_attraction(
        self, attraction_id: str, *, refresh: bool = False
    ) -> Attraction | None:
        """One attraction by id, or ``None`` on 404."""
        attraction_id = check_id(attraction_id, what="attraction id")
        return await self._get_one(
            Attraction, f"{DISCOVERY}/attractions/{attraction_id}.json", refresh=refresh
        )

    async def get_classification(
        self, classification_id: str, *, refresh: bool = False
    ) -> Classification | None:
        """One classification (segment, genre...) by id, or ``None`` on 404."""
        classification_id = check_id(classification_id, what="classification id")
        return await self._get_one(
            Classification,
            f"{DISCOVERY}/classifications/{classification_id}.json",
            refresh=refresh,
        )

    async def search_venues(
        self,
        query: str | None = None,
        *,
        country_code: str | None = None,
        state_code: str | None = None,
        sort: str | None = None,
        size: int | None = None,
        page: int | None = None,
        locale: str | None = None,
        source: str | None = None,
        refresh: bool = False,
    ) -> list[Venue]:
        """One page of a venue search (``query`` is the API's ``keyword``)."""
        params = search_params(
            query=query,
            country_code=country_code,
            state_code=state_code,
            sort=sort,
            size=size,
            page=page,
            locale=locale,
            source=source,
            sorts=VENUE_SORTS,
        )
        result = await self._get_page(
            Venue, f"{DISCOVERY}/venues.json", "venues", params, refresh=refresh
        )
        return result.items

    async def search_attractions(
        self,
        query: str | None = None,
        *,
        classification_name: str | None = None,
        sort: str | None = None,
        size: int | None = None,
        page: int | None = None,
        locale: str | None = None,
        source: str | None = None,
        refresh: bool = False,
    ) -> list[Attraction]:
        """One page of an attraction search (``query`` is the API's ``keyword``)."""
        params = search_params(
            query=query,
            classification_name=classification_name,
            sort=sort,
            size=size,
            page=page,
            locale=locale,
            source=source,
        )
        result = await self._get_page(
            Attraction, f"{DISCOVERY}/attractions.json", "attractions", params, refresh=refresh
        )
        return result.items

    # -- prices ------------------------------------------------------------------------------

    async def get_ticket_prices(self, event_id: str, *, refresh: bool = False) -> list[TicketPrice]:
        """Every price the key can see for an event: Commerce offers (sections, ticket types,
        face value and fees; ``Settings.offers``), Top Picks (seat-level, primary vs resale;
        ``Settings.top_picks``) and the event's ``priceRanges``. An optional source that refuses
        the key (401/403/404) is remembered for a day and never fails the call.

        Returns:
            The merged prices; ``[]`` when the API has no price information.

        Raises:
            NotFoundError: the event does not exist.
        """
        event_id = check_id(event_id, what="event id")
        event = await self.get_event_details(event_id, refresh=refresh)
        if event is None:
            raise NotFoundError(
                f"event {event_id} not found", status_code=404, error_code="DIS1004"
            )
        tags = (event_tag(event_id),)
        offers: list[TicketPrice] = []
        top_picks: list[TicketPrice] = []
        if self.settings.offers:
            body = await self._optional_source(
                "offers", f"/commerce/v2/events/{event_id}/offers.json", tags, refresh
            )
            if body is not None:
                offers = pricing.prices_from_offers(body)
        if self.settings.top_picks:
            body = await self._optional_source(
                "top_picks", f"/top-picks/v1/events/{event_id}", tags, refresh
            )
            if body is not None:
                top_picks = pricing.prices_from_top_picks(body)
        return pricing.merge_prices(
            offers, top_picks, pricing.prices_from_price_ranges(event.price_ranges)
        )

    async def _optional_source(
        self, name: str, path: str, tags: Sequence[str], refresh: bool
    ) -> Any:
        flag = f"refused:{name}"
        now = self._clock()
        try:
            if await self._store.flag_get(flag, now=now) is not None:
                return None
        except Exception as exc:
            logger.warning("could not read the %s refusal flag: %s", name, exc)
        try:
            answer = await self._get(path, tags=tags, refresh=refresh, retry=False)
        except (AuthenticationError, PermissionDeniedError) as exc:
            await self._refuse(flag, name, exc.status_code, now)
            return None
        except TicketmasterError as exc:
            logger.warning("%s prices unavailable for now: %s", name, exc)
            return None
        if answer.status == 404:
            await self._refuse(flag, name, 404, now)
            return None
        try:
            return _decode(answer)
        except ResponseValidationError as exc:
            logger.warning("%s prices unreadable: %s", name, exc)
            return None

    async def _refuse(self, flag: str, name: str, status: int, now: float) -> None:
        logger.info(
            "%s refused this key (HTTP %d); not asking again for %.0f h",
            name,
            status,
            OPTIONAL_SOURCE_REFUSAL_TTL / 3600,
        )
        try:
            await self._store.flag_set(flag, until=now + OPTIONAL_SOURCE_REFUSAL_TTL)
        except Exception as exc:
            logger.warning("could not remember the %s refusal: %s", name, exc)

    # -- cache control and usage -------------------------------------------------------------

    async def invalidate_event(self, event_id: str) -> int:
        """Drop everything cached for one event (details and prices). Returns how many."""
        self._check_open()
        event_id = check_id(event_id, what="event id")
        await self._pipeline.drain()
        self._pipeline.forget_pending()
        return await self._store.cache_invalidate_tag(event_tag(event_id))

    async def clear_cache(self) -> int:
        """Drop every cached response (never quota or usage). Returns how many."""
        self._check_open()
        await self._pipeline.drain()
        self._pipeline.forget_pending()
        return await self._store.cache_clear()

    async def usage(self) -> UsageStats:
        """Today's usage across every process sharing the store, with this process's latency
        percentiles and breaker state. ``error_rate`` is failed calls over all calls."""
        self._check_open()
        try:
            await self._pipeline.flush()
        except Exception as exc:
            logger.warning("usage flush failed: %s", exc)
        now = self._clock()
        totals = await self._store.usage_get(utc_day(now))
        quota = await self._store.quota_state(now=now, daily_limit=self.settings.daily_limit)
        errors = {
            name.removeprefix("error."): count
            for name, count in sorted(totals.items())
            if name.startswith("error.")
        }
        hits = totals.get("cache_hits", 0)
        misses = totals.get("cache_misses", 0)
        calls = hits + misses
        return UsageStats(
            requests_today=totals.get("requests", 0),
            daily_limit=self.settings.daily_limit,
            quota_remaining=quota.remaining,
            quota_resets_at=(
                datetime.fromtimestamp(quota.reset_at, tz=timezone.utc) if quota.reset_at else None
            ),
            cache_hits=hits,
            cache_misses=misses,
            cache_hit_rate=hits / calls if calls else 0.0,
            stale_served=totals.get("stale_served", 0),
            coalesced=totals.get("coalesced", 0),
            errors=errors,
            error_rate=sum(errors.values()) / calls if calls else 0.0,
            latency_ms=self._pipeline.metrics.latency_summary(),
            breaker_state=self._pipeline.breaker_state().value,
        )
