"""Shared base models and lenient converters for the API's loosely typed JSON.

``TMModel`` is the base of every API model: it keeps the object it was built from (``.raw``),
carries the answer's freshness (``fetched_at``, ``stale``), compares and dumps typed fields
only, and maps API names to fields through a per-model table (``_API_PATHS``).
"""

from __future__ import annotations

import logging
import math
import re
from datetime import date, datetime, time, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .._constants import LOGGER_NAME
from ._lenient import shown, without_malformed

if TYPE_CHECKING:  # only named in an annotation
    from pydantic.functional_validators import ModelWrapValidatorHandler

__all__ = [
    "FreshModel",
    "TMModel",
    "as_str",
    "get_path",
    "local_to_utc",
    "mark_fresh",
    "parse_date",
    "parse_datetime_utc",
    "parse_float",
    "parse_money",
    "parse_time",
    "to_zone",
    "zone",
]

logger = logging.getLogger(LOGGER_NAME)

#: Keys of the private state every model carries (see ``_private``).
_RAW = "_raw"
_FETCHED_AT = "_fetched_at"
_STALE = "_stale"


def _private(model: BaseModel) -> dict[str, Any]:
    """The model's private-attribute storage, created on first use.

    ``raw`` and the freshness live in pydantic's own private storage (``__pydantic_private__``,
    which copies and pickles keep) without being declared with ``PrivateAttr``: declared ones
    are initialised on every instance, which made parsing an event (a few dozen nested
    models) several times slower.
    """
    private = model.__pydantic_private__
    if private is None:
        private = {}
        object.__setattr__(model, "__pydantic_private__", private)
    return private


class FreshModel(BaseModel):
    """A model that knows when the API produced it and compares by its typed fields only.

    ``fetched_at`` and ``stale`` are private state set by the client (see :func:`mark_fresh`),
    not fields: dumps leave them out and ``==`` ignores them.
    """

    #: List fields whose items are answers in their own right (a page's ``items``): what
    #: :func:`mark_fresh` marks besides the model itself.
    _FRESH_CHILDREN: ClassVar[tuple[str, ...]] = ()

    @property
    def fetched_at(self) -> datetime | None:
        """When the API produced this answer (aware); ``None`` for a model the client did not
        return."""
        fetched_at: datetime | None = (self.__pydantic_private__ or {}).get(_FETCHED_AT)
        return fetched_at

    @property
    def stale(self) -> bool:
        """Whether this answer was served past ``cache_ttl`` because the API was unavailable."""
        return bool((self.__pydantic_private__ or {}).get(_STALE, False))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseModel):
            return NotImplemented
        mine = self.__pydantic_generic_metadata__["origin"] or type(self)
        theirs = other.__pydantic_generic_metadata__["origin"] or type(other)
        return mine is theirs and self.__dict__ == other.__dict__


