"""The fake Discovery API over real loopback sockets: FakeServer, serve() and the CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from ticketmaster_async import _geohash as geohash
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI, FakeServer, serve
from ticketmaster_async.testing import __main__ as cli
from ticketmaster_async.testing import _server as server_module

pytestmark = pytest.mark.integration

KEY = "loopback-key-51c7"
EVENTS = "/discovery/v2/events.json"
ROOT = Path(__file__).resolve().parents[2]
WAIT = 10.0  # upper bound on any wait for a subprocess


@pytest.fixture
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


@pytest.fixture
async def server(api: FakeDiscoveryAPI) -> AsyncIterator[FakeServer]:
    async with FakeServer(api) as running:
        yield running


@pytest.fixture
async def client(server: FakeServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
        yield http


async def get(client: httpx.AsyncClient, path: str = EVENTS, **params: str) -> httpx.Response:
    return await client.get(path, params={"apikey": KEY, **params})


async def raw_exchange(server: FakeServer, request: bytes) -> bytes:
    """Send raw bytes and half-close; return everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request)
        writer.write_eof()
        await writer.drain()
        return await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()
        await writer.wait_closed()


# --------------------------------------------------------------------------- FakeServer


async def test_keep_alive_reuses_one_connection(
    server: FakeServer, client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    responses = [await get(client, city="Phoenix", size="3", page=str(n)) for n in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert [r.json()["page"]["number"] for r in responses] == [0, 1, 2, 3]
    assert responses[0].json()["page"]["totalElements"] == 10
    assert responses[0].headers["content-type"] == "application/json;charset=utf-8"
    assert responses[0].headers["rate-limit-available"] == "4999"
    assert responses[3].headers["rate-limit-available"] == "4996"
    assert server.connections_accepted == 1
    assert api.request_count == 4
    assert api.requests[0].params == {"city": "Phoenix", "size": "3", "page": "0"}


async def test_connection_close_is_honoured(server: FakeServer, client: httpx.AsyncClient) -> None:
    assert (await get(client)).status_code == 200
    response = await client.get(EVENTS, params={"apikey": KEY}, headers={"Connection": "close"})
    assert response.headers["connection"] == "close"
    assert (await get(client)).status_code == 200
    assert server.connections_accepted == 2


async def test_event_details_and_404_over_the_wire(client: httpx.AsyncClient) -> None:
    found = await get(client, f"/discovery/v2/events/{SANDBOX_EVENT_ID}.json")
    assert found.json()["name"] == "Radiohead"
    assert int(found.headers["content-length"]) == len(found.content)
    missing = await get(client, "/discovery/v2/events/unknown")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "DIS1004"
    unauthorized = await client.get(EVENTS)
    assert unauthorized.status_code == 401


async def test_percent_encoded_query_values(client: httpx.AsyncClient) -> None:
    response = await get(client, keyword="Whitesnake, Foreigner + Europe")
    assert [e["id"] for e in response.json()["_embedded"]["events"]] == ["1FuYv9b00bZ7GeGe"]


async def test_drop_next_is_a_transport_error(
    server: FakeServer, client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    assert (await get(client)).status_code == 200
    api.drop_next()
    with pytest.raises(httpx.TransportError):
        await get(client)
    assert (await get(client)).status_code == 200
    assert api.dropped_count == 1
    assert server.connections_accepted == 2


async def test_delay_and_read_timeout(client: httpx.AsyncClient, api: FakeDiscoveryAPI) -> None:
    api.delay_next(seconds=0.1)
    started = time.monotonic()
    assert (await get(client)).status_code == 200
    assert time.monotonic() - started >= 0.1
    api.delay_next(seconds=0.3)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await client.get(EVENTS, params={"apikey": KEY}, timeout=0.05)
    assert time.monotonic() - started < 0.3
    assert (await get(client)).status_code == 200


async def test_503_and_truncation(client: httpx.AsyncClient, api: FakeDiscoveryAPI) -> None:
    api.fail_next(status=503, headers={"Retry-After": "2"})
    failed = await get(client)
    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "2"
    assert failed.json()["fault"]["detail"]["errorcode"] == (
        "messaging.adaptors.http.flow.ServiceUnavailable"
    )
    whole = await get(client, city="London")
    api.truncate_next()
    cut = await get(client, city="London")
    assert cut.status_code == 200
    assert cut.content == whole.content[: len(whole.content) // 2]


async def test_spike_arrest_over_the_wire() -> None:
    api = FakeDiscoveryAPI(requests_per_second=1)
    async with FakeServer(api) as running, httpx.AsyncClient(base_url=running.url) as http:
        statuses = [(await get(http)).status_code for _ in range(3)]
    assert statuses == [200, 429, 429]
    assert api.spike_arrest_count == 2


async def test_closing_the_server_closes_idle_and_busy_connections(api: FakeDiscoveryAPI) -> None:
    running = FakeServer(api)
    await running.start()
    async with httpx.AsyncClient(base_url=running.url, timeout=5) as http:
        assert (await get(http)).status_code == 200  # now idle in the pool
        api.delay_next(seconds=30)
        busy = asyncio.ensure_future(get(http))
        for _ in range(100):
            if api.request_count == 2:
                break
            await asyncio.sleep(0.01)
        assert api.request_count == 2
        started = time.monotonic()
        await running.aclose()
        assert time.monotonic() - started < 5
        with pytest.raises(httpx.TransportError):
            await busy
        with pytest.raises(httpx.ConnectError):
            await get(http)
    await running.aclose()  # idempotent


async def test_lifecycle_errors(api: FakeDiscoveryAPI) -> None:
    idle = FakeServer(api)
    with pytest.raises(RuntimeError):
        _ = idle.port
    async with FakeServer(api) as running:
        with pytest.raises(RuntimeError):
            await running.start()
        with pytest.raises(OSError):  # noqa: PT011 - the port is taken
            await FakeServer(api, port=running.port).start()


async def test_ipv6_loopback_url_is_bracketed(api: FakeDiscoveryAPI) -> None:
    server = FakeServer(api, host="::1")
    try:
        await server.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert server.url == f"http://[::1]:{server.port}"
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await get(http)).status_code == 200
    finally:
        await server.aclose()


@pytest.mark.parametrize(
    ("request_bytes", "expected_status", "body_expected"),
    [
        (b"GARBAGE\r\n\r\n", b"400", False),
        (b"GET / HTTP/2.0\r\n\r\n", b"400", False),
        (b"GET / HTTP/1.1\r\nbad header line\r\n\r\n", b"400", False),
        (b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n", b"400", False),
        (b"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", b"413", False),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", b"431", False),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400", False),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX", b"400", False),
        (b"GET /discovery/v2/events/nope?apikey=k HTTP/1.0\r\n\r\n", b"404", True),
    ],
)
async def test_malformed_and_http10_requests(
    server: FakeServer, request_bytes: bytes, expected_status: bytes, body_expected: bool
) -> None:
    answer = await raw_exchange(server, request_bytes)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split(b" ")[1] == expected_status
    assert b"Connection: close" in rest
    assert (b"DIS1004" in rest) is body_expected


async def test_chunked_body_expect_continue_and_head(
    server: FakeServer, api: FakeDiscoveryAPI
) -> None:
    request = (
        b"POST /discovery/v2/events?apikey=k HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\n"
        b"HEAD /discovery/v2/events?apikey=k HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /discovery/v2/events/" + SANDBOX_EVENT_ID.encode() + b"?apikey=k HTTP/1.1\r\n"
        b"Host: x\r\nConnection: close\r\n\r\n"
    )
    answer = await raw_exchange(server, request)
    interim, post, head, get_ = answer.split(b"HTTP/1.1 ")[1:]
    assert interim == b"100 Continue\r\n\r\n"
    assert post.startswith(b"405 Method Not Allowed\r\n")
    assert post.endswith(b"}")
    assert head.startswith(b"405 Method Not Allowed\r\n")
    assert head.endswith(b"\r\n\r\n")  # same headers, no body
    assert get_.startswith(b"200 OK\r\n")
    assert b"Connection: close" in get_
    assert answer.count(b"Rate-Limit: 5000") == 3
    assert answer.endswith(b"}")
    assert b'"name":"Radiohead"' in answer
    assert [r.method for r in api.requests] == ["POST", "HEAD", "GET"]


async def test_too_many_trailers(server: FakeServer) -> None:
    trailers = b"T: x\r\n" * 101
    request = b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers + b"\r\n"
    answer = await raw_exchange(server, request)
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_client_closing_midway_is_quiet(server: FakeServer, api: FakeDiscoveryAPI) -> None:
    answer = await raw_exchange(server, b"GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    assert answer == b""  # the body never completed: nothing to answer
    api.delay_next(seconds=0.2)
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /discovery/v2/events?apikey=k HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.3)  # the server answers into a closed socket without failing
    assert api.request_count == 1


# --------------------------------------------------------------------------- serve() and the CLI


def test_serve_blocks_until_sigterm() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None)
    seen: dict[str, Any] = {}

    def exercise(url: str) -> None:
        try:
            seen["status"] = httpx.get(
                f"{url}{EVENTS}", params={"apikey": KEY}, timeout=5
            ).status_code
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    def ready(url: str) -> None:
        seen["url"] = url
        threading.Thread(target=exercise, args=(url,), daemon=True).start()

    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    serve(api, port=0, on_ready=ready)
    assert seen["url"].startswith("http://127.0.0.1:")
    assert seen["status"] == 200
    assert api.request_count == 1
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_main_prints_the_url_and_builds_the_fake(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[FakeDiscoveryAPI, dict[str, Any]]] = []

    def fake_serve(api: FakeDiscoveryAPI, **options: Any) -> None:
        calls.append((api, options))
        options["on_ready"]("http://127.0.0.1:4321")

    monkeypatch.setattr(cli, "serve", fake_serve)
    argv = ["--port", "0", "--rate", "2", "--daily-limit", "7", "--api-key", "a", "--api-key", "b"]
    assert cli.main([*argv, "--offers", "forbidden", "--top-picks", "ok"]) == 0
    assert capsys.readouterr().out == "listening on http://127.0.0.1:4321\n"
    [(api, options)] = calls
    assert options["host"] == "127.0.0.1"
    assert options["port"] == 0
    assert (api.requests_per_second, api.daily_limit) == (2.0, 7)
    assert api.api_keys == frozenset({"a", "b"})
    assert (api.offers, api.top_picks) == ("forbidden", "ok")
    assert cli.main(["--no-spike-arrest"]) == 0
    assert calls[1][0].requests_per_second is None
    assert calls[1][0].api_keys is None


def test_main_reports_a_bind_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_serve(api: FakeDiscoveryAPI, **options: Any) -> None:
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(cli, "serve", failing_serve)
    assert cli.main(["--port", "1"]) == 1
    assert "cannot serve on 127.0.0.1:1" in capsys.readouterr().err


def test_main_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--rate", "0"])
    assert exit_info.value.code == 2
    assert "requests_per_second must be positive" in capsys.readouterr().err


async def start_cli(*args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ticketmaster_async.testing",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )


async def stop(process: asyncio.subprocess.Process) -> tuple[int, bytes, bytes]:
    """Wait for exit (killing it after WAIT seconds) and collect its output."""
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), WAIT)
    except asyncio.TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout, stderr


async def test_cli_serves_on_port_0_and_exits_0_on_sigterm() -> None:
    process = await start_cli("--port", "0", "--no-spike-arrest", "--daily-limit", "2")
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        assert int(url.rsplit(":", 1)[1]) > 0
        async with httpx.AsyncClient(base_url=url, timeout=5) as http:
            first = await get(http, f"/discovery/v2/events/{SANDBOX_EVENT_ID}")
            second = await get(http, city="Birmingham")
            third = await get(http)
        assert first.json()["id"] == SANDBOX_EVENT_ID
        assert second.json()["page"]["totalElements"] == 20
        assert third.status_code == 429
        assert KEY in third.json()["fault"]["faultstring"]
    finally:
        process.send_signal(signal.SIGTERM)
        returncode, stdout, stderr = await stop(process)
    assert returncode == 0, stderr.decode()
    assert stdout == b""
    assert b"Traceback" not in stderr


async def test_cli_exits_0_on_sigint() -> None:
    process = await start_cli("--port", "0")
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), WAIT)
        assert line.startswith(b"listening on ")
    finally:
        process.send_signal(signal.SIGINT)
        returncode, _, stderr = await stop(process)
    assert returncode == 0, stderr.decode()


