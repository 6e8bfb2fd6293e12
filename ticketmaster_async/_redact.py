"""Scrubbing the API key out of every text that could reach a user, a log or the store."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

from ._constants import REDACTED

__all__ = ["Redactor"]


class Redactor:
    """Replaces the API key (raw and URL-encoded forms) with ``***`` in text and bytes."""

    def __init__(self, secret: str | None) -> None:
        forms = (
            {secret, quote(secret or "", safe=""), quote_plus(secret or "")} if secret else set()
        )
        self._forms = sorted((f for f in forms if f), key=len, reverse=True)
        self._bytes_forms = [f.encode() for f in self._forms]

    def text(self, value: str) -> str:
        """``value`` with every form of the key replaced."""
        for form in self._forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value

    def bytes(self, value: bytes) -> bytes:
        """``value`` with every form of the key replaced."""
        for form in self._bytes_forms:
            if form in value:
                value = value.replace(form, REDACTED.encode())
        return value

    def __repr__(self) -> str:
        return "Redactor(***)"
