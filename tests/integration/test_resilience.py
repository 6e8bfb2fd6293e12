"""Resilience over real loopback sockets against the package's own fake API."""

from __future__ import annotations

import asyncio

import pytest

from ticketmaster_async import (
    CircuitOpenError,
    NotFoundError,
    ResponseValidationError,
    ServerError,
)
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

from .loopback import client_for, serving

pytestmark = pytest.mark.integration
EVENT_PATH = f"/discovery/v2/events/{SANDBOX_EVENT_ID}"


def _api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


async def test_503_503_200_succeeds_with_three_requests() -> None:
    api = _api()
    api.fail_next(2, status=503)
    async with serving(api) as server, client_for(server.url) as tm:
        event = await tm.get_event_details(SANDBOX_EVENT_ID)
    assert event is not None and event.id == SANDBOX_EVENT_ID
    assert [r.status for r in api.requests] == [503, 503, 200]


async def test_timeout_then_success() -> None:
    api = _api()
    api.delay_next(1, seconds=1.0)
    async with serving(api) as server, client_for(server.url, timeout=0.2) as tm:
        event = await tm.get_event_details(SANDBOX_EVENT_ID)
        stats = await tm.usage()
    assert event is not None
    assert len(api.requests_to(EVENT_PATH)) == 2
    assert stats.errors == {}


async def test_dropped_connection_then_success() -> None:
    api = _api()
    api.drop_next(1)
    async with serving(api) as server, client_for(server.url) as tm:
        event = await tm.get_event_details(SANDBOX_EVENT_ID)
    assert event is not None
    assert api.dropped_count == 1
    assert len(api.requests) == 2


async def test_truncated_json_is_a_validation_error_without_retry() -> None:
    api = _api()
    api.truncate_next(1)
    async with serving(api) as server, client_for(server.url) as tm:
        with pytest.raises(ResponseValidationError) as info:
            await tm.get_event_details(SANDBOX_EVENT_ID)
    assert info.value.status_code == 200
    assert len(api.requests) == 1


async def test_404_is_one_request_no_retry() -> None:
    api = _api()
    async with serving(api) as server, client_for(server.url) as tm:
        assert await tm.get_event_details("NoSuchEvent123") is None
        with pytest.raises(NotFoundError):
            await tm.get_ticket_prices("NoSuchEvent123")
    assert [r.status for r in api.requests] == [404]  # the second call hit the negative cache


async def test_breaker_opens_sends_nothing_then_one_probe() -> None:
    api = _api()
    api.always_fail(503)
    async with (
        serving(api) as server,
        client_for(server.url, max_retries=2, breaker_threshold=5, breaker_reset=0.3) as tm,
    ):
        with pytest.raises(ServerError):
            await tm.get_event_details(SANDBOX_EVENT_ID)  # 3 attempts
        with pytest.raises(CircuitOpenError):
            await tm.get_event_details(SANDBOX_EVENT_ID)  # attempts 4, 5 → open
        sent = len(api.requests)
        assert sent == 5
        with pytest.raises(CircuitOpenError) as info:
            await tm.search_events("rock")
        assert len(api.requests) == sent  # nothing sent while open
        assert (await tm.usage()).breaker_state == "open"
        await asyncio.sleep(0.35)
        api.stop_failing()
        probes = await asyncio.gather(
            tm.search_events("rock"), tm.get_venue("KovZpZA7AAEA"), return_exceptions=True
        )
        assert len(api.requests) == sent + 1  # exactly one probe went out
        assert sum(isinstance(p, CircuitOpenError) for p in probes) == 1
        assert (await tm.usage()).breaker_state == "closed"
        assert await tm.search_events("rock")
    assert info.value.retry_at is not None


async def test_stale_answer_when_down_after_ttl() -> None:
    api = _api()
    async with serving(api) as server, client_for(server.url, cache_ttl=0.1, max_retries=1) as tm:
        fresh = await tm.get_event_details(SANDBOX_EVENT_ID)
        await asyncio.sleep(0.15)
        api.always_fail(503)
        stale = await tm.get_event_details(SANDBOX_EVENT_ID)
        stats = await tm.usage()
    assert fresh is not None and stale == fresh
    assert stats.stale_served == 1
    assert [r.status for r in api.requests] == [200, 503, 503]


async def test_stale_beyond_max_stale_is_not_served() -> None:
    api = _api()
    async with (
        serving(api) as server,
        client_for(server.url, cache_ttl=0.05, max_stale=0.1, max_retries=0) as tm,
    ):
        await tm.get_event_details(SANDBOX_EVENT_ID)
        await asyncio.sleep(0.15)
        api.always_fail(502)
        with pytest.raises(ServerError):
            await tm.get_event_details(SANDBOX_EVENT_ID)
