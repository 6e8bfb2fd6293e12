"""In-process counters and latency samples; counters are flushed to the store in batches so a
cache hit costs no extra write. Upstream requests are not counted here: the store counts them
when it admits them (a process killed before its next flush loses none)."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable

__all__ = ["LATENCY_SAMPLES", "Metrics", "percentile"]

#: Upstream latencies kept for percentiles (most recent).
LATENCY_SAMPLES = 2048

CACHE_HITS = "cache_hits"
CACHE_MISSES = "cache_misses"
STALE_SERVED = "stale_served"
COALESCED = "coalesced"
ERROR_PREFIX = "error."


def percentile(samples: Iterable[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no samples)."""
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class Metrics:
    """Counts what happens in this process and remembers what is not yet in the store."""

    def __init__(self) -> None:
        self.unflushed: Counter[str] = Counter()
        self.latencies_ms: deque[float] = deque(maxlen=LATENCY_SAMPLES)

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter."""
        self.unflushed[name] += amount

    def error(self, kind: str) -> None:
        """Count one failure of that kind (an exception class name)."""
        self.unflushed[ERROR_PREFIX + kind] += 1

    def latency(self, elapsed_ms: float) -> None:
        """Record one upstream request's latency."""
        self.latencies_ms.append(elapsed_ms)

    def take(self) -> dict[str, int]:
        """The counts not yet flushed, and forget them (they are being flushed)."""
        taken = dict(self.unflushed)
        self.unflushed.clear()
        return taken

    def give_back(self, counts: dict[str, int]) -> None:
        """A flush failed: keep the counts for the next one."""
        self.unflushed.update(counts)

    def latency_summary(self) -> dict[str, float]:
        """p50/p95/p99 of recent upstream latencies, in milliseconds."""
        samples = list(self.latencies_ms)
        return {
            "p50": percentile(samples, 0.50),
            "p95": percentile(samples, 0.95),
            "p99": percentile(samples, 0.99),
        }
