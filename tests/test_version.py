"""One version: the package metadata, ``__version__`` and the User-Agent agree."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import ticketmaster_async
from ticketmaster_async._constants import USER_AGENT

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_one_version_everywhere() -> None:
    found = re.search(r'^version = "([^"]+)"$', PYPROJECT.read_text(encoding="utf-8"), re.M)
    assert found is not None
    declared = found.group(1)
    assert ticketmaster_async.__version__ == declared
    assert metadata.version("ticketmaster-async") == declared
    assert f"ticketmaster-async/{declared}" == USER_AGENT
