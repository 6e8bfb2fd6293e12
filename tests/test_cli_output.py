"""The command line's output channels: ``--json`` and ``--raw`` on stdout, stale answers marked,
the library's warnings on stderr, commands that need no key, and running without ``rich``."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import ticketmaster_async
from ticketmaster_async import Event, Venue, cli
from ticketmaster_async._cli.logs import REDACTED, StderrLines
from ticketmaster_async._cli.output import is_terminal
from ticketmaster_async.testing import SANDBOX_EVENT_ID, SANDBOX_VENUE_ID, FakeDiscoveryAPI

from .cli_support import (
    GB_EVENT_ID,
    REPO,
    TIMEOUT,
    camel_case_keys,
    clean_env,
    clear_environment,
    error_lines,
    install_fake,
    install_suggesting_fake,
    only_warnings,
    run_cli,
    run_main,
    suggest_body,
)

SECRET = "SECRET-KEY-3f9a7c0e"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> FakeDiscoveryAPI:
    return install_fake(monkeypatch)


@pytest.fixture
def state_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A SQLite store that outlives each run, as on a user's machine."""
    path = tmp_path / "state.sqlite3"
    monkeypatch.setenv("TICKETMASTER_DB_PATH", str(path))
    return path


def json_of(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run_main(capsys, *args)
    assert code == 0, err
    return json.loads(out)


# -- --json ------------------------------------------------------------------------------------


class TestJSON:
    @pytest.mark.parametrize(
        "args",
        [
            ("search", "a", "--city", "Birmingham"),
            ("search", "--limit", "50"),
            ("event", GB_EVENT_ID),
            ("event", SANDBOX_EVENT_ID),
            ("venue", SANDBOX_VENUE_ID),
            ("prices", SANDBOX_EVENT_ID),
            ("suggest", "rad"),
            ("usage",),
        ],
    )
    def test_no_camel_case_keys(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        args: tuple[str, ...],
    ) -> None:
        install_suggesting_fake(monkeypatch)
        document = json_of(capsys, "--sandbox", "--json", *args)
        assert document
        assert camel_case_keys(document) == set()

    def test_an_event_is_its_model_dump_plus_freshness(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
    ) -> None:
        raw = fake_api.get_event(GB_EVENT_ID)
        assert raw is not None
        document = json_of(capsys, "--sandbox", "--json", "event", GB_EVENT_ID)
        fetched_at = datetime.fromisoformat(document.pop("fetched_at").replace("Z", "+00:00"))
        assert fetched_at.tzinfo is not None
        assert document.pop("stale") is False
        assert document == Event.model_validate(raw).model_dump(mode="json")
        assert document["name"] == raw["name"]

    def test_search_items_carry_freshness(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
    ) -> None:
        events = json_of(capsys, "--sandbox", "--json", "search", "--limit", "30")
        assert len(events) == 30
        assert {event["stale"] for event in events} == {False}
        assert len({event["fetched_at"] for event in events}) == 1  # one page, one answer

    def test_usage_has_no_freshness(self, capsys: pytest.CaptureFixture[str]) -> None:
        stats = json_of(capsys, "--sandbox", "--json", "usage")
        assert "fetched_at" not in stats
        assert "stale" not in stats


# -- --raw -------------------------------------------------------------------------------------


class TestRaw:
    def test_event_is_the_api_object(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
    ) -> None:
        raw = json_of(capsys, "--sandbox", "--raw", "event", SANDBOX_EVENT_ID)
        assert raw == fake_api.get_event(SANDBOX_EVENT_ID)
        assert "priceRanges" in raw  # camelCase: the API's own spelling

    def test_search_is_the_api_objects_in_order(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
    ) -> None:
        raws = json_of(capsys, "--sandbox", "--raw", "search", "a", "--city", "Birmingham")
        ids = [
            event["id"]
            for event in json_of(
                capsys, "--sandbox", "--json", "search", "a", "--city", "Birmingham"
            )
        ]
        assert raws == [fake_api.get_event(event_id) for event_id in ids]

    def test_venue_is_the_api_object(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
    ) -> None:
        raw = json_of(capsys, "--sandbox", "--raw", "venue", SANDBOX_VENUE_ID)
        assert raw["id"] == SANDBOX_VENUE_ID
        # What the API sent, which the model reads into its fields.
        venue = Venue.model_validate(raw)
        typed = json_of(capsys, "--sandbox", "--json", "venue", SANDBOX_VENUE_ID)
        assert {k: typed[k] for k in ("name", "city", "postal_code")} == {
            "name": venue.name,
            "city": venue.city,
            "postal_code": venue.postal_code,
        }
        assert raw["postalCode"] == venue.postal_code

    def test_suggest_is_the_api_answer(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        api = install_suggesting_fake(monkeypatch)
        raw = json_of(capsys, "--sandbox", "--raw", "suggest", "rad")
        assert raw == suggest_body(api, "rad")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--raw", "usage"], "--raw is only for"),
            (["--raw", "prices", SANDBOX_EVENT_ID], "--raw is only for"),
            (["--json", "--raw", "event", SANDBOX_EVENT_ID], "cannot be combined"),
        ],
    )
    def test_raw_where_it_means_nothing_is_a_usage_error(
        self,
        capsys: pytest.CaptureFixture[str],
        fake_api: FakeDiscoveryAPI,
        args: list[str],
        message: str,
    ) -> None:
        code, out, err = run_main(capsys, "--sandbox", *args)
        assert (code, out) == (2, "")
        assert message in err
        assert len(error_lines(err)) == 1
        assert fake_api.request_count == 0


