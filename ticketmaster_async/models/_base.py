"""Shared base model and lenient converters for the API's loosely typed JSON."""

from __future__ import annotations

import logging
import math
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

from .._constants import LOGGER_NAME

__all__ = [
    "TMModel",
    "as_str",
    "get_path",
    "parse_date",
    "parse_datetime_utc",
    "parse_float",
    "parse_money",
    "zone",
]

logger = logging.getLogger(LOGGER_NAME)


class TMModel(BaseModel):
    """Base of every model: unknown JSON fields are accepted and kept, strings kept verbatim."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        str_strip_whitespace=False,
        arbitrary_types_allowed=False,
    )


def get_path(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` or ``None`` where any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def as_str(value: Any) -> str | None:
    """The value if it is a string (or a number, as text), else ``None``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def parse_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; ``None`` for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_datetime_utc(value: Any) -> datetime | None:
    """An aware UTC datetime from the API's ``YYYY-MM-DDTHH:MM:SSZ`` (or any ISO form).

    A naive value is taken as UTC, which is what the API's ``...DateTime`` fields are.
    Anything unparseable is ``None``.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_date(value: Any) -> date | None:
    """A date from ``YYYY-MM-DD``; ``None`` if absent or invalid."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


@lru_cache(maxsize=512)
def _zone_cached(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone(name: Any) -> ZoneInfo | None:
    """The IANA zone of that name, or ``None`` for a missing or unknown name."""
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        return None
    return _zone_cached(name.strip())


#: A currency sign, optionally led by a country prefix (``$``, ``US$``, ``NZ$``, ``£``, ``€``).
_SYMBOL = r"(?:[A-Za-z]{1,2}\$|[$£€¥₹₩₽¢])"
#: ``[CODE] [-] [SYMBOL] [-] NUMBER [SYMBOL] [CODE]``; the number in plain ASCII digits, with an
#: optional fraction and optional comma thousands separators (``1,234.50``).
_MONEY_TEXT = re.compile(
    rf"""
    (?:(?P<code_before>[A-Za-z]{{3}})\s*)?
    (?P<sign_before>-\s*)?
    (?:(?P<symbol_before>{_SYMBOL})\s*)?
    (?P<sign>-)?
    (?P<number>[0-9]{{1,3}}(?:,[0-9]{{3}})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+)
    (?:\s*(?P<symbol_after>{_SYMBOL}))?
    (?:\s*(?P<code_after>[A-Za-z]{{3}}))?
    """,
    re.VERBOSE,
)


def _money_text(value: str) -> Decimal:
    match = _MONEY_TEXT.fullmatch(value.strip())
    if match is None or (match["code_before"] and match["code_after"]):
        raise ValueError(f"not a price: {value!r}")
    if match["symbol_before"] and match["symbol_after"]:
        raise ValueError(f"not a price: {value!r}")
    amount = Decimal(match["number"].replace(",", ""))
    if (match["sign_before"] or match["sign"]) and amount:
        raise ValueError(f"negative price: {value!r}")
    return amount


def parse_money(value: Any) -> Decimal:
    """A non-negative, finite ``Decimal`` from a JSON number or a decimal string.

    Strings may carry one currency symbol and/or one ISO code, before or after the number
    (``"$1,234.50"``, ``"GBP 45.00"``, ``"12.00 EUR"``), and comma thousands separators; the
    digits must be ASCII and a decimal comma (``"12,50"``) is refused as ambiguous. Floats are
    converted through their shortest ``repr`` (``45.1`` becomes ``Decimal("45.1")``, not the
    binary expansion) and a negative zero becomes zero.

    Raises:
        ValueError: for anything else, including booleans, ``None``, empty or non-numeric text,
            negative amounts, NaN and infinity.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a price: {value!r}")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite price: {value!r}")
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        amount = _money_text(value)
    else:
        raise ValueError(f"not a price: {value!r}")
    if not amount.is_finite():
        raise ValueError(f"not a finite price: {value!r}")
    if amount.is_zero():
        return amount.copy_abs()
    if amount < 0:
        raise ValueError(f"negative price: {value!r}")
    return amount
