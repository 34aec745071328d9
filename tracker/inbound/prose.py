"""The courtesy around a reply and the questions in it.

A greeting ("Hi Amina,", "尊敬的王老师：") opens a reply and a closing
("Best regards, Grace", "此致 敬礼", "谢谢！") ends it; neither is news for
the coordinators, so neither belongs in the general note (the reply text
keeps them). A question ("Could you send me the template?") is news: it is
flagged for them.
"""

from __future__ import annotations

import re

# A greeting at the very start of a line, up to its punctuation; the rest of
# the line (if any) is kept: "Hi Amina, the plan is out." keeps "the plan is out.".
_GREETING = re.compile(
    r"^\s*(?:"
    r"(?:hi|hello|hey|dear|greetings|good\s+(?:morning|afternoon|evening|day))\b"
    r"(?:\s+(?:mr|ms|mrs|dr|prof)\.)?(?:\s+[^\s,!:;.?，！：；。？]+){0,4}"
    r"|(?:尊敬的|亲爱的|敬爱的)[^，！：；。？,!:;?]{1,30}"
    r"|[^，！：；。？,!:;?\s]{0,12}?(?:老师|女士|先生|主任|经理|处长|科长|同事|同志|领导|各位|大家)"
    r"[，,]?\s*(?:您好|你好|们好|好)"
    r"|(?:您好|你好|大家好|各位好)"
    r")\s*(?:[,!:;.，！：；。~～]+|$)\s*",
    re.IGNORECASE,
)
_THANKS = (
    r"(?:many\s+|a\s+lot\s+of\s+)?thanks?(?:\s+you)?(?:\s+(?:very|so)\s+much|\s+a\s+lot|\s+again|"
    r"\s+all|\s+in\s+advance)?(?:\s+for\s+(?:the|your)\s+(?:reminder|help|support|patience|"
    r"message|email|mail|follow-up|note|understanding))?"
)
# A closing line: the closing words, then at most a name ("Best regards, Grace").
_CLOSING = re.compile(
    r"^\s*(?:"
    r"(?:best|kind|warm|warmest|many)\s+(?:regards|wishes)|all\s+the\s+best|"
    r"with\s+(?:thanks|best\s+regards|regards)|yours(?:\s+(?:sincerely|truly|faithfully))?|"
    rf"{_THANKS}|thx|cheers|best|regards|sincerely"
    r"|此致\s*敬礼|此致|敬礼|谢谢(?:您|你|大家)?|感谢(?:您|你)?|非常感谢|多谢|谢谢了|"
    r"祝好|祝(?:您)?(?:工作)?顺利|顺祝(?:商祺|安好|时祺)|顺颂(?:商祺|时祺)|即颂(?:商祺|时祺)?|"
    r"祝(?:您)?一切顺利|祝安"
    r")[\s,.!~，。！～]*(?P<name>.*)$",
    re.IGNORECASE,
)
# "张伟 敬上", "Zhang Wei 谨上".
_SIGNED = re.compile(r"^\s*\S.{0,20}?\s*(?:敬上|谨上|拜上)\s*$")
_NAME_WORD = re.compile(r"^(?:[A-Z][\w'.\-]*|of|and|the|for|de|&|[\d+()\-./@]+\S*)$")
_CJK_NAME_LINE = re.compile(r"^[\u3400-\u9fff（）()·\s]{1,20}$")
_DATE_LINE = re.compile(r"^\d{4}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?$")
# How many lines at the end of the text may form the closing block.
_CLOSING_REACH = 6


def _is_name_line(line: str) -> bool:
    """A line that only signs: a name, a title, an office ("Grace Mwangi", "西城区生态环境局")."""
    text = line.strip()
    if not text or len(text) > 40:
        return False
    if _CJK_NAME_LINE.match(text) or _DATE_LINE.match(text):
        return True
    words = text.replace(",", " ").split()
    return len(words) <= 6 and all(_NAME_WORD.match(word) for word in words)


def _is_closing(line: str) -> bool:
    if _SIGNED.match(line):
        return True
    found = _CLOSING.match(line)
    return found is not None and (not found.group("name") or _is_name_line(found.group("name")))


def _without_greeting(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        greeting = _GREETING.match(line)
        if greeting is None:
            return lines
        rest = line[greeting.end() :]
        return [*lines[:index], *([rest] if rest.strip() else []), *lines[index + 1 :]]
    return lines


def _without_closing(lines: list[str]) -> list[str]:
    """Drop the closing block: closing lines near the end, with only names after them."""
    cut = len(lines)
    seen = 0
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line.strip():
            continue
        seen += 1
        if seen > _CLOSING_REACH:
            break
        if _is_closing(line):
            cut = index
        elif not _is_name_line(line):
            break
    return lines[:cut]


def without_greeting_and_closing(lines: list[str]) -> list[str]:
    """`lines` without the greeting at their start and the closing block at their end."""
    return _without_closing(_without_greeting(lines))


_QUESTION_END = re.compile(r"[?？]\s*$|[?？]\s+\S|？\S")


def questions_in(text: str) -> tuple[str, ...]:
    """The lines of `text` that ask something: ending in "?" or "？", or holding a question."""
    return tuple(
        line.strip() for line in text.split("\n") if line.strip() and _QUESTION_END.search(line)
    )
