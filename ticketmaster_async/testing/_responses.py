"""What the fake API answers with: responses, the real error bodies, and search pages.

Two error envelopes exist, as on the real API: the gateway's (Apigee) ``{"fault": ...}`` for
keys, limits and gateway failures, and the Discovery application's ``{"errors": [...]}``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeAlias
from urllib.parse import quote, urlencode

from ._data import JSONObject

__all__ = [
    "CONTENT_TYPE",
    "INVALID_KEY",
    "OFFERS_EVENT_NOT_FOUND",
    "QUOTA_FAULT",
    "SPIKE_FAULT",
    "FakeResponse",
    "JSONBody",
    "Reply",
    "adapt_offers",
    "adapt_top_picks",
    "bad_request",
    "discovery_error",
    "embed",
    "encode_body",
    "fault",
    "gateway_fault",
    "href",
    "json_response",
    "not_found",
    "page_body",
    "refusal",
    "suggest_body",
]

JSONBody: TypeAlias = bytes | str | Mapping[str, Any]

#: The API's ``Content-Type`` (from the documented example responses).
CONTENT_TYPE = "application/json;charset=utf-8"

# Gateway (Apigee) bodies. 401 and the quota 429 are documented; the spike-arrest 429 is
# Apigee's standard body (Ticketmaster's own was never captured).
INVALID_KEY = {
    "fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}
}
QUOTA_FAULT = "Rate limit quota violation. Quota limit  exceeded. Identifier : {key}"
SPIKE_FAULT = "Spike arrest violation. Allowed rate : {rate}"
# Refusals of the optional price sources; none was captured from Ticketmaster. The 401 and 404
# are Apigee's standard bodies for a key without access to an API product and for a path the
# gateway does not route; the 403 body is a plausible invention.
_REFUSALS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (
        401,
        "Invalid ApiKey for given resource",
        "oauth.v2.InvalidApiKeyForGivenResource",
    ),
    "forbidden": (403, "Access Denied", "accesscontrol.AccessDenied"),
    "not_found": (
        404,
        "Unable to identify proxy for host: default and url: {path}",
        "messaging.adaptors.http.flow.ApplicationNotFound",
    ),
}
# Commerce API answer for an unknown event: HTTP 500, recorded from the real API.
OFFERS_EVENT_NOT_FOUND = {
    "errors": [{"status": "500", "detail": "Invalid Event - event not found.", "code": "40001"}]
}
_ERRORS_HREF = "/discovery/v2/errors.html#"
_BAD_REQUEST = "400 BAD_REQUEST"
_NOT_FOUND_DETAIL = "Resource not found with provided criteria (locale={locale}, id={id})"
_LEGACY_EVENT_ID = re.compile(r"/event/([0-9A-F]{16})(?:$|[/?])")


@dataclass(frozen=True)
class FakeResponse:
    """What the fake answers; a transport must honour ``delay`` and ``drop``.

    Attributes:
        status: the HTTP status (``0`` when ``drop`` is set).
        headers: the response headers (without ``Content-Length``, which the transport adds).
        body: the response body.
        delay: seconds to wait before answering.
        drop: close the connection without answering.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0
    drop: bool = False

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Reply(Exception):
    """Raised inside request processing to answer early."""

    def __init__(self, status: int, body: JSONObject) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def encode_body(body: JSONBody) -> bytes:
    """Bytes as given, text as UTF-8, a JSON object compactly encoded."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(
    status: int, body: JSONObject | bytes, headers: Mapping[str, str]
) -> FakeResponse:
    """A JSON response with the API's ``Content-Type`` (*body* may be encoded already)."""
    return FakeResponse(status, {"Content-Type": CONTENT_TYPE, **headers}, encode_body(body))


# ---------------------------------------------------------------------- the gateway's envelope


def fault(faultstring: str, errorcode: str) -> JSONObject:
    """Apigee's body; a bare *errorcode* is a rate-limit policy's (``policies.ratelimit.*``)."""
    if "." not in errorcode:
        errorcode = f"policies.ratelimit.{errorcode}"
    return {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}


