"""aiosqlite's worker thread, made safe for processes that never close their store.

aiosqlite runs each connection's statements on a thread of its own that is not a daemon, so a
process whose store was never closed waits for it forever at exit; and when a statement finishes
after the event loop that asked for it was closed, handing the result back raises
``RuntimeError: Event loop is closed`` inside the thread, which prints "Exception in thread ...".

:func:`make_quiet_daemon` swaps the not yet started thread of a connection for a daemon running
the same queue with a loop that drops results nobody can receive any more. It relies on two
private names of aiosqlite (checked, not assumed): without them only the daemon flag is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from aiosqlite import core as aiosqlite_core

__all__ = ["make_quiet_daemon", "quiet_worker"]


def _deliver(future: asyncio.Future[Any] | None, setter: Callable[..., None], value: Any) -> None:
    if future is None:
        return
    # The loop that asked may be closed (the program ended without closing the store): the
    # result has nobody to go to.
    with contextlib.suppress(RuntimeError):
        future.get_loop().call_soon_threadsafe(setter, future, value)


def quiet_worker(jobs: Any, stop: object) -> None:
    """aiosqlite's worker loop (``_connection_worker_thread``), minus the traceback."""
    while True:
        future, function = jobs.get()
        try:
            result = function()
        except BaseException as exc:
            _deliver(future, aiosqlite_core.set_exception, exc)
            continue
        _deliver(future, aiosqlite_core.set_result, result)
        if result is stop:
            return


def make_quiet_daemon(connection: Any) -> None:
    """Make the worker thread of a not yet awaited ``aiosqlite.connect(...)`` a daemon that
    never prints a traceback. Does nothing to a connection whose thread already started."""
    thread = getattr(connection, "_thread", None)
    if not isinstance(thread, threading.Thread) or thread.is_alive() or thread.ident is not None:
        return
    jobs = getattr(connection, "_tx", None)
    stop = getattr(aiosqlite_core, "_STOP_RUNNING_SENTINEL", None)
    has_setters = hasattr(aiosqlite_core, "set_result") and hasattr(aiosqlite_core, "set_exception")
    if jobs is not None and stop is not None and has_setters:
        connection._thread = threading.Thread(
            target=quiet_worker, args=(jobs, stop), name=thread.name, daemon=True
        )
    else:  # pragma: no cover - another aiosqlite layout: at least never block the exit
        thread.daemon = True
