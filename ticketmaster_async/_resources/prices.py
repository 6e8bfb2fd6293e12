"""Ticket prices: Commerce offers, Top Picks and ``priceRanges``, merged."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .. import pricing
from .._cache import event_tag
from .._constants import LOGGER_NAME, OPTIONAL_SOURCE_REFUSAL_TTL
from .._exceptions import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ResponseValidationError,
    TicketmasterError,
)
from .._json import loads as json_loads
from .._params import check_id
from ..models import TicketPrice
from ..models._base import mark_fresh
from .events import EventsResource

__all__ = ["PricesResource"]

logger = logging.getLogger(LOGGER_NAME)


def _about_this_event(body: bytes) -> bool:
    """Whether a 404 says this event is unknown to the source (the API's ``errors`` envelope,
    e.g. Commerce's "event not found", which arrives as a 500 the pipeline reads as a 404) —
    rather than the gateway refusing the source to this key (a ``fault``): only the latter is
    remembered for a day, for every event."""
    try:
        data = json_loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("errors"), list)


class PricesResource(EventsResource):
    """``get_ticket_prices`` (built on the event's details)."""

    async def get_ticket_prices(
        self,
        event_id: str,
        *,
        refresh: bool = False,
        extra_params: Mapping[str, str] | None = None,
    ) -> list[TicketPrice]:
        """Every price the key can see for an event: Commerce offers (sections, ticket types,
        face value and fees; ``Settings.offers``), Top Picks (seat-level, primary vs resale;
        ``Settings.top_picks``) and the event's ``priceRanges``. An optional source that refuses
        the key (401/403/404) is remembered for a day and never fails the call.

        Args:
            event_id: the event's id.
            refresh: skip the cache reads; fresh answers are still stored.
            extra_params: further query parameters for the event's details request.

        Returns:
            The merged prices; ``[]`` when the API has no price information.

        Raises:
            ConfigurationError: a bad id (nothing sent).
            NotFoundError: the event does not exist.
        """
        event_id = check_id(event_id, what="event id")
        event = await self.get_event_details(event_id, refresh=refresh, extra_params=extra_params)
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
        prices = pricing.merge_prices(
            offers, top_picks, pricing.prices_from_price_ranges(event.price_ranges)
        )
        if event.fetched_at is not None:  # the prices are as fresh as the event they belong to
            for price in prices:
                mark_fresh(price, fetched_at=event.fetched_at, stale=event.stale)
        return prices

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
            if not _about_this_event(answer.body):
                await self._refuse(flag, name, 404, now)
            return None
        try:
            return self._decode(answer)
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
