"""State backends: one interface (:class:`Store`), SQLite, Redis and in-memory implementations."""

from .base import Admission, CacheEntry, QuotaState, Store

__all__ = ["Admission", "CacheEntry", "QuotaState", "Store"]
