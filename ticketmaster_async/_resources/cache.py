"""Cache control and usage statistics."""

from __future__ import annotations

import logging

from .._cache import event_tag
from .._constants import LOGGER_NAME
from .._params import check_id
from .._pipeline import utc_day
from .._timeutil import utc_from_epoch
from ..models import UsageStats
from ._base import Resource

__all__ = ["CacheResource"]

logger = logging.getLogger(LOGGER_NAME)


class CacheResource(Resource):
    """``invalidate_event``, ``clear_cache``, ``usage``."""

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
            quota_resets_at=utc_from_epoch(quota.reset_at),
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
