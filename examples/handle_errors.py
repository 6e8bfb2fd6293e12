"""Handling errors: bad input, "not found", and the typed error tree.

Run it with ``python examples/handle_errors.py`` (sandbox unless ``TICKETMASTER_API_KEY`` is set).

Every error the library raises is a ``TicketmasterError``; catch the subclasses you can act on::

    TicketmasterError
    ├── ConfigurationError (also ValueError)   missing key, bad filter value, bad id
    ├── APIConnectionError                     network failure
    │   └── APITimeoutError
    ├── APIStatusError          .status_code .error_code .detail
    │   ├── BadRequestError 400 · AuthenticationError 401 · PermissionDeniedError 403
    │   ├── NotFoundError 404
    │   ├── RateLimitError 429  .retry_after .reset_at
    │   │   └── QuotaExceededError   daily quota spent
    │   └── ServerError 5xx
    ├── ResponseValidationError  a 2xx body that is not the expected JSON
    └── CircuitOpenError         .retry_at   (nothing sent while the API keeps failing)
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ticketmaster_async import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    CircuitOpenError,
    ConfigurationError,
    QuotaExceededError,
    RateLimitError,
    ResponseValidationError,
    Settings,
    TicketmasterClient,
    TicketmasterError,
)

EXAMPLE_EVENT_ID = "G5diZfkn0B-bh"


def settings(**overrides: Any) -> Settings:
    """The real API when a key is set in the environment, else the sandbox."""
    if os.environ.get("TICKETMASTER_API_KEY"):
        return Settings(**overrides)
    return Settings(environment="sandbox", **overrides)


def explain(exc: TicketmasterError) -> str:
    """What a program could do about each kind of error: most specific class first."""
    if isinstance(exc, QuotaExceededError):
        return f"daily quota spent; try again after {exc.reset_at}"
    if isinstance(exc, RateLimitError):
        return f"too many requests; retry in {exc.retry_after} s"
    if isinstance(exc, AuthenticationError):
        return "the API key is wrong: check TICKETMASTER_API_KEY"
    if isinstance(exc, APIStatusError):
        return f"the API answered HTTP {exc.status_code} ({exc.error_code}): {exc.detail}"
    if isinstance(exc, APIConnectionError):  # includes APITimeoutError
        return "the API could not be reached; cached answers are served while they last"
    if isinstance(exc, CircuitOpenError):
        return f"the API keeps failing; nothing is sent before {exc.retry_at}"
    if isinstance(exc, ResponseValidationError):
        return f"the API sent something unexpected: {exc.body_start[:60]!r}"
    if isinstance(exc, ConfigurationError):
        return f"fix the call or the settings: {exc}"
    return f"some other failure: {exc}"


async def main() -> None:
    # 1. Bad settings are a ConfigurationError (also a ValueError) when Settings is built.
    try:
        Settings(environment="sandbox", cache_ttl=-1)
    except ConfigurationError as exc:
        print(f"bad settings  -> {exc}")

    async with TicketmasterClient(settings()) as tm:
        # 2. A malformed id is refused before any request is sent.
        try:
            await tm.get_event_details("../etc/passwd")
        except ConfigurationError as exc:
            print(f"bad id        -> {explain(exc)}")

        # 3. An id that does not exist is not an error: get_* methods return None on 404.
        event = await tm.get_event_details("NoSuchEvent0000")
        print(f"unknown id    -> {event!r}")

    # 4. The typed tree. A tiny local daily budget makes the second call fail without sending
    #    anything (an in-memory store, so the real quota bookkeeping is left alone). Two
    #    different searches: a cached answer could otherwise be served instead of an error.
    async with TicketmasterClient(settings(daily_limit=1, db_path=":memory:")) as tm:
        for query in ("rock", "suns"):
            try:
                events = await tm.search_events(query, size=1)
                print(f"search {query!r} -> {len(events)} event(s)")
            except TicketmasterError as exc:
                print(f"search {query!r} -> {type(exc).__name__}: {explain(exc)}")


if __name__ == "__main__":
    asyncio.run(main())
