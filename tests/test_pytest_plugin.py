"""The pytest plugin: a user's test file that imports nothing from this project's test helpers
runs with its fixtures under plain pytest, under pytest-asyncio and under anyio."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

USERS_TESTS = textwrap.dedent(
    """
    import pytest

    from ticketmaster_async import Event, TicketmasterClient
    from ticketmaster_async.testing import FakeDiscoveryAPI


    async def test_my_bot_survives_an_outage(fake_ticketmaster, ticketmaster_client):
        fake_ticketmaster.fail_next(2, status=503)  # then 200: the client retries
        event = await ticketmaster_client.get_event_details("G5diZfkn0B-bh")
        assert isinstance(event, Event) and event.name == "Radiohead"
        assert fake_ticketmaster.request_count == 3


    async def test_scripted_changes_are_seen(fake_ticketmaster, ticketmaster_client):
        fake_ticketmaster.update_event("G5diZfkn0B-bh", name="Renamed")
        event = await ticketmaster_client.get_event_details("G5diZfkn0B-bh")
        assert event is not None and event.name == "Renamed"


    def test_the_fixtures_are_what_they_say(fake_ticketmaster, ticketmaster_client):
        assert isinstance(fake_ticketmaster, FakeDiscoveryAPI)
        assert isinstance(ticketmaster_client, TicketmasterClient)
        assert not ticketmaster_client.closed
    """
)

RUNNERS = {
    # Plain pytest: no async plugin at all; this plugin runs the async tests.
    "plain": ["-p", "no:asyncio", "-p", "no:anyio"],
    "pytest-asyncio": [
        "-p",
        "no:anyio",
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    ],
    "anyio": ["-p", "no:asyncio"],
}


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_a_users_test_file_runs_with_the_fixtures(tmp_path: Path, runner: str) -> None:
    source = USERS_TESTS
    if runner == "anyio":
        source = "pytestmark = __import__('pytest').mark.anyio\n" + source.replace(
            "def test_the_fixtures", "def _not_anyio"
        )
        source += "\n\n@__import__('pytest').fixture\ndef anyio_backend():\n    return 'asyncio'\n"
    (tmp_path / "test_users_bot.py").write_text(source, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            *RUNNERS[runner],
            str(tmp_path / "test_users_bot.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    expected = 2 if runner == "anyio" else 3
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{expected} passed" in done.stdout, done.stdout
