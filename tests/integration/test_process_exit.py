"""A program that never closes its client (SQLite file store), or whose event loop ends while a
statement is still running, exits at once, without a thread traceback.

Each case runs a small script in a real Python process: what matters is how the interpreter
exits, which a test inside pytest's own process cannot observe.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .loopback import ROOT

pytestmark = pytest.mark.integration

#: Generous: it proves the process does not hang (it used to, forever), not how fast it is.
EXIT_WITHIN = 20.0

UNCLOSED_CLIENT = """
import asyncio, sys
from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

# A module-level client, as a script or a bot keeps it: still referenced when Python exits.
tm = TicketmasterClient(
    Settings(api_key="k", db_path=sys.argv[1], offers=False),
    transport=FakeDiscoveryAPI(requests_per_second=None).transport(),
)

async def main():
    event = await tm.get_event_details(SANDBOX_EVENT_ID)
    assert event is not None
    # never closed

asyncio.run(main())
print("done", flush=True)
"""

LOOP_ENDS_MID_STATEMENT = """
import asyncio, sys, time
from ticketmaster_async._store.base import CacheEntry
from ticketmaster_async._store.sqlite import SQLiteStore

BODY = b"x" * (8 * 1024 * 1024)  # large: written by the worker thread, for a while

async def main():
    store = SQLiteStore(sys.argv[1], max_entries=100)
    await store.open()
    now = time.time()
    for n in range(4):
        entry = CacheEntry(key=f"k{n}", status=200, body=BODY, stored_at=now, expires_at=now + 60)
        asyncio.ensure_future(store.cache_set(entry, keep=60.0))
    await asyncio.sleep(0)  # the writes are queued on the worker; the loop now ends

asyncio.run(main())
print("done", flush=True)
"""


def run_script(script: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=EXIT_WITHIN,
        check=False,
    )


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(UNCLOSED_CLIENT, id="unclosed-client"),
        pytest.param(LOOP_ENDS_MID_STATEMENT, id="loop-ends-mid-statement"),
    ],
)
def test_the_process_exits_without_a_thread_traceback(script: str, tmp_path: Path) -> None:
    try:
        finished = run_script(script, tmp_path / "state.sqlite3")
    except subprocess.TimeoutExpired as exc:  # the aiosqlite worker kept it alive
        pytest.fail(f"the process did not exit within {EXIT_WITHIN} s: {exc.stderr!r}")

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "done"
    assert "Traceback" not in finished.stderr, finished.stderr
    assert "Exception in thread" not in finished.stderr, finished.stderr
