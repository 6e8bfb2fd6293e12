"""A pytest plugin (registered automatically when the package is installed): the fixtures
``fake_ticketmaster`` and ``ticketmaster_client`` for testing code that uses the client.

```python
async def test_my_bot_survives_an_outage(fake_ticketmaster, ticketmaster_client):
    fake_ticketmaster.fail_next(2, status=503)  # then 200: the client retries
    assert await ticketmaster_client.get_event_details("G5diZfkn0B-bh") is not None
    assert fake_ticketmaster.request_count == 3
```

``async def`` tests that use these fixtures run as they are under plain pytest: when no other
plugin (pytest-asyncio, anyio) runs them, this plugin runs them on a fresh event loop. Under
pytest-asyncio or anyio they run as those plugins run every other async test.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from .._client import TicketmasterClient
from .._config import Settings
from ._api import FakeDiscoveryAPI

__all__ = ["fake_ticketmaster", "pytest_pyfunc_call", "ticketmaster_client"]

#: The key the fixtures' client sends (any non-empty key is accepted by the fake).
TEST_API_KEY = "test"
_FIXTURES = frozenset({"fake_ticketmaster", "ticketmaster_client"})
_OTHER_RUNNERS = ("asyncio", "anyio", "trio")


@pytest.fixture
def fake_ticketmaster() -> FakeDiscoveryAPI:
    """A fresh fake Discovery API (real recorded data, the real limits and errors)."""
    return FakeDiscoveryAPI()


@pytest.fixture
def ticketmaster_client(fake_ticketmaster: FakeDiscoveryAPI) -> Iterator[TicketmasterClient]:
    """A client talking to ``fake_ticketmaster``, with its state in memory, closed after the
    test in the event loop it was used in."""
    client = TicketmasterClient(
        Settings(api_key=TEST_API_KEY, db_path=":memory:"),
        transport=fake_ticketmaster.transport(),
    )
    try:
        yield client
    finally:
        _close(client)


def _close(client: TicketmasterClient) -> None:
    """Close ``client`` wherever it was used: in its own loop if that loop can still run
    (pytest-asyncio keeps it until its own teardown), else a fresh one; a client whose loop
    has ended was released by it."""
    if client.closed:
        return
    loop = client.loop
    if loop is None or loop.is_closed():
        asyncio.run(client.aclose())
    elif not loop.is_running():
        loop.run_until_complete(client.aclose())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run an ``async def`` test that uses this plugin's fixtures when no other plugin does."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None  # not async, or another plugin already wrapped it
    if not _FIXTURES.intersection(pyfuncitem.fixturenames):
        return None
    if any(pyfuncitem.get_closest_marker(name) for name in _OTHER_RUNNERS):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    client = pyfuncitem.funcargs.get("ticketmaster_client")

    async def run() -> Any:
        try:
            return await function(**arguments)
        finally:
            if isinstance(client, TicketmasterClient):
                await client.aclose()

    asyncio.run(run())
    return True
