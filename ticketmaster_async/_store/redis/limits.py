"""The limiter, daily quota, usage counters and flags of the Redis store: their Lua scripts and the
methods that run them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..._constants import DAILY_WINDOW_SECONDS, QUOTA_RESET_MAX_AHEAD_SECONDS
from .._rows import usage_cutoff_day
from ..base import Admission, QuotaState
from .connection import _LUA_COMMON, RedisCore, _arg, _float, _opt_float

__all__ = ["LIMITS_SCRIPTS", "RedisLimits"]

_LUA_LIMITER = (
    _LUA_COMMON
    + f"""
local MAX_AHEAD = {QUOTA_RESET_MAX_AHEAD_SECONDS!r}
"""
    + """
local KEY = KEYS[1]
-- A stored reset is never read as more than MAX_AHEAD ahead (an implausible server header).
local function load(now)
  local row = redis.call('HMGET', KEY, 'n', 'u', 'r', 'l')
  local reset = tonumber(row[3])
  local open = reset ~= nil and now < reset
  if open then reset = math.min(reset, now + MAX_AHEAD) end
  local used = open and (tonumber(row[2]) or 0) or 0
  return tonumber(row[1]) or 0, used, reset, open, tonumber(row[4]) or 0
end
-- The quota this process last saw: the shared count never restarts below it (allkeys-*
-- eviction) while its reset lies ahead.
local function floor(now, used, reset, open, floor_used, floor_reset)
  if floor_used ~= nil and floor_reset ~= nil and now < floor_reset and floor_used > used then
    used = floor_used
    if not open then reset, open = math.min(floor_reset, now + MAX_AHEAD), true end
  end
  return used, reset, open
end
-- No expiry: under volatile-* Redis never evicts the limiter and quota (PERSIST drops the
-- expiry an older version set).
local function save(next_free, used, reset)
  redis.call('HSET', KEY, 'n', num(next_free), 'u', int(used), 'r', num(reset))
  redis.call('PERSIST', KEY)
end
local function new_reset(now, given, reset, open, window)
  if given ~= nil and given > now and given <= now + MAX_AHEAD then return given end
  if open then return reset end
  return now + window
end
"""
)

# KEYS: the limiter row, the usage hash of the caller's day, the days index.
# ARGV: now ('' = Redis TIME), interval, daily_limit, window, floor used, floor reset ('' =
# none), the day. Returns {admitted, now, slot, used, reset ('' = none)}.
_ADMIT = (
    _LUA_LIMITER
    + """
local now = clock(ARGV[1])
local interval, limit, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local next_free, used, reset, open, last_now = load(now)
used, reset, open = floor(now, used, reset, open, tonumber(ARGV[5]), tonumber(ARGV[6]))
if used >= limit then
  return {0, num(now), '0', used, open and num(reset) or ''}
end
if not open then reset = now + window end
used = used + 1
if now < last_now - interval then
  -- The clock was stepped back: move the slot schedule back with it.
  next_free = next_free - (last_now - now)
  last_now = now
else
  last_now = math.max(last_now, now)
end
local slot = math.max(next_free, now)
save(slot + interval, used, reset)
redis.call('HSET', KEY, 'l', num(last_now))
redis.call('HINCRBY', KEYS[2], 'requests', 1)
redis.call('ZADD', KEYS[3], 0, ARGV[7])
return {1, num(now), num(slot), used, num(reset)}
"""
)

# KEYS: the limiter row[, the usage hash of the admission's day]. ARGV: slot, interval. A
# missing row (never admitted, or evicted) has nothing to give back.
_RELEASE_SLOT = """
local row = redis.call('HMGET', KEYS[1], 'n', 'u')
if not row[1] then return 0 end
local slot, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
if tonumber(row[1]) == slot + interval then
  redis.call('HSET', KEYS[1], 'n', ARGV[1])
end
redis.call('HSET', KEYS[1], 'u', string.format('%d', math.max((tonumber(row[2]) or 0) - 1, 0)))
if KEYS[2] and (tonumber(redis.call('HGET', KEYS[2], 'requests')) or 0) > 0 then
  redis.call('HINCRBY', KEYS[2], 'requests', -1)
end
return 1
"""

# ARGV: now, daily_limit, available ('' = none), reset ('' = none), window.
_QUOTA_SYNC = (
    _LUA_LIMITER
    + """
