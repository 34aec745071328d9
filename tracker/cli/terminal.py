"""Showing text that came from outside (mail headers, replies, raw messages) on a terminal.

A message can carry control characters: an escape sequence in a subject
could recolour, retitle or rewrite what a coordinator's terminal shows. What
commands print from mail goes through `printable` first, which shows each
control character as a visible escape instead of sending it to the terminal.
"""

from __future__ import annotations

import unicodedata

_KEPT = {"\n", "\t"}


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with every control, format or separator character (bidi overrides,
    escapes, carriage returns, U+2028…) shown as a visible \\xNN / \\uNNNN escape.

    Newlines and tabs stay when `keep_newlines` (multi-line text); in a
    one-line field they are escaped too.
    """
    return "".join(
        ch if (keep_newlines and ch in _KEPT) or not _is_unsafe(ch) else _escaped(ch) for ch in text
    )


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_ZERO_WIDTH_JOINER = "\u200d"  # a format character that builds emoji and some scripts' letters


def _is_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES and ch != _ZERO_WIDTH_JOINER


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable_bytes(raw: bytes) -> str:
    """A raw message for a terminal: decoded as UTF-8 where it is (else each byte
    escaped), line breaks kept, every other control character escaped."""
    text = raw.decode("utf-8", "backslashreplace").replace("\r\n", "\n")
    return printable(text)
