"""Answers per request: search pages warm the per-event cache, get_events asks for many ids
at once, exhaustive iteration reads past the deep-paging cap. Every count is exact, at the
fake API."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ticketmaster_async import ConfigurationError, Event, Settings, TicketmasterClient
from ticketmaster_async._constants import DEEP_PAGING_CAP
from ticketmaster_async.testing import FakeDiscoveryAPI, FakeServer

from .clients import TEST_KEY, FakeClock, make_client

UTC = timezone.utc
#: The FakeClock's start (2023-11-14) and a catalogue window after it.
NOW = datetime.fromtimestamp(FakeClock().now, tz=UTC)
WINDOW = (NOW + timedelta(days=1), NOW + timedelta(days=90))
SEARCH = "/discovery/v2/events.json"
DETAILS = "/discovery/v2/events/"


@asynccontextmanager
async def client(
    api: FakeDiscoveryAPI, clock: FakeClock, **settings: Any
) -> AsyncIterator[TicketmasterClient]:
    async with make_client(clock=clock, transport=api.transport(), **settings) as tm:
        yield tm


def fake() -> tuple[FakeDiscoveryAPI, FakeClock]:
    clock = FakeClock()
    return FakeDiscoveryAPI(clock=clock), clock


def searches(api: FakeDiscoveryAPI) -> int:
    return len([r for r in api.requests if r.path == SEARCH])


def details(api: FakeDiscoveryAPI) -> int:
    return len([r for r in api.requests if r.path.startswith(DETAILS)])


# -- search pages warm the per-event cache --------------------------------------------------


async def test_a_search_page_warms_every_event_of_it() -> None:
    api, clock = fake()
    async with client(api, clock) as tm:
        page = await tm.search_events(city="Birmingham", size=20)
        assert api.request_count == 1
        for found in page:
            event = await tm.get_event_details(found.id)
            assert event == Event.model_validate(api.get_event(found.id))
            assert await tm.get_ticket_prices(found.id) is not None  # offers are off
        assert api.request_count == 1  # 20 details and 20 price lists: no request
        stats = await tm.usage()
    assert (stats.requests_today, stats.cache_hits) == (1, 40)


async def test_invalidate_event_drops_a_warmed_entry_and_refresh_still_fetches() -> None:
    api, clock = fake()
    async with client(api, clock) as tm:
        [first, second] = await tm.search_events(city="Birmingham", size=2)
        assert await tm.invalidate_event(first.id) >= 1
        await tm.get_event_details(first.id)
        await tm.get_event_details(second.id)
        assert [r.path for r in api.requests[1:]] == [f"{DETAILS}{first.id}.json"]
        await tm.get_event_details(second.id, refresh=True)
        assert details(api) == 2


async def test_warmed_entries_expire_with_the_cache_ttl() -> None:
    api, clock = fake()
    async with client(api, clock, cache_ttl=60) as tm:
        [found] = await tm.search_events(city="Birmingham", size=1)
        clock.now += 59
        await tm.get_event_details(found.id)
        assert details(api) == 0
        clock.now += 2
        await tm.get_event_details(found.id)
        assert details(api) == 1


async def test_the_warmed_key_follows_the_search_locale() -> None:
    api, clock = fake()
    async with client(api, clock) as tm:
        [found] = await tm.search_events(city="Birmingham", size=1, locale="*")
        await tm.get_event_details(found.id, locale="*")
        assert details(api) == 0
        await tm.get_event_details(found.id)  # another locale: another answer
        assert details(api) == 1


async def test_a_search_with_extra_params_warms_nothing() -> None:
    api, clock = fake()
    async with client(api, clock) as tm:
        [found] = await tm.search_events(
            city="Birmingham", size=1, extra_params={"includeLicensedContent": "yes"}
        )
        await tm.get_event_details(found.id)
    assert details(api) == 1


async def test_warmed_entries_are_shared_through_the_sqlite_file(tmp_path: Path) -> None:
    api, clock = fake()
    path = str(tmp_path / "state.sqlite3")
    async with client(api, clock, db_path=path) as tm:
        found = await tm.search_events(city="Birmingham", size=20)
    async with client(api, clock, db_path=path) as other:  # another client, same file
        for event in found:
            assert await other.get_event_details(event.id) is not None
    assert api.request_count == 1


# -- get_events --------------------------------------------------------------------------------


def catalogue(count: int, *, seed: int = 0) -> tuple[FakeDiscoveryAPI, FakeClock, list[str]]:
    api, clock = fake()
    ids = api.generate_events(count, start=WINDOW[0], end=WINDOW[1], seed=seed)
    return api, clock, ids


async def test_get_events_asks_for_200_ids_a_request() -> None:
    api, clock, ids = catalogue(450)
    async with client(api, clock) as tm:
        found = await tm.get_events(ids)
    assert list(found) == ids
    assert all(event is not None and event.id == key for key, event in found.items())
    assert (searches(api), details(api)) == (3, 0)
    sent = [r.params for r in api.requests]
    assert [len(p["id"].split(",")) for p in sent] == [200, 200, 50]
    assert all(
        (p["includeTBA"], p["includeTBD"], p["includeTest"], p["size"]) == ("yes",) * 3 + ("200",)
        for p in sent
    )


async def test_cached_ids_cost_nothing_and_duplicates_are_asked_once() -> None:
    api, clock, ids = catalogue(30)
    async with client(api, clock) as tm:
        await tm.get_event_details(ids[0])
        await tm.search_events(ids=ids[1:5])  # warms four more
        before = api.request_count
        asked = [ids[7], ids[0], ids[7], ids[3], ids[9], ids[0]]
        found = await tm.get_events(asked)
        assert list(found) == [ids[7], ids[0], ids[3], ids[9]]
        [request] = api.requests[before:]
        assert request.params["id"].split(",") == [ids[7], ids[9]]
        again = await tm.get_events(asked)
        assert api.request_count == before + 1  # everything is cached now
        assert again == found


async def test_found_unsearchable_and_unknown_ids_in_input_order() -> None:
    api, clock, ids = catalogue(5)
    past = dict(api.get_event(ids[0]) or {}, id="PastEvent0001", name="Over and done")
    api.add_event(past, searchable=False)
    asked = ["NoSuchEvent01", ids[1], "PastEvent0001", ids[2], "NoSuchEvent02"]
    async with client(api, clock) as tm:
        found = await tm.get_events(asked)
    assert list(found) == asked
    assert found["NoSuchEvent01"] is None and found["NoSuchEvent02"] is None
    assert found["PastEvent0001"] is not None and found["PastEvent0001"].name == "Over and done"
    assert found[ids[1]] is not None and found[ids[2]] is not None
    # One combined search, then one details request for each id it did not return.
    assert (searches(api), details(api)) == (1, 3)


async def test_450_ids_of_which_50_are_unsearchable_cost_53_requests() -> None:
    api, clock, ids = catalogue(400)
    hidden = []
    for n in range(50):
        raw = dict(api.get_event(ids[n]) or {}, id=f"Unlisted{n:04d}")
        api.add_event(raw, searchable=False)
        hidden.append(raw["id"])
    asked = ids + hidden
    async with client(api, clock) as tm:
        found = await tm.get_events(asked)
    assert list(found) == asked and all(found.values())
    assert (searches(api), details(api)) == (3, 50)


async def test_a_refused_combined_search_switches_to_per_id_for_a_day() -> None:
    api, clock, ids = catalogue(4)
    api.fail_next(
        status=400,
        path=SEARCH,
        body={"errors": [{"code": "DIS1009", "detail": "id lists refused", "status": "400"}]},
    )
    async with client(api, clock) as tm:
        found = await tm.get_events(ids)
        assert all(found.values())
        assert (searches(api), details(api)) == (1, 4)
        await tm.get_events(ids, refresh=True)  # remembered: straight to per-id
        assert (searches(api), details(api)) == (1, 8)
        clock.now += 86_400 + 1  # a day later the combined form is tried again
        await tm.get_events(ids, refresh=True)
        assert (searches(api), details(api)) == (2, 8)


async def test_identical_concurrent_get_events_share_their_requests() -> None:
    api, clock, ids = catalogue(10)
    async with client(api, clock) as tm:
        first, second = await asyncio.gather(tm.get_events(ids), tm.get_events(ids))
    assert first == second
    assert api.request_count == 1


@pytest.mark.parametrize("bad", ["G5diZfkn0B-bh", ["ok", "a/b"], [None], 12])
async def test_bad_ids_send_nothing(bad: Any) -> None:
    api, clock = fake()
    async with client(api, clock) as tm:
        with pytest.raises(ConfigurationError):
            await tm.get_events(bad)
    assert api.request_count == 0


async def test_get_events_of_nothing_sends_nothing() -> None:
    api, clock = fake()
    async with client(api, clock) as tm:
        assert await tm.get_events([]) == {}
    assert api.request_count == 0


# -- exhaustive iteration -----------------------------------------------------------------------


def _start(event: Event) -> datetime:
    assert event.start is not None
    return event.start


async def test_exhaustive_iteration_reads_every_event_past_the_cap(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api, clock, ids = catalogue(3500)
    async with client(api, clock) as tm:
        with caplog.at_level(logging.WARNING):
            found = [
                e
                async for e in tm.iter_events(
                    city="Fakeville", start=WINDOW[0], end=WINDOW[1], exhaustive=True
                )
            ]
    assert sorted(e.id for e in found) == sorted(ids)  # every one, each once
    assert [_start(e) for e in found] == sorted(_start(e) for e in found)
    pages = searches(api)
    assert pages <= math.ceil(3500 / 200) * 1.15
    windows = [r for r in api.requests if r.params["page"] == "0"]
    assert len(windows) >= 3  # several windows, each past the cap
    assert not [r for r in caplog.records if "not returned" in r.getMessage()]


async def test_exhaustive_iteration_defaults_to_now_and_two_years() -> None:
    api, clock, ids = catalogue(1200)
    api.generate_events(5, start=NOW + timedelta(days=800), end=NOW + timedelta(days=900), seed=9)
    async with client(api, clock) as tm:
        found = [e.id async for e in tm.iter_events(city="Fakeville", exhaustive=True)]
    assert sorted(found) == sorted(ids)  # the five beyond two years are left out
    first = api.requests[0].params
    assert first["startDateTime"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["sort"] == "date,asc"


async def test_without_exhaustive_the_cap_cuts_results_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api, clock, ids = catalogue(1500)
    async with client(api, clock) as tm:
        with caplog.at_level(logging.WARNING):
            found = [e.id async for e in tm.iter_events(city="Fakeville")]
    assert len(found) == DEEP_PAGING_CAP and set(found) <= set(ids)
    [warning] = [r for r in caplog.records if "not returned" in r.getMessage()]
    assert "500 of 1500" in warning.getMessage()
    assert "exhaustive=True" in warning.getMessage()


async def test_exhaustive_respects_limit_and_refuses_page_and_other_sorts() -> None:
    api, clock, _ids = catalogue(450)
    async with client(api, clock) as tm:
        found = [e async for e in tm.iter_events(city="Fakeville", exhaustive=True, limit=250)]
        assert len(found) == 250 and searches(api) == 2
        for bad in ({"page": 1}, {"sort": "name,asc"}):
            with pytest.raises(ConfigurationError):
                async for _ in tm.iter_events(exhaustive=True, **bad):
                    pass  # pragma: no cover


async def test_exhaustive_over_real_sockets() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    start = datetime.now(UTC) + timedelta(days=1)
    ids = api.generate_events(1300, start=start, end=start + timedelta(days=30), seed=3)
    async with FakeServer(api) as server:
        settings = Settings(
            api_key=TEST_KEY,
            base_url=server.url,
            db_path=":memory:",
            offers=False,
            requests_per_second=1000,
        )
        async with TicketmasterClient(settings) as tm:
            found = [e.id async for e in tm.iter_events(city="Fakeville", exhaustive=True)]
    assert sorted(found) == sorted(ids)
    assert api.request_count <= math.ceil(1300 / 200) * 1.15 + 1


async def test_events_sharing_the_instant_at_a_window_boundary_are_all_read() -> None:
    api, clock, ids = catalogue(1000)
    starts = sorted(_start(Event.model_validate(api.get_event(i))) for i in ids)
    tie = starts[980]
    template = api.get_event(ids[0]) or {}
    tied = [f"TiedEvent{n:04d}" for n in range(60)]
    for event_id in tied:  # 60 more events at the instant where the first window fills up
        api.add_event(dict(template, id=event_id))
        api.update_event(event_id, start=tie)
    async with client(api, clock) as tm:
        found = [
            e.id
            async for e in tm.iter_events(
                city="Fakeville", start=WINDOW[0], end=WINDOW[1], exhaustive=True
            )
        ]
    assert sorted(found) == sorted([*ids, *tied])