class TMModel(FreshModel):
    """Base of every API model.

    ``Model.model_validate(raw)`` takes the API's JSON object as sent; the same call takes a
    ``model_dump()`` back. Unknown JSON fields are ignored by the typed model and stay reachable
    through ``.raw``; strings are kept verbatim (a number where text is expected becomes its
    text). A value that does not validate is dropped with a WARNING and its field takes its
    default (a bad list entry drops that entry only); only a missing or invalid required field
    (``id``) fails the model. A model with ``_LENIENT = False`` fails instead.

    Subclasses list simple renames in ``_API_PATHS`` (field name → the path of keys in the API
    object, used when the input lacks the field name) and put anything else in ``_prepare``.
    """

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        str_strip_whitespace=False,
        coerce_numbers_to_str=True,
        allow_inf_nan=False,
        arbitrary_types_allowed=False,
    )

    #: field name → path of keys in the API object; used when the input lacks the field name.
    _API_PATHS: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: Whether malformed values are dropped (with a WARNING) rather than failing the model.
    _LENIENT: ClassVar[bool] = True
    #: Whether ``_prepare`` has anything to do (set per class; most small models need nothing).
    _PREPARES: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        overrides = any("_prepare" in vars(k) for k in cls.__mro__[: cls.__mro__.index(TMModel)])
        cls._PREPARES = bool(cls._API_PATHS) or overrides

    @property
    def raw(self) -> dict[str, Any]:
        """The object this model was built from, as sent (for keywords, the keyword mapping)."""
        raw: dict[str, Any] = (self.__pydantic_private__ or {}).get(_RAW, {})
        return raw

    @model_validator(mode="wrap")
    @classmethod
    def _from_api(cls, data: Any, handler: ModelWrapValidatorHandler[TMModel]) -> TMModel:
        if not isinstance(data, dict):
            return handler(data)
        prepared = cls._prepare(data) if cls._PREPARES else data
        while True:  # ends: each round drops at least one value, or raises
            try:
                model = handler(prepared)
                break
            except ValidationError as exc:
                if not cls._LENIENT:
                    raise
                prepared = without_malformed(
                    prepared, exc, cls.model_fields, lambda: cls._owner(data)
                )
        _private(model)[_RAW] = data
        return model

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A shallow copy of ``data`` with the ``_API_PATHS`` renames applied."""
        out = dict(data)
        malformed: set[str] = set()
        for field, path in cls._API_PATHS.items():
            if field in out or path[0] not in out:
                continue
            value: Any = out
            for depth, key in enumerate(path):
                if not isinstance(value, dict):
                    malformed.add(".".join(path[:depth]))
                    value = None
                    break
                value = value.get(key)
            if value is not None:
                out[field] = value
        for where in sorted(malformed):
            logger.warning("ignored a malformed %s of %s", where, cls._owner(out))
        return out

    @classmethod
    def _owner(cls, data: dict[str, Any]) -> str:
        """``"Event 'G5v…'"`` for log lines: the model's name and its id when it has one."""
        ident = data.get("id")
        return f"{cls.__name__} {shown(ident)}" if isinstance(ident, str) else cls.__name__


def mark_fresh(model_or_page: FreshModel, *, fetched_at: datetime, stale: bool) -> None:
    """Set ``fetched_at`` and ``stale`` on what the client returns.

    That is the model itself and, for a container of answers (a ``Page``, ``Suggestions``: the
    fields a class names in ``_FRESH_CHILDREN``), each item of those lists. Models nested
    inside an answer (an event's venues, images, …) are left alone: the answer they belong to
    carries the freshness, and walking every nested model cost more than parsing some of them.

    Args:
        model_or_page: any model of this package, or a ``Page``.
        fetched_at: when the API produced the answer (aware).
        stale: whether it was served past ``cache_ttl`` because the API was unavailable.
    """
    _set_fresh(model_or_page, fetched_at, stale)
    for name in model_or_page._FRESH_CHILDREN:
        for item in getattr(model_or_page, name):
            if isinstance(item, FreshModel):
                _set_fresh(item, fetched_at, stale)


def _set_fresh(model: FreshModel, fetched_at: datetime, stale: bool) -> None:
    private = _private(model)
    private[_FETCHED_AT] = fetched_at
    private[_STALE] = stale


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
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past 1e308
        return None
    return number if math.isfinite(number) else None


def to_zone(moment: datetime, tz: tzinfo) -> datetime | None:
    """``moment`` in ``tz``, or ``None`` (and a WARNING) when that falls outside years 1–9999."""
    try:
        return moment.astimezone(tz)
    except (OverflowError, ValueError):
        logger.warning("ignored a date out of range: %s in %s", moment.isoformat(), tz)
        return None


def local_to_utc(day: date, at: time, tz: tzinfo) -> datetime | None:
    """The UTC instant of the wall time ``day`` ``at`` in ``tz``; ``None`` (and a WARNING)
    when it cannot be represented."""
    return to_zone(datetime.combine(day, at, tzinfo=tz), timezone.utc)


def parse_datetime_utc(value: Any) -> datetime | None:
    """An aware UTC datetime from the API's ``YYYY-MM-DDTHH:MM:SSZ`` (or any ISO form).

    A naive value is taken as UTC, which is what the API's ``...DateTime`` fields are.
    Anything unparseable is ``None``; so is an instant whose UTC form falls outside years
    1–9999 (``0001-01-01T00:00:00+05:00``), with a WARNING. Never raises.
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
            logger.warning("ignored a date that is not ISO 8601: %s", shown(value))
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return to_zone(parsed, timezone.utc)


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


def parse_time(value: Any) -> time | None:
    """A wall time from ``HH:MM:SS``; ``None`` if absent or invalid."""
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
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
