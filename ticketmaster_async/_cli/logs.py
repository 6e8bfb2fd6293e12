"""What the library logs, as the command line shows it on stderr.

Without ``--debug``: each WARNING or ERROR record of the ``ticketmaster_async`` logger becomes
one line, ``warning: ...`` or ``error: ...`` (Redis down, a database path that cannot be
opened, a stale answer, a retry, a skipped watch round). A line already shown less than a
minute ago is not repeated (the same malformed venue in 200 events of a page is one line; how
many were held back is said once at the end). A failed request's ERROR record is
left out: that failure is reported once, where it ends (the command's own error line, or the
WARNING of the code that recovered from it, such as an unavailable optional price source).
With ``--debug``: the library at DEBUG and httpx's request lines at INFO, with timestamps.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator

from .._constants import LOGGER_NAME
from .._exceptions import TicketmasterError

__all__ = ["REDACTED", "StderrLines", "stderr_logging"]

HTTPX_LOGGER_NAME = "httpx"
DEBUG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "***"
#: A line shown less than this many seconds ago is held back (counted, not shown).
REPEAT_WINDOW_SECONDS = 60.0


class StderrLines(logging.Handler):
    """Each WARNING/ERROR record as one line on stderr (``warning: ...``, ``error: ...``).

    Secrets given to :meth:`hide` are replaced by ``***`` in every line, whatever the record
    says (the library already scrubs its messages; this is a second net). A line shown less
    than ``repeat_window`` seconds ago is held back; :meth:`close` says how many were.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        repeat_window: float = REPEAT_WINDOW_SECONDS,
    ) -> None:
        super().__init__(level=logging.WARNING)
        self._secrets: list[str] = []
        self._clock = clock
        self._repeat_window = repeat_window
        self._shown: dict[str, float] = {}
        self.held_back = 0

    def hide(self, secret: str | None) -> None:
        """Never show ``secret`` (an API key, a Redis URL) in a line."""
        if secret:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Leave out the ERROR record of a failed request (see the module's docstring)."""
        args = record.args if isinstance(record.args, tuple) else ()
        failed = any(isinstance(arg, TicketmasterError) for arg in args)
        return not (record.levelno >= logging.ERROR and failed)

    def format(self, record: logging.LogRecord) -> str:
        """``warning: <message on one line>``, secrets hidden."""
        try:
            message = record.getMessage()
        except Exception:  # a record with bad arguments still says something
            message = str(record.msg)
        line = " ".join(message.split())
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        prefix = "error" if record.levelno >= logging.ERROR else "warning"
        return f"{prefix}: {line}"

    def emit(self, record: logging.LogRecord) -> None:
        """Write the line to the current ``sys.stderr`` (a progress bar may have wrapped it,
        to print the line above the bar), unless it was shown a moment ago."""
        try:
            line = self.format(record)
            now = self._clock()
            last = self._shown.get(line)
            if last is not None and now - last < self._repeat_window:
                self.held_back += 1
                return
            self._shown[line] = now
            self._write(line)
        except Exception:
            self.handleError(record)

    @staticmethod
    def _write(line: str) -> None:
        stream = sys.stderr
        stream.write(line + "\n")
        stream.flush()

    def close(self) -> None:
        """Say how many repeated lines were held back, if any."""
        if self.held_back:
            plural = "" if self.held_back == 1 else "s"
            self._write(f"warning: {self.held_back} repeated warning{plural} not shown")
            self.held_back = 0
        super().close()


@contextlib.contextmanager
def stderr_logging(*, debug: bool) -> Iterator[StderrLines | None]:
    """Show the library's log on stderr while the command runs; everything is restored after.

    Without ``debug``: a :class:`StderrLines` handler on the library's logger (yielded, so
    that the command can tell it which secrets to hide). With ``debug``: a timestamped handler
    on the root logger with this library at DEBUG, httpx's request lines at INFO and anything
    else at WARNING (other libraries' DEBUG output, such as aiosqlite's SQL, would drown the
    requests); ``None`` is yielded.
    """
    package = logging.getLogger(LOGGER_NAME)
    if not debug:
        lines = StderrLines()
        saved_level = package.level
        package.addHandler(lines)
        if package.getEffectiveLevel() > logging.WARNING:
            package.setLevel(logging.WARNING)
        try:
            yield lines
        finally:
            package.removeHandler(lines)
            package.setLevel(saved_level)
            lines.close()
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(DEBUG_FORMAT))
    root = logging.getLogger()
    levels = {LOGGER_NAME: logging.DEBUG, HTTPX_LOGGER_NAME: logging.INFO}
    saved = {name: logging.getLogger(name).level for name in levels}
    root.addHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield None
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
