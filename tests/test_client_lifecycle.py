"""A client belongs to one event loop: a clear error elsewhere, and the process always exits."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

REPO = Path(__file__).resolve().parent.parent

TWO_RUNS = textwrap.dedent(
    """
    import asyncio, gc, sys, warnings
    from ticketmaster_async import Settings, TicketmasterClient
    from ticketmaster_async.testing import FakeDiscoveryAPI

    warnings.simplefilter("default", ResourceWarning)
    client = TicketmasterClient(
        Settings(api_key=sys.argv[2], db_path=sys.argv[1]),
        transport=FakeDiscoveryAPI().transport(),
    )
    print("first:", asyncio.run(client.get_event_details("G5diZfkn0B-bh")).name)
    for attempt in (2, 3):
        try:
            asyncio.run(client.get_event_details("G5diZfkn0B-bh"))
        except RuntimeError as exc:
            print(f"call {attempt}: RuntimeError: {exc}")
    del client
    gc.collect()
    print("done")
    """
)


@pytest.mark.parametrize("key", ["test", "k"])
def test_a_client_used_from_two_asyncio_runs_says_why_and_the_process_exits(
    tmp_path: Path, key: str
) -> None:
    script = tmp_path / "two_runs.py"
    script.write_text(TWO_RUNS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "state.sqlite3"), key],
        capture_output=True,
        text=True,
        timeout=60,  # a hang at exit fails here
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "first: Radiohead"
    for attempt in (2, 3):
        line = next(line for line in lines if line.startswith(f"call {attempt}:"))
        assert "RuntimeError" in line and "SyncTicketmasterClient" in line
    assert lines[-1] == "done"
    assert done.stderr.count("ResourceWarning") == 1
    assert "Traceback" not in done.stderr and "Exception in thread" not in done.stderr


async def test_a_client_used_from_another_running_loop_is_refused() -> None:
    api = FakeDiscoveryAPI()
    settings = Settings(api_key="test", db_path=":memory:")
    async with TicketmasterClient(settings, transport=api.transport()) as tm:
        assert await tm.get_event_details(SANDBOX_EVENT_ID) is not None
        errors: list[BaseException] = []

        def other_thread() -> None:
            try:
                asyncio.run(tm.get_event_details(SANDBOX_EVENT_ID))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=other_thread)
        thread.start()
        await asyncio.to_thread(thread.join, 30)
        assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
        assert "another event loop" in str(errors[0])
        # The owner's loop keeps working.
        assert await tm.get_event_details(SANDBOX_EVENT_ID) is not None
    assert api.request_count == 1


def test_closing_after_the_loop_ended_is_harmless(tmp_path: Path) -> None:
    api = FakeDiscoveryAPI()
    client = TicketmasterClient(
        Settings(api_key="test", db_path=str(tmp_path / "s.sqlite3")), transport=api.transport()
    )
    assert asyncio.run(client.get_event_details(SANDBOX_EVENT_ID)) is not None
    asyncio.run(client.aclose())  # released at the end of the first loop: nothing left to do
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(client.get_event_details(SANDBOX_EVENT_ID))