# -- stale answers -----------------------------------------------------------------------------


class TestStale:
    @pytest.fixture
    def outage(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        fake_api: FakeDiscoveryAPI,
        state_file: Path,
    ) -> dict[str, Any]:
        """An event and a search fetched once, then the API down: every answer is past
        ``cache_ttl`` (0), so each comes stale from the cache. Returns the fresh JSON."""
        monkeypatch.setenv("TICKETMASTER_CACHE_TTL", "0")
        monkeypatch.setenv("TICKETMASTER_MAX_RETRIES", "0")
        # The search first: its page also warms the event's cache entry, which the event's
        # own (later) answer then replaces.
        search = json_of(capsys, "--sandbox", "--json", "search", "radiohead")
        event = json_of(capsys, "--sandbox", "--json", "event", SANDBOX_EVENT_ID)
        fresh = {"search": search, "event": event}
        fake_api.always_fail(503)
        return fresh

    def test_json_says_stale_and_when(
        self, capsys: pytest.CaptureFixture[str], outage: dict[str, Any]
    ) -> None:
        code, out, err = run_main(capsys, "--sandbox", "--json", "event", SANDBOX_EVENT_ID)
        assert code == 0
        stale = json.loads(out)
        assert stale["stale"] is True
        assert outage["event"]["stale"] is False
        assert stale["fetched_at"] == outage["event"]["fetched_at"]
        assert {k: v for k, v in stale.items() if k not in ("stale", "fetched_at")} == {
            k: v for k, v in outage["event"].items() if k not in ("stale", "fetched_at")
        }
        [warning] = error_lines(err)
        assert warning.startswith("warning: serving a stale answer")

    def test_block_shows_when_it_was_fetched(
        self, capsys: pytest.CaptureFixture[str], outage: dict[str, Any]
    ) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "event", SANDBOX_EVENT_ID)
        assert code == 0
        fetched = datetime.fromisoformat(outage["event"]["fetched_at"].replace("Z", "+00:00"))
        line = next(line for line in out.splitlines() if line.startswith("fetched"))
        assert f"{fetched:%Y-%m-%d %H:%M:%S} UTC" in line
        assert "stale" in line

    def test_table_rows_are_marked(
        self, capsys: pytest.CaptureFixture[str], outage: dict[str, Any]
    ) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "search", "radiohead")
        assert code == 0
        lines = out.splitlines()
        for event in outage["search"]:
            row = next(line for line in lines if event["id"] in line)
            assert f"{event['status']}*" in row.split()
        fetched = datetime.fromisoformat(outage["search"][0]["fetched_at"].replace("Z", "+00:00"))
        assert lines[-1] == (
            f"* stale: the API was down; cached answer from {fetched:%Y-%m-%d %H:%M:%S} UTC"
        )

    def test_fresh_tables_have_no_mark(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI
    ) -> None:
        code, out, _ = run_main(capsys, "--sandbox", "search", "radiohead")
        assert code == 0
        assert "*" not in out
        assert "stale" not in out


# -- warnings on stderr --------------------------------------------------------------------------


