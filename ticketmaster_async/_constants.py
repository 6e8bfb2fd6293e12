"""Constants shared across the package: API facts, defaults and limits."""

from __future__ import annotations

import re

__all__ = [
    "CACHE_HIT_YIELD_EVERY",
    "DAILY_WINDOW_SECONDS",
    "DEEP_PAGING_CAP",
    "DEFAULT_BASE_URL",
    "DEFAULT_CACHE_MAX_ENTRIES",
    "DEFAULT_DAILY_LIMIT",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_REQUESTS_PER_SECOND",
    "DEVELOPMENT_DAILY_LIMIT",
    "ENV_PREFIX",
    "ID_PATTERN",
    "LOGGER_NAME",
    "MAX_PAGE_SIZE",
    "NEGATIVE_CACHE_TTL",
    "OPTIONAL_SOURCE_REFUSAL_TTL",
    "REDACTED",
    "SANDBOX_API_KEY",
    "SANDBOX_BASE_URL",
    "USER_AGENT",
]

#: Root of the real API; paths below it are ``/discovery/v2/...`` and ``/commerce/v2/...``.
DEFAULT_BASE_URL = "https://app.ticketmaster.com"
#: Host used for the in-process fake API; never resolved, never leaves the process.
SANDBOX_BASE_URL = "https://sandbox.ticketmaster.invalid"
SANDBOX_API_KEY = "sandbox-key"
ENV_PREFIX = "TICKETMASTER_"
LOGGER_NAME = "ticketmaster_async"
USER_AGENT = "ticketmaster-async/0.2.0"
REDACTED = "***"

DEFAULT_REQUESTS_PER_SECOND = 5.0
DEFAULT_DAILY_LIMIT = 5000
DEVELOPMENT_DAILY_LIMIT = 1000
DAILY_WINDOW_SECONDS = 86_400.0

#: "Deep Paging: we only support retrieving the 1000th item. i.e. ( size * page < 1000)"
DEEP_PAGING_CAP = 1000
#: The API answers 'Query param "size" must be less than 200' above this.
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 20

#: A Ticketmaster id: letters, digits, '-' and '_', bounded length.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: How long a 404 answer is cached, so a bad id does not burn quota in a loop.
NEGATIVE_CACHE_TTL = 300.0
#: How long a 401/403/404 from an optional price source (Commerce, Top Picks) is remembered.
OPTIONAL_SOURCE_REFUSAL_TTL = 86_400.0
#: Upper bound on cached responses; the oldest are evicted first.
DEFAULT_CACHE_MAX_ENTRIES = 50_000
#: Cache hits (which need not suspend their caller) between two yields to the event loop: a
#: caller looping over hits holds the loop for ~10 ms at most.
CACHE_HIT_YIELD_EVERY = 64

# -- store backends (SQLite / memory) ----------------------------------------------------------
#: ``PRAGMA busy_timeout`` of the SQLite store: how long a writer waits for another process.
SQLITE_BUSY_TIMEOUT_MS = 5000
#: First SQLite with ``UPDATE ... RETURNING``; older ones use a ``BEGIN IMMEDIATE`` transaction.
SQLITE_RETURNING_MIN_VERSION = (3, 35, 0)
#: Mode of the database file (and its -wal/-shm): it holds cached answers and quota state.
STORE_FILE_MODE = 0o600
#: The cache bound is checked at least every this many writes of one store instance...
CACHE_EVICTION_MAX_CHECK_INTERVAL = 64
#: ...and at least every ``max_entries // CACHE_EVICTION_SLACK_DIVISOR`` writes (slack <= 1 %).
CACHE_EVICTION_SLACK_DIVISOR = 100
#: Daily usage counters older than this many days are dropped.
USAGE_KEEP_DAYS = 7

__all__ += [
    "CACHE_EVICTION_MAX_CHECK_INTERVAL",
    "CACHE_EVICTION_SLACK_DIVISOR",
    "SQLITE_BUSY_TIMEOUT_MS",
    "SQLITE_RETURNING_MIN_VERSION",
    "STORE_FILE_MODE",
    "USAGE_KEEP_DAYS",
]
#: Pause between attempts to switch a new SQLite file to WAL: concurrent first opens get
#: SQLITE_BUSY at once (no busy handler on that lock upgrade); retried within busy_timeout.
SQLITE_WAL_SWITCH_RETRY_SECONDS = 0.01

