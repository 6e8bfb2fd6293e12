"""How a model survives malformed API values: drop what does not validate, keep the rest.

The models declare plain types (``str | None``, ``list[Image]``, ``Venue | None``) so that a
well-formed answer is validated by pydantic-core alone. When a value does not validate,
:func:`without_malformed` reads the error locations and removes exactly the blamed values —
a whole field (which then takes its default: ``None``, ``False``, ``[]``) or single entries of a
list — and the model validates again. Each removal is logged at WARNING (logger
``ticketmaster_async``), except a ``null``, which counts as absent.

Nothing here walks into a value past an ``isinstance`` check and no input value is ever
``repr``-ed whole, so deeply nested junk costs nothing and cannot exhaust the stack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from .._constants import LOGGER_NAME, MODEL_LOG_VALUE_CHARS

__all__ = ["describe_errors", "shown", "valid_entries", "without_malformed"]

logger = logging.getLogger(LOGGER_NAME)

T = TypeVar("T")

#: How many of a validation error's messages a WARNING repeats.
_ERRORS_SHOWN = 3


def shown(value: str) -> str:
    """``value`` cut to a length fit for a log line, quoted."""
    return repr(value[:MODEL_LOG_VALUE_CHARS])


def _message(error: ErrorDetails, skip: int = 0) -> str:
    where = ".".join(str(part) for part in error["loc"][skip:] if isinstance(part, str))
    return f"{where}: {error['msg']}" if where else error["msg"]


def describe_errors(exc: ValidationError) -> str:
    """The first messages of ``exc`` as ``"url: Input should be a valid string"`` (no input
    values, which may be large or hold anything)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return "; ".join(_message(error) for error in errors[:_ERRORS_SHOWN])


def valid_entries(value: Any, validate: Callable[[Any], T], where: Callable[[], str]) -> list[T]:
    """The entries of the list ``value`` that ``validate`` accepts, in order.

    Each entry ``validate`` refuses (``ValidationError``) is dropped with a WARNING naming
    ``where()`` and the entry's index; a ``value`` that is not a list gives ``[]`` (with a
    WARNING unless it is ``None``).
    """
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        logger.warning("ignored %s: a %s, not a list", where(), type(value).__name__)
        return []
    kept: list[T] = []
    for index, item in enumerate(value):
        try:
            kept.append(validate(item))
        except ValidationError as exc:
            logger.warning(
                "dropped malformed entry %d of %s: %s", index, where(), describe_errors(exc)
            )
    return kept


def _blamed(
    key: str, data: Mapping[str, Any], fields: Mapping[str, FieldInfo]
) -> tuple[FieldInfo | None, list[str]]:
    """The field an error location names (by name or alias) and the keys of ``data`` holding
    it."""
    for name, field in fields.items():
        if key in (name, field.alias):
            return field, [k for k in (name, field.alias) if k is not None and k in data]
    return None, []


def without_malformed(
    data: dict[str, Any],
    exc: ValidationError,
    fields: Mapping[str, FieldInfo],
    owner: Callable[[], str],
) -> dict[str, Any]:
    """``data`` without the values ``exc`` blames: a list entry when the error is inside one
    entry, else the whole field.

    Args:
        data: the model's input, as validated.
        exc: the error validating ``data`` raised.
        fields: the model's fields (to find a field an error names by its alias).
        owner: names the model in log lines (``"Event 'G5v…'"``).

    Returns:
        A new dict with strictly fewer fields or entries.

    Raises:
        ValidationError: ``exc`` itself, when it cannot be repaired by dropping values: the
            error is in a required field (``id``), or not located in a field.
    """
    whole: dict[str, list[str]] = {}
    entries: dict[str, dict[int, list[str]]] = {}
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = error["loc"]
        field, keys = (
            _blamed(loc[0], data, fields) if loc and isinstance(loc[0], str) else (None, [])
        )
        if field is None or field.is_required() or not keys:
            raise exc
        index = loc[1] if len(loc) > 1 else None
        for k in keys:
            if isinstance(index, int) and isinstance(data[k], list) and index < len(data[k]):
                entries.setdefault(k, {}).setdefault(index, []).append(_message(error, 2))
            else:
                whole.setdefault(k, []).append(_message(error, 1))
    out = dict(data)
    for k, by_index in entries.items():
        out[k] = [item for i, item in enumerate(out[k]) if i not in by_index]
        for i, why in by_index.items():
            logger.warning(
                "dropped malformed entry %d of %s of %s: %s",
                i,
                k,
                owner(),
                "; ".join(why[:_ERRORS_SHOWN]),
            )
    for k, why in whole.items():
        if out.pop(k) is not None:
            logger.warning(
                "ignored a malformed %s of %s: %s", k, owner(), "; ".join(why[:_ERRORS_SHOWN])
            )
    return out
