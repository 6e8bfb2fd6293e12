"""``watch`` and ``history``: changes reported one line each (or one JSON object each) until
Ctrl-C, against a fake API whose events change between rounds; the price history that
searches record.

In-process, the client's sleep is the test's clock: after each round it makes the next
scripted change to the fake, and after the last it raises ``KeyboardInterrupt`` (Ctrl-C). In
subprocesses, a real SIGINT stops the watch.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ticketmaster_async import FieldChange, cli
from ticketmaster_async._cli import render
from ticketmaster_async._cli.watch import NAME_PREFIX, default_name
from ticketmaster_async._store.sqlite import SQLiteStore
from ticketmaster_async.testing import SANDBOX_EVENT_ID, SANDBOX_VENUE_ID, FakeDiscoveryAPI

from .cli_support import (
    GB_EVENT_ID,
    REPO,
    TIMEOUT,
    clean_env,
    clear_environment,
    error_lines,
    install_fake,
    run_main,
    widest_line,
)

Step = Callable[[FakeDiscoveryAPI], None]
EVERY = "60"
WINDOW = ("--start", "2015-01-01T00:00:00Z", "--end", "2035-01-01T00:00:00Z")


class Rounds:
    """The client's sleep during a watch: after each round (the fake saw new requests) the
    next step changes the fake; after the last step, Ctrl-C."""

    def __init__(self, api: FakeDiscoveryAPI, steps: Iterable[Step] = ()) -> None:
        self.api = api
        self.steps = list(steps)
        self.seen = 0
        self.rounds = 0

    async def sleep(self, seconds: float) -> None:
        if seconds < 1:  # a limiter's wait, not the watch's: real and short
            await asyncio.sleep(seconds)
            return
        if self.api.request_count == self.seen:
            return  # a later part of the same wait
        self.seen = self.api.request_count
        self.rounds += 1
        if not self.steps:
            raise KeyboardInterrupt
        self.steps.pop(0)(self.api)


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clear_environment(monkeypatch)
    monkeypatch.setenv("TICKETMASTER_DB_PATH", str(tmp_path / "state.sqlite3"))
    monkeypatch.setenv("TICKETMASTER_REQUESTS_PER_SECOND", "1000")
    monkeypatch.setenv("COLUMNS", "250")  # whole lines; widths are tested on their own


@pytest.fixture
def api() -> FakeDiscoveryAPI:
    return FakeDiscoveryAPI(requests_per_second=None)


def watch(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    api: FakeDiscoveryAPI,
    *args: str,
    steps: Iterable[Step] = (),
) -> tuple[int, list[str], str, Rounds]:
    """``ticketmaster --sandbox watch ARGS`` until the steps are done; the exit code, the
    lines on stdout, stderr and the rounds."""
    rounds = Rounds(api, steps)
    install_fake(monkeypatch, api, _sleep=rounds.sleep)
    code, out, err = run_main(capsys, "--sandbox", "watch", *args)
    return code, out.splitlines(), err, rounds


def changed(event_id: str, change: Callable[[dict[str, Any]], None]) -> Step:
    """A step: the fake now serves the event changed by ``change``."""

    def step(api: FakeDiscoveryAPI) -> None:
        raw = api.get_event(event_id)
        assert raw is not None
        change(raw)
        api.add_event(raw)

    return step


def set_status(code: str) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        raw["dates"]["status"]["code"] = code

    return change


def set_price_max(amount: int) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        raw["priceRanges"][0]["max"] = amount

    return change


def together(*steps: Step) -> Step:
    """One step made of several (the changes of one round)."""

    def step(api: FakeDiscoveryAPI) -> None:
        for each in steps:
            each(api)

    return step


def gone_from_details(event_id: str) -> Step:
    """A step: the combined ``id=`` search is refused (HTTP 400: the client then asks each
    event's details) and this event's details answer 404."""

    def step(api: FakeDiscoveryAPI) -> None:
        api.fail_next(status=400, path="/discovery/v2/events.json")
        api.fail_next(status=404, path=f"/discovery/v2/events/{event_id}")

    return step


def money(amount: Any) -> str:
    return f"{Decimal(str(amount)):.2f}"


def range_text(raw_range: dict[str, Any]) -> str:
    """A raw price range as the line shows it: ``standard: USD 80.00`` or ``…–99.00``."""
    low, high = money(raw_range["min"]), money(raw_range["max"])
    amounts = low if low == high else f"{low}–{high}"
    return f"{raw_range['type']}: {raw_range['currency']} {amounts}"


def fields_of(line: str) -> list[str]:
    """A line's columns: time (date and hour), kind, id, name, changes."""
    return re.split(r" {2,}", line.strip())


# -- watch --ids -------------------------------------------------------------------------------


def test_new_changed_and_gone_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    before = {event_id: api.get_event(event_id) for event_id in (SANDBOX_EVENT_ID, GB_EVENT_ID)}
    assert all(raw is not None for raw in before.values())
    sandbox, gb = before[SANDBOX_EVENT_ID], before[GB_EVENT_ID]
    assert sandbox is not None and gb is not None
    code, lines, err, rounds = watch(
        capsys,
        monkeypatch,
        api,
        "--ids",
        f"{SANDBOX_EVENT_ID},{GB_EVENT_ID}",
        "--every",
        EVERY,
        "--budget",
        "1",
        steps=[
            together(
                changed(SANDBOX_EVENT_ID, set_price_max(99)),
                changed(GB_EVENT_ID, set_status("cancelled")),
            ),
            gone_from_details(SANDBOX_EVENT_ID),
        ],
    )
    assert code == cli.EXIT_INTERRUPTED
    assert rounds.rounds == 3
    assert err == ""
    rows = [fields_of(line) for line in lines]
    assert [row[1:4] for row in rows] == [
        ["new", SANDBOX_EVENT_ID, sandbox["name"]],
        ["new", GB_EVENT_ID, gb["name"]],
        ["changed", SANDBOX_EVENT_ID, sandbox["name"]],
        ["changed", GB_EVENT_ID, gb["name"]],
        ["gone", SANDBOX_EVENT_ID, sandbox["name"]],
    ]
    new_range = {**sandbox["priceRanges"][0], "max": 99}
    assert rows[2][4] == (
        f"price_ranges {range_text(sandbox['priceRanges'][0])} → {range_text(new_range)}"
    )
    assert rows[3][4] == f"status {gb['dates']['status']['code']} → cancelled"
    assert [len(row) for row in rows] == [4, 4, 5, 5, 4]


def test_json_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    gb = api.get_event(GB_EVENT_ID)
    assert gb is not None
    code, lines, err, _ = watch(
        capsys,
        monkeypatch,
        api,
        "--json",
        "--ids",
        GB_EVENT_ID,
        "--every",
        EVERY,
        steps=[changed(GB_EVENT_ID, set_status("cancelled"))],
    )
    assert (code, err) == (cli.EXIT_INTERRUPTED, "")
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "kind": "new",
        "event_id": GB_EVENT_ID,
        "name": gb["name"],
        "changes": [],
        "detected_at": first["detected_at"],
    }
    assert second["kind"] == "changed"
    assert second["changes"] == [
        {"field": "status", "before": gb["dates"]["status"]["code"], "after": "cancelled"}
    ]
    detected = [
        datetime.fromisoformat(d["detected_at"].replace("Z", "+00:00")) for d in lines_of(lines)
    ]
    assert all(moment.tzinfo is not None for moment in detected)
    assert detected[0] <= detected[1]


