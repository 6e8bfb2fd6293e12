"""Answers of the Commerce API that mean something else than their status says.

The offers endpoint answers an event it does not know with HTTP 500 and error code ``40001``
(``"Invalid Event - event not found."``, recorded from the real API). That is not a server
failure: retrying it, counting it against the breaker or asking again on every price call only
spends quota. The pipeline treats it as the 404 it means.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["COMMERCE_PREFIX", "EVENT_NOT_FOUND_CODE", "is_commerce_event_not_found"]

COMMERCE_PREFIX = "/commerce/"
EVENT_NOT_FOUND_CODE = "40001"
_STATUS = 500
#: An error envelope is a few hundred bytes; a larger 500 body is not this answer.
_MAX_BODY_BYTES = 4096


def is_commerce_event_not_found(path: str, status: int, body: bytes) -> bool:
    """Whether ``GET path`` answered with the Commerce API's "event not found" 500."""
    if status != _STATUS or not path.startswith(COMMERCE_PREFIX) or len(body) > _MAX_BODY_BYTES:
        return False
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return False
    return str(errors[0].get("code")) == EVENT_NOT_FOUND_CODE
