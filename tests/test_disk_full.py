"""A full disk (and a file system gone read-only) under the SQLite state file: calls go on with
in-process limits and no shared cache, say so once, and come back to the file when it works.

The disk is a real, small tmpfs mounted under the test's directory: that needs root (or
CAP_SYS_ADMIN). Elsewhere the test is skipped with the reason, except in CI (``CI=true``), where
it must run and fails instead.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients import TEST_KEY, FakeClock
from ticketmaster_async import Settings, TicketmasterClient
from ticketmaster_async._constants import FALLBACK_CACHE_MAX_ENTRIES, LOGGER_NAME
from ticketmaster_async._store.fallback import DEFAULT_RETRY_AFTER, FallbackStore, is_unavailable
from ticketmaster_async._store.memory import MemoryStore
from ticketmaster_async._store.sqlite import SQLiteStore
from ticketmaster_async.testing import SANDBOX_EVENT_ID, FakeDiscoveryAPI

#: Room for the state file and a few cached answers; the test fills the rest.
DISK_SIZE = "2m"
CALLS_ON_A_FULL_DISK = 6
_MOUNT_TIMEOUT = 10.0
_CHUNKS = (1 << 16, 1 << 12)


def _cannot(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run this test (run it as root)")
    pytest.skip(reason)


@pytest.fixture(name="small_disk")
def small_disk_fixture(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of ``DISK_SIZE`` mounted at ``tmp_path / "disk"``, unmounted after the test."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mount = shutil.which("mount")
    if os.name != "posix" or os.geteuid() != 0 or mount is None:
        _cannot("mounting a small tmpfs needs root")
    assert mount is not None
    mounted = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        timeout=_MOUNT_TIMEOUT,
        check=False,
    )
    if mounted.returncode != 0:
        _cannot(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], timeout=_MOUNT_TIMEOUT, check=False)


def fill(directory: Path) -> Path:
    """Write a filler file until the disk has not one free block left."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        for size in _CHUNKS:
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler


def remount_read_only(mount_point: Path) -> None:
    """The file system turns read-only (as Linux does after I/O errors)."""
    remounted = subprocess.run(
        ["mount", "-o", "remount,ro", str(mount_point)],
        capture_output=True,
        text=True,
        timeout=_MOUNT_TIMEOUT,
        check=False,
    )
    assert remounted.returncode == 0, remounted.stderr


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name == LOGGER_NAME
    ]


def cached_keys(db: Path) -> set[str]:
    with sqlite3.connect(db) as raw:
        keys = {row[0] for row in raw.execute("SELECT key FROM cache")}
    raw.close()
    return keys


async def test_a_full_disk_is_logged_once_and_bypassed_then_the_file_is_used_again(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = small_disk / "state.sqlite3"
    api = FakeDiscoveryAPI(requests_per_second=None)
    clock = FakeClock()
    settings = Settings(api_key=TEST_KEY, db_path=str(db), offers=False, daily_limit=100)
    # The store the client builds for a db_path, with the fallback's retry clock in our hands.
    store = FallbackStore(
        SQLiteStore(settings.db_path, max_entries=settings.cache_max_entries),
        fallback=MemoryStore(max_entries=FALLBACK_CACHE_MAX_ENTRIES),
        clock=clock,
    )
    tm = TicketmasterClient(
        settings,
        transport=api.transport(),
        _clock=clock,
        _monotonic=clock,
        _sleep=clock.sleep,
        _store=store,
    )
    try:
        assert await tm.get_event_details(SANDBOX_EVENT_ID) is not None
        await tm._pipeline.drain()
        assert len(cached_keys(db)) == 1
        filler = fill(small_disk)

        with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
            pages = [await tm.search_events(f"full-{n}") for n in range(CALLS_ON_A_FULL_DISK)]
            again = await tm.search_events("full-0")  # the private cache still answers
            await tm._pipeline.drain()
            outage = await tm.usage()
        assert all(isinstance(page, list) for page in pages) and again == pages[0]
        assert store.degraded
        (warning,) = warnings_of(caplog)
        assert warning.startswith("SQLite unreachable")
        assert "database or disk is full" in warning or "disk I/O error" in warning
        assert api.request_count == 1 + CALLS_ON_A_FULL_DISK

        filler.unlink()
        clock.now += DEFAULT_RETRY_AFTER
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
            await tm.search_events("back")
            await tm._pipeline.drain()
            stats = await tm.usage()
    finally:
        await tm.aclose()

    assert not store.degraded
    assert [w.split(":")[0] for w in warnings_of(caplog)] == ["SQLite reachable again"]
    assert any("keyword=back" in key for key in cached_keys(db))
    # Degraded, usage() sees this process's requests of the outage; the quota went on from
    # what the file said before.
    assert (outage.requests_today, outage.quota_remaining) == (CALLS_ON_A_FULL_DISK, 93)
    # Back: the outage's requests were replayed into the file, which counts the others itself.
    requests = 1 + CALLS_ON_A_FULL_DISK + 1
    assert stats.requests_today == requests


async def test_a_state_file_on_a_read_only_file_system_is_bypassed(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = small_disk / "state.sqlite3"
    api = FakeDiscoveryAPI(requests_per_second=None)
    settings = Settings(api_key=TEST_KEY, db_path=str(db), offers=False)

    def client() -> TicketmasterClient:
        clock = FakeClock()
        return TicketmasterClient(
            settings, transport=api.transport(), _clock=clock, _monotonic=clock, _sleep=clock.sleep
        )

    async with client() as tm:
        await tm.search_events("before")
    remount_read_only(small_disk)

    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        async with client() as tm:
            pages = [await tm.search_events(f"read-only-{n}") for n in range(3)]
            stats = await tm.usage()
    assert all(isinstance(page, list) for page in pages)
    (warning,) = warnings_of(caplog)
    assert warning.startswith("SQLite unreachable") and "Read-only file system" in warning
    assert api.request_count == 4
    assert stats.requests_today == 3


def test_sqlite_full_is_unavailable_and_busy_is_not(tmp_path: Path) -> None:
    """The error SQLite really raises when a file cannot grow (``PRAGMA max_page_count``)."""
    raw = sqlite3.connect(tmp_path / "capped.sqlite3", isolation_level=None, timeout=0)
    try:
        raw.execute("CREATE TABLE t (x BLOB)")
        (pages,) = raw.execute("PRAGMA page_count").fetchone()
        raw.execute(f"PRAGMA max_page_count = {pages + 1}")
        with pytest.raises(sqlite3.OperationalError) as full:
            raw.execute("INSERT INTO t SELECT randomblob(8192) FROM (VALUES (1), (2), (3))")
        holder = sqlite3.connect(tmp_path / "capped.sqlite3", isolation_level=None, timeout=0)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(sqlite3.OperationalError) as busy:
                raw.execute("BEGIN IMMEDIATE")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    finally:
        raw.close()
    assert "full" in str(full.value)
    assert is_unavailable(full.value)
    assert not is_unavailable(busy.value)
