"""Making mail HTML safe for the standard library's parser: linear, bounded markup.

`html.parser` is robust but not linear on hostile input: a `<` that opens no
tag costs a call each (9.5 million of them took 17 s), an unclosed comment or
tag makes it rescan the rest of the document from every `<`, and a tag with
millions of attributes becomes a list of millions of tuples. `bounded_markup`
rewrites the document in one pass so that the parser only meets complete,
short tags:

- a `<` that does not open a complete tag becomes `LONE_LT`, a private-use
  character the caller turns back into `<` in the text;
- an unclosed comment ends the document (browsers hide the rest too);
- a tag longer than `MAX_TAG_CHARS` keeps only its name, id and class (all
  the text reader looks at);
- more than `MAX_TAGS` tags is beyond reading (`BeyondBounds`).
"""

from __future__ import annotations

import re

from tracker.inbound.limits import BeyondBounds

LONE_LT = "\ue000"
MAX_TAG_CHARS = 8192
MAX_TAGS = 200_000

_OPENER = re.compile(r"<(?:!--|[A-Za-z/!?])")
_TAG_NAME = re.compile(r"</?[A-Za-z][^\s/>]{0,64}")
_MARK_ATTRIBUTE = re.compile(
    r"""\s(id|class)\s*=\s*("[^"<>]{0,500}"|'[^'<>]{0,500}'|[^\s"'<>]{1,500})""", re.I
)


def _shortened(tag: str) -> str:
    """A very long tag as its name with its id and class only."""
    name = _TAG_NAME.match(tag)
    if name is None:
        return ""
    marks: dict[str, str] = {}
    for found in _MARK_ATTRIBUTE.finditer(tag):
        marks.setdefault(found.group(1).lower(), found.group(2))
        if len(marks) == 2:
            break
    return name.group(0) + "".join(f" {key}={value}" for key, value in marks.items()) + ">"


class _NextFinder:
    """`text.find(char, start)` for increasing starts, each character scanned once."""

    def __init__(self, text: str, char: str) -> None:
        self._text, self._char, self._found = text, char, -2

    def after(self, start: int) -> int:
        if self._found == -1 or self._found >= start:
            return self._found
        self._found = self._text.find(self._char, start)
        return self._found


def _as_text(html: str) -> str:
    return html.replace("<", LONE_LT)


def bounded_markup(html: str) -> str:
    """`html` rewritten so that `html.parser` reads it in linear time; see the module docstring.

    1. Find the next place that may open a tag or comment (`<` then a letter,
       `/`, `!` or `?`); the text before it is copied, its lone `<` replaced.
    2. A comment is copied whole; an unclosed one ends the document.
    3. A tag whose `>` comes before any other `<` is copied (shortened if very
       long) and counted. Otherwise every `<` up to the last one before that
       `>` is text too, so the search resumes there: each character is looked
       at a bounded number of times, and Python loops once per tag, not per `<`.
    """
    html = html.replace(LONE_LT, "")
    next_gt, next_lt = _NextFinder(html, ">"), _NextFinder(html, "<")
    out: list[str] = []
    tags = 0
    copied = search = 0
    while True:
        found = _OPENER.search(html, search)
        if found is None:
            break
        start = found.start()
        if found.group(0) == "<!--":
            end = html.find("-->", start + 4)
            out += [_as_text(html[copied:start]), html[start : end + 3] if end >= 0 else ""]
            copied = search = end + 3 if end >= 0 else len(html)
            continue
        close = next_gt.after(start + 1)
        if close < 0:
            break  # no tag can be complete from here on
        following = next_lt.after(start + 1)
        if 0 <= following < close:
            search = html.rfind("<", start + 1, close)
            continue
        tag = html[start : close + 1]
        out += [_as_text(html[copied:start]), tag if len(tag) <= MAX_TAG_CHARS else _shortened(tag)]
        tags += 1
        if tags > MAX_TAGS:
            raise BeyondBounds(f"more than {MAX_TAGS} HTML tags")
        copied = search = close + 1
    out.append(_as_text(html[copied:]))
    return "".join(out)