local now = clock(ARGV[1])
local limit, available, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local next_free, used, reset, open = load(now)
if available ~= nil then used = math.max(used, limit - available) end
save(next_free, used, new_reset(now, tonumber(ARGV[4]), reset, open, window))
return 1
"""
)

# ARGV: now, daily_limit, reset ('' = none), window. Returns the reset in force.
_MARK_SPENT = (
    _LUA_LIMITER
    + """
local now = clock(ARGV[1])
local limit, window = tonumber(ARGV[2]), tonumber(ARGV[4])
local next_free, used, reset, open = load(now)
reset = new_reset(now, tonumber(ARGV[3]), reset, open, window)
save(next_free, limit, reset)
return num(reset)
"""
)

# ARGV: now, floor used, floor reset ('' = none). Returns {used, reset ('' = no window)}.
_QUOTA_STATE = (
    _LUA_LIMITER
    + """
local now = clock(ARGV[1])
local next_free, used, reset, open = load(now)
used, reset, open = floor(now, used, reset, open, tonumber(ARGV[2]), tonumber(ARGV[3]))
return {used, open and num(reset) or ''}
"""
)

# KEYS[1]: the flag. ARGV: until (epoch s, caller clock), slack (s). Kept until ``until``, or
# for the slack if Redis's clock already passed it (flag_get compares with the caller's now).
_FLAG_SET = (
    _LUA_COMMON
    + """
