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
