"""Developer tasks: `nox -s tests lint typecheck` (the CI gate), `docs`, `examples`, `bench`.

Every session runs on the interpreter at hand: the one running nox when it is a supported
Python (3.10-3.13), else the newest ``python3.13`` ... ``python3.10`` on ``PATH`` that really
runs. When none fits, every session FAILS (exit status non-zero) rather than being skipped: a
test command must never pass having run nothing.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]
# A session whose interpreter is missing is an error, never a skip.
nox.options.error_on_missing_interpreters = True

#: The Python versions the package supports (pyproject's classifiers), oldest first.
SUPPORTED = ((3, 10), (3, 11), (3, 12), (3, 13))
NO_PYTHON = (
    "no supported Python found: run nox with Python 3.10-3.13, or put python3.10 ... "
    "python3.13 on PATH"
)


def version_of(executable: str) -> tuple[int, int] | None:
    """The (major, minor) version of the interpreter at ``executable``, or ``None`` when it
    does not run (a pyenv shim without its version, a broken link)."""
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 2 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1])


def find_python(
    *,
    current: Sequence[int] = tuple(sys.version_info[:2]),
    executable: str = sys.executable,
    which: Callable[[str], str | None] = shutil.which,
    probe: Callable[[str], tuple[int, int] | None] = version_of,
) -> str | None:
    """The interpreter sessions run on, or ``None`` when no supported one is at hand.

    Args:
        current: the version of the interpreter running nox.
        executable: its path; chosen when ``current`` is supported.
        which: finds a command on ``PATH``.
        probe: the version an interpreter really runs (a name on ``PATH`` may lie).
    """
    if tuple(current) in SUPPORTED:
        return executable
    for major, minor in reversed(SUPPORTED):
        found = which(f"python{major}.{minor}")
        if found is not None and probe(found) == (major, minor):
            return found
    return None


def sessions_on(python: str | None) -> Callable[[Callable[..., Any]], Any]:
    """``@nox.session`` on ``python``; with ``None``, a session that fails saying why."""

    def register(function: Callable[..., Any]) -> Any:
        if python is not None:
            return nox.session(python=python)(function)

        @functools.wraps(function)
        def refuse(session: nox.Session) -> None:
            session.error(NO_PYTHON)

        return nox.session(python=False)(refuse)

    return register


session = sessions_on(find_python())


@session
def tests(session: nox.Session) -> None:
    """The test suite with branch coverage (gate: 90 %)."""
    session.install("-e", ".[dev]")
    session.run("coverage", "erase")
    session.run(
        "python",
        "-m",
        "pytest",
        "--cov=ticketmaster_async",
        "--cov-branch",
        "--cov-report=term-missing:skip-covered",
        "--cov-fail-under=90",
        *session.posargs,
        env={"COVERAGE_PROCESS_START": "pyproject.toml"},
    )


@session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the tests."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict")


@session
def docs(session: nox.Session) -> None:
    """The documentation site, built strict (any warning fails) into site/."""
    session.install("-e", ".[docs]")
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        "site",
        *session.posargs,
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@session
def examples(session: nox.Session) -> None:
    """Run every example against the built-in sandbox."""
    session.install("-e", ".")
    for example in sorted(Path("examples").glob("*.py")):
        session.run("python", str(example), env={"TICKETMASTER_ENVIRONMENT": "sandbox"})


@session
def bench(session: nox.Session) -> None:
    """Benchmarks: ratios measured side by side; writes benchmarks/results.json."""
    session.install("-e", ".[dev]", "-r", "benchmarks/requirements.txt")
    session.run("python", "-m", "benchmarks", *session.posargs)
