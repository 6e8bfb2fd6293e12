"""The README's Python examples run as written (against the sandbox / the fake API)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, tmp_path: Path) -> None:
    code = BLOCKS[index]
    tests = re.findall(r"^(?:async )?def (test_\w+)", code, re.M)
    script = tmp_path / ("test_example.py" if tests else "example.py")
    script.write_text(code, encoding="utf-8")
    # A pytest example runs under plain pytest (no async plugin) with the package's plugin.
    command = (
        [sys.executable, "-m", "pytest", "-q", "-p", "no:asyncio", "-p", "no:anyio", str(script)]
        if tests
        else [sys.executable, str(script)]
    )
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,  # not this project's pytest configuration
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    if tests:
        assert f"{len(tests)} passed" in done.stdout, done.stdout
    else:
        assert done.stdout.strip(), "an example that prints nothing shows nothing"


# -- the README's commands work as written on a fresh checkout ----------------------------------

ROOT = README.parent
SHELL_BLOCKS = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
SHELL_LINES = [
    line.split("#", 1)[0].strip() for block in SHELL_BLOCKS for line in block.splitlines()
]


def test_the_install_lines_work_from_a_checkout() -> None:
    text = README.read_text(encoding="utf-8")
    assert "pip install ." in SHELL_LINES
    assert 'pip install ".[cli]"' in SHELL_LINES  # the command's tables need rich
    assert 'pip install ".[redis]"' in SHELL_LINES
    assert "not yet on a public package index" in text
    assert "pip install ticketmaster-async" not in text  # not published: it would fail


def test_the_readme_cli_line_runs_against_the_sandbox_without_a_key(tmp_path: Path) -> None:
    lines = [line for line in SHELL_LINES if line.startswith("ticketmaster --sandbox ")]
    assert lines, "the README shows the command line against the sandbox"
    script = Path(sys.executable).parent / "ticketmaster"  # the console script pip installed
    assert script.exists(), f"no console script next to {sys.executable}"
    for line in lines:
        done = subprocess.run(
            [str(script), *line.split()[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "100"},
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert re.search(r"\bSYNTH\w+", done.stdout), done.stdout  # rows of sandbox events
        if line == "ticketmaster --sandbox search rock":
            assert "SYNTHeLdn0001" in done.stdout  # a rock event of the sandbox
    assert "ticketmaster --sandbox search rock" in lines


def test_the_readme_test_command_is_what_ci_runs() -> None:
    command = "nox -s tests lint typecheck"
    assert command in SHELL_LINES
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in [line.strip() for line in ci.splitlines()]
    assert "nox -s docs examples" in ci
