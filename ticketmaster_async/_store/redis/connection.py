"""The connection core every room of the Redis store runs through: the script runner, the clock
mapping onto Redis time, the Lua helpers shared by the scripts and the conversions of script
arguments and replies.
"""

from __future__ import annotations

import abc
import asyncio
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._time import UtcDays
from ..base import Store

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["CLOCK_DRIFT_PER_SECOND", "RedisCore"]

#: How fast an offset measurement is assumed to grow stale (clock drift and NTP slew, generous).
CLOCK_DRIFT_PER_SECOND = 1e-4

# Numbers cross the Lua boundary as strings: Lua numbers are returned to clients truncated to
# integers and formatted with 14 digits as command arguments, which would break the slot
# compare-and-set. '%.17g' round-trips a double exactly; Python's repr() (redis-py's encoding of
# floats) does too.

_LUA_COMMON = """
local function num(x) return string.format('%.17g', x) end
local function int(x) return string.format('%d', x) end
local function clock(given)
  if given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""


def _arg(value: float | None) -> float | str:
    """A script argument: the number, or '' for None (and for a number that is not finite,
    which the scripts must never compare)."""
    return "" if value is None or not math.isfinite(value) else value


def _float(raw: bytes | str) -> float:
    return float(raw)


def _opt_float(raw: bytes | str) -> float | None:
    return float(raw) if raw not in (b"", "") else None


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisCore(Store):
    """What every room of the Redis store shares: the connection, the scripts and the clock
    (the store in ``__init__`` sets this state and supplies the hooks below)."""

    _prefix: str
    _max_entries: int
    _use_server_time: bool
    _client: Redis | None
    _open_lock: asyncio.Lock
    _closed: bool
    _scripts: dict[str, AsyncScript]
    _monotonic: Callable[[], float]
    # Redis time minus our monotonic time, how far off it may be, and when it was measured.
    _offset: float
    _offset_error: float
    _offset_at: float
    _days: UtcDays

    @abc.abstractmethod
    def _batch(self) -> int:
        """Keys per ``SCAN`` step and per delete or purge script."""

    @abc.abstractmethod
    def _expiry_slack(self) -> float:
        """Seconds added to every relative expiry."""

    async def _conn(self) -> Redis:
        if self._closed:
            raise RuntimeError("RedisStore used after aclose()")
        client = self._client
        if client is None:
            await self.open()
            assert self._client is not None
            client = self._client
        return client

    async def _run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        await self._conn()
        return await self._scripts[name](keys=list(keys), args=list(args))

    def _now(self, now: float) -> float | str:
        return "" if self._use_server_time else now

    def _learn_offset(self, server_now: float, sent: float, received: float) -> None:
        """Keep the offset from the round trip with the smallest uncertainty, allowing for the
        drift of an older measurement."""
        error = (received - sent) / 2
        aged = self._offset_error + (received - self._offset_at) * CLOCK_DRIFT_PER_SECOND
        if error <= aged:
            self._offset = server_now - (sent + received) / 2
            self._offset_error = error
            self._offset_at = received
