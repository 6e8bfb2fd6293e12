"""The request pipeline every API call goes through.

cache read ─► single flight ─► breaker ─► retries (quota + per-second slot ─► send) ─► cache
write (off the caller's path) ─► metrics. Stale answers are served when the API is unavailable.

Single flight shares one fetch task among the callers of one cache key, each awaiting it through
``asyncio.shield``. The flight counts its callers: when the last one is gone (cancelled, timed
out) before the request was handed to the sender, the fetch is cancelled, so its reserved slot
and quota unit go back and nobody queues behind a request nobody waits for. Once the request is
on the wire it is let finish and its answer cached; a retry it would need is not started.

A request that never reached the API (``APIConnectionError.request_sent`` false: refused, DNS,
connect timeout) gives its quota unit back. Requests are counted by the store when admitted
(``requests_today`` is exactly what was admitted, in every process), not by this process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from ._breaker import BreakerState, CircuitBreaker
from ._cache import cache_key
from ._commerce import is_commerce_event_not_found
from ._config import Settings
from ._constants import (
    CACHE_HIT_YIELD_EVERY,
    LOGGER_NAME,
    NEGATIVE_CACHE_TTL,
    PRICE_HISTORY_MAX_POINTS,
)
from ._exceptions import (
    APIConnectionError,
    CircuitOpenError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TicketmasterError,
)
from ._http import HTTPSender, RawResponse, error_from_response, parse_rate_limit_headers
from ._limiter import RateLimiter
from ._metrics import (
    CACHE_HITS,
    CACHE_MISSES,
    COALESCED,
    STALE_SERVED,
    Metrics,
)
from ._redact import Redactor
from ._retry import RetryPolicy
from ._store._time import utc_day, utc_from_epoch
from ._store.base import Admission, CacheEntry, Store

__all__ = ["Answer", "Pipeline", "utc_day"]

logger = logging.getLogger(LOGGER_NAME)

#: Seconds between flushes of this process's counters to the shared store.
USAGE_FLUSH_INTERVAL = 1.0
_DEBUG_BODY_BYTES = 500
DISCOVERY_FAMILY = "discovery"
#: Errors that mean "the API is unavailable": a stale answer may stand in for them.
_UNAVAILABLE = (APIConnectionError, ServerError, CircuitOpenError, RateLimitError)


@dataclass(frozen=True)
class Answer:
    """An answer to hand to the parser: from the cache, the network, or a stale cache entry."""

    status: int
    body: bytes
    source: Literal["cache", "network", "stale"]
    #: When the API produced it (epoch seconds): when it was stored, for a cached answer.
    fetched_at: float = 0.0


@dataclass(eq=False)
class _Flight:
    """One upstream fetch shared by the callers of one cache key (single flight)."""

    waiters: int = 0
    #: A request of this fetch is with the sender (on the wire): it is let finish.
    sending: bool = False
    task: asyncio.Task[Answer] = dataclasses.field(init=False)


class Pipeline:
    """Sends GETs through cache, single flight, breaker, retries, quota and limiter."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        sender: HTTPSender,
        redactor: Redactor,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._sender = sender
        self._redactor = redactor
        self._clock = clock
        self.limiter = RateLimiter(
            store,
            requests_per_second=settings.requests_per_second,
            daily_limit=settings.daily_limit,
            clock=clock,
            sleep=sleep,
        )
        self._monotonic = monotonic
        # One breaker per API family: a failing optional Commerce endpoint must not cut off
        # Discovery.
        self._breakers: dict[str, CircuitBreaker] = {}
        self.retry = RetryPolicy(
            max_retries=settings.max_retries,
            max_wait=settings.retry_max_wait,
            sleep=sleep,
            rng=rng,
        )
        self._single_attempt = RetryPolicy(
            max_retries=0, max_wait=settings.retry_max_wait, sleep=sleep, rng=rng
        )
        self.metrics = Metrics()
        self._inflight: dict[str, _Flight] = {}
        self._pending: dict[str, CacheEntry] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._last_flush = clock()
        self._flushing = False
        self._server_reset: float | None = None
        self._hits_since_yield = 0

    def breaker_for(self, path: str) -> CircuitBreaker:
        """The breaker of the API family of ``path`` (``discovery``, ``commerce``...)."""
        family = path.strip("/").split("/", 1)[0]
        breaker = self._breakers.get(family)
        if breaker is None:
            breaker = self._breakers[family] = CircuitBreaker(
                threshold=self.settings.breaker_threshold,
                reset_after=self.settings.breaker_reset,
                clock=self._monotonic,
                wall_clock=self._clock,
            )
        return breaker

    def breaker_state(self) -> BreakerState:
        """The Discovery API breaker's state."""
        return self.breaker_for(DISCOVERY_FAMILY).state

    # -- public entry ----------------------------------------------------------------------

    async def get(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        tags: Sequence[str] = (),
        refresh: bool = False,
        retry: bool = True,
    ) -> Answer:
        """The answer for ``GET path?params`` (status 2xx or 404); raises the typed error.

        ``retry=False``: one attempt only (optional sources are not worth the quota)."""
        key = cache_key(path, params)
        entry: CacheEntry | None = None
        if not refresh:
            entry = await self._cache_get(key)
            if entry is not None and entry.is_fresh(self._clock()):
                self.metrics.count(CACHE_HITS)
                self._maybe_flush()
                await self._share_the_loop()
                return Answer(entry.status, entry.body, "cache", entry.stored_at)
        self.metrics.count(CACHE_MISSES)
        flight = self._inflight.get(key)
        if flight is not None:
            self.metrics.count(COALESCED)
        else:
            flight = _Flight()
            flight.task = asyncio.ensure_future(
                self._fetch(key, path, params, tags, entry, retry, flight)
            )
            self._inflight[key] = flight
            flight.task.add_done_callback(self._flight_done(key, flight))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        except TicketmasterError as exc:
            self.metrics.error(type(exc).__name__)
            raise
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                self._abandon(key, flight)
            self._maybe_flush()

    def _abandon(self, key: str, flight: _Flight) -> None:
        """Every caller of ``flight`` is gone: unless its request is on the wire, cancel it (the
        limiter gives its slot and quota unit back) and let the next caller start afresh."""
        if flight.sending:
            return  # the answer is on its way: it will be cached
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        flight.task.cancel()

    async def _share_the_loop(self) -> None:
        """A cache hit need not suspend its caller (an in-process read, or a SQLite read on the
        loop thread). So that a caller looping over hits cannot keep every other task of the
        event loop waiting, every ``CACHE_HIT_YIELD_EVERY``-th hit yields to the loop once."""
        self._hits_since_yield += 1
        if self._hits_since_yield >= CACHE_HIT_YIELD_EVERY:
            self._hits_since_yield = 0
            await asyncio.sleep(0)

    def _flight_done(self, key: str, flight: _Flight) -> Callable[[asyncio.Task[Answer]], None]:
        def done(task: asyncio.Task[Answer]) -> None:
            if self._inflight.get(key) is flight:
                del self._inflight[key]
            if not task.cancelled():
                task.exception()  # mark retrieved even if every waiter went away

        return done

    # -- upstream --------------------------------------------------------------------------

    async def _fetch(
        self,
        key: str,
        path: str,
        params: Mapping[str, str],
        tags: Sequence[str],
        entry: CacheEntry | None,
        retry: bool,
        flight: _Flight,
    ) -> Answer:
        policy = self.retry if retry else self._single_attempt
        breaker = self.breaker_for(path)
        try:
            raw = await policy.call(
                lambda attempt: self._attempt(breaker, path, params, attempt, flight)
            )
        except _UNAVAILABLE as exc:
            # With refresh=True no entry was read: a fresh answer was asked for, never a stale one.
            now = self._clock()
            if (
                entry is not None
                and 200 <= entry.status < 300
                and entry.age(now) <= self.settings.max_stale
            ):
                self.metrics.count(STALE_SERVED)
                logger.warning(
                    "serving a stale answer (%.0f s old) for GET %s: %s",
                    entry.age(now),
                    path,
                    type(exc).__name__,
                )
                return Answer(entry.status, entry.body, "stale", entry.stored_at)
            logger.error("GET %s failed: %s", path, exc)
            raise
        except TicketmasterError as exc:
            logger.error("GET %s failed: %s", path, exc)
            raise
        stored_at = self._cache_put(key, raw, tags)
        return Answer(raw.status, raw.body, "network", stored_at)

    async def _attempt(
        self,
        breaker: CircuitBreaker,
        path: str,
        params: Mapping[str, str],
        attempt: int,
        flight: _Flight,
    ) -> RawResponse:
        if flight.waiters == 0:
            # Every caller left while the previous attempt was on the wire: no retry for nobody.
            raise asyncio.CancelledError
        breaker.before_call()
        try:
            admission = await self.limiter.acquire()
        except BaseException:
            breaker.release_probe()
            raise
        if not admission.admitted:
            breaker.release_probe()
            raise self._budget_spent(admission)
        flight.sending = True
        try:
            raw = await self._sender.get(path, params)
        except APIConnectionError as exc:
            breaker.record_failure()
            if not getattr(exc, "request_sent", True):
                # Nothing reached the API: the quota unit and the day's request count go back.
                await self.limiter.give_back(admission)
            self._log_request(path, params, None, None, attempt, admission.quota_remaining, exc)
            raise
        except BaseException:
            breaker.release_probe()
            raise
        finally:
            flight.sending = False
        self.metrics.latency(raw.elapsed_ms)
        self._sync_quota(raw, admission.quota_remaining)
        self._log_request(
            path, params, raw.status, raw.elapsed_ms, attempt, admission.quota_remaining, None
        )
        if self.settings.debug:
            logger.debug(
                "GET %s body (%d bytes): %s",
                path,
                len(raw.body),
                self._redactor.excerpt(raw.body, _DEBUG_BODY_BYTES),
            )
        if is_commerce_event_not_found(path, raw.status, raw.body):
            # "Invalid Event - event not found." (500, code 40001): no offers for this event,
            # not a server failure. Answered, cached and handled as the 404 it means.
            raw = dataclasses.replace(raw, status=404)
        if 200 <= raw.status < 300 or raw.status == 404:
            breaker.record_success()
            return raw
        error = error_from_response(
            raw, redactor=self._redactor, now=datetime.now(timezone.utc), path=path
        )
        if isinstance(error, ServerError):
            breaker.record_failure()
        else:
            breaker.record_success()
        if isinstance(error, RateLimitError):
            logger.warning("rate limited on GET %s: %s", path, error.error_code or error)
        if isinstance(error, QuotaExceededError):
            reset = error.reset_at.timestamp() if error.reset_at else None
            try:
                # Shielded: the server's word must be kept even if every caller just left.
                await asyncio.shield(
                    self.store.quota_mark_spent(
                        now=self._clock(), daily_limit=self.settings.daily_limit, reset_at=reset
                    )
                )
            except Exception as store_exc:  # the store must never hide the API's answer
                logger.warning("could not record the spent quota: %s", store_exc)
        raise error

    def _budget_spent(self, admission: Admission) -> QuotaExceededError:
        """The error for an admission refused because the daily budget is spent. A stored reset
        that no date can hold reads as unknown (never a raw ``ValueError``)."""
        reset_at = utc_from_epoch(admission.reset_at) if admission.reset_at else None
        when = reset_at.isoformat(timespec="seconds") if reset_at is not None else "unknown"
        return QuotaExceededError(
            f"daily budget of {self.settings.daily_limit} requests is spent; it resets at "
            f"{when}; nothing was sent",
            retry_after=(
                max(0.0, admission.reset_at - self._clock())
                if reset_at is not None and admission.reset_at is not None
                else None
            ),
            reset_at=reset_at,
        )

    def _log_request(
        self,
        path: str,
        params: Mapping[str, str],
        status: int | None,
        elapsed_ms: float | None,
        attempt: int,
        quota_left: int,
        exc: BaseException | None,
    ) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        shown = self._redactor.text(
            "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k.lower() != "apikey")
        )
        logger.info(
            "GET %s%s%s status=%s elapsed_ms=%s attempt=%d cache=miss quota_left=%d%s",
            path,
            "?" if shown else "",
            shown,
            status if status is not None else "-",
            f"{elapsed_ms:.1f}" if elapsed_ms is not None else "-",
            attempt,
            quota_left,
            f" error={type(exc).__name__}" if exc is not None else "",
        )

    def _sync_quota(self, raw: RawResponse, local_remaining: int) -> None:
        limits = parse_rate_limit_headers(raw.headers, now=self._clock())
        lowers = limits.available is not None and limits.available < local_remaining
        moves_reset = limits.reset_at is not None and limits.reset_at != self._server_reset
        if not (lowers or moves_reset):
            return  # the server agrees with the store: no write on the request path
        self._server_reset = limits.reset_at if limits.reset_at is not None else self._server_reset
        self._spawn(
            self.store.quota_sync(
                now=self._clock(),
                daily_limit=self.settings.daily_limit,
                available=limits.available,
                reset_at=limits.reset_at,
            ),
            what="quota sync",
        )

    # -- cache (fails open) ----------------------------------------------------------------

    async def _cache_get(self, key: str) -> CacheEntry | None:
        pending = self._pending.get(key)
        if pending is not None:
            return pending
        try:
            entry = await self.store.cache_get(key)
        except Exception as exc:
            logger.warning("cache read failed, going on uncached: %s", exc)
            entry = None
        # An answer that arrived while the store was being read is newer than what it returned
        # (and its write may not have landed yet): without this second look, a caller whose
        # read straddled the end of a flight would start a second one.
        return self._pending.get(key, entry)

    def _cache_put(self, key: str, raw: RawResponse, tags: Sequence[str]) -> float:
        """Write the answer in the background; returns its time (``stored_at``)."""
        now = self._clock()
        if raw.status == 404:
            expires, keep = now + NEGATIVE_CACHE_TTL, 0.0
        else:
            expires, keep = now + self.settings.cache_ttl, self.settings.max_stale
        content_type = raw.headers.get("content-type")
        entry = CacheEntry(
            key=key,
            status=raw.status,
            body=raw.body,
            stored_at=now,
            expires_at=expires,
            headers={"content-type": content_type} if content_type else {},
        )
        self._pending[key] = entry
        self._spawn(self._cache_write(entry, tuple(tags), keep), what="cache write")
        return now

    async def _cache_write(self, entry: CacheEntry, tags: tuple[str, ...], keep: float) -> None:
        try:
            await self.store.cache_set(entry, tags=tags, keep=keep)
        finally:
            if self._pending.get(entry.key) is entry:
                del self._pending[entry.key]

    async def cached(self, path: str, params: Mapping[str, str]) -> Answer | None:
        """The fresh cached answer for ``GET path?params`` (a cache hit), or None: nothing is
        sent and a miss is not counted (the caller asks the API its own way)."""
        entry = await self._cache_get(cache_key(path, params))
        if entry is None or not entry.is_fresh(self._clock()):
            return None
        self.metrics.count(CACHE_HITS)
        await self._share_the_loop()
        return Answer(entry.status, entry.body, "cache", entry.stored_at)

    def warm(
        self,
        items: Sequence[tuple[str, Mapping[str, str], bytes, Sequence[str]]],
        *,
        stored_at: float,
    ) -> None:
        """Cache answers the API gave inside another answer (the events of a search page under
        their details keys): ``(path, params, body, tags)`` each, fresh from ``stored_at``,
        written in one batch in the background (readable at once by this process)."""
        if not items:
            return
        expires = stored_at + self.settings.cache_ttl
        batch = [
            (
                CacheEntry(
                    key=cache_key(path, params),
                    status=200,
                    body=body,
                    stored_at=stored_at,
                    expires_at=expires,
                    headers={"content-type": "application/json"},
                ),
                tuple(tags),
            )
            for path, params, body, tags in items
        ]
        for entry, _ in batch:
            self._pending[entry.key] = entry
        self._spawn(self._cache_write_many(batch), what="cache warm-up")

    async def _cache_write_many(self, batch: list[tuple[CacheEntry, tuple[str, ...]]]) -> None:
        try:
            await self.store.cache_set_many(batch, keep=self.settings.max_stale)
        finally:
            for entry, _ in batch:
                if self._pending.get(entry.key) is entry:
                    del self._pending[entry.key]

    def record_history(self, points: Sequence[tuple[str, float, str]]) -> None:
        """Append price-history points in the background (each only if it differs from its
        event's last point)."""
        if points:
            self._spawn(
                self.store.history_append(list(points), max_points=PRICE_HISTORY_MAX_POINTS),
                what="price history",
            )

    def forget_pending(self) -> None:
        """Drop answers not yet written (before an invalidation)."""
        self._pending.clear()

    # -- background work -------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], *, what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:
                logger.warning("%s failed: %s", what, exc)

        task = asyncio.ensure_future(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _maybe_flush(self) -> None:
        if self._flushing or self._clock() - self._last_flush < USAGE_FLUSH_INTERVAL:
            return
        self._flushing = True
        self._spawn(self.flush(), what="usage flush")

    async def flush(self) -> None:
        """Write this process's counters to the store."""
        self._flushing = True
        counts = self.metrics.take()
        try:
            if counts:
                await self.store.usage_add(utc_day(self._clock()), counts)
        except Exception:
            self.metrics.give_back(counts)
            raise
        finally:
            self._last_flush = self._clock()
            self._flushing = False

    async def drain(self) -> None:
        """Wait for background writes (cache, quota, usage) to finish."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel in-flight fetches, finish background writes, flush counters."""
        tasks = [flight.task for flight in self._inflight.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.drain()
        try:
            await self.flush()
        except Exception as exc:
            logger.warning("usage flush failed at close: %s", exc)
