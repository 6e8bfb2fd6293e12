"""The noxfile's interpreter rule: sessions run on the Python at hand when it is 3.10-3.13 and
FAIL (never skip) when none is; the setup the docs describe must not pass having run nothing.

nox itself is not installed in the test environment (it runs the tests), so the noxfile is
loaded with a stand-in ``nox`` module that records what the noxfile registers.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


class Registry:
    """What ``@nox.session(...)`` was called with, by session name."""

    def __init__(self) -> None:
        self.sessions: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {}

    def session(self, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.sessions[function.__name__] = (function, options)
            return function

        return register


class SessionError(Exception):
    """What ``session.error`` raises in nox: the session is aborted, nox exits non-zero."""


class FakeSession:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.posargs: list[str] = []

    def error(self, *args: Any) -> None:
        raise SessionError(*args)

    def install(self, *args: Any) -> None:
        self.calls.append(("install", args))

    def run(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("run", args))


@pytest.fixture
def noxfile(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Registry]:
    registry = Registry()
    fake_nox = ModuleType("nox")
    fake_nox.options = SimpleNamespace()  # type: ignore[attr-defined]
    fake_nox.session = registry.session  # type: ignore[attr-defined]
    fake_nox.Session = FakeSession  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nox", fake_nox)
    spec = importlib.util.spec_from_file_location("noxfile_under_test", ROOT / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, registry


def test_the_interpreter_running_nox_is_used_when_supported(noxfile: tuple[Any, Registry]) -> None:
    module, _ = noxfile
    for version in [(3, 10), (3, 11), (3, 12), (3, 13)]:
        found = module.find_python(
            current=version, executable="/opt/py/bin/python", which=_never, probe=_never
        )
        assert found == "/opt/py/bin/python"


def test_otherwise_the_newest_supported_python_on_path_that_really_runs(
    noxfile: tuple[Any, Registry],
) -> None:
    module, _ = noxfile
    on_path = {
        "python3.13": "/shims/python3.13",  # a pyenv shim whose version is not installed
        "python3.12": "/usr/bin/python3.12",  # a name that lies: really 3.9
        "python3.11": "/usr/bin/python3.11",
        "python3.10": "/usr/bin/python3.10",
    }
    versions = {
        "/shims/python3.13": None,
        "/usr/bin/python3.12": (3, 9),
        "/usr/bin/python3.11": (3, 11),
        "/usr/bin/python3.10": (3, 10),
    }
    for running in [(3, 9), (3, 14), (2, 7)]:
        found = module.find_python(
            current=running,
            executable="/opt/other/python",
            which=on_path.get,
            probe=versions.get,
        )
        assert found == "/usr/bin/python3.11"


def test_no_supported_python_is_none(noxfile: tuple[Any, Registry]) -> None:
    module, _ = noxfile
    found = module.find_python(
        current=(3, 14),
        executable="/opt/py314/bin/python",
        which=lambda name: f"/shims/{name}",
        probe=_never,
    )
    assert found is None


def test_without_a_python_every_session_fails_instead_of_skipping(
    noxfile: tuple[Any, Registry],
) -> None:
    module, registry = noxfile
    ran: list[FakeSession] = []

    def tests(session: FakeSession) -> None:
        """The docstring nox lists."""
        ran.append(session)

    registered = module.sessions_on(None)(tests)
    function, options = registry.sessions["tests"]
    assert function is registered
    assert options == {"python": False}  # no virtualenv to create: straight to the error
    assert registered.__name__ == "tests" and registered.__doc__ == "The docstring nox lists."
    with pytest.raises(SessionError, match="no supported Python found"):
        registered(FakeSession())
    assert ran == []


def test_with_a_python_the_session_runs_on_it(noxfile: tuple[Any, Registry]) -> None:
    module, registry = noxfile

    def lint(session: FakeSession) -> None:
        session.run("ruff")

    assert module.sessions_on("/usr/bin/python3.12")(lint) is lint
    assert registry.sessions["lint"] == (lint, {"python": "/usr/bin/python3.12"})


def test_the_noxfile_registers_every_session_on_the_python_at_hand(
    noxfile: tuple[Any, Registry],
) -> None:
    module, registry = noxfile
    assert set(registry.sessions) == {"tests", "lint", "typecheck", "docs", "examples", "bench"}
    at_hand = module.find_python()
    assert at_hand == sys.executable  # the tests run on a supported Python
    for name, (_, options) in registry.sessions.items():
        assert options == {"python": at_hand}, name
    assert module.nox.options.sessions == ["tests", "lint", "typecheck"]
    assert module.nox.options.error_on_missing_interpreters is True


def test_the_docs_session_builds_strict(noxfile: tuple[Any, Registry]) -> None:
    _, registry = noxfile
    session = FakeSession()
    registry.sessions["docs"][0](session)
    assert ("install", ("-e", ".[docs]")) in session.calls
    runs = [args for kind, args in session.calls if kind == "run"]
    assert runs and runs[0][:3] == ("mkdocs", "build", "--strict")


def test_version_of_asks_the_interpreter_itself(
    noxfile: tuple[Any, Registry], tmp_path: Path
) -> None:
    module, _ = noxfile
    assert module.version_of(sys.executable) == tuple(sys.version_info[:2])
    shim = tmp_path / "python3.13"  # what pyenv leaves on PATH for a version it lacks
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    assert module.version_of(str(shim)) is None
    liar = tmp_path / "python3.12"  # runs, but prints no version
    liar.write_text("#!/bin/sh\necho hello\n")
    liar.chmod(0o755)
    assert module.version_of(str(liar)) is None
    assert module.version_of(str(tmp_path / "missing")) is None


def _never(*_: Any) -> None:
    return None
