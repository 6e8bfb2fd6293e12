"""Developer tasks: ``nox -s tests lint typecheck`` (the CI gate), ``bench``, ``examples``."""

from __future__ import annotations

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = False

PYTHON = ["3.11"]


@nox.session(python=PYTHON)
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


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the tests."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict")


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """Run every example against the built-in sandbox."""
    session.install("-e", ".")
    for example in sorted(__import__("pathlib").Path("examples").glob("*.py")):
        session.run("python", str(example), env={"TICKETMASTER_ENVIRONMENT": "sandbox"})


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: ratios measured side by side; writes benchmarks/results.json."""
    session.install("-e", ".[dev]", "-r", "benchmarks/requirements.txt")
    session.run("python", "-m", "benchmarks", *session.posargs)
