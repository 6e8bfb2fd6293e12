"""TicketmasterClient through its public API, against respx and recorded responses."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from ticketmaster_async import (
    APIConnectionError,
    AuthenticationError,
    CircuitOpenError,
    ConfigurationError,
    Event,
    QuotaExceededError,
    ResponseValidationError,
    ServerError,
    Settings,
    TicketmasterClient,
)
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

from .clients import BASE, TEST_KEY, FakeClock, make_client
from .conftest import SEARCH_PAGES, fixture_bytes, load_fixture

EVENTS = f"{BASE}/discovery/v2/events.json"
DETAIL = re.compile(rf"{re.escape(BASE)}/discovery/v2/events/(?P<id>[^/.]+)\.json")
QUOTA_BODY = fixture_bytes("error_429_quota_violation_docs.json")


def _json(data: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(data).encode(), headers=headers)


# -- parsing through the client ------------------------------------------------------------


@pytest.mark.parametrize("name", SEARCH_PAGES)
async def test_search_page_matches_recorded_json(name: str) -> None:
    raw = load_fixture(name)
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).mock(
            return_value=httpx.Response(200, content=fixture_bytes(name))
        )
        async with make_client() as tm:
            page = await tm.search_events_page("rock", city="London")
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.url.params["keyword"] == "rock"
    assert request.url.params["city"] == "London"
    assert request.url.params["apikey"] == TEST_KEY
    assert page.number == raw["page"]["number"]
    assert page.size == raw["page"]["size"]
    assert page.total_elements == raw["page"]["totalElements"]
    assert page.total_pages == raw["page"]["totalPages"]
    assert [e.id for e in page.items] == [e["id"] for e in raw["_embedded"]["events"]]
    assert [e.name for e in page.items] == [e["name"] for e in raw["_embedded"]["events"]]


@pytest.mark.parametrize(
    "name", ["docs_example_event_details.json", "event_us_rv_pass_2016_sdkjs.json"]
)
async def test_event_details_match_recorded_json(name: str) -> None:
    raw = load_fixture(name)
    with respx.mock(assert_all_called=True) as router:
        router.get(DETAIL).mock(return_value=httpx.Response(200, content=fixture_bytes(name)))
        async with make_client() as tm:
            event = await tm.get_event_details(raw["id"])
    assert event is not None
    assert event == Event.model_validate(raw)
    assert event.venue is not None and event.venue.id == raw["_embedded"]["venues"][0]["id"]


async def test_venue_attraction_classification_details() -> None:
    venue = load_fixture("venue_details_2016_sdkjs.json")
    attraction = load_fixture("attraction_details_2016_sdkjs.json")
    classification = load_fixture("classification_details_2016_sdkjs.json")
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/discovery/v2/venues/{venue['id']}.json").respond(json=venue)
        router.get(f"{BASE}/discovery/v2/attractions/{attraction['id']}.json").respond(
            json=attraction
        )
        cid = classification["segment"]["id"]
        router.get(f"{BASE}/discovery/v2/classifications/{cid}.json").respond(json=classification)
        async with make_client() as tm:
            got_venue = await tm.get_venue(venue["id"])
            got_attraction = await tm.get_attraction(attraction["id"])
            got_classification = await tm.get_classification(cid)
    assert got_venue is not None and got_venue.name == venue["name"]
    assert got_venue.latitude == float(venue["location"]["latitude"])
    assert got_attraction is not None and got_attraction.name == attraction["name"]
    assert got_classification is not None and got_classification.id == cid


async def test_search_venues_and_attractions() -> None:
    venue = load_fixture("venue_details_2016_sdkjs.json")
    attraction = load_fixture("attraction_details_2016_sdkjs.json")
    page = {"size": 20, "totalElements": 1, "totalPages": 1, "number": 0}
    with respx.mock(assert_all_called=True) as router:
        venues = router.get(f"{BASE}/discovery/v2/venues.json").respond(
            json={"_embedded": {"venues": [venue]}, "page": page}
        )
        router.get(f"{BASE}/discovery/v2/attractions.json").respond(
            json={"_embedded": {"attractions": [attraction]}, "page": page}
        )
        async with make_client() as tm:
            found_venues = await tm.search_venues("arena", country_code="US", sort="name,asc")
            found_attractions = await tm.search_attractions("rock")
    assert [v.id for v in found_venues] == [venue["id"]]
    assert venues.calls.last.request.url.params["countryCode"] == "US"
    assert [a.id for a in found_attractions] == [attraction["id"]]


async def test_empty_search_has_no_embedded() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(EVENTS).respond(
            json={"page": {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0}}
        )
        async with make_client() as tm:
            page = await tm.search_events_page("nothing-matches")
            assert page.items == [] and page.total_elements == 0
            assert [e async for e in tm.iter_events("nothing-matches")] == []


async def test_one_malformed_event_never_loses_the_page(caplog: pytest.LogCaptureFixture) -> None:
    raw = load_fixture("search_us_page0_2017.json")
    events = raw["_embedded"]["events"]
    events.insert(3, {"name": "no id at all"})
    events.insert(5, "not even an object")
    with respx.mock(assert_all_called=True) as router:
        router.get(EVENTS).respond(json=raw)
        async with make_client() as tm:
            found = await tm.search_events()
    assert len(found) == len(events) - 2
    assert any("malformed Event" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "body", [b"<html>oops</html>", b'{"_embedded": {"events": [', b"", b"\xff\xfe"]
)
async def test_non_json_2xx_is_response_validation_error(body: bytes) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(DETAIL).mock(return_value=httpx.Response(200, content=body))
        async with make_client() as tm:
            with pytest.raises(ResponseValidationError) as info:
                await tm.get_event_details("G5diZfkn0B-bh")
    assert info.value.status_code == 200
    assert info.value.body_start == body[:200].decode("utf-8", "replace")


async def test_wrong_shape_is_response_validation_error() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(DETAIL).respond(json=[1, 2, 3])
        router.get(EVENTS).respond(json="a string")
        async with make_client() as tm:
            with pytest.raises(ResponseValidationError):
                await tm.get_event_details("G5diZfkn0B-bh")
            with pytest.raises(ResponseValidationError):
                await tm.search_events()


# -- 404 and caching -----------------------------------------------------------------------


async def test_404_is_none_and_cached_briefly() -> None:
    clock = FakeClock()
    with respx.mock(assert_all_called=True) as router:
        route = router.get(DETAIL).mock(
            return_value=httpx.Response(
                404, content=fixture_bytes("error_404_event_not_found_DIS1004.json")
            )
        )
        async with make_client(clock=clock) as tm:
            assert await tm.get_event_details("unknownid") is None
            assert await tm.get_event_details("unknownid") is None
            assert route.call_count == 1
            clock.now += 301
            assert await tm.get_event_details("unknownid") is None
            assert route.call_count == 2


async def test_fresh_hits_skip_network_until_ttl_then_refetch() -> None:
    clock = FakeClock()
    with respx.mock(assert_all_called=True) as router:
        route = router.get(DETAIL).mock(
            return_value=httpx.Response(
                200, content=fixture_bytes("docs_example_event_details.json")
            )
        )
        async with make_client(clock=clock, cache_ttl=60) as tm:
            for _ in range(5):
                assert await tm.get_event_details("G5diZfkn0B-bh") is not None
            assert route.call_count == 1
            await tm.get_event_details("G5diZfkn0B-bh", refresh=True)
            assert route.call_count == 2
            clock.now += 61
            await tm.get_event_details("G5diZfkn0B-bh")
            assert route.call_count == 3
            stats = await tm.usage()
    assert stats.cache_hits == 4
    assert stats.cache_misses == 3
    assert stats.requests_today == 3
    assert stats.cache_hit_rate == pytest.approx(4 / 7)


async def test_cache_key_ignores_param_order_but_not_values() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).mock(
            return_value=httpx.Response(200, content=fixture_bytes("search_us_page0_2017.json"))
        )
        async with make_client() as tm:
            await tm.search_events("rock", city="Chicago", country_code="US")
            await tm.search_events(city="Chicago", country_code="US", query="rock")
            assert route.call_count == 1
            await tm.search_events("rock", city="Denver", country_code="US")
            assert route.call_count == 2


async def test_invalidate_event_and_clear_cache() -> None:
    with respx.mock(assert_all_called=True) as router:
        detail = router.get(DETAIL).mock(
            return_value=httpx.Response(
                200, content=fixture_bytes("docs_example_event_details.json")
            )
        )
        search = router.get(EVENTS).mock(
            return_value=httpx.Response(200, content=fixture_bytes("search_us_page0_2017.json"))
        )
        async with make_client() as tm:
            await tm.get_event_details("G5diZfkn0B-bh")
            await tm.get_ticket_prices("G5diZfkn0B-bh")
            await tm.search_events()
            assert detail.call_count == 1
            assert await tm.invalidate_event("G5diZfkn0B-bh") >= 1
            await tm.get_event_details("G5diZfkn0B-bh")
            await tm.search_events()
            assert (detail.call_count, search.call_count) == (2, 1)
            assert await tm.clear_cache() >= 2
            await tm.search_events()
            assert search.call_count == 2
            stats = await tm.usage()
            assert stats.requests_today == 4  # clearing the cache never touches usage


async def test_single_flight_shares_one_request() -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request, **_: str) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, content=fixture_bytes("docs_example_event_details.json"))

    with respx.mock(assert_all_called=True) as router:
        route = router.get(DETAIL).mock(side_effect=slow)
        async with make_client() as tm:
            calls = [asyncio.create_task(tm.get_event_details("G5diZfkn0B-bh")) for _ in range(50)]
            await asyncio.sleep(0.01)
            calls[0].cancel()  # one impatient caller must not cancel it for the others
            release.set()
            results = await asyncio.gather(*calls, return_exceptions=True)
            stats = await tm.usage()
    assert route.call_count == 1
    assert isinstance(results[0], asyncio.CancelledError)
    assert all(isinstance(r, Event) and r.id == "G5diZfkn0B-bh" for r in results[1:])
    assert stats.coalesced == 49


# -- input checks: nothing is sent ---------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["", "../x", "a/b", "a b", "a?b", "x" * 65, "é", None, 12])
async def test_bad_ids_are_configuration_errors_before_any_request(bad_id: Any) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            for method in (
                tm.get_event_details,
                tm.get_venue,
                tm.get_attraction,
                tm.get_classification,
                tm.get_ticket_prices,
                tm.invalidate_event,
            ):
                with pytest.raises(ConfigurationError):
                    await method(bad_id)
        assert router.calls.call_count == 0


@pytest.mark.parametrize(
    "filters",
    [
        {"size": 201},
        {"size": 0},
        {"size": True},
        {"size": 200, "page": 5},
        {"size": 20, "page": 50},
        {"page": -1},
        {"start": datetime(2024, 1, 1)},
        {"end": "2024-01-01"},
        {
            "start": datetime(2024, 2, 1, tzinfo=timezone.utc),
            "end": datetime(2024, 1, 1, tzinfo=timezone.utc),
        },
        {"country_code": "USA"},
        {"sort": "popularity"},
        {"source": "stubhub"},
        {"venue_id": "a/b"},
        {"city": ""},
    ],
)
async def test_bad_filter_values_are_configuration_errors(filters: dict[str, Any]) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            with pytest.raises(ConfigurationError):
                await tm.search_events("rock", **filters)
            with pytest.raises(ConfigurationError):
                async for _ in tm.iter_events("rock", **filters):
                    pass  # pragma: no cover
        assert router.calls.call_count == 0


async def test_unknown_filter_is_type_error() -> None:
    async with make_client() as tm:
        with pytest.raises(TypeError, match="colour"):
            await tm.search_events("rock", colour="red")  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            async for _ in tm.iter_events(colour="red"):  # type: ignore[call-arg]
                pass  # pragma: no cover


async def test_filters_map_to_camel_case_and_utc() -> None:
    start = datetime(2024, 6, 1, 20, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).respond(json={"page": {"number": 0, "totalPages": 0}})
        async with make_client() as tm:
            await tm.search_events(
                "jazz",
                "New York",
                country_code="US",
                state_code="NY",
                postal_code="10001",
                start=start,
                end=start + timedelta(days=7),
                classification_name="Music",
                venue_id="KovZpZA7AAEA",
                attraction_id="K8vZ917Kew0",
                sort="date,asc",
                size=50,
                page=2,
                locale="*",
                source="ticketmaster,tmr",
            )
    params = dict(route.calls.last.request.url.params)
    params.pop("apikey")
    assert params == {
        "keyword": "jazz",
        "city": "New York",
        "countryCode": "US",
        "stateCode": "NY",
        "postalCode": "10001",
        "startDateTime": "2024-06-01T18:30:15Z",
        "endDateTime": "2024-06-08T18:30:15Z",
        "classificationName": "Music",
        "venueId": "KovZpZA7AAEA",
        "attractionId": "K8vZ917Kew0",
        "sort": "date,asc",
        "size": "50",
        "page": "2",
        "locale": "*",
        "source": "ticketmaster,tmr",
    }


# -- pagination ----------------------------------------------------------------------------


def _paged_handler(total: int) -> Any:
    template = load_fixture("search_us_page0_2017.json")["_embedded"]["events"][0]

    def handler(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["size"])
        page = int(request.url.params["page"])
        first = size * page
        items = [
            dict(template, id=f"EV{n:05d}", name=f"Event {n}")
            for n in range(first, min(total, first + size))
        ]
        body: dict[str, Any] = {
            "page": {
                "size": size,
                "totalElements": total,
                "totalPages": -(-total // size),
                "number": page,
            }
        }
        if items:
            body["_embedded"] = {"events": items}
        return httpx.Response(200, json=body)

    return handler


async def test_iter_events_follows_pages_and_stops_at_limit() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).mock(side_effect=_paged_handler(total=730))
        async with make_client() as tm:
            ids = [e.id async for e in tm.iter_events("rock", limit=450)]
    assert ids == [f"EV{n:05d}" for n in range(450)]
    assert [c.request.url.params["page"] for c in route.calls] == ["0", "1", "2"]
    assert {c.request.url.params["size"] for c in route.calls} == {"200"}


async def test_iter_events_stops_at_last_page() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).mock(side_effect=_paged_handler(total=45))
        async with make_client() as tm:
            ids = [e.id async for e in tm.iter_events(size=20)]
    assert len(ids) == 45
    assert route.call_count == 3


async def test_iter_events_never_requests_past_deep_paging_cap() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).mock(side_effect=_paged_handler(total=173216))
        async with make_client() as tm:
            count = 0
            async for _ in tm.iter_events("rock", size=150):
                count += 1
    pages = [int(c.request.url.params["page"]) for c in route.calls]
    assert pages == list(range(7))  # 150 * 6 = 900 < 1000; 150 * 7 = 1050 would break the cap
    assert all(150 * p < 1000 for p in pages)
    assert count == 150 * 7


async def test_iter_events_limit_zero_sends_nothing() -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        async with make_client() as tm:
            assert [e async for e in tm.iter_events(limit=0)] == []
        assert router.calls.call_count == 0


# -- errors, the key, quota ------------------------------------------------------------------


async def test_key_never_in_logs_errors_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = json.dumps(
        {
            "fault": {
                "faultstring": f"Invalid ApiKey {TEST_KEY}",
                "detail": {"errorcode": "oauth.v2.InvalidApiKey"},
            }
        }
    )
    with respx.mock(assert_all_called=True) as router:
        router.get(DETAIL).mock(return_value=httpx.Response(401, content=echo.encode()))
        router.get(EVENTS).mock(side_effect=httpx.ConnectError(f"boom {TEST_KEY}"))
        async with make_client(debug=True, max_retries=1) as tm:
            with pytest.raises(AuthenticationError) as auth:
                await tm.get_event_details("G5diZfkn0B-bh")
            with pytest.raises(APIConnectionError) as conn:
                await tm.search_events("rock")
            shown = [repr(tm), repr(tm.settings), str(tm.settings)]
    texts = [r.getMessage() for r in caplog.records]
    texts += [str(auth.value), repr(auth.value), str(conn.value), repr(conn.value), *shown]
    texts += [str(auth.value.detail)]
    assert any("HTTP Request" in t for t in texts)
    assert any("GET /discovery/v2/events" in t for t in texts)
    for text in texts:
        assert TEST_KEY not in text


async def test_local_daily_budget_never_exceeded() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).respond(json={"page": {"number": 0, "totalPages": 0}})
        async with make_client(daily_limit=3) as tm:
            for n in range(3):
                await tm.search_events(f"q{n}")
            with pytest.raises(QuotaExceededError) as info:
                await tm.search_events("one too many")
            stats = await tm.usage()
    assert route.call_count == 3
    assert info.value.reset_at is not None
    assert "nothing was sent" in str(info.value)
    assert stats.quota_remaining == 0
    assert stats.errors == {"QuotaExceededError": 1}


async def test_server_headers_lower_what_is_left() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(EVENTS).respond(
            json={"page": {"number": 0, "totalPages": 0}},
            # An hour after the fake clock's start (a reset over 48 h ahead is ignored).
            headers={"Rate-Limit-Available": "2", "Rate-Limit-Reset": "1700003600000"},
        )
        async with make_client() as tm:
            await tm.search_events("a")
            stats = await tm.usage()
    assert stats.quota_remaining == 2
    assert stats.quota_resets_at == datetime.fromtimestamp(1_700_003_600, tz=timezone.utc)


async def test_server_quota_violation_stops_sending() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(EVENTS).mock(return_value=httpx.Response(429, content=QUOTA_BODY))
        async with make_client() as tm:
            with pytest.raises(QuotaExceededError) as first:
                await tm.search_events("a")
            with pytest.raises(QuotaExceededError):
                await tm.search_events("b")
    assert route.call_count == 1  # not retried, and the next call sent nothing
    assert first.value.error_code == "policies.ratelimit.QuotaViolation"


async def test_retries_then_success_and_breaker_then_stale() -> None:
    clock = FakeClock()
    responses = iter(
        [
            httpx.Response(503),
            httpx.Response(503),
            httpx.Response(200, json={"id": "abc", "name": "X"}),
        ]
    )
    with respx.mock(assert_all_called=True) as router:
        route = router.get(DETAIL).mock(side_effect=lambda request, **_: next(responses))
        async with make_client(clock=clock, cache_ttl=10, breaker_threshold=3) as tm:
            event = await tm.get_event_details("abc")
            assert event is not None and event.name == "X"
            assert route.call_count == 3
            route.mock(return_value=httpx.Response(503))
            clock.now += 11  # the entry is now stale
            stale = await tm.get_event_details("abc")
            assert stale is not None and stale.name == "X"
            sent = route.call_count
            assert sent == 3 + 3  # the breaker opened after 3 consecutive failures
            assert await tm.get_event_details("abc") is not None  # stale, nothing sent
            assert route.call_count == sent
            with pytest.raises(CircuitOpenError):
                await tm.get_event_details("other")
            assert route.call_count == sent
            clock.now += 31  # half-open: exactly one probe
            route.mock(return_value=httpx.Response(200, json={"id": "other", "name": "Y"}))
            probed = await tm.get_event_details("other")
            assert probed is not None and probed.name == "Y"
            assert route.call_count == sent + 1
            stats = await tm.usage()
    assert stats.stale_served == 2
    assert stats.breaker_state == "closed"
    assert stats.errors == {"CircuitOpenError": 1}


async def test_final_server_error_without_stale_is_raised() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(DETAIL).mock(return_value=httpx.Response(502))
        async with make_client(max_retries=2) as tm:
            with pytest.raises(ServerError) as info:
                await tm.get_event_details("abc")
    assert info.value.status_code == 502
    assert route.call_count == 3


async def test_server_wait_longer_than_cap_raises_at_once() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(DETAIL).mock(
            return_value=httpx.Response(503, headers={"Retry-After": "120"})
        )
        async with make_client(retry_max_wait=30) as tm:
            with pytest.raises(ServerError) as info:
                await tm.get_event_details("abc")
    assert route.call_count == 1
    assert info.value.retry_after == 120


# -- lifecycle and settings ----------------------------------------------------------------


async def test_closed_client_raises_runtime_error() -> None:
    async with make_client() as tm:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        await tm.search_events()
    with pytest.raises(RuntimeError):
        await tm.usage()
    await tm.aclose()  # idempotent


def test_missing_key_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKETMASTER_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="TICKETMASTER_API_KEY"):
        TicketmasterClient()


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETMASTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("TICKETMASTER_CACHE_TTL", "12.5")
    monkeypatch.setenv("TICKETMASTER_ENVIRONMENT", "development")
    settings = Settings()
    assert settings.cache_ttl == 12.5
    assert settings.daily_limit == 1000
    assert TEST_KEY not in repr(settings)
    with pytest.raises(ConfigurationError):
        Settings(requests_per_second=0)


async def test_refresh_never_falls_back_to_a_stale_answer() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(DETAIL).respond(json={"id": "abc", "name": "X"})
        async with make_client(max_retries=0) as tm:
            assert await tm.get_event_details("abc") is not None
            route.mock(return_value=httpx.Response(503))
            with pytest.raises(ServerError):
                await tm.get_event_details("abc", refresh=True)
            cached = await tm.get_event_details("abc")  # the fresh entry is still there
    assert cached is not None and cached.name == "X"


async def test_single_flight_holds_on_a_cold_sqlite_store(tmp_path: Path) -> None:
    # On a fresh client the callers reach the store one by one while it opens; a read that
    # straddles the end of the flight must still see its answer, not start a second request.
    api = FakeDiscoveryAPI(requests_per_second=None)
    for round_number in range(10):
        async with make_client(
            transport=api.transport(), db_path=str(tmp_path / f"cold{round_number}.sqlite3")
        ) as tm:
            results = await asyncio.gather(
                *(tm.get_event_details(SANDBOX_EVENT_ID) for _ in range(200))
            )
        assert all(r is not None and r.id == SANDBOX_EVENT_ID for r in results)
    assert api.request_count == 10


async def test_unusable_db_path_falls_back_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    api = FakeDiscoveryAPI(requests_per_second=None)
    async with make_client(
        transport=api.transport(), db_path=str(blocker / "state.sqlite3"), daily_limit=2
    ) as tm:
        first = await tm.get_event_details(SANDBOX_EVENT_ID)
        again = await tm.get_event_details(SANDBOX_EVENT_ID)  # served by the private cache
        await tm.search_events("rock")
        with pytest.raises(QuotaExceededError):  # the limits stay in force
            await tm.search_events("jazz")
    assert first is not None and again == first
    assert api.request_count == 2
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1


async def test_a_loop_of_cache_hits_lets_other_tasks_run(tmp_path: Path) -> None:
    # Cache hits need not suspend (an in-process read, or a SQLite read on the loop thread); a
    # bot looping over hundreds of them must still let its other tasks (heartbeats...) run.
    api = FakeDiscoveryAPI(requests_per_second=None)
    async with make_client(
        transport=api.transport(), db_path=str(tmp_path / "state.sqlite3")
    ) as tm:
        assert await tm.get_event_details(SANDBOX_EVENT_ID) is not None
        await tm.get_event_details(SANDBOX_EVENT_ID)  # the entry is written and read back
        ticks = 0
        stop = False

        async def heartbeat() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        beating = asyncio.ensure_future(heartbeat())
        await asyncio.sleep(0)
        before = ticks
        for _ in range(640):
            assert await tm.get_event_details(SANDBOX_EVENT_ID) is not None
        during = ticks - before
        stop = True
        await beating
    assert api.request_count == 1
    assert during >= 9  # one yield per 64 hits: 10 here
