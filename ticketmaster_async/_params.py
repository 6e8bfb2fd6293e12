"""Parameter kinds: how one query parameter is checked, sent, read back and typed on a terminal.

A :class:`Param` pairs an API name with a :class:`Kind`. A kind checks a Python value (bad
input is a :class:`ConfigurationError` before any request), encodes it for the query string,
decodes the API's text back (what the fake API reads) and parses a command-line word (what the
CLI reads). The endpoint descriptions in :mod:`._endpoints` are made of these.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from . import _geohash
from ._constants import (
    DEEP_PAGING_CAP,
    DEFAULT_PAGE_SIZE,
    ID_PATTERN,
    MAX_FILTER_YEAR,
    MAX_PAGE_SIZE,
    MIN_FILTER_YEAR,
)
from ._exceptions import ConfigurationError

__all__ = [
    "INSTANT_FORMAT",
    "LOCAL_FORMAT",
    "SOURCES",
    "Choice",
    "ChoiceList",
    "Code",
    "Flag",
    "GeoPoint",
    "IdList",
    "Instant",
    "IntList",
    "Kind",
    "LocalTime",
    "Number",
    "Param",
    "Text",
    "TextList",
    "TriState",
    "WholeNumber",
    "check_id",
    "check_page",
    "format_instant",
]

#: The API's datetime format (UTC): ``2017-01-01T00:00:00Z``.
INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Venue-local wall time, no zone: ``2017-01-01T00:00:00``.
LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"
SOURCES = ("ticketmaster", "universe", "frontgate", "tmr")
_MAX_TEXT = 200
_INSTANT_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_LOCAL_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_MAX_LIST_ITEMS = 200
_YES, _NO, _ONLY = "yes", "no", "only"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_id(value: Any, *, what: str = "id") -> str:
    """A Ticketmaster id (letters, digits, ``-``, ``_``; 1–64 characters) or ConfigurationError."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ConfigurationError(
            f"invalid {what} {_shown(value)}: expected 1-64 letters, digits, '-' or '_'"
        )
    return value


def _check_year(value: date, *, what: str) -> None:
    if not MIN_FILTER_YEAR <= value.year <= MAX_FILTER_YEAR:
        raise ConfigurationError(
            f"{what} must lie in the years {MIN_FILTER_YEAR}-{MAX_FILTER_YEAR}, got {value}"
        )


def format_instant(value: Any, *, what: str) -> str:
    """An aware datetime as the API's ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), or ConfigurationError."""
    if not isinstance(value, datetime):
        raise ConfigurationError(f"{what} must be a timezone-aware datetime, got {_shown(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            f"{what} must be timezone-aware (naive datetimes are ambiguous): {value.isoformat()}"
        )
    _check_year(value, what=what)  # also keeps astimezone() away from datetime.min/max
    return value.astimezone(timezone.utc).strftime(INSTANT_FORMAT)


