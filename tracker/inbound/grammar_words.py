"""The words of the reply grammar: status phrases and percentages (CONTRACT "Reply grammar")."""

from __future__ import annotations

import re
import unicodedata

from tracker.core.model import ActionStatus

# Every phrase that names a status. Matching takes the earliest phrase on the
# line, the longest at that position, so "not started" beats "started" and
# "未完成" beats "完成". Phrases beyond the contract's list are the negations
# and spellings that participants actually write ("未完成", "complete").
STATUS_PHRASES: dict[str, ActionStatus] = {
    "done": ActionStatus.DONE,
    "completed": ActionStatus.DONE,
    "complete": ActionStatus.DONE,
    "finished": ActionStatus.DONE,
    "完成": ActionStatus.DONE,
    "已完成": ActionStatus.DONE,
    "已经完成": ActionStatus.DONE,
    "in progress": ActionStatus.IN_PROGRESS,
    "in-progress": ActionStatus.IN_PROGRESS,
    "ongoing": ActionStatus.IN_PROGRESS,
    "on-going": ActionStatus.IN_PROGRESS,
    "started": ActionStatus.IN_PROGRESS,
    "进行中": ActionStatus.IN_PROGRESS,
    "推进中": ActionStatus.IN_PROGRESS,
    "正在": ActionStatus.IN_PROGRESS,
    "not done": ActionStatus.IN_PROGRESS,
    "not yet done": ActionStatus.IN_PROGRESS,
    "not finished": ActionStatus.IN_PROGRESS,
    "not completed": ActionStatus.IN_PROGRESS,
    "未完成": ActionStatus.IN_PROGRESS,
    "尚未完成": ActionStatus.IN_PROGRESS,
    "没有完成": ActionStatus.IN_PROGRESS,
    "没完成": ActionStatus.IN_PROGRESS,
    "blocked": ActionStatus.BLOCKED,
    "stuck": ActionStatus.BLOCKED,
    "on hold": ActionStatus.BLOCKED,
    "受阻": ActionStatus.BLOCKED,
    "暂停": ActionStatus.BLOCKED,
    "困难": ActionStatus.BLOCKED,
    "not started": ActionStatus.NOT_STARTED,
    "not yet started": ActionStatus.NOT_STARTED,
    "未开始": ActionStatus.NOT_STARTED,
    "尚未开始": ActionStatus.NOT_STARTED,
    "还没开始": ActionStatus.NOT_STARTED,
    # Traditional Chinese spellings of the same words.
    "進行中": ActionStatus.IN_PROGRESS,
    "推進中": ActionStatus.IN_PROGRESS,
    "暫停": ActionStatus.BLOCKED,
    "困難": ActionStatus.BLOCKED,
    "未開始": ActionStatus.NOT_STARTED,
    "尚未開始": ActionStatus.NOT_STARTED,
    "放棄": ActionStatus.DROPPED,
    "已經完成": ActionStatus.DONE,
    "dropped": ActionStatus.DROPPED,
    "cancelled": ActionStatus.DROPPED,
    "canceled": ActionStatus.DROPPED,
    "取消": ActionStatus.DROPPED,
    "放弃": ActionStatus.DROPPED,
}


def _phrase_pattern(phrase: str) -> str:
    body = re.escape(phrase).replace(r"\ ", r"\s+")
    # Latin words need word boundaries ("restarted" is not "started"); Chinese has none.
    return rf"(?<![a-z]){body}(?![a-z])" if phrase.isascii() else body


STATUS_PATTERN = re.compile(
    "|".join(_phrase_pattern(p) for p in sorted(STATUS_PHRASES, key=len, reverse=True)),
    re.IGNORECASE,
)
_STATUS_BY_FOLDED = {re.sub(r"\s+", " ", k.casefold()): v for k, v in STATUS_PHRASES.items()}

# Numbers have short, fixed forms: a percentage has at most three digits before
# the point and six after, so no input can make `int()` or `float()` meet a
# thousand-digit string (Python refuses those) or a value that overflows.
DIGIT_PERCENT = re.compile(
    r"(?<![\d.])(\d{1,3}(?:\.\d{1,6})?)(?![\d.])\s*(?:%|percent\b|per\s+cent\b)", re.I
)
CHINESE_PERCENT = re.compile(
    r"百分之\s*(\d{1,3}(?:\.\d{1,6})?(?![\d.])|[零〇一二两三四五六七八九十百]{1,6}(?![零〇一二两三四五六七八九十百]))"
)
# Words that hedge a percentage ("about 30%", "约60%"): they belong to it, not to the note.
PERCENT_HEDGE = re.compile(
    r"(?:(?<![a-z])(?:about|around|approximately|approx\.?|roughly|nearly|almost|some|over|"
    r"under|circa|ca\.|maybe|perhaps|at)\s+|~\s*|(?:大约|大概|约|接近|差不多|将近)\s*)$",
    re.I,
)
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CHINESE_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def status_for_phrase(phrase: str) -> ActionStatus:
    return _STATUS_BY_FOLDED[re.sub(r"\s+", " ", phrase.casefold())]


def chinese_number(text: str) -> int | None:
    """The value of a Chinese (or Arabic) numeral up to 999: "六十" 60, "一百" 100, "三" 3.

    Anything longer than a numeral of that size is None, never a huge number.
    """
    if not text or len(text) > 10:
        return None
    if text.isdecimal():
        return int(text)
    try:
        return int(float(text))
    except (ValueError, OverflowError):
        pass
    total, digit = 0, None
    for char in text:
        if char in _CHINESE_DIGITS:
            digit = _CHINESE_DIGITS[char]
        elif char == "十":
            total += (digit if digit is not None else 1) * 10
            digit = None
        elif char == "百":
            total += (digit if digit is not None else 1) * 100
            digit = None
        else:
            return None
    return total + (digit or 0)


def _single_character_folds() -> dict[int, str]:
    """Each character (BMP, mathematical alphanumerics) whose NFKC form is one other character."""
    table: dict[int, str] = {}
    for code in (*range(0x80, 0xD800), *range(0xE000, 0x10000), *range(0x1D400, 0x1D800)):
        normal = unicodedata.normalize("NFKC", chr(code))
        if len(normal) == 1 and normal != chr(code):
            table[code] = normal
    return table


_FOLDS = _single_character_folds()


def fold_width(text: str) -> str:
    """Full-width digits, letters and punctuation as their ASCII forms, one for one.

    Each character is folded on its own and only when it folds to a single
    character, so positions in the folded text are positions in the original.
    (One table lookup per character: megabyte lines fold in milliseconds.)
    """
    return text if text.isascii() else text.translate(_FOLDS)
