"""Parsing JSON from the network: every failure is one ``ValueError`` subclass."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["InvalidJSONError", "loads"]


class InvalidJSONError(ValueError):
    """The text is not JSON, not UTF-8/16/32, or nested too deeply to parse."""


def loads(body: bytes | str) -> Any:
    """``json.loads`` that raises only :class:`InvalidJSONError`.

    Args:
        body: the JSON text, as bytes (UTF-8/16/32, detected as ``json.loads`` does) or str.

    Returns:
        The parsed value.

    Raises:
        InvalidJSONError: invalid JSON, undecodable bytes, or nesting deep enough to exhaust
            the recursion limit (a body of 100 000 ``[`` would otherwise raise a raw
            ``RecursionError``).
    """
    try:
        return json.loads(body)
    except RecursionError:
        # ``from None``: the RecursionError's traceback is thousands of frames deep.
        raise InvalidJSONError("JSON nested too deeply to parse") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, huge integer literals
        raise InvalidJSONError(f"not JSON: {exc}") from None