def lines_of(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def test_json_price_changes_carry_the_ranges(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    raw = api.get_event(SANDBOX_EVENT_ID)
    assert raw is not None
    _, lines, _, _ = watch(
        capsys,
        monkeypatch,
        api,
        "--json",
        "--ids",
        SANDBOX_EVENT_ID,
        "--every",
        EVERY,
        steps=[changed(SANDBOX_EVENT_ID, set_price_max(99))],
    )
    [change] = lines_of(lines)[1]["changes"]
    assert change["field"] == "price_ranges"
    [before], [after] = change["before"], change["after"]
    assert Decimal(before["max"]) == Decimal(str(raw["priceRanges"][0]["max"]))
    assert Decimal(after["max"]) == 99
    assert after["currency"] == raw["priceRanges"][0]["currency"]


def test_a_restart_reports_only_what_changed_since(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    ids = f"{SANDBOX_EVENT_ID},{GB_EVENT_ID}"
    code, lines, _, _ = watch(capsys, monkeypatch, api, "--ids", ids, "--every", EVERY)
    assert code == cli.EXIT_INTERRUPTED
    assert [fields_of(line)[1] for line in lines] == ["new", "new"]
    # The same command again (the same default name): nothing new.
    code, lines, _, _ = watch(capsys, monkeypatch, api, "--ids", ids, "--every", EVERY)
    assert (code, lines) == (cli.EXIT_INTERRUPTED, [])
    # A change while no watch ran is reported by the next run, once.
    changed(GB_EVENT_ID, set_status("postponed"))(api)
    _, lines, _, _ = watch(capsys, monkeypatch, api, "--ids", ids, "--every", EVERY)
    assert [fields_of(line)[1:3] for line in lines] == [["changed", GB_EVENT_ID]]
    # In another order the ids are the same watch.
    reordered = f"{GB_EVENT_ID},{SANDBOX_EVENT_ID}"
    _, lines, _, _ = watch(capsys, monkeypatch, api, "--ids", reordered, "--every", EVERY)
    assert lines == []


def test_the_lease_is_released_on_ctrl_c(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    api: FakeDiscoveryAPI,
    tmp_path: Path,
) -> None:
    code, lines, _, _ = watch(
        capsys, monkeypatch, api, "--ids", GB_EVENT_ID, "--every", EVERY, "--name", "tour"
    )
    assert (code, len(lines)) == (cli.EXIT_INTERRUPTED, 1)
    # Held, the lease would last 1.5 intervals (90 s) more.
    assert asyncio.run(lease_is_free(tmp_path / "state.sqlite3", "tour"))


async def lease_is_free(path: Path, name: str) -> bool:
    store = SQLiteStore(path, max_entries=100)
    try:
        return await store.lease_acquire(name, "another-process", now=time.time(), ttl=60.0)
    finally:
        await store.aclose()


def test_lines_fit_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    _, lines, _, _ = watch(
        capsys,
        monkeypatch,
        api,
        "--ids",
        GB_EVENT_ID,
        "--every",
        EVERY,
        steps=[changed(GB_EVENT_ID, set_status("cancelled"))],
    )
    assert len(lines) == 2  # one line per change, cut rather than wrapped
    assert widest_line("\n".join(lines)) <= 60
    assert lines[1].endswith("…")
    assert GB_EVENT_ID in lines[1]


# -- watch QUERY / filters -----------------------------------------------------------------------


def test_a_search_watch_reports_what_the_search_finds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    search = ("--venue-id", SANDBOX_VENUE_ID, *WINDOW)
    install_fake(monkeypatch, api)
    code, out, _ = run_main(capsys, "--sandbox", "--json", "search", "--all", *search)
    assert code == 0
    found = [event["id"] for event in json.loads(out)]
    assert len(found) >= 2
    leaving, renamed = found[0], found[1]

    def move_out_of_the_window(raw: dict[str, Any]) -> None:
        raw["dates"]["start"]["dateTime"] = "2040-01-01T00:00:00Z"
        raw["dates"]["start"]["localDate"] = "2040-01-01"

    def rename(raw: dict[str, Any]) -> None:
        raw["name"] = "Renamed Show"

    old_name = (api.get_event(renamed) or {})["name"]
    code, lines, err, _ = watch(
        capsys,
        monkeypatch,
        api,
        *search,
        "--every",
        EVERY,
        steps=[together(changed(leaving, move_out_of_the_window), changed(renamed, rename))],
    )
    assert (code, err) == (cli.EXIT_INTERRUPTED, "")
    rows = [fields_of(line) for line in lines]
    assert [row[2] for row in rows[: len(found)]] == found  # date order, as the search
    assert {row[1] for row in rows[: len(found)]} == {"new"}
    later = {(row[1], row[2]): row[3:] for row in rows[len(found) :]}
    assert later == {
        ("changed", renamed): ["Renamed Show", f"name {old_name} → Renamed Show"],
        ("gone", leaving): [(api.get_event(leaving) or {})["name"]],
    }


def test_a_keyword_watch(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    code, lines, _, _ = watch(capsys, monkeypatch, api, "radiohead", *WINDOW, "--every", EVERY)
    assert code == cli.EXIT_INTERRUPTED
    assert [fields_of(line)[1:3] for line in lines] == [["new", SANDBOX_EVENT_ID]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "watch needs --ids"),
        (["--ids", GB_EVENT_ID, "rock"], "not both"),
        (["--ids", GB_EVENT_ID, "--city", "Leeds"], "not both"),
        (["--ids", "a/b"], "--ids"),
        (["--ids", GB_EVENT_ID, "--budget", "2"], "budget"),
        (["--ids", GB_EVENT_ID, "--every", "0"], "every"),
        (["--ids", GB_EVENT_ID, "--every", "soon"], "not a number"),
        (["rock", "--sort", "name,asc"], "sorts by date"),
        (["--ids", GB_EVENT_ID, "--raw"], "--raw is only for"),
    ],
)
def test_bad_watches_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    api: FakeDiscoveryAPI,
    args: list[str],
    message: str,
) -> None:
    code, lines, err, _ = watch(capsys, monkeypatch, api, *args)
    assert (code, lines) == (cli.EXIT_USAGE, [])
    [line] = error_lines(err)
    assert line.startswith("error: ")
    assert message in line
    assert api.request_count == 0


def test_default_names() -> None:
    by_ids = default_name(["B", "A"], None, {})
    assert by_ids == default_name(["A", "B", "A"], None, {})
    assert by_ids.startswith(NAME_PREFIX)
    assert by_ids != default_name(["A"], None, {})
    by_search = default_name(None, "rock", {"city": "Leeds"})
    assert by_search == default_name(None, "rock", {"city": "Leeds"})
    assert by_search != default_name(None, "rock", {"city": "York"})
    assert by_search != default_name(None, None, {"city": "Leeds"})
    assert len(by_search) <= 100  # the store's limit on a watch's name


# -- subprocesses: a real Ctrl-C ---------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("output", ["text", "json"])
def test_sigint_ends_a_watch_with_130_and_frees_its_lease(tmp_path: Path, output: str) -> None:
    db = tmp_path / "state.sqlite3"
    ids = [SANDBOX_EVENT_ID, GB_EVENT_ID]
    command = [sys.executable, "-m", "ticketmaster_async", "--sandbox", "watch"]
    command += ["--ids", ",".join(ids), "--every", "3600", "--name", "sigint"]
    command += ["--json"] if output == "json" else []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(TICKETMASTER_DB_PATH=str(db)),
        cwd=REPO,
    ) as process:
        try:
            assert process.stdout is not None
            # Each line arrives while the watch runs (it is flushed at once): read the pipe
            # itself, without a buffer that could hold a line select() does not see.
            received = b""
            while received.count(b"\n") < len(ids):
                readable, _, _ = select.select([process.stdout], [], [], TIMEOUT)
                assert readable, f"no line from the watch: {received!r}"
                chunk = os.read(process.stdout.fileno(), 65536)
                assert chunk, "the watch ended"
                received += chunk
            process.send_signal(signal.SIGINT)
            rest, stderr = process.communicate(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)
    lines = received.decode("utf-8").splitlines()
    assert process.returncode == 130
    assert (rest, stderr) == (b"", b"")
    if output == "json":
        assert [json.loads(line)["event_id"] for line in lines] == ids
    else:
        assert [fields_of(line)[1:3] for line in lines] == [["new", i] for i in ids]
    assert asyncio.run(lease_is_free(db, "sigint"))


