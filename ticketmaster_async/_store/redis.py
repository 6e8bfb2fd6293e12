"""The shared :class:`~ticketmaster_async._store.base.Store`: one Redis server for every process
and machine using one API key.

Install with ``pip install "ticketmaster-async[redis]"``; the ``redis`` package is imported only
when a Redis store is built. The connection is opened lazily and reconnects by itself.

Clock: every deciding operation (:meth:`RedisStore.admit`, ``release_slot``, ``quota_sync``,
``quota_mark_spent``, and the ``quota_state`` read) is one Lua script, run with ``EVALSHA``, that
reads ``redis.call('TIME')``, so the per-second slots and the daily window are kept on the one
clock all machines share. ``Admission.slot`` and ``reset_at`` are in Redis time; callers act on
the relative ``Admission.wait``, counted from the start of the ``admit`` call: the store maps
Redis time onto this process's monotonic clock (NTP-style: the offset measured by the round trip
with the smallest uncertainty, primed by a few ``TIME`` calls at open and refreshed as it ages),
so a slow round trip (a first connection, a loaded server or event loop) never makes a request
leave before its slot. Cache, usage and flag values (``stored_at``, ``until``, the
``now`` of ``cache_purge`` / ``flag_get``) stay in the caller's clock, as on the other backends;
Redis expiries of those keys are relative durations with :data:`EXPIRY_SLACK_SECONDS` of slack,
so they never depend on two clocks agreeing. ``use_server_time=False`` makes the scripts use the
caller's ``now`` instead of ``TIME`` (same scripts, same logic): for tests that drive time.

Key layout, all under ``f"{prefix}:"`` (the prefix must differ per API key: two apps with the
same prefix share one limiter, quota and cache; it must also not be another prefix plus
``":"`` + something, or one app's cache namespace could contain the other's keys)::

    {p}:lim              hash    n = next free slot, u = quota used, r = quota reset (epoch s),
                                 l = the latest clock an admission saw
    {p}:c:e:<cache key>  hash    status, body, headers (JSON), stored_at, expires_at, tags (JSON)
    {p}:c:t:<tag>        set     cache keys indexed under the tag
    {p}:c:i:age          zset    cache key -> stored_at   (eviction: oldest first, then by key)
    {p}:c:i:keep         zset    cache key -> keep time   (cache_purge)
    {p}:c:i:gone         zset    cache key -> Redis-time ms when Redis expires the entry
    {p}:u:d:<YYYY-MM-DD> hash    usage counter -> total (HINCRBY; ``requests`` by the admit script)
    {p}:u:days           zset    days with counters (all score 0, ordered by name)
    {p}:f:<name>         string  ``until`` of a flag

Cache keys and flags expire: entries live ``expires_at + keep - stored_at`` seconds (plus
slack), a tag set and the indexes as long as their longest-lived entry, flags until ``until``
(plus slack). Entries Redis expires are dropped from the indexes by the next cache write or count
(the ``gone`` index says which); their tag sets keep a dangling member until they expire
themselves, which ``cache_invalidate_tag`` ignores.

The limiter/quota row and the usage counters carry NO expiry (a key written by an older version
loses its expiry at the next write): under a ``maxmemory-policy`` of ``volatile-*`` Redis evicts
only keys with an expiry, so memory pressure can never restart the daily budget. Usage days older
than ``USAGE_KEEP_DAYS`` are deleted explicitly. Under ``allkeys-*`` any key may be evicted; the
store says so at WARNING when it connects (``CONFIG GET``; a server that refuses the command is
noted at DEBUG), and each process passes the quota it last saw (used, reset) to the scripts as a
floor, so the shared budget never restarts below what this process has seen spent.

The cache bound is exact: the script that writes an entry also evicts the oldest beyond
``max_entries``. The store never sees the API key (cache keys and bodies come without it).

The scripts build the keys of entries and tags from the prefix, so they need one Redis (or one
primary), not a Redis Cluster.
Version 0.2 keys, also under the prefix::

    {p}:w:s:<watch name> hash    event id -> snapshot (JSON written by the client)
    {p}:w:l:<lease name> hash    o = owner, e = expires_at (the clock of the limiter scripts)
    {p}:h:p:<event id>   list    price history points, oldest first: "<at> <payload>"
    {p}:h:last           zset    event id -> ``at`` of its last point (history_purge)

Watch state and price history are durable: they have NO expiry (the exception to the rule
above), ``cache_clear`` never scans them, and they are bounded by the callers (``watch_save``
deletions, ``watch_forget``, ``max_points``, ``history_purge``). Under a ``maxmemory-policy`` of
``volatile-*`` Redis never evicts them; under ``allkeys-*`` it may. A lease decides on the same
clock as the limiter (Redis ``TIME``, or the caller's ``now`` with ``use_server_time=False``)
and also carries a ``PEXPIRE`` of its ``ttl`` plus :data:`EXPIRY_SLACK_SECONDS`, so a dead
holder's lease disappears by itself. :meth:`RedisStore.cache_set_many`, ``lease_acquire``,
``lease_release``, ``history_append`` and ``history_purge`` are one script each;
``watch_save`` is one ``MULTI`` transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from .._constants import DAILY_WINDOW_SECONDS, LOGGER_NAME, QUOTA_RESET_MAX_AHEAD_SECONDS
from .._exceptions import ConfigurationError
from ._rows import check_lease_ttl, check_max_points, usage_cutoff_day
from ._time import UtcDays
from .base import Admission, CacheEntry, QuotaState, Store
from .memory import MemoryStore

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

    from .._config import Settings

__all__ = [
    "CLOCK_DRIFT_PER_SECOND",
    "CLOCK_SAMPLES",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_SOCKET_TIMEOUT",
    "EXPIRY_SLACK_SECONDS",
    "FALLBACK_MAX_ENTRIES",
    "INSTALL_HINT",
    "RedisStore",
    "make_redis_store",
]

INSTALL_HINT = 'the Redis store needs the redis package: pip install "ticketmaster-async[redis]"'
#: Seconds to wait for a TCP connection to Redis before the store counts it as unreachable.
DEFAULT_CONNECT_TIMEOUT = 2.0
#: Seconds to wait for one Redis reply.
DEFAULT_SOCKET_TIMEOUT = 5.0
#: Added to every relative expiry: a key outlives its last use by this much at least.
EXPIRY_SLACK_SECONDS = 60.0
#: ``TIME`` round trips at open that measure the offset between Redis's clock and ours.
CLOCK_SAMPLES = 3
#: How fast an offset measurement is assumed to grow stale (clock drift and NTP slew, generous).
CLOCK_DRIFT_PER_SECOND = 1e-4
#: The private in-process cache bound while Redis is unreachable (see :mod:`.fallback`).
FALLBACK_MAX_ENTRIES = 1000
#: Keys per ``SCAN`` step and per delete script in :meth:`RedisStore.cache_clear`, and entries
#: per script in :meth:`RedisStore.cache_purge`: bounds how long one script blocks Redis.
_BATCH = 500
_MS = 1000.0
#: ``maxmemory-policy`` values under which Redis may evict keys without an expiry.
_EVICTS_ANY_KEY = "allkeys-"

logger = logging.getLogger(LOGGER_NAME)

# -- Lua --------------------------------------------------------------------------------------
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

# KEYS: age, keep, gone indexes. ARGV[1], ARGV[2]: the entry and tag key prefixes.
_LUA_CACHE = """
local function int(x) return string.format('%d', x) end
local E, T = ARGV[1], ARGV[2]
local AGE, KEEP, GONE = KEYS[1], KEYS[2], KEYS[3]
local function remove(key)
  local entry = E .. key
  local tags = redis.call('HGET', entry, 'tags')
  local removed = redis.call('DEL', entry)
  if tags then
    for _, tag in ipairs(cjson.decode(tags)) do redis.call('SREM', T .. tag, key) end
  end
  redis.call('ZREM', AGE, key)
  redis.call('ZREM', KEEP, key)
  redis.call('ZREM', GONE, key)
  return removed
