"""The price history of the Redis store (version 0.2): its scripts, appends, reads and purges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._rows import check_max_points
from .connection import RedisCore, _text

__all__ = ["HISTORY_SCRIPTS", "RedisHistory"]

# KEYS[1]: the last-point index. ARGV[1]: points key prefix, ARGV[2]: max_points, then
# (event id, at, payload) triples. A point is stored as "<at> <payload>" (``at`` as sent: it
# round-trips exactly, Lua numbers would not). Returns how many were appended.
_HISTORY_APPEND = """
local H, LAST, max_points = ARGV[1], KEYS[1], tonumber(ARGV[2])
local appended = 0
for i = 3, #ARGV, 3 do
  local key, at, payload = H .. ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local last = redis.call('LINDEX', key, -1)
  if not last or string.sub(last, string.find(last, ' ', 1, true) + 1) ~= payload then
    redis.call('RPUSH', key, at .. ' ' .. payload)
    redis.call('LTRIM', key, -max_points, -1)
    redis.call('ZADD', LAST, at, ARGV[i])
    appended = appended + 1
  end
end
return appended
"""

# KEYS[1]: the last-point index. ARGV: points key prefix, before (caller clock), batch size.
# Returns how many events were dropped (at most the batch size).
_HISTORY_PURGE = """
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2],
                       'LIMIT', 0, tonumber(ARGV[3]))
for _, event_id in ipairs(old) do redis.call('DEL', ARGV[1] .. event_id) end
if #old > 0 then redis.call('ZREM', KEYS[1], unpack(old)) end
return #old
"""

HISTORY_SCRIPTS: dict[str, str] = {
    "history_append": _HISTORY_APPEND,
    "history_purge": _HISTORY_PURGE,
}


class RedisHistory(RedisCore):
    """The price-history methods of the Redis store."""

    # -- price history (version 0.2) -----------------------------------------------------------

    @property
    def _history_keys(self) -> tuple[str, str]:
        """The points key prefix and the last-point index."""
        return f"{self._prefix}:h:p:", f"{self._prefix}:h:last"

    async def history_append(
        self, points: Sequence[tuple[str, float, str]], *, max_points: int
    ) -> int:
        """Append-on-difference and trim to ``max_points`` per event: one script; returns how
        many points were appended.

        Raises:
            ConfigurationError: ``max_points`` is below 1.
        """
        check_max_points(max_points)
        if not points:
            return 0
        prefix, index = self._history_keys
        args: list[Any] = [prefix, max_points]
        for event_id, at, payload in points:
            args += [event_id, at, payload]
        appended = await self._run("history_append", [index], args)
        return int(appended)

    async def history_get(self, event_id: str) -> list[tuple[float, str]]:
        """The points of ``event_id``, oldest first (one ``LRANGE``)."""
        client = await self._conn()
        prefix, _ = self._history_keys
        raw = await client.lrange(prefix + event_id, 0, -1)
        points = []
        for item in raw:
            at, _, payload = _text(item).partition(" ")
            points.append((float(at), payload))
        return points

    async def history_purge(self, *, before: float) -> int:
        """Drop the history of every event whose last point is older than ``before`` (caller
        clock), in scripts of a bounded size; returns how many events."""
        prefix, index = self._history_keys
        count = 0
        while True:
            dropped = int(
                await self._run("history_purge", [index], [prefix, before, self._batch()])
            )
            count += dropped
            if dropped < self._batch():
                return count