async def test_cli_reports_a_taken_port(api: FakeDiscoveryAPI) -> None:
    async with FakeServer(api) as running:
        process = await start_cli("--port", str(running.port))
        returncode, stdout, stderr = await stop(process)
    assert returncode == 1
    assert stdout == b""
    assert b"cannot serve on 127.0.0.1:" in stderr


async def test_connections_are_recycled_after_many_requests(
    monkeypatch: pytest.MonkeyPatch, server: FakeServer, client: httpx.AsyncClient
) -> None:
    monkeypatch.setattr(server_module, "MAX_REQUESTS_PER_CONNECTION", 2)
    statuses = [(await get(client)).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert server.connections_accepted == 3


async def test_oversized_chunked_body(monkeypatch: pytest.MonkeyPatch, server: FakeServer) -> None:
    monkeypatch.setattr(server_module, "MAX_BODY_BYTES", 4)
    request = (
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
    )
    answer = await raw_exchange(server, request)
    assert answer.startswith(b"HTTP/1.1 413 ")


async def test_unusual_status_over_the_wire(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    api.fail_next(status=599, headers={"X-Bad": "a\r\nInjected: yes"})
    response = await get(client)
    assert response.status_code == 599
    assert response.reason_phrase == "Unknown"
    assert response.headers["x-bad"] == "a  Injected: yes"
    assert "injected" not in response.headers


# --------------------------------------------------------------------------- the 0.2 endpoints


async def test_new_endpoints_over_the_wire(
    client: httpx.AsyncClient, api: FakeDiscoveryAPI
) -> None:
    def in_process(path: str, **params: str) -> object:
        return api.handle("GET", path, {"apikey": KEY, **params}).json()

    cases = [
        ("/discovery/v2/suggest.json", {"keyword": "suns", "size": "3"}),
        ("/discovery/v2/events", {"geoPoint": geohash.encode(33.4484, -112.074), "radius": "10"}),
        (EVENTS, {"localStartDateTime": "2023-01-19T00:00:00,2023-01-19T23:59:59"}),
        ("/discovery/v2/venues.json", {"stateCode": "AZ", "sort": "name,desc"}),
        ("/discovery/v2/attractions", {"classificationName": "-Sports", "size": "5"}),
        ("/discovery/v2/classifications", {"keyword": "rock"}),
        ("/discovery/v2/classifications/segments/KZFzniwnSyZfZ7v7nJ", {}),
        ("/discovery/v2/classifications/genres/KnvZfZ7vAeA.json", {}),
        ("/discovery/v2/classifications/subgenres/KZazBEonSMnZfZ7v6dt", {}),
        (f"/discovery/v2/events/{SANDBOX_EVENT_ID}/images.json", {}),
    ]
    for path, params in cases:
        response = await get(client, path, **params)
        assert response.status_code == 200, path
        assert response.json() == in_process(path, **params)
    path, params = cases[1]
    geo = (await get(client, path, **params)).json()["_embedded"]["events"]
    assert {event["units"] for event in geo} == {"MILES"}
    assert all(event["distance"] <= 10 for event in geo)
    local = (await get(client, EVENTS, **cases[2][1])).json()["_embedded"]["events"]
    assert "G5v0Z98m24-oh" in {event["id"] for event in local}  # the comma survived the wire
    bad = await get(client, EVENTS, includeTBA="maybe")
    assert bad.status_code == 400


def test_changes_while_a_server_thread_serves() -> None:
    api = FakeDiscoveryAPI(requests_per_second=None, daily_limit=1_000_000)
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    ids = api.generate_events(500, start=start, end=start + timedelta(days=60), city="Loopville")
    ready = threading.Event()
    stop_serving = threading.Event()
    urls: list[str] = []

    def run() -> None:
        async def main() -> None:
            async with FakeServer(api) as running:
                urls.append(running.url)
                ready.set()
                await asyncio.to_thread(stop_serving.wait, WAIT * 3)

        asyncio.run(main())

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert ready.wait(WAIT)
        with httpx.Client(base_url=urls[0], timeout=WAIT) as http:
            for number, event_id in enumerate(ids[:20]):
                api.update_event(event_id, name=f"Loop Renamed {number}")
                if number % 2:
                    api.remove_event(event_id)
                found = http.get(
                    EVENTS, params={"apikey": KEY, "keyword": "loop renamed", "size": "200"}
                ).json()
                names = {event["name"] for event in found.get("_embedded", {}).get("events", [])}
                assert names == {f"Loop Renamed {n}" for n in range(0, number + 1, 2)}
            listed = http.get(EVENTS, params={"apikey": KEY, "city": "Loopville", "size": "1"})
            assert listed.json()["page"]["totalElements"] == 490
    finally:
        stop_serving.set()
        thread.join(WAIT)
    assert not thread.is_alive()
