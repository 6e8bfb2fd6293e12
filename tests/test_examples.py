"""What the examples show, beyond running (every example runs in ``tests/test_cli.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_watch_bot_reports_each_scripted_change_once() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "watch_bot.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    first_round, later = lines[:6], lines[6:-1]
    assert all(line.startswith("NEW ") for line in first_round)  # every match, once
    assert [line.split()[0] for line in later] == ["CHANGED", "CHANGED", "GONE", "NEW"]
    assert "price_ranges" in later[0] and "-> 25.00-80.00 GBP" in later[0]
    assert "status onsale -> cancelled" in later[1]
    assert "Late Addition" in later[3]
    assert lines[-1].endswith(": 2 points")
