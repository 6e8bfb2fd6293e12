"""TicketmasterClient: the public async client; it owns the lifecycle of the pipeline, the
store and the HTTP sender, and takes its methods from one resource module per part of the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._config import Settings
from ._constants import LOGGER_NAME, SANDBOX_API_KEY, SANDBOX_BASE_URL
from ._endpoints import EventFilters
from ._http import HTTPSender
from ._pipeline import Pipeline
from ._redact import Redactor
from ._resources.attractions import AttractionsResource
from ._resources.cache import CacheResource
from ._resources.classifications import ClassificationsResource
from ._resources.prices import PricesResource
from ._resources.suggest import SuggestResource
from ._resources.venues import VenuesResource
from ._resources.watch import WatchResource
from ._store.base import Store

if TYPE_CHECKING:
    import httpx

__all__ = ["EventFilters", "TicketmasterClient"]

logger = logging.getLogger(LOGGER_NAME)


class TicketmasterClient(
    WatchResource,
    PricesResource,
    VenuesResource,
    AttractionsResource,
    ClassificationsResource,
    SuggestResource,
    CacheResource,
):
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
            max_response_bytes=self.settings.max_response_bytes,
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
        self._sleep = _sleep if _sleep is not None else asyncio.sleep
        self._closed = False
        # The event loop this client belongs to (bound on first use) and the async generator
        # whose finalisation tells us that loop is shutting down.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_watch: AsyncGenerator[None, None] | None = None
        self._loop_ended = False

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

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop this client belongs to (the one it was first used in), or None."""
        return self._loop

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
        watch, self._loop_watch = self._loop_watch, None
        if self._loop_ended:
            return  # released when its event loop shut down
        try:
            await self._release()
        finally:
            if watch is not None:
                await watch.aclose()

    async def _release(self) -> None:
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
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        if self._loop is None:
            self._bind(loop)
            return
        if self._loop_ended or self._loop.is_closed():
            raise RuntimeError(
                "this TicketmasterClient belongs to an event loop that has ended (an earlier "
                "asyncio.run()?): create and use the client inside one async function, or, "
                "from synchronous code and notebooks, use SyncTicketmasterClient"
            )
        raise RuntimeError(
            "this TicketmasterClient belongs to another event loop: use one client per event "
            "loop, or SyncTicketmasterClient, which may be called from any thread"
        )

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Belong to ``loop``, and release everything when it shuts down unclosed.

        An async generator started in ``loop`` is finalised by the loop's
        ``shutdown_asyncgens()`` (``asyncio.run`` calls it while the loop still runs): its
        ``finally`` then closes the pipeline, the store (so no worker thread outlives the loop)
        and the HTTP pool. The client stays "unclosed" for ``ResourceWarning`` purposes.
        """
        self._loop = loop

        async def until_the_loop_ends() -> AsyncGenerator[None, None]:
            try:
                yield
            finally:
                if not self._closed and not self._loop_ended:
                    self._loop_ended = True
                    try:
                        await self._release()
                    except Exception as exc:  # shutting down: nothing to raise to
                        logger.debug("releasing an unclosed client failed: %s", exc)

        watch = until_the_loop_ends()
        first_step = watch.__anext__()  # registers the generator with the running loop
        with contextlib.suppress(StopIteration):
            first_step.send(None)
        self._loop_watch = watch
