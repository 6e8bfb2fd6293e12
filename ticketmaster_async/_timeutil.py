"""Converting epoch seconds to aware datetimes without ever raising."""

from __future__ import annotations

import math
from datetime import datetime, timezone

__all__ = ["utc_from_epoch"]


def utc_from_epoch(seconds: float | None) -> datetime | None:
    """The aware UTC datetime of ``seconds`` since the epoch, or ``None``.

    ``None`` for ``None``, a non-finite number, or one outside what ``datetime`` can hold
    (years 1 to 9999) or the platform can convert. Never raises: a number read from a header
    or a store must not turn into a raw ``OverflowError``/``ValueError``/``OSError`` later.
    """
    if seconds is None:
        return None
    try:
        value = float(seconds)
        if not math.isfinite(value):
            return None
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError, TypeError):
        return None
