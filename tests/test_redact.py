"""Key scrubbing: every spelling of the key goes, and 2xx data is never rewritten otherwise."""

from __future__ import annotations

import json
import random
import string
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus

import httpx
import pytest
import respx

from ticketmaster_async._http import HTTPSender, RawResponse, error_from_response
from ticketmaster_async._redact import Redactor

from .clients import BASE, make_client
from .conftest import FIXTURES, fixture_bytes, load_fixture

#: A random 32-character key (seeded: the same in every run).
LONG_KEY = "".join(random.Random(13).choices(string.ascii_letters + string.digits + "-_", k=32))
KEYS = ["test", "a", "k/y+z", "ünï", LONG_KEY, "sp ace😀"]
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def _json_escape(char: str, *, upper: bool) -> str:
    code = ord(char)
    units = (
        [code]
        if code <= 0xFFFF
        else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)]
    )
    return "".join(f"\\u{unit:04X}" if upper else f"\\u{unit:04x}" for unit in units)


def spellings(key: str) -> dict[str, str]:
    """Every spelling of ``key`` the scrubbing must catch, by name."""
    percent = quote(key, safe="")
    return {
        "raw": key,
        "quote-upper": percent,
        "quote-lower": _lower_hex(percent),
        "quote-safe-slash": quote(key, safe="/"),
        "quote-plus": quote_plus(key),
        "json-ascii": json.dumps(key)[1:-1],
        "json-escaped-slash": json.dumps(key)[1:-1].replace("/", "\\/"),
        "json-all-upper": "".join(_json_escape(c, upper=True) for c in key),
        "json-all-lower": "".join(_json_escape(c, upper=False) for c in key),
        # Every other character escaped: any subset must be caught.
        "json-some": "".join(
            _json_escape(c, upper=i % 4 == 0) if i % 2 == 0 else c for i, c in enumerate(key)
        ),
        # Every other character percent-encoded, letters included.
        "percent-some": "".join(
            "".join(f"%{byte:02X}" for byte in c.encode()) if i % 2 else c
            for i, c in enumerate(key)
        ),
    }


def _lower_hex(percent: str) -> str:
    """``%C3%BC`` → ``%c3%bc`` (only the escapes, never the key's own letters)."""
    out = []
    i = 0
    while i < len(percent):
        if percent[i] == "%":
            out.append(percent[i : i + 3].lower())
            i += 3
        else:
            out.append(percent[i])
            i += 1
    return "".join(out)


CASES = [(key, form, text) for key in KEYS for form, text in spellings(key).items()]


@pytest.mark.parametrize(("key", "form", "spelled"), CASES)
def test_full_scrubbing_catches_every_spelling(key: str, form: str, spelled: str) -> None:
    redactor = Redactor(key)
    text = f"<{spelled}>|{spelled}"  # no letter around it: "a" is a key here
    assert redactor.text(text) == "<***>|***"
    assert redactor.bytes(text.encode()) == b"<***>|***"


EQUALS = ["=", "%3D", "%3d", "\\u003d", "\\u003D"]
NAMES = ["apikey", "APIKEY", "apiKey", "ApiKey"]
BEFORE = ["?", "&", "\\u0026", "%26", "%3F", "\\u003f"]


@pytest.mark.parametrize(("key", "form", "spelled"), CASES)
def test_query_echoes_are_scrubbed_in_every_spelling(key: str, form: str, spelled: str) -> None:
    redactor = Redactor(key)
    for name in NAMES:
        for equals in EQUALS:
            for before in BEFORE:
                for after in ["&size=20", "\\u0026size=20", "#top", '"', ""]:
                    href = f"/discovery/v2/events{before}{name}{equals}{spelled}{after}"
                    body = json.dumps({"href": "@"}).replace("@", href).encode()
                    expected = body.replace(f"{name}{equals}{spelled}".encode(), b"", 1)
                    scrubbed = redactor.query_echoes(body)
                    assert scrubbed.replace(f"{name}{equals}***".encode(), b"", 1) == expected, href


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("longer", ["ing", "%41", "\\u0041", "\\/x", "-1", "é"])
def test_a_longer_value_starting_with_the_key_is_not_an_echo(key: str, longer: str) -> None:
    redactor = Redactor(key)
    body = json.dumps({"href": "@"}).replace("@", f"/e?apikey={key}{longer}&x=1").encode()
    assert redactor.query_echoes(body) == body