class TestWarnings:
    def test_unusable_db_path_is_one_warning_line(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("TICKETMASTER_DB_PATH", str(blocker / "state.sqlite3"))
        monkeypatch.setenv("TICKETMASTER_API_KEY", SECRET)
        code, out, err = run_main(capsys, "usage")
        assert code == 0
        assert "daily limit" in out
        [line] = error_lines(err)
        assert line.startswith("warning: SQLite unreachable: falling back")
        assert SECRET not in err + out

    def test_subprocess_shows_the_same_line_without_debug(self, tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        result = run_cli(
            "cache",
            "clear",
            TICKETMASTER_DB_PATH=str(blocker / "state.sqlite3"),
            TICKETMASTER_API_KEY=SECRET,
        )
        assert result.returncode == 0, result.stderr
        [line] = error_lines(result.stderr)
        assert line.startswith("warning: SQLite unreachable: falling back")
        assert SECRET not in result.stderr + result.stdout

    def test_retries_are_warnings_and_the_failure_one_error_line(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        fake_api: FakeDiscoveryAPI,
    ) -> None:
        monkeypatch.setenv("TICKETMASTER_MAX_RETRIES", "2")
        monkeypatch.setenv("TICKETMASTER_RETRY_MAX_WAIT", "0")
        fake_api.always_fail(503)
        code, out, err = run_main(capsys, "--sandbox", "event", SANDBOX_EVENT_ID)
        assert (code, out) == (1, "")
        lines = error_lines(err)
        assert [line.split(" (")[0] for line in lines[:2]] == [
            "warning: retrying after ServerError",
            "warning: retrying after ServerError",
        ]
        assert len(lines) == 3
        assert lines[2].startswith("error: ")
        assert "503" in lines[2] or "Service Unavailable" in lines[2]

    def test_the_key_never_shows_even_when_the_api_repeats_it(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        fake_api: FakeDiscoveryAPI,
    ) -> None:
        # The real gateway's QuotaViolation names the key; so does the fake's.
        monkeypatch.setenv("TICKETMASTER_API_KEY", SECRET)
        fake_api.daily_limit = 0
        code, out, err = run_main(capsys, "--sandbox", "search", "rock")
        assert code == 1
        assert fake_api.quota_violation_count == 1
        assert SECRET not in out + err
        assert error_lines(err)[-1].startswith("error: ")

    def test_lines_hide_secrets_and_stay_one_line(self) -> None:
        lines = StderrLines()
        lines.hide(SECRET)
        lines.hide(None)
        record = logging.LogRecord(
            "ticketmaster_async", logging.WARNING, __file__, 1, "bad\nkey %s", (SECRET,), None
        )
        assert lines.format(record) == f"warning: bad key {REDACTED}"

    def test_repeated_lines_are_held_back_for_a_minute(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        now = [0.0]
        lines = StderrLines(clock=lambda: now[0])
        logger = logging.getLogger("ticketmaster_async.test-repeats")
        logger.addHandler(lines)
        try:
            for moment in (0.0, 1.0, 59.0, 60.0, 61.0):
                now[0] = moment
                logger.warning("the same thing")
            logger.warning("another thing")
        finally:
            logger.removeHandler(lines)
            lines.close()
        assert capsys.readouterr().err.splitlines() == [
            "warning: the same thing",
            "warning: the same thing",  # at 60 s: a minute after it was shown
            "warning: another thing",
            "warning: 3 repeated warnings not shown",
        ]

    def test_a_record_with_bad_arguments_still_says_something(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        lines = StderrLines()
        record = logging.LogRecord(
            "ticketmaster_async", logging.ERROR, __file__, 1, "%d things", ("many",), None
        )
        lines.emit(record)
        assert capsys.readouterr().err == "error: %d things\n"

    def test_a_broken_stderr_does_not_break_the_command(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class Closed(io.StringIO):
            def write(self, text: str) -> int:
                raise BrokenPipeError("stderr is gone")

        monkeypatch.setattr(sys, "stderr", Closed())
        lines = StderrLines()
        record = logging.LogRecord(
            "ticketmaster_async", logging.WARNING, __file__, 1, "lost", (), None
        )
        lines.emit(record)  # handled by logging's handleError, not raised
        assert lines.held_back == 0

    def test_warnings_show_even_when_the_library_logger_is_quieter(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        package = logging.getLogger("ticketmaster_async")
        monkeypatch.setattr(package, "level", logging.ERROR)
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("TICKETMASTER_DB_PATH", str(blocker / "state.sqlite3"))
        code, _, err = run_main(capsys, "usage")
        assert code == 0
        assert error_lines(err)[0].startswith("warning: SQLite unreachable")
        assert package.level == logging.ERROR  # restored

    def test_is_terminal_of_odd_streams(self) -> None:
        assert is_terminal(io.StringIO()) is False
        closed = io.StringIO()
        closed.close()
        assert is_terminal(closed) is False  # ValueError: I/O operation on closed file

    def test_no_warning_lines_with_debug_only_the_debug_log(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("TICKETMASTER_DB_PATH", str(blocker / "state.sqlite3"))
        code, _, err = run_main(capsys, "--debug", "usage")
        assert code == 0
        assert "WARNING ticketmaster_async: SQLite unreachable" in err
        assert "warning: " not in err


# -- commands without a key ------------------------------------------------------------------


class TestLocalCommandsNeedNoKey:
    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (["cache", "clear"], "cleared 0 cached responses"),
            (["usage"], "requests today   0"),
            (["history", SANDBOX_EVENT_ID], f"no price history for {SANDBOX_EVENT_ID}"),
        ],
    )
    def test_in_process(
        self,
        capsys: pytest.CaptureFixture[str],
        fake_api: FakeDiscoveryAPI,
        state_file: Path,
        args: list[str],
        expected: str,
    ) -> None:
        code, out, err = run_main(capsys, *args)
        assert (code, err) == (0, "")
        assert out.splitlines()[0] == expected
        assert fake_api.request_count == 0

    def test_they_read_what_a_keyed_run_stored(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        fake_api: FakeDiscoveryAPI,
        state_file: Path,
    ) -> None:
        monkeypatch.setenv("TICKETMASTER_API_KEY", SECRET)
        assert run_main(capsys, "event", SANDBOX_EVENT_ID)[0] == 0
        monkeypatch.delenv("TICKETMASTER_API_KEY")
        stats = json_of(capsys, "--json", "usage")
        assert stats["requests_today"] == fake_api.request_count == 1
        assert json_of(capsys, "--json", "cache", "clear") == {"cleared": 1}
        assert fake_api.request_count == 1

    @pytest.mark.parametrize("args", [("cache", "clear"), ("usage",)])
    def test_in_a_subprocess(self, tmp_path: Path, args: tuple[str, ...]) -> None:
        result = run_cli(*args, TICKETMASTER_DB_PATH=str(tmp_path / "state.sqlite3"))
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert result.stdout.strip()

    def test_commands_that_ask_the_api_still_need_one(
        self, capsys: pytest.CaptureFixture[str], fake_api: FakeDiscoveryAPI, state_file: Path
    ) -> None:
        code, _, err = run_main(capsys, "search", "rock")
        assert (code, err) == (2, f"error: {cli.MISSING_KEY_MESSAGE}\n")
        assert fake_api.request_count == 0

    def test_other_bad_settings_still_fail(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TICKETMASTER_CACHE_TTL", "-1")
        code, _, err = run_main(capsys, "usage")
        assert code == 2
        assert err.startswith("error: invalid settings: cache_ttl")


# -- without rich, --version ---------------------------------------------------------------------


class TestWithoutRich:
    def test_one_line_says_how_to_install_it(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "rich", None)  # `import rich` now fails
        code, out, err = run_main(capsys, "--sandbox", "usage")
        assert (code, out) == (2, "")
        [line] = error_lines(err)
        assert line == f"error: {cli.RICH_MISSING_MESSAGE}"
        assert "pip install" in line and ".[cli]" in line

    def test_help_and_version_work_without_it(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "rich", None)
        code, out, _ = run_main(capsys, "--version")
        assert (code, out) == (0, f"ticketmaster {ticketmaster_async.__version__}\n")
        code, out, _ = run_main(capsys, "--help")
        assert code == 0
        assert "watch" in out

    @pytest.mark.integration
    def test_in_a_subprocess(self) -> None:
        script = (
            "import sys\n"
            "sys.modules['rich'] = None\n"
            "from ticketmaster_async import cli\n"
            "raise SystemExit(cli.main(['--sandbox', 'search', 'rock']))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=clean_env(),
            cwd=REPO,
            check=False,
        )
        assert result.returncode == 2
        assert error_lines(result.stderr) == [f"error: {cli.RICH_MISSING_MESSAGE}"]
        assert result.stdout == ""


@pytest.mark.integration
def test_version_in_a_subprocess() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"ticketmaster {ticketmaster_async.__version__}\n"
    assert only_warnings(result.stderr) and result.stderr == ""