#: Cached bodies up to this size are read and written on the event-loop thread (a point
#: statement of a few pages costs less than the hop to the worker thread); larger ones go
#: through the worker thread.
SQLITE_LOOP_MAX_BODY_BYTES = 256 * 1024
#: Writes on the loop-thread connection between two looks at the WAL's size (one stat call).
SQLITE_LOOP_WAL_CHECK_EVERY = 32
#: WAL size past which the worker checkpoints it (SQLite's own autocheckpoint is ~4 MB too).
SQLITE_WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024

__all__ += [
    "SQLITE_LOOP_MAX_BODY_BYTES",
    "SQLITE_LOOP_WAL_CHECK_EVERY",
    "SQLITE_WAL_CHECKPOINT_BYTES",
    "SQLITE_WAL_SWITCH_RETRY_SECONDS",
]

#: Size of the private in-process cache used while the shared store (SQLite file, Redis) is
#: unreachable.
FALLBACK_CACHE_MAX_ENTRIES = 1000
__all__ += ["FALLBACK_CACHE_MAX_ENTRIES"]

#: Dates sent as filters must lie in these years (the API's data does; anything else is a typo
#: or a sentinel such as ``datetime.min``, which cannot even be converted to UTC).
MIN_FILTER_YEAR = 1900
MAX_FILTER_YEAR = 2200
#: Wide bounds sent for a missing side of a venue-local range (``localStartDateTime=FROM,TO``).
LOCAL_RANGE_FROM = "1900-01-01T00:00:00"
LOCAL_RANGE_TO = "2200-12-31T23:59:59"
__all__ += ["LOCAL_RANGE_FROM", "LOCAL_RANGE_TO", "MAX_FILTER_YEAR", "MIN_FILTER_YEAR"]

#: ``iter_events(exhaustive=True)`` without ``end``: windows reach this far ahead of the start.
EXHAUSTIVE_DEFAULT_SPAN_SECONDS = 2 * 365 * 86_400.0
#: ...and without ``start`` (or ``local_start``) they begin now.
#: A venue's wall clock differs from UTC by at most this much (UTC-12 ... UTC+14): a venue-local
#: bound widened by it covers the same instants in every zone.
MAX_ZONE_OFFSET_SECONDS = 14 * 3600.0
__all__ += ["EXHAUSTIVE_DEFAULT_SPAN_SECONDS", "MAX_ZONE_OFFSET_SECONDS"]

# -- HTTP layer hardening ------------------------------------------------------------------------
#: Default ``Settings.max_response_bytes``: the largest body (after decompression) one attempt
#: reads before giving up with ``ResponseValidationError``.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
#: The only content codings asked for, so that every body is decoded with bounded output.
ACCEPT_ENCODING = "gzip, deflate"
#: ``Rate-Limit`` / ``Rate-Limit-Available`` above this are implausible and ignored.
RATE_LIMIT_MAX_COUNT = 10**9
__all__ += [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "RATE_LIMIT_MAX_COUNT",
]

# -- store: watch state, leases, price history (version 0.2) ----------------------------------
#: Price history points kept per event (the oldest beyond are dropped).
PRICE_HISTORY_MAX_POINTS = 1000
#: Price history points recorded while the shared store was unreachable, held in the process to
#: be appended to it when it is back; beyond this the oldest are dropped.
FALLBACK_PENDING_HISTORY_POINTS = 10_000
__all__ += ["FALLBACK_PENDING_HISTORY_POINTS", "PRICE_HISTORY_MAX_POINTS"]

# -- models ----------------------------------------------------------------------------------
#: How many characters of an unexpected API value (an id, a date text) a model's WARNING shows.
MODEL_LOG_VALUE_CHARS = 64
__all__ += ["MODEL_LOG_VALUE_CHARS"]

# -- state hardening (store, limiter, pipeline) -------------------------------------------------
#: A quota reset further ahead than this is implausible (the API's window is a day): a
#: ``Rate-Limit-Reset`` header beyond it is ignored, a reset given to the store beyond it is
#: ignored, and one already stored is read as this far ahead.
QUOTA_RESET_MAX_AHEAD_SECONDS = 48 * 3600.0
__all__ += ["QUOTA_RESET_MAX_AHEAD_SECONDS"]

# -- watches -------------------------------------------------------------------------------------
#: A watch's lease lasts this many intervals: the poller renews it while it waits...
WATCH_LEASE_FACTOR = 1.5
#: ...this many times an interval, and a process standing by looks this often for a lease
#: whose holder died: takeover comes within (1.5 + 1/4) intervals, under two.
WATCH_STANDBY_CHECKS = 4
__all__ += ["WATCH_LEASE_FACTOR", "WATCH_STANDBY_CHECKS"]
