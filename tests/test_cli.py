"""The ``ticketmaster`` command line and the runnable examples.

Two kinds of tests: real subprocesses (``python -m ticketmaster_async ...``, exit codes, stdout /
stderr as a user sees them, the examples) and in-process calls of ``main([...])`` that cover the
formatting and error paths (coverage is not collected from subprocesses).
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import select
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from ticketmaster_async import (
    ConfigurationError,
    Event,
    PriceRange,
    TicketmasterClient,
    TicketPrice,
    UsageStats,
    Venue,
    cli,
)
from ticketmaster_async._cli import render
from ticketmaster_async._constants import MAX_PAGE_SIZE
from ticketmaster_async.testing import (
    SANDBOX_EVENT_ID,
    SANDBOX_VENUE_ID,
    FakeDiscoveryAPI,
)

from .cli_support import (
    GB_EVENT_ID,
    NO_VENUE_EVENT_ID,
    REPO,
    TBA_EVENT_ID,
    TIMEOUT,
    UNKNOWN_ID,
    clean_env,
    clear_environment,
    error_lines,
    install_fake,
    install_suggesting_fake,
    only_warnings,
    rendered,
    run_cli,
    run_main,
    suggest_body,
    widest_line,
)

EXAMPLES = sorted((REPO / "examples").glob("*.py"))


# -- subprocesses ----------------------------------------------------------------------------


@pytest.mark.integration
class TestSubprocess:
    """What a user sees in a shell."""

    def test_search_prints_a_table(self) -> None:
        # Wide enough for every column (a narrower terminal drops PLACE, then VENUE).
        result = run_cli("--sandbox", "search", "rock", COLUMNS="160")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].split() == ["WHEN", "NAME", "VENUE", "PLACE", "STATUS", "ID"]
        assert any("SYNTHeLdn0001" in line for line in lines[1:])
        # Aligned: every row's ID column starts where the header's does.
        id_column = lines[0].index("ID")
        assert all(line[id_column - 2 : id_column] == "  " for line in lines[1:])
        # The sandbox's synthetic venues carry malformed fields on purpose: the library's
        # warnings about them reach stderr, one line each.
        assert all(line.startswith("warning: ") for line in error_lines(result.stderr))

    def test_json_search_is_one_document_within_the_limit(self) -> None:
        result = run_cli(
            "--sandbox", "--json", "search", "a", "--city", "Birmingham", "--limit", "5"
        )
        assert result.returncode == 0, result.stderr
        events = json.loads(result.stdout)
        assert isinstance(events, list)
        assert 0 < len(events) <= 5
        assert all(isinstance(event["id"], str) and event["id"] for event in events)

    def test_global_options_after_the_command(self) -> None:
        result = run_cli("search", "rock", "--limit", "2", "--json", "--sandbox")
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)) == 2

    def test_event(self) -> None:
        result = run_cli("--sandbox", "event", SANDBOX_EVENT_ID)
        assert result.returncode == 0, result.stderr
        assert "Radiohead" in result.stdout
        assert "Madison Square Garden" in result.stdout
        assert "2016-07-27 19:30 EDT" in result.stdout

    def test_json_event(self) -> None:
        result = run_cli("--sandbox", "--json", "event", SANDBOX_EVENT_ID)
        assert result.returncode == 0, result.stderr
        event = json.loads(result.stdout)
        assert event["id"] == SANDBOX_EVENT_ID
        assert event["price_ranges"][0]["currency"] == "USD"

    def test_prices(self) -> None:
        result = run_cli("--sandbox", "prices", SANDBOX_EVENT_ID, COLUMNS="160")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "Radiohead"
        assert lines[1].startswith("Madison Square Garden")
        header = next(line for line in lines if line.startswith("SECTION"))
        assert header.split()[-3:] == ["FEES", "CURRENCY", "SOURCE"]
        assert any("offers" in line for line in lines)
        assert any("price_ranges" in line and "80.00" in line for line in lines)

    def test_venue(self) -> None:
        result = run_cli("--sandbox", "venue", SANDBOX_VENUE_ID)
        assert result.returncode == 0, result.stderr
        assert "Madison Square Garden" in result.stdout
        assert "America/New_York" in result.stdout

    def test_usage(self) -> None:
        result = run_cli("--sandbox", "usage")
        assert result.returncode == 0, result.stderr
        assert "daily limit" in result.stdout
        assert "5000" in result.stdout

    def test_cache_clear(self) -> None:
        result = run_cli("--sandbox", "cache", "clear")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("cleared ")

    @pytest.mark.parametrize("command", ["event", "venue", "prices"])
    def test_unknown_id_is_exit_1_and_one_line(self, command: str) -> None:
        result = run_cli("--sandbox", command, UNKNOWN_ID)
        assert result.returncode == 1
        assert error_lines(result.stderr) == [f"not found: {UNKNOWN_ID}"]
        assert result.stdout == ""

    def test_bad_id_is_exit_2(self) -> None:
        result = run_cli("--sandbox", "event", "../x")
        assert result.returncode == 2
        lines = error_lines(result.stderr)
        assert len(lines) == 1
        assert lines[0].startswith("error: ")
        assert "Traceback" not in result.stderr

    def test_missing_key_is_exit_2_and_names_both_remedies(self) -> None:
        result = run_cli("search", "rock")
        assert result.returncode == 2
        lines = error_lines(result.stderr)
        assert len(lines) == 1
        assert "TICKETMASTER_API_KEY" in lines[0]
        assert "--sandbox" in lines[0]

    @pytest.mark.parametrize(
        "args",
        [(), ("--sandbox",), ("--sandbox", "--frobnicate", "usage"), ("--sandbox", "dance")],
        ids=["nothing", "no-command", "unknown-option", "unknown-command"],
    )
    def test_bad_usage_is_exit_2(self, args: tuple[str, ...]) -> None:
        result = run_cli(*args)
        assert result.returncode == 2
        lines = error_lines(result.stderr)
        assert len(lines) == 1
        assert lines[0].startswith("error: ")

    def test_debug_logs_to_stderr_without_the_key(self) -> None:
        secret = "SECRET-KEY-3f9a7c0e"
        result = run_cli(
            "--sandbox", "--debug", "event", SANDBOX_EVENT_ID, TICKETMASTER_API_KEY=secret
        )
        assert result.returncode == 0, result.stderr
        assert "DEBUG ticketmaster_async" in result.stderr
        assert secret not in result.stderr + result.stdout

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
    def test_ctrl_c_exits_130_quietly(self) -> None:
        # A command that hangs with the client open, so the interrupt has something to unwind.
        script = (
            "import asyncio, sys\n"
            "from ticketmaster_async import cli\n"
            "from ticketmaster_async._cli import commands\n"
            "async def hang(tm, args, out):\n"
            "    print('ready', flush=True)\n"
            "    await asyncio.sleep(60)\n"
            "    return 0\n"
            "commands.COMMANDS['usage'] = hang\n"
            "raise SystemExit(cli.main(['--sandbox', 'usage']))\n"
        )
        with subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
            cwd=REPO,
        ) as process:
            try:
                assert process.stdout is not None
                readable, _, _ = select.select([process.stdout], [], [], TIMEOUT)
                assert readable, "the command never became ready"
                assert process.stdout.readline() == "ready\n"
                process.send_signal(signal.SIGINT)
                _, stderr = process.communicate(timeout=TIMEOUT)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=TIMEOUT)
        assert process.returncode == 130
        assert stderr == ""

    def test_no_logging_without_debug(self) -> None:
        result = run_cli("--sandbox", "event", SANDBOX_EVENT_ID)
        assert result.stderr == ""


@pytest.mark.integration
@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs_against_the_sandbox(example: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(example)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env=clean_env(),
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_every_listed_example_exists() -> None:
    names = {path.name for path in EXAMPLES}
    assert {"search.py", "paginate.py", "prices.py", "handle_errors.py", "usage.py"} <= names


def test_console_script_is_main() -> None:
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "ticketmaster"]
    assert script.load() is cli.main


# -- in-process ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_ticketmaster_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> FakeDiscoveryAPI:
    """A FakeDiscoveryAPI the CLI's client talks to, for tests that shape its data or faults."""
    return install_fake(monkeypatch)


