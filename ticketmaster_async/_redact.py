"""Scrubbing the API key out of every text that could reach a user, a log or the store.

A server can echo the key in many spellings: raw, percent-encoded (``%xx`` in either case, all
characters or some, ``+`` for a space), or inside JSON as ``\\uXXXX`` escapes (either case, any
subset of the characters, ``\\/`` for ``/``). One regular expression matches the key with every
character in any of its spellings.

Two operations, because a short key ("test") is also ordinary text:

* :meth:`Redactor.query_echoes` for the data of a 2xx body: only an echo of the key as the
  ``apikey`` query parameter (``apikey=<key>`` inside a link) is replaced, nothing else.
* :meth:`Redactor.text` / :meth:`Redactor.bytes` for everything else (URLs, error bodies, log
  lines, exception messages): every occurrence is replaced.
"""

from __future__ import annotations

import re

from ._constants import REDACTED

__all__ = ["Redactor"]

_JSON_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}

# What may come right before ``apikey``: not a letter of a longer parameter name, or an
# (escaped) ``?``/``&``, percent-encoded or JSON-escaped, whose last character is a letter or digit.
_BEFORE_NAME = r"(?:(?<![A-Za-z0-9_.~-])|(?<=%26)|(?<=%3[fF])|(?<=\\u0026)|(?<=\\u003[fF]))"
_NAME_AND_EQUALS = r"[aA][pP][iI][kK][eE][yY](?:=|%3[dD]|\\u003[dD])"
# A character that continues a query value: anything but a separator (& #), a quote, a space,
# an angle bracket or a backslash; or a JSON escape of such a value character (``\/``, ``\\``,
# ``\uXXXX`` other than & # " ' space < > and control characters). The key matches an echo only
# when no such character follows it: ``apikey=testing`` is not the key ``test``.
_VALUE_CHAR = r"(?:[^&#\"'\s<>\\]|\\[/\\]|\\u(?!00(?:[01]|2[02367]|3[cCeE]))[0-9a-fA-F]{4})"


def _hex(number: int, width: int) -> str:
    """A pattern for ``number`` in ``width`` hex digits, either case."""
    return "".join(
        f"[{digit}{digit.upper()}]" if digit.isalpha() else digit for digit in f"{number:0{width}x}"
    )


def _char_pattern(char: str) -> str:
    """Every spelling of one character of the key."""
    forms = [re.escape(char)]
    forms.append("".join("%" + _hex(byte, 2) for byte in char.encode("utf-8", "surrogatepass")))
    if char == " ":
        forms.append(r"\+")
    code = ord(char)
    if code > 0xFFFF:  # JSON spells it as a surrogate pair
        code -= 0x10000
        forms.append(rf"\\u{_hex(0xD800 + (code >> 10), 4)}\\u{_hex(0xDC00 + (code & 0x3FF), 4)}")
    else:
        forms.append(rf"\\u{_hex(code, 4)}")
    if char in _JSON_SHORT_ESCAPES:
        forms.append(re.escape(_JSON_SHORT_ESCAPES[char]))
    return "(?:" + "|".join(forms) + ")"


class Redactor:
    """Replaces the API key, in every spelling a server or library may echo, with ``***``."""

    def __init__(self, secret: str | None) -> None:
        self._active = bool(secret)
        # The longest spelling of the key in bytes: 12 per character (``\\uD83D\\uDE00``,
        # ``%F0%9F%98%80``).
        self._longest_spelling = 12 * len(secret or "")
        key = "".join(_char_pattern(char) for char in secret or "")
        echo = f"({_BEFORE_NAME}{_NAME_AND_EQUALS}){key}(?!{_VALUE_CHAR})"
        # Non-ASCII characters of the key are literal in the pattern; in the bytes pattern they
        # are their UTF-8 bytes, inside a group, so no quantifier applies to a lone byte.
        self._text = re.compile(key)
        self._bytes = re.compile(key.encode("utf-8", "surrogatepass"))
        self._echo = re.compile(echo.encode("utf-8", "surrogatepass"))
        self._redacted_bytes = REDACTED.encode()
        self._echo_replacement = rb"\g<1>" + self._redacted_bytes

    def text(self, value: str) -> str:
        """``value`` with every occurrence of the key, in any spelling, replaced by ``***``."""
        if not self._active:
            return value
        return self._text.sub(REDACTED, value)

    def excerpt(self, body: bytes, limit: int) -> str:
        """The start of ``body`` as text, at most ``limit`` characters, the key scrubbed.

        Scrubbed before it is cut, so a spelling of the key across the cut cannot leave a part
        of the key behind.
        """
        window = body[: 4 * limit + self._longest_spelling]
        return self.text(window.decode("utf-8", "replace"))[:limit]

    def query_echoes(self, value: bytes) -> bytes:
        """``value`` with only the key's echoes as the ``apikey`` query parameter replaced.

        For the data of a 2xx body, which must never be rewritten otherwise: the name in any
        case, ``=`` raw, ``%3D`` or ``\\u003d``, the key in any spelling, and then the end of
        the value (``apikey=<key>xyz`` is a different value and stays).
        """
        # The cheap test first: almost no body carries a parameter named apikey.
        if not self._active or b"apikey" not in value.lower():
            return value
        return self._echo.sub(self._echo_replacement, value)

    # Last: inside the class body, this name shadows the builtin in later annotations.
    def bytes(self, value: bytes) -> bytes:
        """``value`` with every occurrence of the key, in any spelling, replaced by ``***``."""
        if not self._active:
            return value
        return self._bytes.sub(self._redacted_bytes, value)

    def __repr__(self) -> str:
        return "Redactor(***)"
