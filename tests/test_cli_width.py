"""Human output fits the terminal: at ``COLUMNS`` 60, 80 and 120 no line of any command is
wider, in-process and in real subprocesses (where stdout is a pipe, as in ``| less``)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ticketmaster_async._cli import render
from ticketmaster_async.testing import SANDBOX_EVENT_ID, SANDBOX_VENUE_ID, FakeDiscoveryAPI

from .cli_support import (
    GB_EVENT_ID,
    NO_VENUE_EVENT_ID,
    REPO,
    TBA_EVENT_ID,
    TIMEOUT,
    clean_env,
    clear_environment,
    install_suggesting_fake,
    run_main,
    widest_line,
)

WIDTHS = [60, 80, 120]
#: Every command that draws, on data with long names, long URLs, zones and missing values.
COMMANDS: list[tuple[str, ...]] = [
    ("search", "--limit", "120"),
    ("search", "a", "--city", "Birmingham"),
    ("event", SANDBOX_EVENT_ID),
    ("event", GB_EVENT_ID),
    ("event", TBA_EVENT_ID),
    ("event", NO_VENUE_EVENT_ID),
    ("prices", SANDBOX_EVENT_ID),
    ("prices", GB_EVENT_ID),
    ("venue", SANDBOX_VENUE_ID),
    ("suggest", "the"),
    ("usage",),
    ("history", SANDBOX_EVENT_ID),
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeDiscoveryAPI:
    """The fake (with suggest), on a state file where the sandbox event has price history."""
    monkeypatch.setenv("TICKETMASTER_DB_PATH", str(tmp_path / "state.sqlite3"))
    return install_suggesting_fake(monkeypatch)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(args) for args in COMMANDS])
def test_in_process(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_api: FakeDiscoveryAPI,
    args: tuple[str, ...],
    width: int,
) -> None:
    if args[0] == "history":
        assert run_main(capsys, "--sandbox", "event", SANDBOX_EVENT_ID)[0] == 0  # a point
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = run_main(capsys, "--sandbox", *args)
    assert code == 0, err
    assert len(out.splitlines()) >= 2
    assert widest_line(out) <= width, out
    for value in _never_cut(capsys, args):
        assert value in out.split() or value in "".join(out.split()), (value, out)


def _never_cut(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> list[str]:
    """What must show whole at any width: ids, prices, URLs (which may wrap, not be cut)."""
    if args[0] in ("search", "suggest", "event", "venue", "prices"):
        code, out, _ = run_main(capsys, "--sandbox", "--json", *args)
        assert code == 0
        document = json.loads(out)
    if args[0] == "search":
        return [event["id"] for event in document]
    if args[0] == "suggest":
        return [
            item["id"] for kind in ("attractions", "venues", "events") for item in document[kind]
        ]
    if args[0] in ("event", "venue"):
        return [document["id"], *([document["url"]] if document.get("url") else [])]
    if args[0] == "prices":
        return [
            render.format_range(Decimal(price["min"]), Decimal(price["max"])) for price in document
        ]
    return []


def test_wide_terminals_get_wider_tables(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_api: FakeDiscoveryAPI,
) -> None:
    # The width is used, not just bounded: names are cut less on a wider terminal.
    widths = []
    for width in (60, 120, 200):
        monkeypatch.setenv("COLUMNS", str(width))
        _, out, _ = run_main(capsys, "--sandbox", "search", "--limit", "120")
        widths.append(widest_line(out))
    assert widths[0] <= 60 < widths[1] <= 120 < widths[2] <= 200


#: Separates the commands' outputs in the driver's stdout.
SEPARATOR = "=== next command ==="
#: One process runs every command (the import cost is paid once), writing to a real pipe.
DRIVER = f"""
import sys
from tests.cli_support import main_with_suggest
for args in {[list(args) for args in COMMANDS]!r}:
    if main_with_suggest(["--sandbox", *args]) != 0:
        raise SystemExit(f"failed: {{args}}")
    print({SEPARATOR!r}, flush=True)
"""


def _start(args: list[str], *, width: int, db: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=clean_env(COLUMNS=str(width), TICKETMASTER_DB_PATH=db),
        cwd=REPO,
    )


@pytest.mark.integration
def test_in_subprocesses(tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite3")
    seed = _start(
        ["-m", "ticketmaster_async", "--sandbox", "event", SANDBOX_EVENT_ID], width=80, db=db
    )
    assert seed.communicate(timeout=TIMEOUT) and seed.returncode == 0  # some price history
    drivers = {width: _start(["-c", DRIVER], width=width, db=db) for width in WIDTHS}
    # And the program itself, as a user starts it, for the two widest tables.
    programs = {
        args: _start(["-m", "ticketmaster_async", "--sandbox", *args], width=80, db=db)
        for args in (COMMANDS[0], ("prices", SANDBOX_EVENT_ID))
    }
    for width, process in drivers.items():
        out, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, err
        outputs = out.split(SEPARATOR + "\n")
        assert outputs[-1] == ""
        assert len(outputs[:-1]) == len(COMMANDS)
        for args, output in zip(COMMANDS, outputs, strict=False):
            assert len(output.splitlines()) >= 2, (args, output)
            assert widest_line(output) <= width, (args, width, output)
    for args, process in programs.items():
        out, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, err
        assert len(out.splitlines()) >= 2
        assert widest_line(out) <= 80, (args, out)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["search"],
        ["event"],
        ["prices"],
        ["venue"],
        ["suggest"],
        ["watch"],
        ["history"],
        ["usage"],
        ["cache", "clear"],
    ],
    ids=lambda command: " ".join(command) or "ticketmaster",
)
def test_help_fits_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_main(capsys, *command, "--help")
    assert code == 0
    assert widest_line(out) <= 80, out
