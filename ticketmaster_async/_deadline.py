"""One deadline over a block of awaits: ``async with deadline(seconds): ...``.

On expiry the block is cancelled and :class:`asyncio.TimeoutError` is raised from the ``async
with``. It runs in the caller's task (no task is created per use): ``asyncio.timeout`` on Python
3.11+, :class:`CancelAfter` (an equivalent of it) on 3.10.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType

__all__ = ["CancelAfter", "deadline"]


class CancelAfter:
    """Cancel the current task after ``delay`` seconds and turn that cancellation into
    :class:`asyncio.TimeoutError` at the end of the ``async with`` block.

    Unlike 3.11's ``asyncio.timeout`` it cannot tell its own cancellation from an outside one
    landing in the same instant (3.10 has no ``Task.uncancel``): that one is then reported as a
    timeout.
    """

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._expired = False
        self._handle: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> CancelAfter:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - asyncio always runs coroutines in a task
            raise RuntimeError("a deadline needs a running task")

        def expire() -> None:
            self._expired = True
            task.cancel()

        self._handle = asyncio.get_running_loop().call_later(self._delay, expire)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired and exc_type is asyncio.CancelledError:
            raise asyncio.TimeoutError from None


deadline: Callable[[float], AbstractAsyncContextManager[object]] = getattr(
    asyncio, "timeout", CancelAfter
)