end
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function prune()
  -- Entries Redis expired: out of the indexes (their tags went with them).
  local gone = redis.call('ZRANGEBYSCORE', GONE, '-inf', int(server_ms()), 'LIMIT', 0, 1000)
  for _, key in ipairs(gone) do
    if redis.call('EXISTS', E .. key) == 0 then remove(key) end
  end
end
local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, int(ttl)) end
end
"""

# ARGV[3..]: key, status, body, headers, stored_at, expires_at, keep_until, ttl_ms,
# max_entries, tags (JSON), then each tag.
_CACHE_SET = (
    _LUA_CACHE
    + """
local key, ttl, max_entries = ARGV[3], tonumber(ARGV[10]), tonumber(ARGV[11])
prune()
remove(key)
local entry = E .. key
redis.call('HSET', entry, 'status', ARGV[4], 'body', ARGV[5], 'headers', ARGV[6],
           'stored_at', ARGV[7], 'expires_at', ARGV[8], 'tags', ARGV[12])
redis.call('PEXPIRE', entry, int(ttl))
redis.call('ZADD', AGE, ARGV[7], key)
redis.call('ZADD', KEEP, ARGV[9], key)
redis.call('ZADD', GONE, int(server_ms() + ttl), key)
for i = 13, #ARGV do
  redis.call('SADD', T .. ARGV[i], key)
  extend(T .. ARGV[i], ttl)
