"""Recognising the ref that opens a reply line (CONTRACT, "Reply grammar": ref forms).

Forms: `1`, `1.`, `1:`, `1：`, `1)`, `(1)`, `#1`, `[1]`, `1、`, `1 -`, `第1项`,
full-width too. A reply to an acknowledgement may open with "Correction:" or
"更正：" before the ref. Every ref shape is bounded (at most three digits for
a number, a few short segments for a literal ref like "A1" or "2.1"), so a
line of a thousand digits is never a ref and never reaches `int()`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from tracker.inbound.grammar_words import (
    CHINESE_PERCENT,
    DIGIT_PERCENT,
    STATUS_PATTERN,
    chinese_number,
    fold_width,
)

# Without known refs a ref is a short number: "2019年" and "60%" are not refs.
_NUMERIC_REF = r"\d{1,3}(?!\d)"
# With known refs any ref-shaped token is a candidate, then checked against the set.
_LITERAL_REF = r"[0-9A-Za-z]{1,16}(?:[.\-_][0-9A-Za-z]{1,16}){0,3}"
_CHINESE_REF = r"[零〇一二两三四五六七八九十百]{1,4}"
_BULLET = r"\s*(?:[-*•·]\s+)?"
_AFTER = r"\s*(?:[.:)、,，]|[-–—](?=\s|$))?"
# "Correction: 2: in progress 40%" answers an acknowledgement; the word is not the ref.
_CORRECTION = re.compile(
    r"\s*(?:correction|corrected|update|updated|更正|修正|更新|补充)\s*[:：]\s*", re.IGNORECASE
)
# An unknown ref is reported only in the shapes refs really have: a short
# number, one letter, or a short token holding a digit ("A1", "2.1").
_UNKNOWN_SHAPE = re.compile(r"\d{1,3}|[A-Za-z]|(?=[^\d]*\d)[0-9A-Za-z.\-_]{2,8}")


def _ref_forms(ref: str) -> list[tuple[re.Pattern[str], bool]]:
    """The line openings that name a ref, each flagged whether it needs a status after it."""
    return [
        (
            re.compile(
                rf"{_BULLET}第\s*(?P<ref>{ref}|{_CHINESE_REF})\s*[项項条條个個]?{_AFTER}\s*"
            ),
            False,
        ),
        (re.compile(rf"{_BULLET}[(\[]\s*(?P<ref>{ref})\s*[)\]]{_AFTER}\s*"), False),
        (re.compile(rf"{_BULLET}#\s*(?P<ref>{ref}){_AFTER}\s*"), False),
        (re.compile(rf"{_BULLET}(?P<ref>{ref})\s*(?:[.:)、](?![0-9])|[-–—](?=\s|$))\s*"), False),
        (re.compile(rf"{_BULLET}(?P<ref>{ref})(?:\s+|(?=[^\x00-\x7f]))"), True),
    ]


_NUMERIC_FORMS = _ref_forms(_NUMERIC_REF)
# Every numeric form holds a digit, but for "第" with a Chinese numeral.
_NUMERIC_REF_SIGN = re.compile(r"\d|第")
_LITERAL_FORMS = _ref_forms(_LITERAL_REF)


@dataclass(frozen=True, slots=True)
class RefOpening:
    """The ref a line opens with: `ref` is the known ref it names, or None for an unknown one."""

    ref: str | None
    written: str
    rest_start: int


def _key(candidate: str) -> str:
    folded = candidate.strip().casefold()
    # Bounded shapes only reach here, so int() sees at most a few digits.
    return str(int(folded)) if folded.isdecimal() and len(folded) <= 16 else folded


def reports_progress(rest: str) -> bool:
    """Whether text names a status or a percentage anywhere."""
    return any(p.search(rest) for p in (STATUS_PATTERN, DIGIT_PERCENT, CHINESE_PERCENT))


def _opens_with_status(rest: str) -> bool:
    """Whether a bare "1 …" line goes on with a status word or percentage ("1 done", "1 60%")."""
    return any(p.match(rest) for p in (STATUS_PATTERN, DIGIT_PERCENT, CHINESE_PERCENT))


class RefMatcher:
    """Recognises the ref that opens a line, per the known refs (or any short number)."""

    def __init__(self, known_refs: Collection[str] | None) -> None:
        self._known: dict[str, str] | None = None
        if known_refs is not None:
            self._known = {_key(fold_width(ref)): ref for ref in known_refs}

    def _canonical(self, candidate: str) -> str | None:
        value = chinese_number(candidate) if not candidate.isascii() else None
        if value is not None:
            candidate = str(value)
        if self._known is None:
            return _key(candidate) if candidate.isdecimal() else None
        return self._known.get(_key(candidate))

    def match(self, folded_line: str) -> RefOpening | None:
        """The ref opening `folded_line` (full-width already folded), or None.

        1. Skip a leading "Correction:"/"更正：".
        2. Try each ref form; the first whose ref is known (or, without known
           refs, a short number) wins.
        3. With known refs, a ref-shaped token that is not among them, on a
           line that reports a status or percentage, is an unknown ref.
        """
        if self._known is None and _NUMERIC_REF_SIGN.search(folded_line) is None:
            return None  # most lines of prose: no form can match, none is tried
        return self._match_forms(folded_line)

    def _match_forms(self, folded_line: str) -> RefOpening | None:
        """Steps 1-3 of `match`."""
        offset = 0
        correction = _CORRECTION.match(folded_line)
        if correction is not None:
            offset = correction.end()
        line = folded_line[offset:]
        unknown: RefOpening | None = None
        for pattern, needs_status in _NUMERIC_FORMS if self._known is None else _LITERAL_FORMS:
            found = pattern.match(line)
            if found is None:
                continue
            rest = line[found.end() :]
            if needs_status and not _opens_with_status(rest):
                continue
            written = found.group("ref")
            ref = self._canonical(written)
            if ref is not None:
                return RefOpening(ref=ref, written=written, rest_start=offset + found.end())
            if unknown is None and self._is_unknown_ref(written, rest):
                number = chinese_number(written) if not written.isascii() else None
                name = str(number) if number is not None else written
                name = str(int(name)) if name.isdecimal() and len(name) <= 3 else name
                unknown = RefOpening(ref=None, written=name, rest_start=0)
        return unknown

    def _is_unknown_ref(self, written: str, rest: str) -> bool:
        if self._known is None:
            return False
        shaped = not written.isascii() or _UNKNOWN_SHAPE.fullmatch(written) is not None
        return shaped and reports_progress(rest)
