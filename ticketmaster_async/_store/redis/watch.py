"""The watch state and leases of the Redis store (version 0.2): the lease scripts and methods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._rows import check_lease_ttl
from .connection import _LUA_COMMON, RedisCore, _text

__all__ = ["WATCH_SCRIPTS", "RedisWatch"]

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

WATCH_SCRIPTS: dict[str, str] = {
    "lease_acquire": _LEASE_ACQUIRE,
    "lease_release": _LEASE_RELEASE,
}


class RedisWatch(RedisCore):
    """The watch-state and lease methods of the Redis store."""

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
            [self._now(now), owner, ttl, self._expiry_slack()],
        )
        return bool(int(taken))

    async def lease_release(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it (one script: compare and delete)."""
        await self._run("lease_release", [self._lease_key(name)], [owner])