# -- history -------------------------------------------------------------------------------------


def test_history_after_searches_that_saw_prices_change(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    monkeypatch.setenv("TICKETMASTER_CACHE_TTL", "0")  # every search asks the API
    install_fake(monkeypatch, api)
    raw = copy.deepcopy(api.get_event(SANDBOX_EVENT_ID))
    assert raw is not None

    def search() -> None:
        assert run_main(capsys, "--sandbox", "search", "radiohead")[0] == 0

    search()
    search()  # nothing changed: no point
    changed(SANDBOX_EVENT_ID, set_price_max(99))(api)
    search()
    changed(SANDBOX_EVENT_ID, set_status("cancelled"))(api)
    search()
    code, out, _ = run_main(capsys, "--json", "history", SANDBOX_EVENT_ID)  # no key needed
    assert code == 0
    points = json.loads(out)
    assert [point["status"] for point in points] == [
        raw["dates"]["status"]["code"],
        raw["dates"]["status"]["code"],
        "cancelled",
    ]
    assert [Decimal(point["price_ranges"][0]["max"]) for point in points] == [
        Decimal(str(raw["priceRanges"][0]["max"])),
        99,
        99,
    ]
    moments = [datetime.fromisoformat(p["at"].replace("Z", "+00:00")) for p in points]
    assert moments == sorted(moments)

    code, out, _ = run_main(capsys, "history", SANDBOX_EVENT_ID)
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["SEEN", "STATUS", "PRICES"]
    assert len(rows) == 3
    assert rows[0].endswith(range_text(raw["priceRanges"][0]))
    assert rows[1].endswith(range_text({**raw["priceRanges"][0], "max": 99}))
    assert "cancelled" in rows[2].split()


def test_history_of_an_unseen_or_bad_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "history", GB_EVENT_ID)
    assert (code, out, err) == (0, f"no price history for {GB_EVENT_ID}\n", "")
    code, out, err = run_main(capsys, "--json", "history", GB_EVENT_ID)
    assert (code, json.loads(out)) == (0, [])
    code, out, err = run_main(capsys, "history", "../x")
    assert (code, out) == (2, "")
    assert err.startswith("error: invalid event id")


