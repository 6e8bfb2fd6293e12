"""The progress bar of multi-page pulls: drawn on stderr when it is a terminal (a real
pseudo-terminal here), never when stderr is a pipe or a file."""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from .cli_support import REPO, TIMEOUT, clean_env, only_warnings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX"),
]

WINDOW = 2015, 2035  # the sandbox's events lie in the past: a window that holds them all
PULLS = {
    "limit past the page size": ("--limit", "100", "--size", "20"),
    "every match (--all)": (
        "--all",
        "--size",
        "20",
        "--start",
        f"{WINDOW[0]}-01-01T00:00:00Z",
        "--end",
        f"{WINDOW[1]}-01-01T00:00:00Z",
    ),
}
BAR_TEXT = "fetching events"


def _run(args: tuple[str, ...], *, stderr_is_terminal: bool) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (80x24) or a pipe; read both streams to
    the end (stdout may outgrow a pipe's buffer)."""
    command = [sys.executable, "-m", "ticketmaster_async", "--sandbox", "--json", "search", *args]
    master = slave = -1
    if stderr_is_terminal:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=slave if stderr_is_terminal else subprocess.PIPE,
        env=clean_env(TERM="xterm-256color"),
        cwd=REPO,
    )
    if stderr_is_terminal:
        os.close(slave)  # the child holds it: reading the master ends (EIO) when it exits
    assert process.stdout is not None
    err_fd = master if stderr_is_terminal else process.stderr.fileno()  # type: ignore[union-attr]
    streams = {process.stdout.fileno(): bytearray(), err_fd: bytearray()}
    deadline = time.monotonic() + TIMEOUT
    try:
        while streams and time.monotonic() < deadline:
            readable, _, _ = select.select(list(streams), [], [], 1.0)
            for fd in readable:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the terminal's other side is closed
                    chunk = b""
                if chunk:
                    streams[fd] += chunk
                else:
                    out_or_err = streams.pop(fd)
                    if fd == err_fd:
                        err = bytes(out_or_err)
                    else:
                        out = bytes(out_or_err)
        assert not streams, "the command did not finish"
        code = process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)
        if stderr_is_terminal:
            os.close(master)
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
    return code, out.decode("utf-8"), err.decode("utf-8", "replace")


@pytest.mark.parametrize("args", list(PULLS.values()), ids=list(PULLS))
def test_drawn_on_a_terminal(args: tuple[str, ...]) -> None:
    code, out, err = _run(args, stderr_is_terminal=True)
    assert code == 0, err
    assert BAR_TEXT in err
    assert "\x1b[" in err  # drawn with terminal control codes (and erased at the end)
    assert len(json.loads(out)) >= 100  # stdout is untouched by the bar


@pytest.mark.parametrize("args", list(PULLS.values()), ids=list(PULLS))
def test_not_drawn_on_a_pipe(args: tuple[str, ...]) -> None:
    code, out, err = _run(args, stderr_is_terminal=False)
    assert code == 0, err
    assert BAR_TEXT not in err
    assert "\x1b[" not in err
    assert only_warnings(err), err
    assert len(json.loads(out)) >= 100


def test_one_page_has_no_bar_even_on_a_terminal() -> None:
    code, out, err = _run(("--limit", "20"), stderr_is_terminal=True)
    assert code == 0, err
    assert BAR_TEXT not in err
    assert len(json.loads(out)) == 20
