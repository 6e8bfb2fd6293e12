"""The engine of :class:`SyncTicketmasterClient`: one private event loop in a daemon thread that
runs an async client; blocking calls and plain generators hand their work to it.

The async client stays the one implementation (as ``anyio.from_thread.start_blocking_portal``
does for anyio): a blocking method submits the coroutine to the private loop with
``asyncio.run_coroutine_threadsafe`` and waits for its result, so it works from any thread,
from several threads at once, and from inside a running event loop (a notebook cell), whose
loop it blocks but never deadlocks. The loop's thread is a daemon, and the client is closed
when it is collected or at interpreter exit, so a script never hangs at its end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ._client import TicketmasterClient
from ._config import Settings

if TYPE_CHECKING:
    import httpx

__all__ = ["SyncClientBase"]

_T = TypeVar("_T")
#: Seconds to wait for the private loop's thread to finish when closing.
_JOIN_SECONDS = 10.0


class _LoopThread:
    """A private event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="ticketmaster-sync-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            try:
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            finally:
                self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError(
                "a SyncTicketmasterClient method was called from its own event loop "
                "(inside a callback of the client?): use the async TicketmasterClient there"
            )
        if self.loop.is_closed() or not self.thread.is_alive():
            coro.close()
            raise RuntimeError("this SyncTicketmasterClient is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        if self.loop.is_closed() or not self.thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self.thread:
            self.thread.join(_JOIN_SECONDS)


def _shutdown(runner: _LoopThread, client: TicketmasterClient) -> None:
    """Close the async client on its loop, then stop the loop (idempotent)."""
    try:
        runner.submit(client.aclose()).result(_JOIN_SECONDS)
    except (RuntimeError, concurrent.futures.TimeoutError):
        pass
    finally:
        runner.stop()


class SyncClientBase:
    """Lifecycle of the blocking client and the two ways its methods run their coroutines."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = TicketmasterClient(settings, transport=transport)
        self._runner = _LoopThread()
        # Closes the client (flushing its counters) when this object is collected or at exit.
        self._finalizer = weakref.finalize(self, _shutdown, self._runner, self._client)

    @property
    def settings(self) -> Settings:
        """The settings in use."""
        return self._client.settings

    def __repr__(self) -> str:
        return repr(self._client).replace("<TicketmasterClient", "<SyncTicketmasterClient", 1)

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the private loop and wait for its result (or its exception)."""
        future = self._runner.submit(coro)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # interrupted (Ctrl-C): the call does not go on in the background
            raise

    def _iterate(self, iterator: AsyncIterator[_T]) -> Iterator[_T]:
        """A plain generator over an async iterator, one item per round trip to the loop;
        closing the generator (``break``) closes the async iterator."""
        try:
            while True:
                try:
                    yield self._run(anext_of(iterator))
                except StopAsyncIteration:
                    return
        finally:
            closer = getattr(iterator, "aclose", None)
            if closer is not None and self._finalizer.alive:
                with contextlib.suppress(RuntimeError):
                    self._run(closer())

    def close(self) -> None:
        """Close the client (background writes finish) and stop its loop. Idempotent."""
        self._finalizer()

    def __enter__(self) -> SyncClientBase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def anext_of(iterator: AsyncIterator[_T]) -> _T:
    """``await anext(iterator)`` (a builtin from Python 3.10 on; a coroutine here so that it can
    be submitted to a loop)."""
    return await iterator.__anext__()