def test_a_rescheduled_event_shows_its_start_in_the_venue_zone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    raw = api.get_event(SANDBOX_EVENT_ID)
    assert raw is not None
    new_start = "2016-08-01T00:00:00Z"

    def reschedule(raw: dict[str, Any]) -> None:
        raw["dates"]["status"]["code"] = "rescheduled"
        raw["dates"]["start"]["dateTime"] = new_start

    _, lines, _, _ = watch(
        capsys,
        monkeypatch,
        api,
        "--ids",
        SANDBOX_EVENT_ID,
        "--every",
        EVERY,
        steps=[changed(SANDBOX_EVENT_ID, reschedule)],
    )
    zone = ZoneInfo(raw["_embedded"]["venues"][0]["timezone"])

    def local(text: str) -> str:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(zone)
        return f"{moment:%Y-%m-%d %H:%M %Z}"

    assert fields_of(lines[1])[4] == (
        f"status {raw['dates']['status']['code']} → rescheduled; "
        f"start {local(raw['dates']['start']['dateTime'])} → {local(new_start)}"
    )


def test_a_note_on_a_terminal_names_the_watch(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, api: FakeDiscoveryAPI
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, _, _, _ = watch(capsys, monkeypatch, api, "--ids", GB_EVENT_ID, "--name", "named")
    assert code == cli.EXIT_INTERRUPTED
    assert terminal.getvalue() == "watching as 'named'; Ctrl-C to stop\n"


@pytest.mark.parametrize(
    ("field", "before", "after", "expected"),
    [
        ("venue", None, "KovZpZA7AAEA", ("-", "KovZpZA7AAEA")),
        (
            "onsale",
            (datetime(2024, 1, 1, 9, tzinfo=timezone.utc), None),
            (datetime(2024, 1, 2, 9, tzinfo=timezone.utc), None),
            ("2024-01-01 09:00 GMT – -", "2024-01-02 09:00 GMT – -"),
        ),
        (
            "presales",
            [],
            [("Fan club", datetime(2024, 1, 1, 9, tzinfo=timezone.utc), None)],
            ("none", "Fan club – 2024-01-01 09:00 GMT – -"),
        ),
        ("price_ranges", [], [], ("none", "none")),
        ("name", "Old", "New", ("Old", "New")),
        ("other", 1, 2, ("1", "2")),
    ],
)
def test_change_values_as_text(
    field: str, before: Any, after: Any, expected: tuple[str, str]
) -> None:
    change = FieldChange(field=field, before=before, after=after)
    assert render.change_value(change, "Europe/London") == expected