local kept_until, slack = tonumber(ARGV[1]), tonumber(ARGV[2])
local ttl = math.max(kept_until - clock(''), 0) + slack
redis.call('SET', KEYS[1], ARGV[1], 'PX', int(math.ceil(ttl * 1000)))
return 1
"""
)

# KEYS[1]: the days index. ARGV: day key prefix, oldest day kept.
_USAGE_PURGE = """
local old = redis.call('ZRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[2])
for _, day in ipairs(old) do redis.call('DEL', ARGV[1] .. day) end
if #old > 0 then redis.call('ZREMRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[2]) end
return #old
"""

LIMITS_SCRIPTS: dict[str, str] = {
    "admit": _ADMIT,
    "release_slot": _RELEASE_SLOT,
    "quota_sync": _QUOTA_SYNC,
    "quota_mark_spent": _MARK_SPENT,
    "quota_state": _QUOTA_STATE,
    "flag_set": _FLAG_SET,
    "usage_purge": _USAGE_PURGE,
}


class RedisLimits(RedisCore):
    """The limiter, quota, usage and flag methods of the Redis store."""

    _usage_purged_for: str | None
    _limiter_key: str
    _day_prefix: str
    _days_key: str
    _flag_prefix: str
    # The quota this process last saw (used, reset; Redis time): a floor for the scripts.
    _floor_used: int
    _floor_reset: float | None

    # -- per-second limiter + daily quota -----------------------------------------------------

    def _saw_quota(self, used: int, reset: float | None) -> None:
        """Remember the quota a script reported: the floor passed to the next ones."""
        if reset is None:
            return
        if self._floor_reset is None or reset != self._floor_reset:
            self._floor_used, self._floor_reset = used, reset
        else:
            self._floor_used = max(self._floor_used, used)

    def _floor_args(self) -> list[float | str]:
        return [self._floor_used, _arg(self._floor_reset)]

    async def admit(self, *, now: float, interval: float, daily_limit: int) -> Admission:
        """Count one request (quota and the day's ``requests``) and reserve the next slot
        unless the quota is spent: one script on Redis time (``slot`` and ``reset_at`` are Redis
        time; ``wait`` counts from this call)."""
        sent = self._monotonic()
        day = self._days.of(now)
        admitted, used_now, slot, used, reset = await self._run(
            "admit",
            [self._limiter_key, self._day_prefix + day, self._days_key],
            [
                self._now(now),
                interval,
                daily_limit,
                DAILY_WINDOW_SECONDS,
                *self._floor_args(),
                day,
            ],
        )
        reset_at = _opt_float(reset)
        self._saw_quota(int(used), reset_at)
        if not int(admitted):
            return Admission(
                admitted=False,
                wait=0.0,
                slot=0.0,
                quota_remaining=max(0, daily_limit - int(used)),
                reset_at=reset_at,
            )
        if self._use_server_time:
            self._learn_offset(_float(used_now), sent, self._monotonic())
            # The slot on our clock, from when this call started (as the caller's ``now`` was).
            wait = max(0.0, _float(slot) - self._offset - sent)
        else:
            wait = _float(slot) - now
        return Admission(
            admitted=True,
            wait=wait,
            slot=_float(slot),
            quota_remaining=daily_limit - int(used),
            reset_at=reset_at,
            day=day,
        )

    async def release_slot(self, *, slot: float, interval: float, day: str | None = None) -> None:
        """Give back an unused slot (compare-and-set: only if no later slot was reserved since),
        its quota unit and its count in ``day``'s requests, in one script."""
        keys = [self._limiter_key] if day is None else [self._limiter_key, self._day_prefix + day]
        await self._run("release_slot", keys, [slot, interval])
        self._floor_used = max(0, self._floor_used - 1)

    async def quota_sync(
        self, *, now: float, daily_limit: int, available: int | None, reset_at: float | None
    ) -> None:
        """Apply the server's view of the quota in one script; it can only lower what is left
        and set a reset in the future (of Redis time), at most
        ``QUOTA_RESET_MAX_AHEAD_SECONDS`` ahead."""
        if available is None and reset_at is None:
            return
        await self._run(
            "quota_sync",
            [self._limiter_key],
            [self._now(now), daily_limit, _arg(available), _arg(reset_at), DAILY_WINDOW_SECONDS],
        )

    async def quota_mark_spent(
        self, *, now: float, daily_limit: int, reset_at: float | None
    ) -> float:
        """Nothing is left until the returned reset time (one script)."""
        reset = _float(
            await self._run(
                "quota_mark_spent",
                [self._limiter_key],
                [self._now(now), daily_limit, _arg(reset_at), DAILY_WINDOW_SECONDS],
            )
        )
        self._saw_quota(daily_limit, reset)
        return reset

    async def quota_state(self, *, now: float, daily_limit: int) -> QuotaState:
        """Read the quota (a window whose reset passed reads as fresh; never below what this
        process last saw while that window runs)."""
        used, reset = await self._run(
            "quota_state", [self._limiter_key], [self._now(now), *self._floor_args()]
        )
        return QuotaState(
            used=int(used),
            daily_limit=daily_limit,
            remaining=max(0, daily_limit - int(used)),
            reset_at=_opt_float(reset),
        )

    # -- usage counters ------------------------------------------------------------------------

    async def usage_add(self, day: str, counters: Mapping[str, int]) -> None:
        """Add ``counters`` to ``day``: one ``MULTI`` pipeline of ``HINCRBY``; the first write of
        a day by this store drops days older than the keep period (usage keys never expire)."""
        if not counters:
            return
        client = await self._conn()
        key = self._day_prefix + day
        async with client.pipeline(transaction=True) as pipe:
            for name, value in counters.items():
                pipe.hincrby(key, name, value)
            # No expiry (see the module docstring): old days are deleted below.
            pipe.persist(key)
            pipe.zadd(self._days_key, {day: 0})
            pipe.persist(self._days_key)
            await pipe.execute()
        if self._usage_purged_for != day:
            self._usage_purged_for = day
            await self._run(
                "usage_purge", [self._days_key], [self._day_prefix, usage_cutoff_day(day)]
            )

    async def usage_get(self, day: str) -> dict[str, int]:
        """The totals of ``day`` across every process."""
        client = await self._conn()
        raw = await client.hgetall(self._day_prefix + day)
        return {
            (name.decode() if isinstance(name, bytes) else name): int(value)
            for name, value in raw.items()
        }

    # -- flags -----------------------------------------------------------------------------------

    async def flag_set(self, name: str, *, until: float) -> None:
        """Remember ``name`` until ``until`` (Redis drops it then, plus slack)."""
        await self._run("flag_set", [self._flag_prefix + name], [until, self._expiry_slack()])

    async def flag_get(self, name: str, *, now: float) -> float | None:
        """``until`` of a flag still in force at ``now``, else None."""
        client = await self._conn()
        raw = await client.get(self._flag_prefix + name)
        if raw is None:
            return None
        until = _float(raw)
        return until if until > now else None
