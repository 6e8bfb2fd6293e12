"""SyncTicketmasterClient: the async client's methods, blocking, from scripts, threads and
running event loops."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

from ticketmaster_async import (
    ConfigurationError,
    Event,
    NotFoundError,
    Settings,
    SyncTicketmasterClient,
    TicketmasterClient,
)
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

REPO = Path(__file__).resolve().parent.parent
GB_EVENT_ID = "1AdjZ4UGkBwb746"
KEY = "test"  # short keys must not corrupt data (they used to)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_sync_client", REPO / "scripts" / "gen_sync_client.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_client_is_up_to_date() -> None:
    written = (REPO / "ticketmaster_async" / "_sync_client.py").read_text(encoding="utf-8")
    assert written == _generator().render(), "run: python scripts/gen_sync_client.py"


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member, eval_str=False)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and name not in ("aclose", "close")
    }


def test_every_async_method_has_a_blocking_twin_with_the_same_parameters() -> None:
    async_methods = _public(TicketmasterClient)
    sync_methods = _public(SyncTicketmasterClient)
    assert set(async_methods) == set(sync_methods)
    for name, signature in async_methods.items():
        twin = sync_methods[name]
        assert [
            (p.name, p.kind, p.default, p.annotation) for p in signature.parameters.values()
        ] == [(p.name, p.kind, p.default, p.annotation) for p in twin.parameters.values()], name


def _client(api: FakeDiscoveryAPI) -> SyncTicketmasterClient:
    return SyncTicketmasterClient(
        Settings(api_key="a-long-random-test-key-0123456789", db_path=":memory:", offers=False),
        transport=api.transport(),
    )


def test_blocking_calls_return_the_same_models() -> None:
    api = FakeDiscoveryAPI()
    with _client(api) as tm:
        event = tm.get_event_details(SANDBOX_EVENT_ID)
        assert isinstance(event, Event) and event.id == SANDBOX_EVENT_ID
        assert event == Event.model_validate(api.get_event(SANDBOX_EVENT_ID))
        assert tm.get_event_details("NoSuchEvent123") is None
        page = tm.search_events_page(city="Birmingham", size=5)
        assert page.size == 5 and len(page.items) == 5
        with pytest.raises(ConfigurationError):
            tm.get_venue("../etc")
        with pytest.raises(NotFoundError):
            tm.get_ticket_prices("NoSuchEvent123")
        assert tm.usage().requests_today == api.request_count


def test_generators_follow_pages_and_close_on_break() -> None:
    api = FakeDiscoveryAPI()
    with _client(api) as tm:
        names = [event.name for event in tm.iter_events(city="Birmingham", size=5, limit=12)]
        assert len(names) == 12
        assert len(api.requests_to("/discovery/v2/events")) == 3
        for _ in tm.iter_events(city="Birmingham", size=5):
            break
        assert len(api.requests_to("/discovery/v2/events")) == 3  # page 0 was cached
        with pytest.raises(TypeError):
            next(iter(tm.iter_events(colour="red")))  # type: ignore[call-arg]


def test_eight_threads_at_once() -> None:
    api = FakeDiscoveryAPI()
    ids = api.event_ids()[:8]
    with _client(api) as tm, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(tm.get_event_details, ids * 4))
        pages = list(pool.map(lambda n: tm.search_events(city="Birmingham", size=n), range(1, 9)))
    assert [event.id if event else None for event in results] == ids * 4
    assert [len(page) for page in pages] == list(range(1, 9))
    # Each id was asked for once (cache and single flight work across threads), each size once.
    assert len(api.requests_to("/discovery/v2/events/")) == 8
    assert len(api.requests_to("/discovery/v2/events.json")) == 8


async def test_inside_a_running_event_loop() -> None:
    # A notebook cell: an event loop is running in this thread. The blocking client still works.
    asyncio.get_running_loop()
    api = FakeDiscoveryAPI()
    tm = _client(api)
    try:
        event = tm.get_event_details(GB_EVENT_ID)
        assert event is not None and event.name.startswith("Harry Styles")
    finally:
        tm.close()


def test_close_is_idempotent_and_a_closed_client_refuses() -> None:
    api = FakeDiscoveryAPI()
    tm = _client(api)
    assert tm.get_event_details(SANDBOX_EVENT_ID) is not None
    tm.close()
    tm.close()
    with pytest.raises(RuntimeError, match="closed"):
        tm.get_event_details(SANDBOX_EVENT_ID)
    assert not any(t.name == "ticketmaster-sync-loop" and t.is_alive() for t in _threads(tm))


def _threads(tm: SyncTicketmasterClient) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t is tm._runner.thread]


SCRIPT = textwrap.dedent(
    """
    import sys
    from ticketmaster_async import Settings, SyncTicketmasterClient

    tm = SyncTicketmasterClient(Settings(environment="sandbox"))
    print(tm.get_event_details("G5diZfkn0B-bh").name)
    for event in tm.iter_events("rock", limit=2):
        print(event.name)
    if sys.argv[1] == "with":
        with SyncTicketmasterClient(Settings(environment="sandbox")) as other:
            print(len(other.search_events(city="Birmingham", size=3)))
    # no close(): the process must still exit
    """
)


@pytest.mark.parametrize("mode", ["plain", "with"])
def test_a_plain_script_prints_and_exits(tmp_path: Path, mode: str) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), mode],
        capture_output=True,
        text=True,
        timeout=60,  # a hang at exit fails here
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Radiohead"
    assert len(lines) == (4 if mode == "with" else 3)
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr
