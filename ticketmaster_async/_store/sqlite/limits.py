"""The limiter, daily quota, usage counters and flags of
:class:`~ticketmaster_async._store.sqlite.SQLiteStore`: their statements and the methods that
run them.

The admission statement also counts the request under its UTC day on the limiter row (a trigger
moves a finished day's count into the usage table), so ``requests_today`` is exactly what was
admitted even when a process is killed; and it notices a wall clock stepped back against the
latest clock it saw (``last_now``), judged at the time the statement runs (see
:meth:`SQLiteLimits.admit`), and moves the slot schedule back with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import aiosqlite

from ..._constants import DAILY_WINDOW_SECONDS, QUOTA_RESET_MAX_AHEAD_SECONDS
from .._rows import (
    LimiterRow,
    admit_row,
    mark_spent_row,
    quota_state_row,
    refusal,
    usage_cutoff_day,
)
from .._time import UtcDays, plausible_reset
from ..base import Admission, QuotaState
from .connection import SQLiteCore

__all__ = ["ELAPSED_FUNCTION", "SQLiteLimits"]

_T = TypeVar("_T")

# ``reset_at > :now`` is NULL (false) when no window started: the window then starts now. A
# stored reset is never read as more than :max_ahead ahead (an implausible server header).
_USED_NOW = "CASE WHEN reset_at > :now THEN quota_used ELSE 0 END"
_RESET_NOW = (
    "CASE WHEN reset_at > :now THEN min(reset_at, :now + :max_ahead) ELSE :now + :window END"
)
# ``fresh`` is the clock when the statement runs (see ``SQLiteStore.admit``); before it by more
# than one interval, ``last_now`` says the clock was stepped back: the schedule moves back too.
_STEPPED_BACK = "fresh < last_now - :interval"
_NEXT_FREE = f"CASE WHEN {_STEPPED_BACK} THEN next_free - (last_now - fresh) ELSE next_free END"
_ADMIT_TEMPLATE = f"""
UPDATE limiter SET
    quota_used = {_USED_NOW} + 1,
    reset_at = {_RESET_NOW},
    last_slot = max({_NEXT_FREE}, :now),
    next_free = max({_NEXT_FREE}, :now) + :interval,
    last_now = CASE WHEN {_STEPPED_BACK} THEN fresh ELSE max(last_now, fresh) END,
    day_requests = CASE WHEN day IS :day THEN day_requests + 1 ELSE 1 END,
    day = :day
{{source}}WHERE id = 1 AND {_USED_NOW} < :daily_limit
RETURNING last_slot, quota_used, reset_at
"""
# On the loop thread the statement runs at once: the clock read just before it is fresh.
_ADMIT_NOW = _ADMIT_TEMPLATE.replace("fresh", ":fresh").format(source="")
# On the worker thread it may first wait for another process's lock: the clock is read when
# it runs (our reading plus the time waited, from a function SQLite calls under the lock).
_ADMIT_AFTER_WAIT = (
    "WITH clock(fresh) AS MATERIALIZED (SELECT :now + tm_elapsed(:sent))"
    + _ADMIT_TEMPLATE.format(source="FROM clock ")
)
ELAPSED_FUNCTION = "tm_elapsed"
_RELEASE_SLOT = """
UPDATE limiter SET
    next_free = CASE WHEN next_free = :slot + :interval THEN :slot ELSE next_free END,
    quota_used = max(quota_used - 1, 0),
    day_requests = CASE WHEN day IS :day THEN max(day_requests - 1, 0) ELSE day_requests END
WHERE id = 1
"""
# :reset is already checked (``plausible_reset``): NULL or a future, plausible time.
_NEW_RESET = f"CASE WHEN :reset IS NOT NULL THEN :reset ELSE {_RESET_NOW} END"
_QUOTA_SYNC = f"""
UPDATE limiter SET
    quota_used = CASE WHEN :available IS NULL THEN {_USED_NOW}
                      ELSE max({_USED_NOW}, :daily_limit - :available) END,
    reset_at = {_NEW_RESET}
WHERE id = 1
"""
_MARK_SPENT = f"""
UPDATE limiter SET quota_used = :daily_limit, reset_at = {_NEW_RESET}
WHERE id = 1
RETURNING reset_at
"""
_LIMITER_ROW = (
    "SELECT next_free, quota_used, reset_at, last_now, day, day_requests FROM limiter WHERE id = 1"
)
_LIMITER_WRITE = """
UPDATE limiter SET next_free = ?, quota_used = ?, reset_at = ?, last_now = ?, day = ?,
    day_requests = ?
WHERE id = 1
"""
_USAGE_GET = """
SELECT name, value FROM usage WHERE day = :day
UNION ALL
SELECT 'requests', day_requests FROM limiter WHERE id = 1 AND day = :day AND day_requests > 0
"""
_USAGE_ADD = """
INSERT INTO usage (day, name, value) SELECT ?, key, value FROM json_each(?) WHERE true
ON CONFLICT (day, name) DO UPDATE SET value = value + excluded.value
"""
_FLAG_SET = """
INSERT INTO flags (name, until) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET until = excluded.until
"""


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _row_of(values: Sequence[Any]) -> LimiterRow:
    next_free, quota_used, reset_at, last_now, day, day_requests = values
    return LimiterRow(
        next_free=float(next_free),
        quota_used=int(quota_used),
        reset_at=_float_or_none(reset_at),
        last_now=float(last_now),
        day=None if day is None else str(day),
        day_requests=int(day_requests),
    )


class SQLiteLimits(SQLiteCore):
    """The limiter, quota, usage and flag methods of the SQLite store."""

    _usage_purged_for: str | None
    _days: UtcDays

    async def _update_limiter(self, decide: Callable[[LimiterRow], _T]) -> _T:
        """Read the limiter row, ``decide`` on it (mutating it), write it back: one transaction."""

        async def body(db: aiosqlite.Connection) -> _T:
            rows = list(await db.execute_fetchall(_LIMITER_ROW))
            row = _row_of(rows[0])
            result = decide(row)
            await db.execute(
                _LIMITER_WRITE,
                (
                    row.next_free,
                    row.quota_used,
                    row.reset_at,
                    row.last_now,
                    row.day,
                    row.day_requests,
                ),
            )
            return result

        return await self._transaction(body)

    # -- per-second limiter + daily quota -----------------------------------------------------

    async def admit(self, *, now: float, interval: float, daily_limit: int) -> Admission:
        """Count one request (quota and the day's ``requests``) and reserve the next slot unless
        the quota is spent: one ``UPDATE ... RETURNING``, on the loop thread unless another
        process holds the file.

        The clock compared with ``last_now`` (a clock stepped back) is the one when the
        statement runs: on the loop thread ``now`` plus the few microseconds since; on the
        worker thread, where the statement may first wait for another process's write lock,
        ``now`` plus the time waited, read by a SQL function under the lock. A caller's stale
        ``now`` is therefore never taken for a clock stepped back."""
        sent = self._monotonic()
        day = self._days.of(now)
        # Not connected yet (learn the version first), or SQLite < 3.35 (no RETURNING).
        if (self._db is None or self._tx_lock is not None) and await self._legacy():
            return await self._update_limiter(
                lambda row: admit_row(
                    row,
                    now=now,
                    interval=interval,
                    daily_limit=daily_limit,
                    day=day,
                    fresh=now + self._elapsed(sent),
                )
            )
        params = {
            "now": now,
            "interval": interval,
            "daily_limit": daily_limit,
            "window": DAILY_WINDOW_SECONDS,
            "max_ahead": QUOTA_RESET_MAX_AHEAD_SECONDS,
            "day": day,
        }
        done = self._fast_run(_ADMIT_NOW, {**params, "fresh": now + self._elapsed(sent)})
        if done is not None:
            await self._fast_committed()
            rows = done[0]
        else:
            rows = await self._fetchall(_ADMIT_AFTER_WAIT, {**params, "sent": sent})
        if rows:
            slot, used, reset_at = rows[0]
            return Admission(
                admitted=True,
                wait=slot - now,
                slot=slot,
                quota_remaining=daily_limit - used,
                reset_at=reset_at,
                day=day,
            )
        # Refused (the rare path): report the state that refused it.
        return refusal(await self._limiter_row(), now=now, daily_limit=daily_limit)

    async def _legacy(self) -> bool:
        """Whether this SQLite lacks RETURNING (known once connected)."""
        await self._conn()
        return self._tx_lock is not None

    async def _limiter_row(self) -> LimiterRow:
        rows = await self._read(_LIMITER_ROW)
        return _row_of(rows[0])

    async def release_slot(self, *, slot: float, interval: float, day: str | None = None) -> None:
        """Give back an unused slot (compare-and-set: only if no later slot was reserved since),
        its quota unit and its count in ``day``'s requests (while the row still counts that
        day), in one statement."""
        await self._write(_RELEASE_SLOT, {"slot": slot, "interval": interval, "day": day})

    async def quota_sync(
        self, *, now: float, daily_limit: int, available: int | None, reset_at: float | None
    ) -> None:
        """Apply the server's view of the quota in one statement; it can only lower what is
        left and set a future, plausible reset."""
        if available is None and reset_at is None:
            return
        await self._write(
            _QUOTA_SYNC,
            {
                "now": now,
                "daily_limit": daily_limit,
                "available": available,
                "reset": plausible_reset(reset_at, now),
                "window": DAILY_WINDOW_SECONDS,
                "max_ahead": QUOTA_RESET_MAX_AHEAD_SECONDS,
            },
        )

    async def quota_mark_spent(
        self, *, now: float, daily_limit: int, reset_at: float | None
    ) -> float:
        """Nothing is left until the returned reset time."""
        if await self._legacy():
            return await self._update_limiter(
                lambda row: mark_spent_row(row, now=now, daily_limit=daily_limit, reset_at=reset_at)
            )
        rows = await self._write_returning(
            _MARK_SPENT,
            {
                "now": now,
                "daily_limit": daily_limit,
                "reset": plausible_reset(reset_at, now),
                "window": DAILY_WINDOW_SECONDS,
                "max_ahead": QUOTA_RESET_MAX_AHEAD_SECONDS,
            },
        )
        return float(rows[0][0])

    async def quota_state(self, *, now: float, daily_limit: int) -> QuotaState:
        """Read the quota (a window whose reset passed reads as fresh)."""
        return quota_state_row(await self._limiter_row(), now=now, daily_limit=daily_limit)

    # -- usage counters ------------------------------------------------------------------------

    async def usage_add(self, day: str, counters: Mapping[str, int]) -> None:
        """Add ``counters`` to ``day`` in one upsert; the first write of a day drops days older
        than the keep period."""
        if not counters:
            return
        await self._write(_USAGE_ADD, (day, json.dumps(dict(counters))))
        if self._usage_purged_for != day:
            self._usage_purged_for = day
            await self._write("DELETE FROM usage WHERE day < ?", (usage_cutoff_day(day),))

    async def usage_get(self, day: str) -> dict[str, int]:
        """The totals of ``day`` across every process (``requests``: with the admissions the
        limiter row counts for that day)."""
        totals: dict[str, int] = {}
        for name, value in await self._read(_USAGE_GET, {"day": day}):
            totals[str(name)] = totals.get(str(name), 0) + int(value)
        return totals

    # -- flags -----------------------------------------------------------------------------------

    async def flag_set(self, name: str, *, until: float) -> None:
        """Remember ``name`` until ``until``."""
        await self._write(_FLAG_SET, (name, until))

    async def flag_get(self, name: str, *, now: float) -> float | None:
        """``until`` of a flag still in force, else None."""
        rows = await self._read("SELECT until FROM flags WHERE name = ? AND until > ?", (name, now))
        return float(rows[0][0]) if rows else None
