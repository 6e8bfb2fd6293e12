"""UsageStats: what the client has spent and how well it is doing."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

__all__ = ["UsageStats"]


class UsageStats(BaseModel):
    """Today's usage across every process sharing the store, plus this process's latencies.

    ``errors`` counts failures by kind (the exception class name); ``latency_ms`` has
    ``p50``/``p95``/``p99`` of upstream requests in milliseconds.
    """

    requests_today: int
    daily_limit: int
    quota_remaining: int
    quota_resets_at: datetime | None
    cache_hits: int
    cache_misses: int
    cache_hit_rate: float
    stale_served: int
    coalesced: int
    errors: dict[str, int]
    error_rate: float
    latency_ms: dict[str, float]
    breaker_state: str
