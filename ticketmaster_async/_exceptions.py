"""The error tree of ticketmaster_async.

```
TicketmasterError
├── ConfigurationError (also ValueError)   missing key, bad filter value, bad id, page past the cap
├── APIConnectionError      .request_sent  network failure (False: the request never left)
│   └── APITimeoutError                    the attempt took longer than Settings.timeout
├── APIStatusError          .status_code .error_code .detail
│   ├── BadRequestError 400 · AuthenticationError 401
│   ├── PermissionDeniedError 403 · NotFoundError 404
│   ├── RateLimitError 429  .retry_after .reset_at
│   │   └── QuotaExceededError   daily quota spent (server QuotaViolation, or the local budget)
│   └── ServerError 5xx
├── ResponseValidationError  .status_code .body_start   a 2xx body that is not JSON or not the
│                            expected shape; any body past max_response_bytes or undecodable
└── CircuitOpenError         .retry_at   raised without touching the network
```

No message or attribute of these errors ever contains the API key: the HTTP layer scrubs every
text it puts into them, and raises them unchained from the httpx errors (whose frames hold the
keyed request). Every error pickles with its attributes.
"""

from __future__ import annotations

import copyreg
from datetime import datetime
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CircuitOpenError",
    "ConfigurationError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "TicketmasterError",
]


class TicketmasterError(Exception):
    """Base class of every error this library raises.

    Every error pickles with its message and attributes (for ``multiprocessing`` and
    ``concurrent.futures.ProcessPoolExecutor``), whatever its constructor's signature.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # ``BaseException.__reduce__`` rebuilds with ``cls(*args)``, which fails for classes
        # with required keyword-only arguments. Rebuild without calling ``__init__`` instead:
        # ``cls.__new__(cls, *args)`` restores ``args``, the state restores the attributes.
        return (copyreg.__newobj__, (type(self), *self.args), self.__dict__)  # type: ignore[attr-defined]


class ConfigurationError(TicketmasterError, ValueError):
    """Bad settings or bad arguments, detected before any request is sent."""


class APIConnectionError(TicketmasterError):
    """The API could not be reached (DNS, refused or dropped connection, TLS).

    Attributes:
        request_sent: ``False`` when the request certainly never reached the server (the
            connection was refused or could not be opened in time, or the request was
            rejected locally before sending); ``True`` when it may have.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The API did not answer within ``Settings.timeout`` (connect, send and the whole body)."""


class APIStatusError(TicketmasterError):
    """The API answered with an error status.

    Attributes:
        status_code: the HTTP status.
        error_code: the API's own code (``fault.detail.errorcode`` or ``errors[0].code``), if any.
        detail: the API's message (``faultstring`` or ``errors[0].detail``), key scrubbed.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_code: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code
        self.detail = detail

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, "
            f"error_code={self.error_code!r}, detail={self.detail!r})"
        )


class BadRequestError(APIStatusError):
    """HTTP 400: the API rejected the query."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing or invalid API key."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key may not use this resource."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such resource."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests.

    Attributes:
        retry_after: seconds the server (or the client's own limiter) asks to wait, if known.
        reset_at: when the limit resets, if known (aware UTC).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        error_code: str | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
        reset_at: datetime | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, error_code=error_code, detail=detail)
        self.retry_after = retry_after
        self.reset_at = reset_at


class QuotaExceededError(RateLimitError):
    """The daily quota is spent: the server said ``QuotaViolation``, or the local budget is used up
    (then nothing was sent). ``reset_at`` says when requests may be sent again."""


class ServerError(APIStatusError):
    """HTTP 5xx: the API failed. ``retry_after``: the server's ``Retry-After``, if any."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_code: str | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, error_code=error_code, detail=detail)
        self.retry_after = retry_after


class ResponseValidationError(TicketmasterError):
    """An answer whose body cannot be used: a 2xx body that is not JSON or not of the expected
    shape, or any body larger than ``Settings.max_response_bytes`` (after decompression) or in
    an encoding the client does not decode.

    Attributes:
        status_code: the HTTP status of the answer.
        body_start: the first bytes of the body (key scrubbed), for diagnosis.
    """

    def __init__(self, message: str, *, status_code: int, body_start: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body_start = body_start


class CircuitOpenError(TicketmasterError):
    """The circuit breaker is open after repeated failures; nothing was sent.

    Attributes:
        retry_at: when the breaker lets a probe through (aware UTC).
    """

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at
