"""Worker processes for the multi-process tests.

Each such test module runs itself as a script (``python -m tests.integration.<module> ...``) in
real OS processes; a worker prints :data:`READY` when set up, then waits for one line ("go") on
stdin, so that every worker starts its work at once.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .loopback import ROOT

READY = "ready"
#: Upper bound on any wait for a worker, so a broken worker fails the test instead of hanging it.
WORKER_TIMEOUT = 30.0


def start_worker(module: str, *args: str) -> subprocess.Popen[str]:
    """``python -m module args...`` from the project root, with piped text stdio."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(worker: subprocess.Popen[str]) -> None:
    """Wait for the worker's READY line; fail the test (with its stderr) if it died instead."""
    assert worker.stdout is not None
    line = worker.stdout.readline()  # EOF ("") if the worker died
    if line.strip() != READY:
        worker.kill()
        _, err = worker.communicate(timeout=WORKER_TIMEOUT)
        pytest.fail(f"worker did not start: {line!r} {err}")


def run_together(workers: list[subprocess.Popen[str]]) -> list[tuple[str, str]]:
    """Wait until every worker is ready, release them all at once, and return each one's
    (stdout, stderr). Every worker is killed and reaped whatever happens; the test fails
    unless all of them exited 0."""
    try:
        for worker in workers:
            wait_ready(worker)
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=WORKER_TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=WORKER_TIMEOUT)
    assert [w.returncode for w in workers] == [0] * len(workers), [err for _, err in outputs]
    return outputs
