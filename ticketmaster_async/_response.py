"""What an HTTP answer means: its typed error, and its ``Retry-After`` and ``Rate-Limit*``
headers judged for plausibility. Pure functions: no I/O, no httpx; never raise on a hostile
body or header.
"""

from __future__ import annotations

import email.utils
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from . import _json
from ._constants import LOGGER_NAME, QUOTA_RESET_MAX_AHEAD_SECONDS, RATE_LIMIT_MAX_COUNT
from ._exceptions import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from ._redact import Redactor
from ._timeutil import utc_from_epoch

__all__ = [
    "QUOTA_VIOLATION",
    "SPIKE_ARREST_VIOLATION",
    "RateLimitHeaders",
    "RawResponse",
    "error_from_response",
    "parse_rate_limit_headers",
    "parse_retry_after",
]

logger = logging.getLogger(LOGGER_NAME)

QUOTA_VIOLATION = "policies.ratelimit.QuotaViolation"
SPIKE_ARREST_VIOLATION = "policies.ratelimit.SpikeArrestViolation"
RATE_LIMIT_PREFIX = "policies.ratelimit."
_BODY_EXCERPT = 200


@dataclass(frozen=True)
class RawResponse:
    """What the HTTP layer hands up: status, the headers that matter, body bytes, elapsed time.

    A 2xx body is the data as sent but for echoes of the key as the ``apikey`` query parameter
    (``Redactor.query_echoes``): the key's text may still be in it (a short key is ordinary
    text), so an excerpt shown in a log or an error must go through ``Redactor.excerpt``. Any
    other body has every spelling of the key scrubbed.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed_ms: float


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    Garbage, negative or non-finite values give ``None`` (no server-given wait); a date in the
    past gives ``0``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RateLimitHeaders:
    """``Rate-Limit*`` response headers."""

    limit: int | None
    available: int | None
    reset_at: float | None  # epoch seconds


def _header_int(headers: Mapping[str, str], name: str, shown: str, *, digits: int) -> int | None:
    """The header as a non-negative integer of at most ``digits`` digits, else ``None``."""
    value = headers.get(name)
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= digits):
        # The value itself is never logged: a header is server-controlled text.
        logger.debug("ignoring the %s header: not a plausible non-negative integer", shown)
        return None
    return int(text)


def parse_rate_limit_headers(
    headers: Mapping[str, str], *, now: float | None = None
) -> RateLimitHeaders:
    """``Rate-Limit``, ``Rate-Limit-Available`` and ``Rate-Limit-Reset`` (epoch milliseconds).

    Implausible values are ignored (``None``), each with one DEBUG line: a count above
    ``RATE_LIMIT_MAX_COUNT``, ``Rate-Limit-Available`` above ``Rate-Limit``, a reset that is
    not a representable date, and, when ``now`` (epoch seconds) is given, a reset in the past or
    more than ``QUOTA_RESET_MAX_AHEAD_SECONDS`` ahead. Negative or non-numeric values
    are ignored too. Never raises.
    """
    count_digits = len(str(RATE_LIMIT_MAX_COUNT))
    limit = _header_int(headers, "rate-limit", "Rate-Limit", digits=count_digits)
    if limit is not None and limit > RATE_LIMIT_MAX_COUNT:
        logger.debug("ignoring the Rate-Limit header: above %d", RATE_LIMIT_MAX_COUNT)
        limit = None
    available = _header_int(
        headers, "rate-limit-available", "Rate-Limit-Available", digits=count_digits
    )
    if available is not None and available > RATE_LIMIT_MAX_COUNT:
        logger.debug("ignoring the Rate-Limit-Available header: above %d", RATE_LIMIT_MAX_COUNT)
        available = None
    if available is not None and limit is not None and available > limit:
        logger.debug("ignoring the Rate-Limit-Available header: above Rate-Limit")
        available = None
    return RateLimitHeaders(limit=limit, available=available, reset_at=_reset_at(headers, now))


def _reset_at(headers: Mapping[str, str], now: float | None) -> float | None:
    # 20 digits of milliseconds is already far past the year 9999.
    reset_ms = _header_int(headers, "rate-limit-reset", "Rate-Limit-Reset", digits=20)
    if reset_ms is None:
        return None
    reset_at = reset_ms / 1000.0
    if reset_ms == 0 or utc_from_epoch(reset_at) is None:
        logger.debug("ignoring the Rate-Limit-Reset header: not a representable date")
        return None
    if now is not None and reset_at < now:
        logger.debug("ignoring the Rate-Limit-Reset header: in the past")
        return None
    if now is not None and reset_at > now + QUOTA_RESET_MAX_AHEAD_SECONDS:
        logger.debug(
            "ignoring the Rate-Limit-Reset header: more than %.0f h ahead",
            QUOTA_RESET_MAX_AHEAD_SECONDS / 3600,
        )
        return None
    return reset_at


def _error_fields(body: bytes, redactor: Redactor) -> tuple[str | None, str | None]:
    """(error_code, detail) from either error envelope; (None, None) if neither."""
    try:
        data: Any = _json.loads(body)
    except ValueError:  # not JSON, not text, or nested too deeply
        return None, None
    if not isinstance(data, dict):
        return None, None
    fault = data.get("fault")
    if isinstance(fault, dict):
        detail = fault.get("detail")
        code = detail.get("errorcode") if isinstance(detail, dict) else None
        text = fault.get("faultstring")
        return (
            code if isinstance(code, str) else None,
            redactor.text(text) if isinstance(text, str) else None,
        )
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        text = first.get("detail")
        return (
            str(code) if isinstance(code, (str, int)) else None,
            redactor.text(text) if isinstance(text, str) else None,
        )
    return None, None


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
}


def error_from_response(
    response: RawResponse, *, redactor: Redactor, now: datetime, path: str = ""
) -> APIStatusError:
    """The typed error for a non-2xx answer (status → exception, both error envelopes).

    Never raises: a hostile body or header gives an error with fewer details.
    """
    status = response.status
    code, detail = _error_fields(response.body, redactor)
    if detail is None and response.body:
        detail = redactor.excerpt(response.body, _BODY_EXCERPT)
    where = f" for {path}" if path else ""
    message = f"HTTP {status}{where}"
    if code:
        message += f" [{code}]"
    if detail:
        message += f": {detail}"
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    if status == 429:
        limits = parse_rate_limit_headers(response.headers, now=now.timestamp())
        reset_at = utc_from_epoch(limits.reset_at)
        if code == QUOTA_VIOLATION:
            if retry_after is None and reset_at is not None:
                retry_after = max(0.0, (reset_at - now).total_seconds())
            return QuotaExceededError(
                message,
                error_code=code,
                detail=detail,
                retry_after=retry_after,
                reset_at=reset_at,
            )
        if retry_after is None and code != SPIKE_ARREST_VIOLATION and reset_at is not None:
            retry_after = max(0.0, (reset_at - now).total_seconds())
        return RateLimitError(
            message, error_code=code, detail=detail, retry_after=retry_after, reset_at=reset_at
        )
    if status >= 500:
        return ServerError(
            message, status_code=status, error_code=code, detail=detail, retry_after=retry_after
        )
    error_class = _STATUS_ERRORS.get(status, APIStatusError)
    return error_class(message, status_code=status, error_code=code, detail=detail)