def _whole(value: Any, *, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{what} must be an integer, got {_shown(value)}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigurationError(f"{what} must be {bound}, got {value}")
    return value


def check_page(size: Any, page: Any) -> tuple[int, int]:
    """(size, page) within ``1 <= size <= 200`` and the deep-paging cap ``size * page < 1000``."""
    size = (
        DEFAULT_PAGE_SIZE if size is None else _whole(size, what="size", low=1, high=MAX_PAGE_SIZE)
    )
    page = 0 if page is None else _whole(page, what="page", low=0)
    if size * page >= DEEP_PAGING_CAP:
        raise ConfigurationError(
            f"page {page} with size {size} is past the API's deep-paging cap "
            f"(size * page must be < {DEEP_PAGING_CAP})"
        )
    return size, page


class Kind:
    """How values of one parameter type are checked, encoded, decoded and parsed."""

    #: The Python type users pass, as written in the docs.
    python_type = "str"
    #: A placeholder for the command line's help.
    metavar = "TEXT"

    def type_doc(self) -> str:
        """The Python type users pass, as the docs write it."""
        return self.python_type

    def check(self, value: Any, *, what: str) -> Any:
        """The value in its normal form, or ConfigurationError."""
        raise NotImplementedError

    def encode(self, value: Any) -> str:
        """The checked value as the query string's text."""
        return str(value)

    def decode(self, text: str) -> Any:
        """The query string's text read back (raises ValueError when it is malformed)."""
        return text

    def from_text(self, text: str) -> Any:
        """A command-line word as a value to :meth:`check`."""
        return text


@dataclass(frozen=True)
class Text(Kind):
    """A non-blank string without control characters, at most ``max_length`` long."""

    max_length: int = _MAX_TEXT

    def check(self, value: Any, *, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{what} must be a non-empty string, got {_shown(value)}")
        if len(value) > self.max_length or any(ord(ch) < 32 for ch in value):
            raise ConfigurationError(f"{what} is too long or contains control characters")
        return value

    def decode(self, text: str) -> str:
        return self.check(text, what="value")  # a ConfigurationError is a ValueError


@dataclass(frozen=True)
class Code(Kind):
    """A code of exactly ``length`` ASCII letters (``GB``)."""

    metavar = "CC"
    length: int = 2

    def check(self, value: Any, *, what: str) -> str:
        if not (
            isinstance(value, str)
            and len(value) == self.length
            and value.isascii()
            and value.isalpha()
        ):
            raise ConfigurationError(
                f"{what} must be a {self.length}-letter code, got {_shown(value)}"
            )
        return value

    def decode(self, text: str) -> str:
        return self.check(text, what="value")  # a ConfigurationError is a ValueError


def _items(value: Any, *, what: str, allow_single: bool) -> list[Any]:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        if allow_single:
            return [value]
        raise ConfigurationError(f"{what} must be a list, not a single {type(value).__name__}")
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Sequence):
        raise ConfigurationError(f"{what} must be a string or a list of them, got {_shown(value)}")
    if not value:
        raise ConfigurationError(f"{what} must not be an empty list")
    return list(value)


class _CommaList(Kind):
    """A list sent comma-joined: ``a,b``; read back (and typed on a terminal) split on commas."""

    def encode(self, value: tuple[Any, ...]) -> str:
        return ",".join(str(item) for item in value)

    def decode(self, text: str) -> list[Any]:
        return self.from_text(text)

    def from_text(self, text: str) -> list[Any]:
        return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class TextList(_CommaList):
    """``str | Sequence[str]``, sent comma-joined."""

    python_type = "str | Sequence[str]"
    metavar = "A,B"
    item: Text = field(default_factory=Text)

    def check(self, value: Any, *, what: str) -> tuple[str, ...]:
        items = _items(value, what=what, allow_single=True)
        if len(items) > _MAX_LIST_ITEMS:
            raise ConfigurationError(f"{what} takes at most {_MAX_LIST_ITEMS} values")
        return tuple(self.item.check(item, what=what) for item in items)


@dataclass(frozen=True)
class IdList(_CommaList):
    """Ticketmaster ids: one (``str``) or several (``Sequence[str]``), sent comma-joined."""

    python_type = "str | Sequence[str]"
    metavar = "ID,ID"
    max_items: int = _MAX_LIST_ITEMS
    allow_single: bool = True

    def __post_init__(self) -> None:
        if not self.allow_single:
            object.__setattr__(self, "python_type", "Sequence[str]")

    def check(self, value: Any, *, what: str) -> tuple[str, ...]:
        items = _items(value, what=what, allow_single=self.allow_single)
        if len(items) > self.max_items:
            raise ConfigurationError(f"{what} takes at most {self.max_items} ids, got {len(items)}")
        return tuple(check_id(item, what=f"{what} entry") for item in items)


@dataclass(frozen=True)
class IntList(_CommaList):
    """Numeric ids (market, DMA, promoter): ``int | str | Sequence[int | str]``."""

    python_type = "int | str | Sequence[int | str]"
    metavar = "N,N"

    def check(self, value: Any, *, what: str) -> tuple[int, ...]:
        checked: list[int] = []
        for item in _items(value, what=what, allow_single=True):
            if isinstance(item, str) and item.isascii() and item.isdigit() and len(item) <= 18:
                item = int(item)
            checked.append(_whole(item, what=f"{what} entry", low=0, high=10**18))
        return tuple(checked)

    def decode(self, text: str) -> list[int]:
        return [int(part) for part in self.from_text(text)]


@dataclass(frozen=True)
class WholeNumber(Kind):
    """An integer between ``low`` and ``high``."""

    python_type = "int"
    metavar = "N"
    low: int = 0
    high: int | None = None

    def check(self, value: Any, *, what: str) -> int:
        return _whole(value, what=what, low=self.low, high=self.high)

    def decode(self, text: str) -> int:
        return int(text)

    def from_text(self, text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise ConfigurationError(f"not an integer: {text!r}") from None


@dataclass(frozen=True)
class Number(Kind):
    """A finite number greater than zero (a radius)."""

    python_type = "float"
    metavar = "R"

    def check(self, value: Any, *, what: str) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ConfigurationError(f"{what} must be a number, got {_shown(value)}")
        number = float(value)
        if not math.isfinite(number) or number <= 0 or number > 1e6:
            raise ConfigurationError(f"{what} must be a number > 0, got {value}")
        return int(value) if isinstance(value, int) else number

    def encode(self, value: float | int) -> str:
        if isinstance(value, int):
            return str(value)
        return f"{value:.6f}".rstrip("0").rstrip(".")

    def decode(self, text: str) -> float:
        number = float(text)
        if not math.isfinite(number) or number <= 0:
            raise ValueError(f"not a positive number: {text!r}")
        return number

    def from_text(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise ConfigurationError(f"not a number: {text!r}") from None


@dataclass(frozen=True)
class Choice(Kind):
    """One of a fixed set of strings."""

    values: tuple[str, ...] = ()
    metavar = "CHOICE"

    def type_doc(self) -> str:
        return " | ".join(f'"{value}"' for value in self.values)

    def check(self, value: Any, *, what: str) -> str:
        if not isinstance(value, str) or value not in self.values:
            raise ConfigurationError(
                f"{what} must be one of {', '.join(self.values)}; got {_shown(value)}"
            )
        return value

    def decode(self, text: str) -> str:
        if text not in self.values:
            raise ValueError(f"not one of {self.values}: {text!r}")
        return text


@dataclass(frozen=True)
class ChoiceList(_CommaList):
    """Several of a fixed set of strings: ``str | Sequence[str]`` (``"a,b"`` also accepted)."""

    python_type = "str | Sequence[str]"
    metavar = "A,B"
    values: tuple[str, ...] = ()

    def check(self, value: Any, *, what: str) -> tuple[str, ...]:
        parts: list[str] = []
        for item in _items(value, what=what, allow_single=True):
            parts.extend(item.split(",") if isinstance(item, str) else [item])
        checked = tuple(part.strip() if isinstance(part, str) else part for part in parts)
        if any(part not in self.values for part in checked):
            raise ConfigurationError(
                f"{what} must be among {', '.join(self.values)}; got {_shown(value)}"
            )
        return checked

    def decode(self, text: str) -> list[str]:
        parts = [part.strip() for part in text.split(",")]
        if any(part not in self.values for part in parts):
            raise ValueError(f"not among {self.values}: {text!r}")
        return parts


@dataclass(frozen=True)
class GeoPoint(Kind):
    """``(latitude, longitude)``, sent as the 9-character geohash of the point."""

    python_type = "tuple[float, float]"
    metavar = "LAT,LON"

    def check(self, value: Any, *, what: str) -> tuple[float, float]:
        if (
            isinstance(value, (str, bytes))
            or not isinstance(value, Sequence)
            or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float, Decimal)) for v in value)
        ):
            raise ConfigurationError(f"{what} must be (latitude, longitude), got {_shown(value)}")
        latitude, longitude = float(value[0]), float(value[1])
        if not (math.isfinite(latitude) and -90 <= latitude <= 90):
            raise ConfigurationError(f"{what}: latitude must be between -90 and 90, got {value[0]}")
        if not (math.isfinite(longitude) and -180 <= longitude <= 180):
            raise ConfigurationError(
                f"{what}: longitude must be between -180 and 180, got {value[1]}"
            )
        return latitude, longitude

    def encode(self, value: tuple[float, float]) -> str:
        return _geohash.encode(*value)

    def decode(self, text: str) -> tuple[float, float]:
        latitude, longitude, _, _ = _geohash.decode(text)
        return latitude, longitude

    def from_text(self, text: str) -> tuple[float, float]:
        parts = text.split(",")
        try:
            if len(parts) != 2:
                raise ValueError(text)
            return float(parts[0]), float(parts[1])
        except ValueError:
            raise ConfigurationError(f"expected LAT,LON, got {text!r}") from None


