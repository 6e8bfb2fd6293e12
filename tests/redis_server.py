"""A real ``redis-server`` on loopback for the tests: started once per session, or on demand.

Not a conftest: modules opt in with ``from tests.redis_server import redis_server_fixture`` (the
``redis_server`` fixture), or call :func:`session_redis_server` from another fixture (as
``tests/store_backends.py`` does, so that test modules importing only the store fixtures need
nothing more). Both share one server per test session, stopped when the session ends.

Without ``redis-server`` on the PATH the tests that need it are skipped with a clear reason, except
in CI (env ``CI=true``), where they fail: CI must never silently skip them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis_asyncio

from ticketmaster_async._store.redis import RedisStore

__all__ = [
    "RedisServer",
    "free_port",
    "redis_server_fixture",
    "redis_server_path",
    "session_redis_server",
    "unique_prefix",
]

#: Upper bound on waiting for a server to answer PING, or to exit.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
_POLL = 0.01
_STARTS = 3  # a free port may be taken between probing and binding: try another one


def redis_server_path() -> str:
    """The ``redis-server`` executable; skips the test, or fails it in CI, when it is missing."""
    found = shutil.which("redis-server")
    if found is not None:
        return found
    reason = "redis-server is not installed (apt-get install redis-server): Redis tests need it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run them")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def unique_prefix(label: str = "t") -> str:
    """A key prefix no other test uses: tests share one server without flushing it."""
    return f"{label}-{uuid.uuid4().hex[:12]}"


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, no persistence, files in ``directory``.

    Args:
        directory: its working directory (created).
        port: the port to listen on (default: a free one; keep it to restart on the same URL).
        extra_args: more ``redis-server`` options, e.g. ``("--maxmemory", "2mb")``.
    """

    def __init__(
        self, directory: Path, *, port: int | None = None, extra_args: Sequence[str] = ()
    ) -> None:
        self.directory = directory
        self.port = port if port is not None else free_port()
        self.extra_args = tuple(extra_args)
        self._fixed_port = port is not None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path = directory / "redis.log"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """The process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> RedisServer:
        """Start the server and wait (bounded) until it answers PING.

        Raises:
            RuntimeError: it did not come up (its log is in the message).
        """
        executable = redis_server_path()
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(_STARTS):
            command = [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self._log),
                *self.extra_args,
            ]
            self._process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self._process.poll() is None:
                if _pings(self.port):
                    self._fixed_port = True  # a restart comes back on the same URL
                    return self
                time.sleep(_POLL)
            self.stop()
            if self._fixed_port:
                break
            self.port = free_port()
        log = self._log.read_text(errors="replace") if self._log.exists() else ""
        raise RuntimeError(f"redis-server did not start:\n{log[-2000:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a bounded wait). Idempotent."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:  # pragma: no cover - only if it hangs
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        self.stop()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Session:
    server: RedisServer | None = None
    directory: tempfile.TemporaryDirectory[str] | None = None


def _stop_session_server() -> None:
    server, _Session.server = _Session.server, None
    directory, _Session.directory = _Session.directory, None
    if server is not None:
        server.stop()
    if directory is not None:
        with contextlib.suppress(OSError):
            directory.cleanup()


def session_redis_server(config: pytest.Config) -> RedisServer:
    """The session's server, started on first use and stopped when the session ends."""
    server = _Session.server
    if server is not None and server.running:
        return server
    _stop_session_server()  # a server that died is replaced
    redis_server_path()  # skip (or fail in CI) before creating anything
    _Session.directory = tempfile.TemporaryDirectory(prefix="tm-redis-")
    server = RedisServer(Path(_Session.directory.name))
    try:
        server.start()
    except BaseException:
        _stop_session_server()
        raise
    _Session.server = server
    config.add_cleanup(_stop_session_server)
    return server


@pytest.fixture(name="redis_server", scope="session")
def redis_server_fixture(request: pytest.FixtureRequest) -> RedisServer:
    """The session's ``redis-server`` on loopback; tests keep apart with :func:`unique_prefix`."""
    return session_redis_server(request.config)


@pytest.fixture(name="raw")
async def raw_fixture(redis_server: RedisServer) -> AsyncIterator[Any]:
    """A plain client on the session's server, to look at what the store wrote."""
    client = redis_asyncio.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture(name="make_store")
async def make_store_fixture(redis_server: RedisServer) -> AsyncIterator[Any]:
    """``make(prefix=None, **kwargs)``: an opened RedisStore on the session's server."""
    created: list[RedisStore] = []

    async def make(prefix: str | None = None, **kwargs: Any) -> RedisStore:
        kwargs.setdefault("max_entries", 100)
        store = RedisStore(redis_server.url, prefix=prefix or unique_prefix(), **kwargs)
        created.append(store)
        await store.open()
        return store

    yield make
    for store in created:
        await store.aclose()