@pytest.mark.parametrize("key", KEYS)
def test_the_key_elsewhere_in_2xx_data_is_left_alone(key: str) -> None:
    redactor = Redactor(key)
    body = json.dumps(
        {
            key: f"Grea{key}st {key}",
            "notapikey": f"x?notapikey={key}",  # another parameter, another name
            "text": f"the apikey is {key}",  # not a query parameter
            "nested": {"id": f"{key}{key}"},
        },
        ensure_ascii=False,
    ).encode()
    assert redactor.query_echoes(body) == body


def test_no_key_scrubs_nothing() -> None:
    assert Redactor(None).text("apikey=x") == "apikey=x"
    assert Redactor("").bytes(b"apikey=x") == b"apikey=x"
    assert Redactor(None).query_echoes(b"?apikey=x") == b"?apikey=x"
    assert repr(Redactor("secret")) == "Redactor(***)"


def _fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("key", ["test", "a"])
async def test_recorded_bodies_come_back_byte_identical_through_the_sender(key: str) -> None:
    bodies = {name: fixture_bytes(name) for name in _fixture_names()}
    assert any(key.encode() in body for body in bodies.values())  # the key's text is in them

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[request.url.path.rsplit("/", 1)[-1]])

    sender = HTTPSender(
        base_url=BASE,
        api_key=key,
        timeout=5,
        redactor=Redactor(key),
        transport=httpx.MockTransport(handler),
    )
    try:
        for name, body in bodies.items():
            raw = await sender.get(f"/fixtures/{name}", {})
            assert raw.body == body, name
    finally:
        await sender.aclose()


async def test_an_apikey_echo_in_a_link_is_the_only_change() -> None:
    data = load_fixture("docs_example_event_details.json")
    data["_links"]["self"]["href"] += "?locale=en-us&apikey=test"
    body = json.dumps(data).encode()
    assert body.count(b"test") > 1  # the "test": false field, too
    sender = HTTPSender(
        base_url=BASE,
        api_key="test",
        timeout=5,
        redactor=Redactor("test"),
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
    )
    try:
        raw = await sender.get("/discovery/v2/events/x.json", {})
    finally:
        await sender.aclose()
    assert raw.body == body.replace(b"apikey=test", b"apikey=***")


@pytest.mark.parametrize("key", ["test", "a"])
async def test_a_short_key_leaves_search_results_intact(key: str) -> None:
    name = "search_us_page0_mixed_status_rescheduled_offsale_2019.json"
    raw_events = load_fixture(name)["_embedded"]["events"]
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/discovery/v2/events.json").respond(200, content=fixture_bytes(name))
        async with make_client(api_key=key) as tm:
            events = await tm.search_events("rock")
    assert len(events) == len(raw_events)
    for event, raw in zip(events, raw_events, strict=True):
        assert (event.id, event.name, event.url) == (raw["id"], raw["name"], raw.get("url"))
        assert getattr(event, "test") is raw["test"]  # noqa: B009 - the key "test" is data


@pytest.mark.parametrize("key", [k for k in KEYS if len(k) > 1])
@pytest.mark.parametrize("form", ["raw", "quote-upper", "json-all-lower"])
def test_an_excerpt_never_keeps_part_of_a_key_cut_in_two(key: str, form: str) -> None:
    spelled = spellings(key)[form]
    for start in range(190, 200):
        body = ("<" * start + spelled + ">" * 300).encode()
        shown = Redactor(key).excerpt(body, 200)
        assert len(shown) == 200 and shown.startswith("<" * start)
        assert shown[start:].startswith("***"[: 200 - start]), (start, shown[start:])


def test_error_details_never_keep_part_of_a_key_cut_in_two() -> None:
    key = LONG_KEY
    body = ("x" * 190 + quote(key, safe="") + "y" * 100).encode()
    error = error_from_response(RawResponse(502, {}, body, 1.0), redactor=Redactor(key), now=NOW)
    assert error.detail is not None and error.detail.startswith("x" * 190 + "***")
    assert key[:5] not in str(error) and key[:5] not in error.detail