def gateway_fault(status: int) -> JSONObject:
    """Apigee's shape for gateway failures, e.g. 503 ServiceUnavailable, 504 GatewayTimeout."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code = "messaging.adaptors.http.flow." + "".join(part.capitalize() for part in phrase.split())
    return fault(phrase, code)


def refusal(mode: str, path: str) -> tuple[int, JSONObject]:
    """The status and body refusing a price source in *mode* (see ``SourceMode``)."""
    status, faultstring, errorcode = _REFUSALS[mode]
    return status, fault(faultstring.format(path=path), errorcode)


# ---------------------------------------------------------------------- the application's envelope


def discovery_error(code: str, detail: str, status: str, *, link: str = "about") -> JSONObject:
    """The Discovery ``errors[]`` envelope (``status`` is a string, as the API sends it)."""
    return {
        "errors": [
            {
                "code": code,
                "detail": detail,
                "status": status,
                "_links": {link: {"href": _ERRORS_HREF + code}},
            }
        ]
    }


def bad_request(code: str, detail: str, *, link: str = "about") -> Reply:
    """A 400 in the ``errors[]`` envelope."""
    return Reply(400, discovery_error(code, detail, _BAD_REQUEST, link=link))


def not_found(resource_id: str, locale: str) -> Reply:
    """The recorded 404 (``DIS1004``) for an unknown id."""
    detail = _NOT_FOUND_DETAIL.format(locale=locale, id=resource_id)
    return Reply(404, discovery_error("DIS1004", detail, "404"))


# ---------------------------------------------------------------------- search pages


def href(path: str, pairs: Iterable[tuple[str, str]]) -> str:
    """A relative link to *path* with the query *pairs* (the key left out by the caller)."""
    query = urlencode(list(pairs), quote_via=quote, safe=",*:")
    return f"{path}?{query}" if query else path


def _echoed(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name != "apikey"]


def embed(body: JSONObject, items: Mapping[str, list[bytes]]) -> bytes:
    """*body* encoded with ``_embedded`` first, holding the already encoded *items* of each
    non-empty kind (``_embedded`` is left out when every kind is empty, as the API does).

    The objects are encoded once and kept (see ``Record.encoded``): a page is then mostly a
    join of bytes, however large the catalogue.
    """
    kinds = [kind for kind, encoded in items.items() if encoded]
    if not kinds:
        return encode_body(body)
    placeholders = {kind: f"\0{kind}\0" for kind in kinds}
    text = encode_body({"_embedded": placeholders, **body})
    for kind in kinds:
        token = json.dumps(placeholders[kind]).encode()
        text = text.replace(token, b"[" + b",".join(items[kind]) + b"]", 1)
    return text


def page_body(
    kind: str,
    path: str,
    pairs: list[tuple[str, str]],
    total: int,
    chosen: list[bytes],
    size: int,
    page: int,
) -> bytes:
    """A search page as the API builds it: ``_embedded`` only when non-empty, relative links
    that echo the query without the key.

    Args:
        kind: the ``_embedded`` key (``events`` ...).
        path: the path requested (the links keep its ``.json`` or its absence).
        pairs: the query as received.
        total: how many records match.
        chosen: this page's records, encoded.
        size: the page size.
        page: the page number.
    """
    total_pages = math.ceil(total / size)
    echoed = _echoed(pairs)
    others = [(name, value) for name, value in echoed if name not in ("page", "size")]

    def link(number: int) -> dict[str, str]:
        return {"href": href(path, [*others, ("page", str(number)), ("size", str(size))])}

    links: dict[str, dict[str, str]] = {}
    if total:
        links["first"] = link(0)
        if page > 0:
            links["prev"] = link(min(page, total_pages) - 1)
    links["self"] = {"href": href(path, echoed)}
    if total:
        if page < total_pages - 1:
            links["next"] = link(page + 1)
        links["last"] = link(total_pages - 1)
    body: JSONObject = {
        "_links": links,
        "page": {"size": size, "totalElements": total, "totalPages": total_pages, "number": page},
    }
    return embed(body, {kind: chosen})


def suggest_body(
    path: str, pairs: list[tuple[str, str]], found: Mapping[str, list[bytes]]
) -> bytes:
    """A suggest answer: a ``self`` link, then ``_embedded`` with each non-empty kind.

    Its shape was never captured from the real API; this one follows the search pages.
    """
    return embed({"_links": {"self": {"href": href(path, _echoed(pairs))}}}, found)


# ---------------------------------------------------------------------- price sources


def adapt_offers(template: JSONObject, event_id: str, event: JSONObject) -> JSONObject:
    """The recorded Commerce offers body, in the event's currency and mapped to its ids."""
    body: JSONObject = _with_currency(copy.deepcopy(template), _currency(event))
    mapping = body["metadata"]["eventMapping"]
    mapping["id"] = event_id
    legacy = _LEGACY_EVENT_ID.search(str(event.get("url", "")))
    if legacy is not None:
        mapping["source"]["id"] = legacy.group(1)
    return body


def adapt_top_picks(template: JSONObject, event: JSONObject) -> JSONObject:
    """The documented Top Picks body, in the event's currency, with a consistent ``page``."""
    body: JSONObject = _with_currency(copy.deepcopy(template), _currency(event))
    picks = len(body.get("picks", []))
    body["page"] = {"number": 1, "size": picks, "totalElements": picks, "totalPages": 1}
    return body


def _currency(event: JSONObject) -> str | None:
    for price_range in event.get("priceRanges") or []:
        if isinstance(price_range, dict) and isinstance(price_range.get("currency"), str):
            return str(price_range["currency"])
    return None


def _with_currency(value: Any, currency: str | None) -> Any:
    """Replace every ``currency`` in a recorded body by the event's (values are kept)."""
    if currency is None:
        return value
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "currency" and isinstance(inner, str):
                value[key] = currency
            else:
                _with_currency(inner, currency)
    elif isinstance(value, list):
        for inner in value:
            _with_currency(inner, currency)
    return value
