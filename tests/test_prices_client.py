"""get_ticket_prices through the client against the package's fake API (in-process)."""

from __future__ import annotations

import logging

import pytest

from ticketmaster_async import NotFoundError, pricing
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

from .clients import make_client

OFFERS_PATH = f"/commerce/v2/events/{SANDBOX_EVENT_ID}/offers"
TOP_PICKS_PATH = f"/top-picks/v1/events/{SANDBOX_EVENT_ID}"


def _offers_requests(api: FakeDiscoveryAPI) -> int:
    return sum(OFFERS_PATH in r.path for r in api.requests)


async def test_offers_and_price_ranges_are_merged() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    raw_offers = api.handle("GET", f"{OFFERS_PATH}.json", [("apikey", "x")]).json()
    async with make_client(transport=api.transport(), offers=True) as tm:
        prices = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        event = await tm.get_event_details(SANDBOX_EVENT_ID)
    assert event is not None
    expected_offers = pricing.prices_from_offers(raw_offers)
    expected_ranges = pricing.prices_from_price_ranges(event.price_ranges)
    assert expected_offers and expected_ranges
    # merge_prices orders by source, currency and price; compare the entries, not the order
    assert sorted(repr(p) for p in prices if p.source == "offers") == sorted(
        repr(p) for p in expected_offers
    )
    assert [p for p in prices if p.source == "price_ranges"] == expected_ranges
    assert [p.source for p in prices] == sorted(
        (p.source for p in prices), key=["offers", "price_ranges"].index
    )
    assert all(p.section for p in prices if p.source == "offers")


@pytest.mark.parametrize("mode", ["unauthorized", "forbidden", "not_found"])
async def test_refused_offers_fall_back_and_are_not_asked_again(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api = FakeDiscoveryAPI(requests_per_second=None, offers=mode)  # type: ignore[arg-type]
    async with make_client(transport=api.transport(), offers=True) as tm:
        first = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        await tm.invalidate_event(SANDBOX_EVENT_ID)
        second = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
    assert first == second
    assert first and {p.source for p in first} == {"price_ranges"}
    assert _offers_requests(api) == 1  # remembered for a day: no quota spent on it again
    assert any("refused this key" in r.getMessage() for r in caplog.records)


async def test_failing_offers_never_fail_the_call() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    api.always_fail(503, path="/commerce/")
    async with make_client(transport=api.transport(), offers=True) as tm:
        prices = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        stats = await tm.usage()
    assert prices and {p.source for p in prices} == {"price_ranges"}
    assert _offers_requests(api) == 1  # optional source: one attempt, no retries
    assert stats.breaker_state == "closed"  # Commerce failures do not trip Discovery's breaker


async def test_top_picks_resale_and_primary() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None, top_picks="ok")
    raw = api.handle("GET", TOP_PICKS_PATH, [("apikey", "x")]).json()
    async with make_client(transport=api.transport(), offers=False, top_picks=True) as tm:
        prices = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
    picks = [p for p in prices if p.source == "top_picks"]
    assert sorted(repr(p) for p in picks) == sorted(
        repr(p) for p in pricing.prices_from_top_picks(raw)
    )
    assert picks
    assert {p.market for p in picks} <= {"primary", "resale"}


async def test_prices_are_cached_and_invalidated_with_the_event() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    async with make_client(transport=api.transport(), offers=True) as tm:
        await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        assert _offers_requests(api) == 1
        assert await tm.invalidate_event(SANDBOX_EVENT_ID) == 2  # details and offers
        await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        assert _offers_requests(api) == 2


async def test_unknown_event_prices_is_not_found() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    async with make_client(transport=api.transport(), offers=True) as tm:
        with pytest.raises(NotFoundError):
            await tm.get_ticket_prices("NoSuchEvent1")
    assert _offers_requests(api) == 0


async def test_event_without_price_information_is_empty_list() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None, offers="not_found")
    async with make_client(transport=api.transport(), offers=True) as tm:
        assert await tm.get_ticket_prices("Z7r9jZ1Ad4s-N") == []


async def test_prices_carry_the_freshness_of_their_event() -> None:
    from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

    from .clients import FakeClock, make_client

    clock = FakeClock()
    api = FakeDiscoveryAPI(clock=clock)
    async with make_client(clock=clock, transport=api.transport(), cache_ttl=60) as tm:
        fresh = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
        clock.now += 61
        api.always_fail(503)
        stale = await tm.get_ticket_prices(SANDBOX_EVENT_ID)
    assert fresh and all(p.fetched_at is not None and not p.stale for p in fresh)
    assert fresh[0].fetched_at is not None and fresh[0].fetched_at.timestamp() == 1_700_000_000
    assert stale and all(p.stale for p in stale)