class TestCommands:
    def test_search_table_shows_venue_local_time(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("COLUMNS", "160")
        code, out, err = run_main(capsys, "--sandbox", "search", "a", "--city", "Birmingham")
        assert code == 0
        assert only_warnings(err), err
        row = next(line for line in out.splitlines() if GB_EVENT_ID in line)
        assert row.startswith("2021-03-11 18:00 GMT  Harry Styles")
        assert "Birmingham, GB" in row
        assert "rescheduled" in row

    def test_search_country_and_limit(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run_main(
            capsys, "--sandbox", "--json", "search", "nets", "--country", "US", "--limit", "3"
        )
        events = json.loads(out)
        assert code == 0
        assert 0 < len(events) <= 3
        assert {event["venues"][0]["country_code"] for event in events} == {"US"}

    def test_search_without_results(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "search", "zzzqqqxxx")
        assert (code, out) == (0, "no events found\n")
        code, out, _ = run_main(capsys, "--sandbox", "--json", "search", "zzzqqqxxx")
        assert (code, json.loads(out)) == (0, [])

    @pytest.mark.parametrize("width", [60, 80, 120])
    def test_long_names_are_cut_with_an_ellipsis(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        fake_api: FakeDiscoveryAPI,
        width: int,
    ) -> None:
        raw = copy.deepcopy(fake_api.get_event("SYNTHeLdn0001"))
        assert raw is not None
        raw["id"] = "SYNTHlong0001"
        raw["name"] = "Synthetic " + "very " * 30 + "long name"
        fake_api.add_event(raw)
        monkeypatch.setenv("COLUMNS", str(width))
        code, out, _ = run_main(capsys, "--sandbox", "search", "Synthetic")
        assert code == 0
        row = next(line for line in out.splitlines() if "SYNTHlong0001" in line)
        name_cell = next(cell for cell in row.split("  ") if cell.startswith("Synthetic"))
        assert name_cell.endswith("…")
        assert raw["name"].startswith(name_cell[:-1])
        assert widest_line(out) <= width

    @pytest.mark.parametrize(
        ("flags", "several_pages"),
        [
            (["--limit", "500"], True),  # 200 a page: two pages here
            (["--limit", "60", "--size", "20"], True),
            (["--limit", "200"], False),  # one full page
            (["--limit", "20", "--size", "20"], False),
        ],
    )
    def test_progress_only_on_a_terminal_for_multi_page_pulls(
        self,
        monkeypatch: pytest.MonkeyPatch,
        fake_api: FakeDiscoveryAPI,
        flags: list[str],
        several_pages: bool,
    ) -> None:
        template = fake_api.get_event(SANDBOX_EVENT_ID)  # well-formed: no warning on stderr
        assert template is not None
        for number in range(MAX_PAGE_SIZE + 30):
            raw = copy.deepcopy(template)
            raw["id"] = f"SYNTHbulk{number:04d}"
            raw["name"] = f"Bulk Rock {number}"
            fake_api.add_event(raw)
        limit = int(flags[1])

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        for stderr, is_terminal in ((Terminal(), True), (io.StringIO(), False)):
            stdout = io.StringIO()
            monkeypatch.setattr(sys, "stdout", stdout)
            monkeypatch.setattr(sys, "stderr", stderr)
            code = cli.main(["--sandbox", "--json", "search", "Bulk Rock", *flags])
            assert code == 0
            assert len(json.loads(stdout.getvalue())) == min(limit, MAX_PAGE_SIZE + 30)
            shown = stderr.getvalue()
            assert ("fetching events" in shown) is (is_terminal and several_pages), shown
            if not is_terminal:
                assert shown == ""

    def test_event_block(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "event", "1FuYv9b00bZ7GeGe")
        assert code == 0
        fields = dict(line.split(None, 1) for line in out.splitlines() if line[:1] != " ")
        assert fields["status"] == "cancelled"
        assert fields["when"] == "2020-06-03 19:00 BST"
        assert fields["city"] == "Birmingham, GB"
        assert fields["prices"] == "standard: GBP 45.00–59.50"
        # The second price range is on a continuation line, aligned under the first.
        assert "        standard including fees: GBP 51.95–68.00" in out.splitlines()

    def test_event_without_time_or_venue(self, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run_main(capsys, "--sandbox", "event", TBA_EVENT_ID)
        assert "when    2022-10-21 TBA" in out
        assert "prices  -" in out
        _, out, _ = run_main(capsys, "--sandbox", "event", NO_VENUE_EVENT_ID)
        assert "venue   -" in out

    def test_json_event_and_not_found(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "--json", "event", GB_EVENT_ID)
        assert (code, json.loads(out)["status"]) == (0, "rescheduled")
        code, out, err = run_main(capsys, "--sandbox", "event", UNKNOWN_ID)
        assert (code, out, err) == (1, "", f"not found: {UNKNOWN_ID}\n")

    def test_prices_table(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("COLUMNS", "160")  # every column (80 drops SOURCE)
        code, out, _ = run_main(capsys, "--sandbox", "prices", SANDBOX_EVENT_ID)
        assert code == 0
        lines = out.splitlines()
        assert lines[:3] == [
            "Radiohead",
            "Madison Square Garden · New York, NY, US",
            "2016-07-27 19:30 EDT",
        ]
        header = lines[4]
        assert header.split()[:2] == ["SECTION", "ZONE"]
        offer = next(line for line in lines if "Price Level 1" in line and " 47.00" in line)
        assert offer.split()[-4:] == ["47.00", "17.00", "USD", "offers"]
        # Prices are right-aligned: the last digit of every price sits under the header's E.
        price_end = header.index("PRICE") + len("PRICE")
        assert all(line[price_end - 1].isdigit() for line in lines[5:])

    def test_prices_json_not_found_and_empty(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
    ) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "--json", "prices", SANDBOX_EVENT_ID)
        prices = json.loads(out)
        assert code == 0
        assert {price["source"] for price in prices} == {"offers", "price_ranges"}
        assert all(isinstance(price["price"], str) for price in prices)  # Decimal, not float
        code, _, err = run_main(capsys, "--sandbox", "prices", UNKNOWN_ID)
        assert (code, err) == (1, f"not found: {UNKNOWN_ID}\n")
        # "not_found" rather than a 401/403: on CPython 3.11 a refusal reaches the caller through
        # a Task.throw, after which coverage loses the frame's lines (coveragepy#2124).
        fake_api.offers = "not_found"
        code, out, _ = run_main(capsys, "--sandbox", "prices", TBA_EVENT_ID)
        assert code == 0
        assert out.splitlines()[-1] == "no price information for this event"

    def test_venue(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "venue", SANDBOX_VENUE_ID)
        assert code == 0
        assert "location     40.7497062, -73.9916006" in out
        assert "address      7th Ave & 32nd Street" in out
        code, out, _ = run_main(capsys, "--sandbox", "--json", "venue", SANDBOX_VENUE_ID)
        assert (code, json.loads(out)["city"]) == (0, "New York")
        code, _, err = run_main(capsys, "--sandbox", "venue", UNKNOWN_ID)
        assert (code, err) == (1, f"not found: {UNKNOWN_ID}\n")

    def test_usage(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "usage")
        assert code == 0
        assert out.splitlines()[0] == "requests today   0"
        assert "circuit breaker  closed" in out
        code, out, _ = run_main(capsys, "--sandbox", "--json", "usage")
        stats = json.loads(out)
        assert (code, stats["daily_limit"], stats["breaker_state"]) == (0, 5000, "closed")

    def test_cache_clear(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        # A file store outlives the process, so the second run has something to clear.
        monkeypatch.setenv("TICKETMASTER_DB_PATH", str(tmp_path / "state.sqlite3"))
        assert run_main(capsys, "--sandbox", "event", SANDBOX_EVENT_ID)[0] == 0
        code, out, _ = run_main(capsys, "--sandbox", "cache", "clear")
        assert (code, out) == (0, "cleared 1 cached response\n")
        code, out, _ = run_main(capsys, "cache", "--json", "clear", "--sandbox")
        assert (code, json.loads(out)) == (0, {"cleared": 0})


class TestErrors:
    def test_api_error_is_exit_1_and_one_line(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        fake_api: FakeDiscoveryAPI,
    ) -> None:
        monkeypatch.setenv("TICKETMASTER_MAX_RETRIES", "0")
        fake_api.always_fail(503)
        code, out, err = run_main(capsys, "--sandbox", "event", SANDBOX_EVENT_ID)
        assert (code, out) == (1, "")
        assert err.startswith("error: ")
        assert err.count("\n") == 1

    def test_missing_key(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run_main(capsys, "event", SANDBOX_EVENT_ID)
        assert code == 2
        assert err == f"error: {cli.MISSING_KEY_MESSAGE}\n"

    def test_other_bad_settings_are_not_hidden(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TICKETMASTER_CACHE_TTL", "-1")
        code, _, err = run_main(capsys, "--sandbox", "usage")
        assert code == 2
        assert err.startswith("error: invalid settings: cache_ttl")

    def test_bad_id(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run_main(capsys, "--sandbox", "venue", "../x")
        assert code == 2
        assert err.startswith("error: invalid venue id")

    @pytest.mark.parametrize(
        "args",
        [
            [],
            ["--sandbox"],
            ["--sandbox", "search", "rock", "--limit", "0"],
            ["--sandbox", "search", "rock", "--limit", "many"],
            ["--sandbox", "cache"],
            ["--sandbox", "cache", "purge"],
            ["--nope", "usage"],
        ],
    )
    def test_usage_errors(self, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
        code, out, err = run_main(capsys, *args)
        assert (code, out) == (2, "")
        assert err.startswith("error: ")
        assert err.count("\n") == 1
        assert "--help" in err

    def test_help_and_version_exit_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run_main(capsys, "--help")
        assert code == 0
        for command in (
            "search",
            "event",
            "prices",
            "venue",
            "suggest",
            "watch",
            "history",
            "usage",
            "cache clear",
        ):
            assert command in out
        code, out, _ = run_main(capsys, "--version")
        assert (code, out.split()[0]) == (0, "ticketmaster")

    @pytest.mark.parametrize(
        ("raised", "expected"),
        [(KeyboardInterrupt(), cli.EXIT_INTERRUPTED), (BrokenPipeError(), cli.EXIT_API_ERROR)],
    )
    def test_interrupt_and_broken_pipe_are_quiet(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        raised: BaseException,
        expected: int,
    ) -> None:
        def fail(*args: Any) -> Any:
            raise raised

        monkeypatch.setattr(cli, "_run", fail)
        monkeypatch.setattr(cli, "_silence_stdout", lambda: None)
        code, out, err = run_main(capsys, "--sandbox", "usage")
        assert (code, out, err) == (expected, "", "")

    def test_silence_stdout_tolerates_a_stream_without_a_file(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        cli._silence_stdout()  # io.StringIO has no fileno(): nothing to redirect, no error

    @pytest.mark.parametrize("debug", [False, True])
    def test_unexpected_failure_is_one_line(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        debug: bool,
    ) -> None:
        async def broken_usage(self: object) -> object:
            raise OSError("disk on fire")  # not a TicketmasterError: an unexpected failure

        monkeypatch.setattr(TicketmasterClient, "usage", broken_usage)
        args = ["--sandbox", *(["--debug"] if debug else []), "usage"]
        code, out, err = run_main(capsys, *args)
        assert (code, out) == (1, "")
        last = err.splitlines()[-1]
        assert last.startswith("error: ")
        assert ("--debug" in last) is not debug
        assert ("Traceback" in err) is debug  # the traceback only with --debug, as a log record

    def test_exit_code_of_system_exit(self) -> None:
        assert cli._exit_code(None) == 0
        assert cli._exit_code(3) == 3
        assert cli._exit_code("message") == cli.EXIT_USAGE


class TestDebugLogging:
    def test_configured_only_with_debug_and_restored(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        root = logging.getLogger()
        handlers = list(root.handlers)
        package = logging.getLogger("ticketmaster_async")
        level = package.level
        code, _, err = run_main(capsys, "--sandbox", "event", SANDBOX_EVENT_ID)
        assert (code, err) == (0, "")
        code, _, err = run_main(capsys, "--sandbox", "--debug", "event", SANDBOX_EVENT_ID)
        assert code == 0
        assert "DEBUG ticketmaster_async" in err
        assert "INFO httpx" in err
        assert root.handlers == handlers
        assert package.level == level


# -- formatting helpers ----------------------------------------------------------------------


def make_event(**fields: Any) -> Event:
    raw: dict[str, Any] = {"id": "E1", "name": "Show"}
    raw.update(fields)
    return Event.model_validate(raw)


def make_price(**fields: Any) -> TicketPrice:
    values: dict[str, Any] = {
        "ticket_type": "standard",
        "currency": "USD",
        "price": Decimal("10"),
        "min": Decimal("10"),
        "max": Decimal("10"),
        "source": "offers",
    }
    values.update(fields)
    return TicketPrice(**values)


class TestFormatting:
    @pytest.mark.parametrize(
        ("amount", "expected"),
        [
            (None, "-"),
            (Decimal("40"), "40.00"),
            (Decimal("40.5"), "40.50"),
            (Decimal("1.125"), "1.125"),
            (Decimal("1E+2"), "100.00"),
            (Decimal("NaN"), "NaN"),
        ],
    )
    def test_money(self, amount: Decimal | None, expected: str) -> None:
        assert render.format_money(amount) == expected

    @pytest.mark.parametrize(
        ("low", "high", "expected"),
        [
            (None, None, "-"),
            (Decimal("5"), Decimal("5"), "5.00"),
            (Decimal("5"), None, "5.00"),
            (None, Decimal("9"), "-–9.00"),
            (Decimal("5"), Decimal("9.5"), "5.00–9.50"),
        ],
    )
    def test_range(self, low: Decimal | None, high: Decimal | None, expected: str) -> None:
        assert render.format_range(low, high) == expected

    def test_place(self) -> None:
        assert render.format_place(None) == "-"
        assert render.format_place(Venue(id="V")) == "-"
        assert render.format_place(Venue(id="V", city="Leeds", country_code="GB")) == "Leeds, GB"

    def test_start_prefers_the_venue_zone(self) -> None:
        event = make_event(
            dates={"start": {"dateTime": "2021-07-01T18:00:00Z"}, "timezone": "America/New_York"},
            _embedded={"venues": [{"id": "V", "timezone": "Europe/London"}]},
        )
        assert render.format_start(event) == "2021-07-01 19:00 BST"

    def test_instant(self) -> None:
        moment = datetime(2021, 7, 1, 18, tzinfo=timezone.utc)
        assert render.format_instant(moment, "Europe/London") == "2021-07-01 19:00 BST"
        assert render.format_instant(moment, "Not/AZone") == "2021-07-01 18:00 UTC"
        assert render.format_instant(None) == "-"

    def test_event_block_with_half_a_sale(self) -> None:
        event = make_event(sales={"public": {"endDateTime": "2021-07-01T18:00:00Z"}})
        assert "sale    - – 2021-07-01 18:00 UTC" in rendered(render.event_block(event))

    def test_start_in_utc_without_any_zone(self) -> None:
        event = make_event(dates={"start": {"dateTime": "2021-07-01T18:00:00Z"}})
        assert render.format_start(event) == "2021-07-01 18:00 UTC"

    def test_start_without_time(self) -> None:
        assert render.format_start(make_event()) == "TBA"
        dated = make_event(dates={"start": {"localDate": "2022-10-21", "timeTBA": True}})
        assert render.format_start(dated) == "2022-10-21 TBA"

    def test_price_range(self) -> None:
        price_range = PriceRange(type="standard", currency="EUR", min=Decimal("1"), max=None)
        assert render.format_price_range(price_range) == "standard: EUR 1.00"

    def test_event_block_without_name_url_or_venue(self) -> None:
        block = rendered(render.event_block(make_event(name="")))
        assert block[0] == "name    -"
        assert "venue   -" in block
        assert "url     -" in block

    def test_events_table_without_venue(self) -> None:
        lines = rendered(render.events_table([make_event()], width=200))
        assert lines[1].split() == ["TBA", "Show", "-", "-", "unknown", "E1"]

    @pytest.mark.parametrize(
        ("price", "expected"),
        [
            (make_price(fees=Decimal("2.5")), "2.50"),
            (make_price(includes_fees=True), "incl."),
            (make_price(), "-"),
        ],
    )
    def test_fees(self, price: TicketPrice, expected: str) -> None:
        assert render._fees(price) == expected

    def test_prices_table_without_zones(self) -> None:
        lines = rendered(
            render.prices_table(
                [make_price(section="101", min=Decimal("10"), max=Decimal("20"))], width=200
            )
        )
        assert lines[0].split() == [
            "SECTION",
            "TICKET",
            "TYPE",
            "MARKET",
            "PRICE",
            "FEES",
            "CURRENCY",
            "SOURCE",
        ]
        assert lines[1].split() == [
            "101",
            "standard",
            "primary",
            "10.00–20.00",
            "-",
            "USD",
            "offers",
        ]

    def test_prices_table_with_top_picks_area_and_row(self) -> None:
        lines = rendered(
            render.prices_table(
                [
                    make_price(source="top_picks", section="103", area="L100", row="18"),
                    make_price(source="top_picks", section="104", row="2"),
                    make_price(source="price_ranges"),
                ],
                width=200,
            )
        )
        assert lines[0].split()[:2] == ["SECTION", "ZONE"]
        assert "L100 row 18" in lines[1]
        assert lines[2].split()[:3] == ["104", "row", "2"]
        assert lines[3].split()[:2] == ["-", "-"]

    def test_venue_block_without_details(self) -> None:
        block = rendered(render.venue_block(Venue(id="V", address="1 Main St")))
        assert "address      1 Main St" in block
        assert "location     -" in block

    def test_usage_block(self) -> None:
        stats = UsageStats(
            requests_today=12,
            daily_limit=5000,
            quota_remaining=4988,
            quota_resets_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            cache_hits=3,
            cache_misses=1,
            cache_hit_rate=0.75,
            stale_served=0,
            coalesced=2,
            errors={"ServerError": 2, "APITimeoutError": 1},
            error_rate=0.25,
            latency_ms={},
            breaker_state="open",
        )
        fields = dict(line.split("  ", 1) for line in rendered(render.usage_block(stats)))
        values = {key.strip(): value.strip() for key, value in fields.items()}
        assert values["quota resets at"] == "2030-01-02 03:04:05 UTC"
        assert values["cache hit rate"] == "75.0 %"
        assert values["errors"] == "ServerError 2, APITimeoutError 1"
        assert values["latency"] == "no requests yet"
        assert values["circuit breaker"] == "open"

    def test_make_settings(self) -> None:
        settings = cli.make_settings(sandbox=True, debug=True)
        assert (settings.environment, settings.debug) == ("sandbox", True)
        with pytest.raises(ConfigurationError, match="--sandbox"):
            cli.make_settings(sandbox=False, debug=False)


# -- filters as flags (generated from the endpoint descriptions) ------------------------------

CLI_FILTER_CASES: list[tuple[list[str], dict[str, str]]] = [
    (["--city", "Birmingham"], {"city": "Birmingham"}),
    (["--city", "London,Leeds"], {"city": "London,Leeds"}),
    (["--ids", "G5diZfkn0B-bh,1AdjZ4UGkBwb746"], {"id": "G5diZfkn0B-bh,1AdjZ4UGkBwb746"}),
    (["--classification=-Rock"], {"classificationName": "-Rock"}),
    (["--market-id", "7,12"], {"marketId": "7,12"}),
    (
        ["--near", "57.64911,10.40744", "--radius", "2.5", "--unit", "km"],
        {"geoPoint": "u4pruydqq", "radius": "2.5", "unit": "km"},
    ),
    (["--from", "2026-12-05"], {"localStartDateTime": "2026-12-05T00:00:00,2200-12-31T23:59:59"}),
    (
        ["--from", "2026-12-05", "--to", "2026-12-06"],
        {"localStartDateTime": "2026-12-05T00:00:00,2026-12-06T23:59:59"},
    ),
    (["--start", "2026-12-05T20:00:00+02:00"], {"startDateTime": "2026-12-05T18:00:00Z"}),
    (["--include-tba"], {"includeTBA": "yes"}),
    (["--include-tbd", "only"], {"includeTBD": "only"}),
    (["--include-family", "no"], {"includeFamily": "no"}),
    (["--include-spellcheck", "yes"], {"includeSpellcheck": "yes"}),
    (["--country", "GB"], {"countryCode": "GB"}),
    (["--sort", "date,asc"], {"sort": "date,asc"}),
    (["--source", "ticketmaster,tmr"], {"source": "ticketmaster,tmr"}),
]


@pytest.mark.parametrize(("flags", "expected"), CLI_FILTER_CASES)
def test_search_flags_send_the_api_parameters(
    capsys: pytest.CaptureFixture[str],
    fake_api: FakeDiscoveryAPI,
    flags: list[str],
    expected: dict[str, str],
) -> None:
    code, _, err = run_main(capsys, "--sandbox", "search", *flags, "--limit", "5")
    assert code == 0
    assert only_warnings(err), err
    [request] = fake_api.requests_to("/discovery/v2/events")
    sent = {k: v for k, v in request.params.items() if k not in ("size", "page")}
    assert sent == expected


def test_every_event_filter_has_a_flag() -> None:
    from ticketmaster_async._endpoints import EVENTS

    search = build_subparser("search")
    dests = {action.dest for action in search._actions}
    assert set(EVENTS.params) - {"query"} <= dests


def build_subparser(name: str) -> Any:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return commands.choices[name]  # type: ignore[index]


@pytest.mark.parametrize(
    "flags",
    [
        ["--near", "91,0"],
        ["--near", "nowhere"],
        ["--radius", "5"],
        ["--radius", "-1", "--near", "1,1"],
        ["--unit", "feet"],
        ["--from", "05/12/2026"],
        ["--from", "2026-12-06", "--to", "2026-12-05"],
        ["--include-tba", "maybe"],
        ["--ids", "a/b"],
        ["--sort", "popularity"],
        ["--market-id", "seven"],
    ],
)
def test_bad_filter_flags_are_usage_errors(
    capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI, flags: list[str]
) -> None:
    code, out, err = run_main(capsys, "--sandbox", "search", *flags)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert fake_api.request_count == 0


def test_search_needs_no_keyword(
    capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
) -> None:
    code, out, _ = run_main(capsys, "--sandbox", "--json", "search", "--limit", "3")
    assert code == 0
    assert len(json.loads(out)) == 3
    [request] = fake_api.requests_to("/discovery/v2/events")
    assert "keyword" not in request.params


# -- suggest ---------------------------------------------------------------------------------


class TestSuggest:
    def test_sections_list_what_the_api_suggests(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        api = install_suggesting_fake(monkeypatch)
        body = suggest_body(api, "rad")
        monkeypatch.setenv("COLUMNS", "160")
        code, out, _ = run_main(capsys, "--sandbox", "suggest", "rad")
        assert code == 0
        lines = out.splitlines()
        titles = [line for line in lines if line in ("ATTRACTIONS", "VENUES", "EVENTS")]
        assert titles == ["ATTRACTIONS", "VENUES", "EVENTS"]
        for kind in ("attractions", "venues", "events"):
            for item in body["_embedded"][kind]:
                assert any(item["id"] in line and item["name"] in line for line in lines)

    def test_nothing_suggested(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        install_suggesting_fake(monkeypatch)
        code, out, _ = run_main(capsys, "--sandbox", "suggest", "zzzqqqxxx")
        assert (code, out) == (0, "no suggestions\n")

    def test_filters_are_flags(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        suggest_requests: list[dict[str, str]] = []
        install_suggesting_fake(monkeypatch, log=suggest_requests)
        code, _, _ = run_main(
            capsys,
            "--sandbox",
            "suggest",
            "rad",
            "--size",
            "3",
            "--near",
            "57.64911,10.40744",
            "--include-fuzzy",
        )
        assert code == 0
        [sent] = suggest_requests
        assert {k: sent[k] for k in ("keyword", "size", "geoPoint", "includeFuzzy")} == {
            "keyword": "rad",
            "size": "3",
            "geoPoint": "u4pruydqq",
            "includeFuzzy": "yes",
        }

    def test_every_suggest_filter_has_a_flag(self) -> None:
        from ticketmaster_async._endpoints import SUGGEST

        dests = {action.dest for action in build_subparser("suggest")._actions}
        assert set(SUGGEST.params) - {"query"} <= dests


# -- Ctrl-C ------------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_cancels_the_command_where_it_waits(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketmaster_async._cli import commands

    seen: list[str] = []

    async def waits(tm: TicketmasterClient, args: Any, out: Any) -> int:
        try:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while the command waits below
            await asyncio.sleep(TIMEOUT)
        finally:
            seen.append("cleaned up")
            await tm.usage()  # the client is still usable on the way out
            seen.append("client still open")
        return 0

    monkeypatch.setitem(commands.COMMANDS, "usage", waits)
    code, out, err = run_main(capsys, "--sandbox", "usage")
    assert (code, out, err) == (cli.EXIT_INTERRUPTED, "", "")
    assert seen == ["cleaned up", "client still open"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_main_runs_outside_the_main_thread(capsys: pytest.CaptureFixture[str]) -> None:
    # No signal handler can be installed there (embedding the CLI in a worker thread).
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(cli.main(["--sandbox", "usage"])))
    worker.start()
    worker.join(TIMEOUT)
    assert codes == [0]
    assert "daily limit" in capsys.readouterr().out
