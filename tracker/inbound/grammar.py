"""Reading action updates out of reply text (CONTRACT, "Reply grammar").

A line that starts with an action's ref in one of the contract's forms
("1.", "1：", "(1)", "#1", "第1项", "１：" …) updates that action; its status
word, percentage and the rest of the line become the update. Every other line
is part of the participant's general note.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from tracker.core.model import ActionStatus
from tracker.inbound.grammar_words import (
    CHINESE_PERCENT,
    DIGIT_PERCENT,
    STATUS_PATTERN,
    chinese_number,
    fold_width,
    status_for_phrase,
)
from tracker.inbound.results import ActionUpdate

# Without known refs a ref is a short number: "2019年" and "60%" are not refs.
_NUMERIC_REF = r"\d{1,3}"
# With known refs any ref-shaped token is a candidate, then checked against the set.
_LITERAL_REF = r"[0-9A-Za-z]+(?:[.\-_][0-9A-Za-z]+)*"
_BULLET = r"\s*(?:[-*•·]\s+)?"
_AFTER = r"\s*(?:[.:)、,，]|[-–—](?=\s|$))?"
_NOTE_EDGE = " \t,，。.;；:：、-–—|/"


def _ref_forms(ref: str) -> list[tuple[re.Pattern[str], bool]]:
    """The line openings that name a ref, each flagged whether it needs a status after it."""
    chinese = r"[零〇一二两三四五六七八九十百]{1,4}"
    return [
        (
            re.compile(rf"{_BULLET}第\s*(?P<ref>{ref}|{chinese})\s*[项項条條个個]?{_AFTER}\s*"),
            False,
        ),
        (re.compile(rf"{_BULLET}[(\[]\s*(?P<ref>{ref})\s*[)\]]{_AFTER}\s*"), False),
        (re.compile(rf"{_BULLET}#\s*(?P<ref>{ref}){_AFTER}\s*"), False),
        (re.compile(rf"{_BULLET}(?P<ref>{ref})\s*(?:[.:)、](?![0-9])|[-–—](?=\s|$))\s*"), False),
        (re.compile(rf"{_BULLET}(?P<ref>{ref})(?:\s+|(?=[^\x00-\x7f]))"), True),
    ]


_NUMERIC_FORMS = _ref_forms(_NUMERIC_REF)
_LITERAL_FORMS = _ref_forms(_LITERAL_REF)


class _RefMatcher:
    """Recognises the ref that opens a line, per the known refs (or any short number)."""

    def __init__(self, known_refs: Collection[str] | None) -> None:
        self._known: dict[str, str] | None = None
        if known_refs is not None:
            self._known = {}
            for ref in known_refs:
                self._known[self._key(fold_width(ref))] = ref

    @staticmethod
    def _key(candidate: str) -> str:
        folded = candidate.strip().casefold()
        return str(int(folded)) if folded.isdecimal() else folded

    def canonical(self, candidate: str) -> str | None:
        value = chinese_number(candidate) if not candidate.isascii() else None
        if value is not None:
            candidate = str(value)
        if self._known is None:
            return str(int(candidate)) if candidate.isdecimal() else None
        return self._known.get(self._key(candidate))

    def match(self, folded_line: str) -> tuple[str, int] | None:
        """(ref, where the rest of the line starts) or None."""
        forms = _NUMERIC_FORMS if self._known is None else _LITERAL_FORMS
        for pattern, needs_status in forms:
            found = pattern.match(folded_line)
            if found is None:
                continue
            ref = self.canonical(found.group("ref"))
            if ref is None:
                continue
            rest = folded_line[found.end() :]
            if needs_status and not _opens_with_status(rest):
                continue
            return ref, found.end()
        return None


def _opens_with_status(rest: str) -> bool:
    """Whether a bare "1 …" line goes on with a status word or percentage ("1 done", "1 60%")."""
    for pattern in (STATUS_PATTERN, DIGIT_PERCENT, CHINESE_PERCENT):
        found = pattern.match(rest)
        if found is not None:
            return True
    return False


def _first_percent(folded: str) -> tuple[int, tuple[int, int]] | None:
    """The first percentage on the line, clamped to 0-100, and its span."""
    candidates: list[tuple[int, int, int]] = []
    digit = DIGIT_PERCENT.search(folded)
    if digit is not None:
        candidates.append((digit.start(), digit.end(), round(float(digit.group(1)))))
    chinese = CHINESE_PERCENT.search(folded)
    if chinese is not None:
        value = chinese_number(chinese.group(1))
        if value is not None:
            candidates.append((chinese.start(), chinese.end(), value))
    if not candidates:
        return None
    start, end, value = min(candidates)
    return min(max(value, 0), 100), (start, end)


def _note_without(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the status word and percentage cut out, separators trimmed at each cut."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        pieces.append(text[position:start])
        position = max(position, end)
    pieces.append(text[position:])
    kept = [piece.strip(_NOTE_EDGE) for piece in pieces]
    # "1. Done!" leaves "!": punctuation alone says nothing worth keeping.
    return " ".join(piece for piece in kept if not _only_punctuation(piece))


def _only_punctuation(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZ" for ch in text)


def read_update_line(line: str, matcher: _RefMatcher) -> ActionUpdate | None:
    """The update one line gives, or None when it names no ref.

    1. Fold full-width characters (positions stay aligned) and match a ref form.
    2. In the rest, the first status phrase (longest at its position) and the
       first percentage.
    3. Combine: 100% is done; a percentage alone or beside "done" below 100 is
       in progress; "done" alone is 100%.
    4. The note is the rest with those two cut out, separators trimmed.
    """
    folded = fold_width(line)
    opened = matcher.match(folded)
    if opened is None:
        return None
    ref, rest_start = opened
    rest, folded_rest = line[rest_start:], folded[rest_start:]
    spans: list[tuple[int, int]] = []
    status: ActionStatus | None = None
    found = STATUS_PATTERN.search(folded_rest)
    if found is not None:
        status = status_for_phrase(found.group(0))
        spans.append(found.span())
    percent: int | None = None
    measured = _first_percent(folded_rest)
    if measured is not None:
        percent, span = measured
        spans.append(span)
    if percent == 100:
        status = ActionStatus.DONE
    elif percent is not None and status in (None, ActionStatus.DONE):
        status = ActionStatus.IN_PROGRESS
    elif percent is None and status is ActionStatus.DONE:
        percent = 100
    return ActionUpdate(ref=ref, status=status, percent=percent, note=_note_without(rest, spans))


def read_updates(
    text: str, known_refs: Collection[str] | None = None
) -> tuple[tuple[ActionUpdate, ...], str]:
    """The updates that `text` gives, in order, and its general note (lines naming no ref).

    With `known_refs` None, refs are numbers (full-width too); with a set,
    exactly the refs in it ("A1", "2.1", "3") and nothing else.
    """
    matcher = _RefMatcher(known_refs)
    updates: list[ActionUpdate] = []
    general: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        update = read_update_line(line, matcher)
        if update is None:
            general.append(line.rstrip())
        else:
            updates.append(update)
    note = re.sub(r"\n{3,}", "\n\n", "\n".join(general)).strip()
    return tuple(updates), note
