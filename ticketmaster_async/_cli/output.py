"""Where a command writes: human output through a ``rich`` console on stdout (as wide as the
terminal, or ``COLUMNS``), machine output as JSON on stdout, a progress bar on stderr.

Machine output (``--json``) is each model's clean dump (``model_dump(mode="json")``); an
object the API produced also carries two keys next to its fields: ``fetched_at`` (when the API
produced the answer, ISO 8601 UTC) and ``stale`` (``true`` when it was served from the cache
past ``cache_ttl`` because the API was unavailable). ``--raw`` prints the API's own JSON
(``.raw``), untouched.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Literal, TextIO

from pydantic import BaseModel, TypeAdapter
from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..models._base import FreshModel
from .layout import Trimmed

__all__ = ["Mode", "Output", "dump", "is_terminal"]

Mode = Literal["text", "json", "raw"]
_INSTANT: TypeAdapter[datetime] = TypeAdapter(datetime)


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def dump(model: BaseModel) -> dict[str, Any]:
    """The model's clean JSON dump, plus ``fetched_at`` and ``stale`` when the API produced
    it (see the module's docstring)."""
    document: dict[str, Any] = model.model_dump(mode="json")
    if isinstance(model, FreshModel) and model.fetched_at is not None:
        document["fetched_at"] = _INSTANT.dump_python(model.fetched_at, mode="json")
        document["stale"] = model.stale
    return document


class Output:
    """The command's output in one ``mode``: ``text`` (tables), ``json`` or ``raw``."""

    def __init__(self, mode: Mode) -> None:
        self.mode: Mode = mode
        # No markup, emoji codes or highlighting: event names are data, not markup.
        self.console = Console(
            file=sys.stdout, markup=False, emoji=False, highlight=False, soft_wrap=False
        )

    @property
    def width(self) -> int:
        """The width tables must fit: the terminal's, ``COLUMNS``, or 80."""
        return self.console.width

    def show(self, *renderables: RenderableType) -> None:
        """Draw tables or blocks, each line without trailing spaces."""
        for renderable in renderables:
            self.console.print(Trimmed(renderable))

    def text(self, line: str, *, cut: bool = False) -> None:
        """One line of text: wrapped to the width, or (``cut``) kept on one line and cut with
        an ellipsis."""
        if cut:
            self.console.print(Text(line), no_wrap=True, overflow="ellipsis", crop=True)
        else:
            self.show(Text(line))

    def json(self, document: Any) -> None:
        """One JSON document, indented."""
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def json_line(self, document: Any) -> None:
        """One JSON document on one line (JSON lines), flushed at once."""
        sys.stdout.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    @contextlib.contextmanager
    def progress(self, what: str, *, total: int | None, show: bool) -> Iterator[Callable[[], None]]:
        """A progress bar on stderr while a pull runs, only when ``show`` and stderr is a
        terminal; yields the function that counts one more item. The bar is erased at the end
        (``transient``); log lines printed meanwhile appear above it."""
        stream = sys.stderr
        if not (show and is_terminal(stream)):
            yield lambda: None
            return
        console = Console(file=stream, force_terminal=True, markup=False, highlight=False)
        bar = Progress(
            TextColumn(f"fetching {what}"),
            BarColumn(),
            TextColumn("{task.completed}" + ("" if total is None else f"/{total}")),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with bar:
            task = bar.add_task(what, total=total)
            yield lambda: bar.advance(task)
