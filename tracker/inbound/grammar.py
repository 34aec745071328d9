"""Reading action updates out of reply text (CONTRACT, "Reply grammar").

A line that starts with an action's ref in one of the contract's forms
(`refs.RefMatcher`) updates that action; its status word, percentage and the
rest of the line become the update. Lines that name an unknown ref are set
aside; every other line is part of the participant's general note, without
the greeting and closing around it (`prose`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from tracker.core.model import ActionStatus
from tracker.inbound.grammar_words import (
    CHINESE_PERCENT,
    DIGIT_PERCENT,
    PERCENT_HEDGE,
    STATUS_PATTERN,
    chinese_number,
    fold_width,
    status_for_phrase,
)
from tracker.inbound.prose import without_greeting_and_closing
from tracker.inbound.refs import RefMatcher
from tracker.inbound.results import ActionUpdate

_NOTE_EDGE = " \t,，。.．;；:：、-–—|/－｜／"
# How far before a percentage a hedge ("approximately ") may start.
_HEDGE_REACH = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyReading:
    """What the grammar reads in a reply's text."""

    updates: tuple[ActionUpdate, ...]
    general_note: str
    unknown_refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Measure:
    """The first percentage of a line, with its hedge and the status word it carries."""

    percent: int
    span: tuple[int, int]
    carries_status: bool


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


def _measure(folded: str) -> _Measure | None:
    """The first percentage with what belongs to it: "about 30% done", "完成60%", "进行中 60%".

    A hedge just before it and a status word right beside it (only spaces
    between) are part of the measurement, so the note keeps none of them.
    """
    found = _first_percent(folded)
    if found is None:
        return None
    percent, (start, end) = found
    if folded[start - 1 : start] == "(" and folded[end : end + 1] == ")":
        start, end = start - 1, end + 1  # "(60%)"
    start = _hedged_start(folded, start)
    carries_status = False
    after = STATUS_PATTERN.match(folded, end + _spaces_at(folded, end))
    if after is not None:
        end, carries_status = after.end(), True
    before = folded[:start].rstrip()
    for word in STATUS_PATTERN.finditer(before, max(0, len(before) - 24)):
        if word.end() == len(before):
            start, carries_status = _hedged_start(folded, word.start()), True
    return _Measure(percent=percent, span=(start, end), carries_status=carries_status)


def _hedged_start(folded: str, start: int) -> int:
    """Where a hedge ("about ", "大约") just before `start` begins, else `start`."""
    window = folded[max(0, start - _HEDGE_REACH) : start]
    hedge = PERCENT_HEDGE.search(window)
    return start - (len(window) - hedge.start()) if hedge is not None else start


def _spaces_at(text: str, position: int) -> int:
    return len(text) - position - len(text[position:].lstrip(" \t"))


def _note_without(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the spans cut out; where a cut leaves words on both sides, their separator."""
    pieces: list[str] = []
    joiners: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            position = max(position, end)
            continue
        piece = text[position:start]
        pieces.append(piece)
        joiners.append(piece[len(piece.rstrip(_NOTE_EDGE)) :].strip())
        position = end
    pieces.append(text[position:])
    note = ""
    for index, piece in enumerate(pieces):
        kept = piece.strip(_NOTE_EDGE)
        if not kept or _only_punctuation(kept):
            continue
        if note:
            joiner = joiners[index - 1] if index > 0 else ""
            note += (joiner + " " if joiner.isascii() else joiner) if joiner else " "
        note += kept
    return note


def _only_punctuation(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZ" for ch in text)


def _update_from(ref: str, rest: str, folded_rest: str) -> ActionUpdate:
    """The update the rest of a ref line gives.

    1. The first status phrase (longest at its position) and the first
       percentage with its hedge and the status word beside it.
    2. Combine: 100% is done; a percentage alone or beside "done" below 100 is
       in progress; "done" alone is 100%.
    3. The note is the rest with the measurement cut out, and the first
       status phrase too unless the measurement carries its own
       ("started, about 30% done" keeps "started").
    """
    spans: list[tuple[int, int]] = []
    status: ActionStatus | None = None
    found = STATUS_PATTERN.search(folded_rest)
    measured = _measure(folded_rest)
    if found is not None:
        status = status_for_phrase(found.group(0))
        inside = measured is not None and measured.span[0] <= found.start() < measured.span[1]
        if measured is None or inside or not measured.carries_status:
            spans.append(found.span())
    percent: int | None = None
    if measured is not None:
        percent = measured.percent
        spans.append(measured.span)
    if percent == 100:
        status = ActionStatus.DONE
    elif percent is not None and status in (None, ActionStatus.DONE):
        status = ActionStatus.IN_PROGRESS
    elif percent is None and status is ActionStatus.DONE:
        percent = 100
    return ActionUpdate(ref=ref, status=status, percent=percent, note=_note_without(rest, spans))


def read_update_line(line: str, matcher: RefMatcher) -> ActionUpdate | str | None:
    """The update one line gives, the unknown ref it names (a str), or None when it names no ref."""
    folded = fold_width(line)
    opened = matcher.match(folded)
    if opened is None:
        return None
    if opened.ref is None:
        return opened.written
    start = opened.rest_start
    return _update_from(opened.ref, line[start:], folded[start:])


def read_reply(text: str, known_refs: Collection[str] | None = None) -> ReplyReading:
    """The updates `text` gives, in order, the refs it names that are unknown, and its note.

    With `known_refs` None, refs are numbers (full-width too); with a set,
    exactly the refs in it ("A1", "2.1", "3"), and other ref-shaped openings
    of lines that report progress are unknown refs, in no note.
    """
    matcher = RefMatcher(known_refs)
    updates: list[ActionUpdate] = []
    unknown: dict[str, None] = {}
    general: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        read = read_update_line(line, matcher)
        if read is None:
            general.append(line.rstrip())
        elif isinstance(read, str):
            unknown[read] = None
        else:
            updates.append(read)
    note = "\n".join(without_greeting_and_closing(general))
    note = re.sub(r"\n{3,}", "\n\n", note).strip()
    return ReplyReading(updates=tuple(updates), general_note=note, unknown_refs=tuple(unknown))


def read_updates(
    text: str, known_refs: Collection[str] | None = None
) -> tuple[tuple[ActionUpdate, ...], str]:
    """The updates that `text` gives and its general note (see `read_reply`)."""
    reading = read_reply(text, known_refs)
    return reading.updates, reading.general_note
