"""Which Commerce answers mean "this event has no offers" (HTTP 500, code 40001)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import fixture_bytes, load_fixture
from ticketmaster_async._commerce import is_commerce_event_not_found

OFFERS = "/commerce/v2/events/G5diZfkn0B-bh/offers.json"
RECORDED = fixture_bytes("commerce_v2_offers_error_500_event_not_found.json")


def _with_code(code: object) -> bytes:
    body = load_fixture("commerce_v2_offers_error_500_event_not_found.json")
    body["errors"][0]["code"] = code
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("path", "status", "body", "expected"),
    [
        pytest.param(OFFERS, 500, RECORDED, True, id="recorded"),
        pytest.param(OFFERS, 500, _with_code(40001), True, id="code-as-number"),
        pytest.param(OFFERS, 500, _with_code("50000"), False, id="another-code"),
        pytest.param(OFFERS, 503, RECORDED, False, id="another-status"),
        pytest.param("/discovery/v2/events/E1.json", 500, RECORDED, False, id="not-commerce"),
        pytest.param(OFFERS, 500, b"<html>Internal Server Error</html>", False, id="not-json"),
        pytest.param(OFFERS, 500, b"[1, 2]", False, id="not-an-object"),
        pytest.param(OFFERS, 500, b'{"errors": []}', False, id="no-errors"),
        pytest.param(OFFERS, 500, b'{"errors": ["x"]}', False, id="error-not-an-object"),
        pytest.param(OFFERS, 500, b"[" * 4000, False, id="deeply-nested"),
        pytest.param(OFFERS, 500, RECORDED + b" " * 5000, False, id="too-large"),
    ],
)
def test_the_commerce_event_not_found_answer(
    path: str, status: int, body: bytes, expected: bool
) -> None:
    assert is_commerce_event_not_found(path, status, body) is expected
