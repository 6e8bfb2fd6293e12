"""The error tree: every error pickles with its message and attributes, across processes too."""

from __future__ import annotations

import inspect
import multiprocessing
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import ticketmaster_async
from ticketmaster_async import (
    APIConnectionError,
    CircuitOpenError,
    NotFoundError,
    TicketmasterError,
)

WHEN = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)

#: Every error class the package exports.
ERROR_CLASSES = sorted(
    (
        value
        for value in vars(ticketmaster_async).values()
        if isinstance(value, type) and issubclass(value, TicketmasterError)
    ),
    key=lambda cls: cls.__name__,
)

#: A distinctive value per constructor keyword, so a swapped or lost attribute shows.
SAMPLES: dict[str, Any] = {
    "status_code": 418,
    "error_code": "policies.ratelimit.QuotaViolation",
    "detail": "Rate limit quota violation. Identifier : ***",
    "retry_after": 12.5,
    "reset_at": WHEN + timedelta(hours=3),
    "retry_at": WHEN + timedelta(seconds=30),
    "body_start": '{"not": "json',
    "request_sent": False,
}


def build(cls: type[TicketmasterError]) -> TicketmasterError:
    """An instance of ``cls`` with every keyword of its constructor set to a sample."""
    try:
        parameters = inspect.signature(cls.__init__).parameters.values()
    except ValueError:  # BaseException's own __init__: no keywords
        parameters = []  # type: ignore[assignment]
    keywords = [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]
    missing = [name for name in keywords if name not in SAMPLES]
    assert not missing, f"add samples for {cls.__name__}: {missing}"
    return cls(f"{cls.__name__} happened", **{name: SAMPLES[name] for name in keywords})


def test_every_exported_error_class_is_covered() -> None:
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"NotFoundError", "ServerError", "CircuitOpenError", "ResponseValidationError"} <= names
    assert len(ERROR_CLASSES) >= 14


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_error_round_trips_through_pickle(
    cls: type[TicketmasterError], protocol: int
) -> None:
    error = build(cls)
    if sys.version_info >= (3, 11):
        error.add_note("a note added on the way up")
    copy = pickle.loads(pickle.dumps(error, protocol=protocol))
    assert type(copy) is cls
    assert str(copy) == str(error) and copy.args == error.args
    assert vars(copy) == vars(error)  # every attribute (and note)
    assert repr(copy) == repr(error)


def _raise_not_found(event_id: str) -> None:
    raise NotFoundError(
        f"HTTP 404 for /discovery/v2/events/{event_id}.json",
        status_code=404,
        error_code="DIS1004",
        detail="Resource not found",
    )


def _raise_circuit_open() -> None:
    raise CircuitOpenError("the circuit is open", retry_at=WHEN)


def _raise_refused() -> None:
    raise APIConnectionError("could not reach the API", request_sent=False)


def test_errors_raised_in_a_process_pool_reach_the_parent_intact() -> None:
    # spawn: a fresh interpreter, so the error really crosses a process boundary as a pickle.
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        not_found = pool.submit(_raise_not_found, "G5vYZ4F1pE4G1").exception(timeout=60)
        circuit = pool.submit(_raise_circuit_open).exception(timeout=60)
        refused = pool.submit(_raise_refused).exception(timeout=60)
    assert isinstance(not_found, NotFoundError)
    assert (not_found.status_code, not_found.error_code, not_found.detail) == (
        404,
        "DIS1004",
        "Resource not found",
    )
    assert "G5vYZ4F1pE4G1" in str(not_found)
    assert isinstance(circuit, CircuitOpenError) and circuit.retry_at == WHEN
    assert isinstance(refused, APIConnectionError) and refused.request_sent is False


def test_request_sent_defaults_to_true() -> None:
    assert APIConnectionError("dropped").request_sent is True
