"""Keeping only what the sender wrote: quoted mail, signatures and device trailers removed."""

from __future__ import annotations

import re

from tracker.inbound.quote_patterns import (
    ATTRIBUTION_END,
    ATTRIBUTION_EVIDENCE,
    ATTRIBUTION_START,
    BANNER,
    DEVICE_TRAILER,
    HEADER_ANY_LINE,
    HEADER_FROM_LINE,
    QUOTED_LINE,
    RULE_LINE,
    SIGNATURE_DELIMITER,
    TRAILER_MAX_WORDS,
)

# Zero-width characters and NUL, removed one `str.replace` each: `str.translate`
# with a dict looks every character up and sets (then clears) a KeyError for
# each one it keeps, ~90 ns a character, the costliest step of reading a reply.
_REMOVED = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\x00")
_QUOTE_MARKS = (">", "＞")
_ATTRIBUTION_MAX_CHARS = 300
_ATTRIBUTION_MAX_LINES = 3
# Quoted lines this long were hard-wrapped by the client; the unquoted line
# right after one is its tail, not an inline answer.
_WRAPPED_QUOTE_LENGTH = 60
# A line longer than this is prose, never a banner, header line, attribution
# or trailer; the patterns never see it, so their cost per line is bounded.
_MARKER_MAX_CHARS = 1000
# Runs of blank lines longer than this are shortened before reading: every
# look-ahead below spans fewer lines, and the result keeps one blank line anyway.
_MAX_BLANK_RUN = 5
_LONG_BLANK_RUN = re.compile(rf"\n(?:[ \t]*\n){{{_MAX_BLANK_RUN + 1},}}")


def _is_address_tail(line: str) -> bool:
    """A wrapped address's tail, ">:", which looks like a quoted line but is not."""
    return bool(re.match(r"^>\s*[:：]\s*$", line))


def _names_date_and_address(text: str) -> bool:
    return "@" in text and any(char.isdigit() for char in text)


def normalise_text(text: str) -> str:
    """One newline convention, ordinary spaces, no invisible characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    for char in _REMOVED:
        text = text.replace(char, "")
    return text


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines (1-3) an attribution starting at `index` spans, or 0 if none does.

    Clients wrap long attributions ("On …, Name <\naddr> wrote:"), so the line
    and up to two following ones are joined and tested together.
    """
    first = lines[index].strip()
    if not first or len(first) > _MARKER_MAX_CHARS or QUOTED_LINE.match(first):
        return 0
    joined = ""
    for span in range(1, _ATTRIBUTION_MAX_LINES + 1):
        if index + span > len(lines):
            return 0
        part = lines[index + span - 1].strip()
        if span > 1 and (not part or (QUOTED_LINE.match(part) and not _is_address_tail(part))):
            return 0
        joined = f"{joined} {part}".strip()
        if len(joined) > _ATTRIBUTION_MAX_CHARS:
            return 0
        if _may_end_attribution(joined) and ATTRIBUTION_END.search(joined):
            if not ATTRIBUTION_EVIDENCE.search(joined):
                continue
            # A wrapped attribution must open like one or name both a date and
            # an address; a single line may open with anything (Gmail's Chinese
            # UI opens with the name: "Name <a@b> 于…写道：").
            opens_like_one = ATTRIBUTION_START.match(first) or any(c.isdigit() for c in first)
            if span == 1:
                return 1
            # Prose above an attribution may hold a digit ("in 2 weeks"); when
            # this line names no sender, a later line of the span claims it.
            names_sender = ATTRIBUTION_START.match(first) or "@" in first or "<" in first
            if not names_sender and _attribution_length(lines, index + 1) == span - 1:
                return 0
            if opens_like_one and _names_date_and_address(joined):
                return span
            return 0
    return 0


def _may_end_attribution(text: str) -> bool:
    """A cheap test that lets most lines skip the attribution pattern: every form ends so."""
    tail = text.rstrip()[-6:].lower()
    return tail.endswith((":", "：", ">", "wrote"))


def _is_header_block(lines: list[str], index: int) -> bool:
    """Whether an Outlook-style header block ("From:/Sent:/To:/Subject:") starts at `index`."""
    if len(lines[index]) > _MARKER_MAX_CHARS:
        return False
    if not HEADER_FROM_LINE.match(lines[index]):
        # Some clients open the block with the date: "Date: …\nFrom: …".
        if not HEADER_ANY_LINE.match(lines[index]):
            return False
        following = lines[index + 1 : index + 3]
        return any(HEADER_FROM_LINE.match(line) for line in following)
    following = [line for line in lines[index + 1 : index + 5] if line.strip()]
    return sum(1 for line in following[:3] if HEADER_ANY_LINE.match(line)) >= 1


