"""The response cache of the Redis store: its Lua scripts (writes, batches, deletes, purges, the
exact eviction beyond ``max_entries``) and the methods that run them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, cast

from ..base import CacheEntry
from .connection import RedisCore

__all__ = ["CACHE_SCRIPTS", "RedisCache"]

_MS = 1000.0

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
local function evict_beyond(max_entries, ttl)
  -- The oldest entries past the bound go; the indexes live at least as long as ttl.
  local over = redis.call('ZCARD', AGE) - max_entries
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', AGE, 0, over - 1)) do remove(old) end
  end
  extend(AGE, ttl)
  extend(KEEP, ttl)
  extend(GONE, ttl)
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
evict_beyond(max_entries, ttl)
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
evict_beyond(max_entries, longest)
return 1
"""
)

CACHE_SCRIPTS: dict[str, str] = {
    "cache_set": _CACHE_SET,
    "cache_delete": _CACHE_DELETE,
    "cache_invalidate_tag": _CACHE_INVALIDATE_TAG,
    "cache_purge": _CACHE_PURGE,
    "cache_count": _CACHE_COUNT,
    "cache_set_many": _CACHE_SET_MANY,
}


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a ``SCAN MATCH`` pattern."""
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)


class RedisCache(RedisCore):
    """The cache methods of the Redis store."""

    _entry_prefix: str
    _tag_prefix: str
    _index_keys: list[str]

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
        lifetime = max(entry.expires_at + keep - entry.stored_at, 0.0) + self._expiry_slack()
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
        async for raw in client.scan_iter(match=pattern, count=self._batch()):
            batch.append(bytes(raw)[skip:])
            if len(batch) >= self._batch():
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
                [self._entry_prefix, self._tag_prefix, now, self._batch()],
            )
            count += int(removed)
            if int(seen) < self._batch():
                return count

    async def cache_count(self) -> int:
        """How many entries are stored."""
        count = await self._run("cache_count", self._index_keys, [self._entry_prefix, ""])
        return int(count)

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
            lifetime = max(entry.expires_at + keep - entry.stored_at, 0.0) + self._expiry_slack()
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
