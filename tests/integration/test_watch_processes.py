"""Real OS processes watching one name on one SQLite file: one poller, and a survivor that
takes over within two intervals when the poller is SIGKILLed.

The workers are this module run as a script (``python -m tests.integration.<this> ...``); the
fake API is served from a thread of the test process, so that the test can change its events
while the workers poll.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async.testing import FakeDiscoveryAPI, FakeServer

from .loopback import KEY
from .workers import READY, WORKER_TIMEOUT, start_worker, wait_ready

pytestmark = pytest.mark.integration

MODULE = "tests.integration.test_watch_processes"
EVERY = 1.0
WATCHED = ["1AdjZ4UGkBwb746", "1AMZA-pGkdxdIu7", "G5diZfkn0B-bh"]


# -- worker (runs in a child process) -----------------------------------------------------------


async def _watch_worker(url: str, path: str) -> None:
    # A daily limit high enough that one-second rounds are within the budget.
    settings = Settings(
        api_key=KEY, base_url=url, db_path=path, offers=False, daily_limit=10_000_000
    )
    async with TicketmasterClient(settings) as tm:
        print(READY, flush=True)
        async for change in tm.watch_events(WATCHED, every=EVERY, name="shared"):
            print(json.dumps({"kind": change.kind, "id": change.event.id}), flush=True)


# -- the fake in a thread -----------------------------------------------------------------------


@contextmanager
def threaded_server(api: FakeDiscoveryAPI) -> Iterator[str]:
    """The fake on a loopback port, served by an event loop in a thread of this process."""
    urls: queue.Queue[str] = queue.Queue()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        async with FakeServer(api) as server:
            urls.put(server.url)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield urls.get(timeout=WORKER_TIMEOUT)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(WORKER_TIMEOUT)
        loop.close()


class Lines:
    """A worker's stdout lines, read by a thread, with bounded waits."""

    def __init__(self, worker: subprocess.Popen[str]) -> None:
        self.items: queue.Queue[tuple[float, str]] = queue.Queue()
        assert worker.stdout is not None
        stdout = worker.stdout

        def read() -> None:
            for line in stdout:
                self.items.put((time.time(), line.strip()))

        threading.Thread(target=read, daemon=True).start()

    def take(self, count: int, *, timeout: float) -> list[tuple[float, dict[str, str]]]:
        taken: list[tuple[float, dict[str, str]]] = []
        deadline = time.monotonic() + timeout
        while len(taken) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"only {taken} of {count} lines in {timeout} s")
            at, line = self.items.get(timeout=left)
            taken.append((at, json.loads(line)))
        return taken

    def nothing_for(self, seconds: float) -> bool:
        try:
            self.items.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


def test_one_poller_and_a_takeover_after_sigkill(tmp_path: object) -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    path = os.path.join(str(tmp_path), "state.sqlite3")
    with threaded_server(api) as url:
        first = start_worker(MODULE, "watch", url, path)
        second = None
        try:
            wait_ready(first)
            first_lines = Lines(first)
            assert [line["id"] for _, line in first_lines.take(3, timeout=20)] == WATCHED
            second = start_worker(MODULE, "watch", url, path)
            wait_ready(second)
            second_lines = Lines(second)
            api.update_event(WATCHED[0], name="Seen by the poller")
            [(_, changed)] = first_lines.take(1, timeout=10 * EVERY)
            assert changed == {"kind": "changed", "id": WATCHED[0]}
            assert second_lines.nothing_for(3 * EVERY)  # it stands by, for several rounds
            polled = len(api.requests)

            first.send_signal(signal.SIGKILL)  # no lease release: it must run out
            first.wait(timeout=WORKER_TIMEOUT)
            killed_at = time.time()
            api.update_event(WATCHED[1], name="Seen by the survivor")
            [(_, taken)] = second_lines.take(1, timeout=10 * EVERY)
            assert taken == {"kind": "changed", "id": WATCHED[1]}
            after_kill = [r.time for r in api.requests[polled:] if r.time > killed_at]
            assert after_kill and after_kill[0] - killed_at < 2 * EVERY
        finally:
            for worker in (first, second):
                if worker is not None:
                    worker.kill()
                    worker.communicate(timeout=WORKER_TIMEOUT)


if __name__ == "__main__":  # a worker
    if sys.argv[1] == "watch":
        asyncio.run(_watch_worker(sys.argv[2], sys.argv[3]))