end
local over = redis.call('ZCARD', AGE) - max_entries
if over > 0 then
  for _, old in ipairs(redis.call('ZRANGE', AGE, 0, over - 1)) do remove(old) end
end
extend(AGE, ttl)
extend(KEEP, ttl)
extend(GONE, ttl)
return 1
"""
)

# ARGV[3..]: cache keys. Returns how many existed.
_CACHE_DELETE = (
    _LUA_CACHE
    + """
local count = 0
for i = 3, #ARGV do count = count + remove(ARGV[i]) end
return count
"""
)

# ARGV[3]: the tag. Only entries whose own tag list still names it count (a dangling member
# may point at a key that expired and was written again without the tag).
_CACHE_INVALIDATE_TAG = (
    _LUA_CACHE
    + """
local tag = ARGV[3]
local count = 0
for _, key in ipairs(redis.call('SMEMBERS', T .. tag)) do
  local tags = redis.call('HGET', E .. key, 'tags')
  if tags then
    for _, own in ipairs(cjson.decode(tags)) do
      if own == tag then
        count = count + remove(key)
        break
      end
    end
  end
end
redis.call('DEL', T .. tag)
return count
"""
)

# ARGV[3]: now (caller clock), ARGV[4]: batch size. Returns {removed, looked at}.
_CACHE_PURGE = (
    _LUA_CACHE
    + """
local keys = redis.call('ZRANGEBYSCORE', KEEP, '-inf', '(' .. ARGV[3],
                        'LIMIT', 0, tonumber(ARGV[4]))