@dataclass(frozen=True)
class Instant(Kind):
    """An aware ``datetime``, sent in UTC as ``YYYY-MM-DDTHH:MM:SSZ``."""

    python_type = "datetime (aware)"
    metavar = "ISO-DATETIME"

    def check(self, value: Any, *, what: str) -> datetime:
        format_instant(value, what=what)
        return value.replace(microsecond=0)  # type: ignore[no-any-return]

    def encode(self, value: datetime) -> str:
        return value.astimezone(timezone.utc).strftime(INSTANT_FORMAT)

    def decode(self, text: str) -> datetime:
        if not _INSTANT_TEXT.fullmatch(text):  # strptime alone accepts 2023-1-1T1:2:3Z
            raise ValueError(f"not YYYY-MM-DDTHH:MM:SSZ: {text!r}")
        return datetime.strptime(text, INSTANT_FORMAT).replace(tzinfo=timezone.utc)

    def from_text(self, text: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigurationError(f"not an ISO datetime: {text!r}") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class LocalTime(Kind):
    """Wall time at the venue: a ``date`` or a naive ``datetime`` (no zone). A ``date`` is its
    first second as a start (``end=False``) and its last second as an end (``end=True``)."""

    python_type = "date | datetime (naive)"
    metavar = "DATE"
    end: bool = False

    def check(self, value: Any, *, what: str) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                raise ConfigurationError(
                    f"{what} is a wall time at the venue: pass a date or a naive datetime, "
                    f"not {value.isoformat()}"
                )
            _check_year(value, what=what)
            return value.replace(microsecond=0)
        if isinstance(value, date):
            _check_year(value, what=what)
            return datetime.combine(value, time(23, 59, 59) if self.end else time(0, 0, 0))
        raise ConfigurationError(f"{what} must be a date or a naive datetime, got {_shown(value)}")

    def encode(self, value: datetime) -> str:
        return value.strftime(LOCAL_FORMAT)

    def decode(self, text: str) -> datetime:
        if not _LOCAL_TEXT.fullmatch(text):
            raise ValueError(f"not YYYY-MM-DDTHH:MM:SS: {text!r}")
        return datetime.strptime(text, LOCAL_FORMAT)

    def from_text(self, text: str) -> date | datetime:
        try:
            if "T" in text or " " in text:
                return datetime.fromisoformat(text)
            return date.fromisoformat(text)
        except ValueError:
            raise ConfigurationError(f"not an ISO date: {text!r}") from None


@dataclass(frozen=True)
class TriState(Kind):
    """``bool | "only"``, sent as ``yes`` / ``no`` / ``only``."""

    python_type = 'bool | "only"'
    metavar = "yes|no|only"

    def check(self, value: Any, *, what: str) -> str:
        if value is True:
            return _YES
        if value is False:
            return _NO
        if value == _ONLY:
            return _ONLY
        raise ConfigurationError(f'{what} must be True, False or "only", got {_shown(value)}')

    def decode(self, text: str) -> str:
        if text not in (_YES, _NO, _ONLY):
            raise ValueError(f"not yes/no/only: {text!r}")
        return text

    def from_text(self, text: str) -> bool | str:
        return _flag_word(text, allow_only=True)


@dataclass(frozen=True)
class Flag(Kind):
    """``bool``, sent as ``yes`` / ``no``."""

    python_type = "bool"
    metavar = "yes|no"

    def check(self, value: Any, *, what: str) -> str:
        if isinstance(value, bool):
            return _YES if value else _NO
        raise ConfigurationError(f"{what} must be True or False, got {_shown(value)}")

    def decode(self, text: str) -> str:
        if text not in (_YES, _NO):
            raise ValueError(f"not yes/no: {text!r}")
        return text

    def from_text(self, text: str) -> bool | str:
        return _flag_word(text, allow_only=False)


def _flag_word(text: str, *, allow_only: bool) -> bool | str:
    word = text.strip().lower()
    if word in ("yes", "y", "true", "1", "on"):
        return True
    if word in ("no", "n", "false", "0", "off"):
        return False
    if allow_only and word == _ONLY:
        return _ONLY
    raise ConfigurationError(f"expected yes or no{' or only' if allow_only else ''}: {text!r}")


@dataclass(frozen=True)
class Param:
    """One query parameter: its API name, its kind and a line of documentation.

    Args:
        api: the API's name for it (``geoPoint``).
        kind: how values are checked, encoded, decoded and parsed.
        doc: what it filters, one line (for the docs, the CLI's help and error messages).
        cli: extra command-line spellings besides ``--<keyword-with-dashes>``.
    """

    api: str
    kind: Kind
    doc: str
    cli: tuple[str, ...] = ()