def _is_quoted(line: str) -> bool:
    """Whether `line` is quoted with ">" or "＞" (after any spaces)."""
    # Most quoted lines open with the mark itself, a cheaper test than the pattern.
    return line.startswith(_QUOTE_MARKS) or QUOTED_LINE.match(line) is not None


def _last_written(lines: list[str]) -> int:
    """The index of the last line that is not blank, or -1."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip():
            return index
    return -1


def find_quote_start(lines: list[str], quoted: list[bool]) -> tuple[int, str | None, int]:
    """Where quoted earlier mail starts (len(lines) if nowhere), its kind, its attribution's span.

    `quoted[i]` says whether `lines[i]` is ">"-quoted. Kinds: "banner"
    ("-----Original Message-----", "---- 原始邮件 ----"), "headers" (an
    Outlook header block), "attribution" ("On … wrote:", spanning 1-3 lines),
    "trailer" (a device trailer above unmarked quoted mail).
    """
    last_written = _last_written(lines)
    for index, line in enumerate(lines):
        if quoted[index] or len(line) > _MARKER_MAX_CHARS:
            continue
        if BANNER.match(line):
            return index, "banner", 0
        if _is_header_block(lines, index):
            return index, "headers", 0
        span = _attribution_length(lines, index)
        if span:
            return index, "attribution", span
        if index < last_written and _is_device_trailer(line):
            # Phone clients put the trailer between the reply and the quoted mail.
            return index, "trailer", 0
    return len(lines), None, 0


def _inline_answers(rest: list[str], quoted: list[bool]) -> list[str]:
    """Lines a sender typed between the quoted lines after an attribution, if any.

    A reply written inline ("> 1. Publish the plan" then "done") keeps the
    sender's lines; a top-posted reply has only quoted lines after the
    attribution, and then nothing is kept. `quoted` flags the lines of `rest`.
    """
    end, _, _ = find_quote_start(rest, quoted)
    kept: list[str] = []
    after_wrapped_quote = False
    for line, is_quoted in zip(rest[:end], quoted, strict=False):
        if not is_quoted and not (after_wrapped_quote and line.strip()):
            kept.append(line)
        after_wrapped_quote = is_quoted and len(line) >= _WRAPPED_QUOTE_LENGTH
    has_answers = any(quoted[:end]) and any(line.strip() for line in kept)
    return kept if has_answers else []


def _is_device_trailer(line: str) -> bool:
    if len(line) > _MARKER_MAX_CHARS:
        return False
    return bool(DEVICE_TRAILER.match(line)) and len(line.split()) <= TRAILER_MAX_WORDS


def _drop_signature_and_trailers(lines: list[str]) -> list[str]:
    """Cut at a "-- " signature delimiter, then peel trailers and rules off the end."""
    for index, line in enumerate(lines):
        if SIGNATURE_DELIMITER.match(line.rstrip("\n")) and index > 0:
            lines = lines[:index]
            break
    end = len(lines)
    while end:
        last = lines[end - 1].strip()
        is_rule = len(last) <= _MARKER_MAX_CHARS and RULE_LINE.match(last)
        if last and not is_rule and not _is_device_trailer(last):
            break
        end -= 1
    return lines[:end]


def strip_quoted_text(text: str) -> str:
    """What the sender wrote in this message, from a plain-text body.

    1. Normalise newlines and spaces; shorten long runs of blank lines.
    2. Find where quoted earlier mail starts (banner, header block or
       attribution); everything from there on is the earlier mail, except the
       sender's own lines typed between or after `>`-quoted lines (inline
       and bottom-posted replies).
    3. Drop every remaining `>`-quoted line.
    4. Cut at a signature delimiter; peel device trailers ("Sent from my
       iPhone", "发自我的iPhone") and separator rules off the end.
    5. Trim trailing spaces on each line and blank lines around the text.
    """
    text = _LONG_BLANK_RUN.sub("\n" * (_MAX_BLANK_RUN + 1), normalise_text(text))
    lines = text.split("\n")
    quoted = [_is_quoted(line) for line in lines]
    start, kind, span = find_quote_start(lines, quoted)
    kept = [line for line, is_quoted in zip(lines[:start], quoted, strict=False) if not is_quoted]
    if kind == "attribution":
        # Unquoted text below an attribution counts only between or after
        # quoted lines: without them it is more likely the earlier mail itself
        # (clients that quote without ">"), whose example lines would read as updates.
        kept += _inline_answers(lines[start + span :], quoted[start + span :])
    kept = _drop_signature_and_trailers([line.rstrip() for line in kept])
    result = "\n".join(kept).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", result).strip()