local count = 0
for _, key in ipairs(keys) do count = count + remove(key) end
return {count, #keys}
"""
)

_CACHE_COUNT = (
    _LUA_CACHE
    + """
prune()
return redis.call('ZCARD', AGE)
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


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError as exc:
        raise ConfigurationError(INSTALL_HINT) from exc
    return redis_asyncio


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a ``SCAN MATCH`` pattern."""
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)


def _arg(value: float | None) -> float | str:
    """A script argument: the number, or '' for None (and for a number that is not finite,
    which the scripts must never compare)."""
    return "" if value is None or not math.isfinite(value) else value


def _float(raw: bytes | str) -> float:
    return float(raw)


def _opt_float(raw: bytes | str) -> float | None:
    return float(raw) if raw not in (b"", "") else None


class RedisStore(Store):
    """A :class:`Store` in Redis, shared by every process and machine using the same ``url`` and
    ``prefix``.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` URL (may carry a password; never logged).
            Query-string options such as ``socket_timeout`` override the defaults below.
        prefix: namespace of every key; one per API key (see the module docstring).
        max_entries: exact cache bound; the oldest entries (by ``stored_at``) are evicted.
        use_server_time: the limiter and quota use Redis ``TIME`` (the default, so machines'
            clocks do not matter). False: they use the caller's ``now`` (tests with fake time).
        connect_timeout: seconds to wait for a connection.
        socket_timeout: seconds to wait for a reply.
        monotonic: this process's clock onto which Redis time is mapped for ``wait``.

    Raises:
        ConfigurationError: the ``redis`` package is not installed.
    """

    kind = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        max_entries: int,
        use_server_time: bool = True,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis_module = _import_redis()
        if not prefix:
            raise ConfigurationError("the Redis key prefix must not be empty")
        self._url = url
        self._prefix = prefix
        self._max_entries = max_entries
        self._use_server_time = use_server_time
        self._connect_timeout = connect_timeout
        self._socket_timeout = socket_timeout
        self._client: Redis | None = None
        self._open_lock = asyncio.Lock()
        self._closed = False
        self._usage_purged_for: str | None = None
        self._limiter_key = f"{prefix}:lim"
        self._entry_prefix = f"{prefix}:c:e:"
        self._tag_prefix = f"{prefix}:c:t:"
        self._index_keys = [f"{prefix}:c:i:age", f"{prefix}:c:i:keep", f"{prefix}:c:i:gone"]
        self._day_prefix = f"{prefix}:u:d:"
        self._days_key = f"{prefix}:u:days"
        self._flag_prefix = f"{prefix}:f:"
        self._scripts: dict[str, AsyncScript] = {}
        self._monotonic = monotonic
        # Redis time minus our monotonic time, how far off it may be, and when it was measured.
        self._offset = 0.0
        self._offset_error = math.inf
        self._offset_at = 0.0
        self._days = UtcDays()
        # The quota this process last saw (used, reset; Redis time): a floor for the scripts.
        self._floor_used = 0
        self._floor_reset: float | None = None

    @property
    def prefix(self) -> str:
        """The namespace of every key of this store."""
        return self._prefix

    def __repr__(self) -> str:
        # Never the URL: it may carry a password.
        return f"<RedisStore prefix={self._prefix!r}>"

    # -- connection --------------------------------------------------------------------------

    async def open(self) -> None:
        """Create the connection pool and check the server answers (``PING``). Idempotent.

        Raises:
            RuntimeError: the store was closed.
            redis.exceptions.ConnectionError: Redis cannot be reached (the next call retries).
        """
        async with self._open_lock:
            if self._closed:
                raise RuntimeError("RedisStore used after aclose()")
            if self._client is not None:
                return
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError

            client: Redis = self._redis_module.Redis.from_url(
                self._url,
                socket_connect_timeout=self._connect_timeout,
                socket_timeout=self._socket_timeout,
                # One immediate retry, for a pooled connection the server dropped; never after
                # a timeout, which could run a deciding script twice.
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            )
            try:
                await client.ping()
                for _ in range(CLOCK_SAMPLES):
                    before = self._monotonic()
                    seconds, microseconds = await client.time()
                    self._learn_offset(seconds + microseconds / 1e6, before, self._monotonic())
                await self._check_eviction_policy(client)
            except BaseException:
                await client.aclose()
                raise
            self._scripts = {
                name: client.register_script(source) for name, source in _SCRIPTS.items()
            }
            self._client = client

    async def _check_eviction_policy(self, client: Redis) -> None:
        """Say at WARNING when Redis may evict the limiter and quota (``allkeys-*``)."""
        from redis.exceptions import ResponseError

        try:
            reply = await client.config_get("maxmemory-policy")
        except ResponseError as exc:  # ACLs, managed Redis: CONFIG is often refused
            logger.debug("cannot read Redis maxmemory-policy (%s); not checked", exc)
            return
        raw = next(iter(cast("dict[Any, Any]", reply).values()), b"")
        policy = raw.decode() if isinstance(raw, bytes) else str(raw)
        if policy.startswith(_EVICTS_ANY_KEY):
            logger.warning(
                "Redis maxmemory-policy is %s: under memory pressure Redis may evict the shared "
                "limiter, quota and usage keys; each process keeps the daily budget from "
                "restarting below what it has seen spent, but requests_today may lose counts. "
                "Use a volatile-* policy or noeviction for the ticketmaster_async keys",
                policy,
            )

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

    async def aclose(self) -> None:
        """Close the connection pool. Idempotent; the store cannot be used afterwards."""
        self._closed = True
        async with self._open_lock:
            client, self._client = self._client, None
            if client is not None:
                await client.aclose()

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

    # -- cache -------------------------------------------------------------------------------

    async def cache_get(self, key: str) -> CacheEntry | None:
        """The entry under ``key`` even if expired, or None (one ``HMGET``)."""
        client = await self._conn()
        fields = await client.hmget(
            self._entry_prefix + key, ["status", "body", "headers", "stored_at", "expires_at"]
        )
        # decode_responses is off: every value is bytes (or None for a missing entry).
        status, body, headers, stored_at, expires_at = cast("list[bytes | None]", fields)
        if status is None or body is None or headers is None:
            return None
        assert stored_at is not None and expires_at is not None
        return CacheEntry(
            key=key,
            status=int(status),
            body=body,
            stored_at=float(stored_at),
            expires_at=float(expires_at),
            headers=json.loads(headers),
        )

    async def cache_set(self, entry: CacheEntry, *, tags: Sequence[str] = (), keep: float) -> None:
        """Write ``entry`` with its tags and evict the oldest beyond the bound: one script.

        Redis expires the entry ``expires_at + keep - stored_at`` seconds (plus slack) after
        this write."""
        unique_tags = list(dict.fromkeys(tags))
        lifetime = max(entry.expires_at + keep - entry.stored_at, 0.0) + EXPIRY_SLACK_SECONDS
        await self._run(
            "cache_set",
            self._index_keys,
            [
                self._entry_prefix,
                self._tag_prefix,
                entry.key,
                entry.status,
                entry.body,
                json.dumps(dict(entry.headers)),
                entry.stored_at,
                entry.expires_at,
                entry.expires_at + keep,
                math.ceil(lifetime * _MS),
                self._max_entries,
                json.dumps(unique_tags),
                *unique_tags,
            ],
        )

    async def cache_invalidate_tag(self, tag: str) -> int:
        """Drop every entry indexed under ``tag``; returns how many (one script)."""
        count = await self._run(
            "cache_invalidate_tag", self._index_keys, [self._entry_prefix, self._tag_prefix, tag]
        )
        return int(count)

    async def cache_delete(self, key: str) -> None:
        """Drop one entry (one script: the entry, its tags, its index rows)."""
        await self._delete([key])

    async def _delete(self, keys: Sequence[str | bytes]) -> int:
        count = await self._run(
            "cache_delete", self._index_keys, [self._entry_prefix, self._tag_prefix, *keys]
        )
        return int(count)

    async def cache_clear(self) -> int:
        """Drop every cached response: ``SCAN`` over ``{prefix}:c:e:*`` only (never quota,
        limiter, usage or flags), deleted in batches with their tags and index rows."""
        client = await self._conn()
        pattern = _glob_escape(self._entry_prefix) + "*"
        skip = len(self._entry_prefix.encode())
        count = 0
        batch: list[bytes] = []
        async for raw in client.scan_iter(match=pattern, count=_BATCH):
            batch.append(bytes(raw)[skip:])
            if len(batch) >= _BATCH:
                count += await self._delete(batch)
                batch = []
        if batch:
            count += await self._delete(batch)
        return count

    async def cache_purge(self, *, now: float) -> int:
        """Drop entries whose keep time (caller clock) passed; returns how many."""
        count = 0
        while True:
            removed, seen = await self._run(
                "cache_purge",
                self._index_keys,
                [self._entry_prefix, self._tag_prefix, now, _BATCH],
            )
            count += int(removed)
            if int(seen) < _BATCH:
                return count

    async def cache_count(self) -> int:
        """How many entries are stored."""
        count = await self._run("cache_count", self._index_keys, [self._entry_prefix, ""])
        return int(count)

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
        await self._run("flag_set", [self._flag_prefix + name], [until, EXPIRY_SLACK_SECONDS])

    async def flag_get(self, name: str, *, now: float) -> float | None:
        """``until`` of a flag still in force at ``now``, else None."""
        client = await self._conn()
        raw = await client.get(self._flag_prefix + name)
        if raw is None:
            return None
        until = _float(raw)
        return until if until > now else None

    # -- batched cache writes (version 0.2) --------------------------------------------------

    async def cache_set_many(
        self, items: Sequence[tuple[CacheEntry, Sequence[str]]], *, keep: float
    ) -> None:
        """Write every ``(entry, tags)`` as :meth:`cache_set` would and evict the oldest beyond
        the bound once: ONE script, so other clients see all of the batch or none of it. An
        empty batch does nothing."""
        if not items:
            return
        args: list[Any] = [self._entry_prefix, self._tag_prefix, self._max_entries]
        for entry, tags in items:
            unique_tags = list(dict.fromkeys(tags))
            lifetime = max(entry.expires_at + keep - entry.stored_at, 0.0) + EXPIRY_SLACK_SECONDS
            args += [
                entry.key,
                entry.status,
                entry.body,
                json.dumps(dict(entry.headers)),
                entry.stored_at,
                entry.expires_at,
                entry.expires_at + keep,
                math.ceil(lifetime * _MS),
                json.dumps(unique_tags),
                len(unique_tags),
                *unique_tags,
            ]
        await self._run("cache_set_many", self._index_keys, args)

    # -- watch state (version 0.2) -----------------------------------------------------------

    def _watch_key(self, name: str) -> str:
        return f"{self._prefix}:w:s:{name}"

    async def watch_load(self, name: str) -> dict[str, str]:
        """Every ``event id -> snapshot`` of the watch ``name`` (one ``HGETALL``)."""
        client = await self._conn()
        raw = await client.hgetall(self._watch_key(name))
        return {_text(event_id): _text(snapshot) for event_id, snapshot in raw.items()}

    async def watch_save(self, name: str, changes: Mapping[str, str | None]) -> None:
        """Upsert and delete snapshots in one ``MULTI`` transaction (no expiry)."""
        if not changes:
            return
        # Any: redis-py's mapping type is invariant in its key (a union of encodable types).
        upserts: dict[Any, Any] = {k: v for k, v in changes.items() if v is not None}
        deletes = [k for k, v in changes.items() if v is None]
        client = await self._conn()
        key = self._watch_key(name)
        async with client.pipeline(transaction=True) as pipe:
            if deletes:
                pipe.hdel(key, *deletes)
            if upserts:
                pipe.hset(key, mapping=upserts)
            await pipe.execute()

    async def watch_forget(self, name: str) -> None:
        """Drop every snapshot of the watch ``name`` (one ``DEL``)."""
        client = await self._conn()
        await client.delete(self._watch_key(name))

    # -- leases (version 0.2) ------------------------------------------------------------------

    def _lease_key(self, name: str) -> str:
        return f"{self._prefix}:w:l:{name}"

    async def lease_acquire(self, name: str, owner: str, *, now: float, ttl: float) -> bool:
        """Take or renew the lease in one script, on Redis ``TIME`` (or ``now`` with
        ``use_server_time=False``), as the limiter does.

        Raises:
            ConfigurationError: ``ttl`` is not a positive number of seconds.
        """
        check_lease_ttl(ttl)
        taken = await self._run(
            "lease_acquire",
            [self._lease_key(name)],
            [self._now(now), owner, ttl, EXPIRY_SLACK_SECONDS],
        )
        return bool(int(taken))

    async def lease_release(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it (one script: compare and delete)."""
        await self._run("lease_release", [self._lease_key(name)], [owner])

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
            dropped = int(await self._run("history_purge", [index], [prefix, before, _BATCH]))
            count += dropped
            if dropped < _BATCH:
                return count


_SCRIPTS: dict[str, str] = {
    "admit": _ADMIT,
    "release_slot": _RELEASE_SLOT,
    "quota_sync": _QUOTA_SYNC,
    "quota_mark_spent": _MARK_SPENT,
    "quota_state": _QUOTA_STATE,
    "cache_set": _CACHE_SET,
    "cache_delete": _CACHE_DELETE,
    "cache_invalidate_tag": _CACHE_INVALIDATE_TAG,
    "cache_purge": _CACHE_PURGE,
    "cache_count": _CACHE_COUNT,
    "flag_set": _FLAG_SET,
    "usage_purge": _USAGE_PURGE,
}


def make_redis_store(settings: Settings) -> Store:
    """The store for ``Settings.redis_url``: Redis, falling back to an in-process store while
    Redis is unreachable (see :class:`~ticketmaster_async._store.fallback.FallbackStore`).

    Raises:
        ConfigurationError: no ``redis_url``, or the ``redis`` package is not installed.
    """
    from .fallback import FallbackStore

    if settings.redis_url is None:
        raise ConfigurationError("make_redis_store needs Settings.redis_url")
    primary = RedisStore(
        settings.redis_url.get_secret_value(),
        prefix=settings.redis_prefix,
        max_entries=settings.cache_max_entries,
    )
    fallback = MemoryStore(max_entries=min(settings.cache_max_entries, FALLBACK_MAX_ENTRIES))
    return FallbackStore(primary, fallback=fallback)


# -- version 0.2: batched cache writes, leases, price history -----------------------------------


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


# KEYS: age, keep, gone indexes. ARGV[1], ARGV[2]: entry and tag key prefixes, ARGV[3]:
# max_entries; then per entry: key, status, body, headers, stored_at, expires_at, keep_until,
# ttl_ms, tags (JSON), number of tags, each tag. Each entry as in _CACHE_SET, one eviction.
_CACHE_SET_MANY = (
    _LUA_CACHE
    + """
local max_entries = tonumber(ARGV[3])
prune()
local now_ms = server_ms()
local longest = 0
local i = 4
while i <= #ARGV do
  local key, ttl, ntags = ARGV[i], tonumber(ARGV[i + 7]), tonumber(ARGV[i + 9])
  remove(key)
  local entry = E .. key
  redis.call('HSET', entry, 'status', ARGV[i + 1], 'body', ARGV[i + 2], 'headers', ARGV[i + 3],
             'stored_at', ARGV[i + 4], 'expires_at', ARGV[i + 5], 'tags', ARGV[i + 8])
  redis.call('PEXPIRE', entry, int(ttl))
  redis.call('ZADD', AGE, ARGV[i + 4], key)
  redis.call('ZADD', KEEP, ARGV[i + 6], key)
  redis.call('ZADD', GONE, int(now_ms + ttl), key)
  for j = i + 10, i + 9 + ntags do
    redis.call('SADD', T .. ARGV[j], key)
    extend(T .. ARGV[j], ttl)
  end
  longest = math.max(longest, ttl)
  i = i + 10 + ntags
end
local over = redis.call('ZCARD', AGE) - max_entries
if over > 0 then
  for _, old in ipairs(redis.call('ZRANGE', AGE, 0, over - 1)) do remove(old) end
end
extend(AGE, longest)
extend(KEEP, longest)
extend(GONE, longest)
return 1
"""
)

# KEYS[1]: the lease. ARGV: now ('' = Redis TIME), owner, ttl (s), slack (s). Returns 1 if taken.
_LEASE_ACQUIRE = (
    _LUA_COMMON
    + """
local now = clock(ARGV[1])
local owner, ttl = ARGV[2], tonumber(ARGV[3])
local row = redis.call('HMGET', KEYS[1], 'o', 'e')
if row[1] and row[1] ~= owner and tonumber(row[2]) > now then return 0 end
redis.call('HSET', KEYS[1], 'o', owner, 'e', num(now + ttl))
redis.call('PEXPIRE', KEYS[1], int(math.ceil((ttl + tonumber(ARGV[4])) * 1000)))
return 1
"""
)

# KEYS[1]: the lease. ARGV[1]: owner.
_LEASE_RELEASE = """
if redis.call('HGET', KEYS[1], 'o') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

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

_SCRIPTS.update(
    {
        "cache_set_many": _CACHE_SET_MANY,
        "lease_acquire": _LEASE_ACQUIRE,
        "lease_release": _LEASE_RELEASE,
        "history_append": _HISTORY_APPEND,
        "history_purge": _HISTORY_PURGE,
    }
)
