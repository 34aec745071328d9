"""The bounds that keep reading one message linear in time and bounded in memory.

Hostile or broken mail can make the standard library's parsers recurse or
loop over structure (MIME nesting, nested comments in an address list), and
can make even linear work pointless (a Cc of 100,000 addresses). Each check
here is a single linear pass that runs before the costly step it guards, and
names the defect in words a coordinator understands; `parse_message` turns it
into `problem="too_complex"`. Real mail stays far inside every bound.
"""

from __future__ import annotations

import re
from email.message import Message
from itertools import pairwise


class BeyondBounds(Exception):
    """Raised deep inside a reading step when the input passes a bound; carries the defect."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


MAX_HEADER_FIELDS = 1000
MAX_HEADER_FIELD_CHARS = 100_000
MAX_ADDRESSES_PER_FIELD = 1000
ADDRESS_FIELDS = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "bcc", "delivered-to", "x-original-to"}
)
MAX_COMMENT_DEPTH = 20
# Counted in the raw bytes before parsing, so that the parser (which recurses
# once per level) never meets a nesting it cannot finish.
MAX_MIME_CONTAINERS = 200
MAX_MIME_DEPTH = 50
MAX_MIME_PARTS = 1000
MAX_HTML_DEPTH = 1000
# The MIME parser holds every line as an object: lines, not bytes, bound its memory.
# (A 10 MB message of base64 has about 135,000 lines.)
MAX_LINES = 500_000
# Written (not blank, not ">"-quoted) lines of body text, which quote detection
# and the grammar read at about 20 µs each: a person's reply is far shorter,
# and this keeps any body under about two seconds.
MAX_TEXT_LINES = 100_000
# Runs of blank lines are shortened to this many before anything reads them.
KEPT_BLANK_LINES = 6

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"^[^ \t\r\n]", re.MULTILINE)
# From the end of one line to the last newline of the blank lines after it; a
# character class, not a repeated group, so the regex engine keeps no state per line.
_BLANK_RUN = re.compile(rb"\n[ \t\r\n]*\n")
_WRITTEN_LINE = re.compile(r"^[ \t]*[^\s>＞]", re.MULTILINE)
_CONTAINER = re.compile(rb"^content-type:[ \t]*(?:\r?\n[ \t]+)?(?:multipart|message)/", re.I | re.M)


def shorten_blank_runs(raw: bytes) -> bytes:
    """`raw` with every run of blank lines cut to `KEPT_BLANK_LINES`.

    Nothing the reader keeps depends on longer runs (MIME needs one blank line
    after headers; the reply text keeps one between paragraphs), and a message
    of four million newlines becomes a few lines.
    """
    kept = b"\n" + b"\r\n" * KEPT_BLANK_LINES

    def shorten(run: re.Match[bytes]) -> bytes:
        return kept if run.group().count(b"\n") > KEPT_BLANK_LINES + 1 else run.group()

    return _BLANK_RUN.sub(shorten, raw)


def raw_defect(raw: bytes) -> str | None:
    """A defect of the raw bytes that the MIME parser must not meet, or None.

    0. At most `MAX_LINES` lines.
    1. The top-level header section: at most `MAX_HEADER_FIELDS` fields, none
       longer than `MAX_HEADER_FIELD_CHARS` (folded lines included).
    2. Container parts (multipart or message): at most `MAX_MIME_CONTAINERS`
       Content-Type lines naming one, wherever they stand.
    """
    if raw.count(b"\n") > MAX_LINES:
        return f"more than {MAX_LINES} lines"
    end = _HEADER_END.search(raw)
    head = raw[: end.start()] if end is not None else raw
    starts = [found.start() for found in _FIELD_START.finditer(head)]
    if len(starts) > MAX_HEADER_FIELDS:
        return f"more than {MAX_HEADER_FIELDS} header fields"
    for start, stop in pairwise([*starts, len(head)]):
        if stop - start > MAX_HEADER_FIELD_CHARS:
            field = head[start:stop]
            label = field[:60].split(b":", 1)[0].decode("ascii", "replace").strip() or "header"
            if label.lower() in ADDRESS_FIELDS and field.count(b"@") > MAX_ADDRESSES_PER_FIELD:
                return f"more than {MAX_ADDRESSES_PER_FIELD} addresses in {label}"
            return f"a {label} header longer than {MAX_HEADER_FIELD_CHARS} characters"
    # Each container line holds a colon: a message with few colons needs no count.
    if raw.count(b":") > MAX_MIME_CONTAINERS:
        containers = sum(1 for _ in _CONTAINER.finditer(raw))
        if containers > MAX_MIME_CONTAINERS:
            return f"more than {MAX_MIME_CONTAINERS} multipart or message parts"
    return None


def tree_defect(message: Message) -> str | None:
    """A defect of the parsed MIME tree (too deep, too many parts), or None."""
    parts = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > MAX_MIME_DEPTH:
            return f"MIME nesting deeper than {MAX_MIME_DEPTH} levels"
        if parts > MAX_MIME_PARTS:
            return f"more than {MAX_MIME_PARTS} MIME parts"
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in children if isinstance(child, Message))
    return None


def text_defect(text: str) -> str | None:
    """Why a body's text is beyond reading (too many written lines), or None.

    Blank lines and `>`-quoted lines cost next to nothing and are not counted.
    """
    if text.count("\n") > MAX_TEXT_LINES:
        written = sum(1 for _ in _WRITTEN_LINE.finditer(text))
        if written > MAX_TEXT_LINES:
            return f"a body of more than {MAX_TEXT_LINES} lines of text"
    return None


def address_field_defect(name: str, value: str) -> str | None:
    """Why an address field (To, Cc, From…) is beyond reading, or None.

    The count of "@" bounds the number of addresses from above; the depth of
    nested comments is what makes the standard library's address parser recurse.
    """
    if value.count("@") > MAX_ADDRESSES_PER_FIELD:
        return f"more than {MAX_ADDRESSES_PER_FIELD} addresses in {name}"
    if value.count("(") <= MAX_COMMENT_DEPTH:
        return None
    depth = deepest = 0
    for char in value:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    if deepest > MAX_COMMENT_DEPTH:
        return f"comments nested deeper than {MAX_COMMENT_DEPTH} levels in {name}"
    return None
