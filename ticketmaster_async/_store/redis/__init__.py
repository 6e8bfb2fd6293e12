"""The shared :class:`~ticketmaster_async._store.base.Store`, one Redis server for every process
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

The rooms, each a mixin over :class:`~.connection.RedisCore` with the Lua scripts it runs:
:mod:`.cache`, :mod:`.limits` (admission, quota, usage, flags), :mod:`.watch` (watch state,
leases), :mod:`.history` (price history); this module holds :class:`RedisStore` assembled from
them, its lifecycle (open, eviction-policy check, close) and :func:`make_redis_store`. Names
tests replace on this module (``EXPIRY_SLACK_SECONDS``, ``_BATCH``) are read here, at call
time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ..._constants import LOGGER_NAME
from ..._exceptions import ConfigurationError
from .._time import UtcDays
from ..base import Store
from .cache import CACHE_SCRIPTS, RedisCache
from .connection import CLOCK_DRIFT_PER_SECOND
from .history import HISTORY_SCRIPTS, RedisHistory
from .limits import LIMITS_SCRIPTS, RedisLimits
from .watch import WATCH_SCRIPTS, RedisWatch

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

    from ..._config import Settings

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
#: The private in-process cache bound while Redis is unreachable (see :mod:`.fallback`).
FALLBACK_MAX_ENTRIES = 1000
#: Keys per ``SCAN`` step and per delete script in :meth:`RedisStore.cache_clear`, and entries
#: per script in :meth:`RedisStore.cache_purge`: bounds how long one script blocks Redis.
_BATCH = 500
#: ``maxmemory-policy`` values under which Redis may evict keys without an expiry.
_EVICTS_ANY_KEY = "allkeys-"

logger = logging.getLogger(LOGGER_NAME)

_SCRIPTS: dict[str, str] = {**LIMITS_SCRIPTS, **CACHE_SCRIPTS, **WATCH_SCRIPTS, **HISTORY_SCRIPTS}


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError as exc:
        raise ConfigurationError(INSTALL_HINT) from exc
    return redis_asyncio


class RedisStore(RedisCache, RedisLimits, RedisWatch, RedisHistory):
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

    # -- lifecycle ---------------------------------------------------------------------------

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

    async def aclose(self) -> None:
        """Close the connection pool. Idempotent; the store cannot be used afterwards."""
        self._closed = True
        async with self._open_lock:
            client, self._client = self._client, None
            if client is not None:
                await client.aclose()

    # -- tunables (read here, at call time) --------------------------------------------------

    def _batch(self) -> int:
        """Keys per ``SCAN`` step and per delete or purge script (``_BATCH``)."""
        return _BATCH

    def _expiry_slack(self) -> float:
        """Seconds added to every relative expiry (``EXPIRY_SLACK_SECONDS``)."""
        return EXPIRY_SLACK_SECONDS


def make_redis_store(settings: Settings) -> Store:
    """The store for ``Settings.redis_url``: Redis, falling back to an in-process store while
    Redis is unreachable (see :class:`~ticketmaster_async._store.fallback.FallbackStore`).

    Raises:
        ConfigurationError: no ``redis_url``, or the ``redis`` package is not installed.
    """
    from ..fallback import FallbackStore
    from ..memory import MemoryStore

    if settings.redis_url is None:
        raise ConfigurationError("make_redis_store needs Settings.redis_url")
    primary = RedisStore(
        settings.redis_url.get_secret_value(),
        prefix=settings.redis_prefix,
        max_entries=settings.cache_max_entries,
    )
    fallback = MemoryStore(max_entries=min(settings.cache_max_entries, FALLBACK_MAX_ENTRIES))
    return FallbackStore(primary, fallback=fallback)
