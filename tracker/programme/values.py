"""Reading one value of a programme file: each converter returns the value or
raises ValueError with the text a person needs to fix it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time

from tracker.core.addresses import normalise_email
from tracker.core.calendar import supports_country
from tracker.core.facts import MAX_OCCURRENCES
from tracker.core.model import RuleKind

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
COUNTRY = re.compile(r"[A-Z]{2}")
TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
PERIOD = re.compile(r"(\d{1,4})\s*(day|week|month)s?")
REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,31}")
TRUE, FALSE = {"true", "yes", "on"}, {"false", "no", "off"}


def rule_kind_value(raw: str) -> RuleKind:
    try:
        return RuleKind(raw)
    except ValueError:
        kinds = ", ".join(kind.value for kind in RuleKind)
        raise ValueError(f"unknown kind {raw!r} (one of {kinds})") from None


def slug_value(raw: str) -> str:
    if not SLUG.fullmatch(raw) or len(raw) > 64:
        raise ValueError(f"{raw!r} is not a slug (lower-case letters, digits and dashes)")
    return raw


def text_value(limit: int) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        if not raw:
            raise ValueError("must not be empty")
        if len(raw) > limit:
            raise ValueError(f"is longer than {limit} characters")
        if any(ch in raw for ch in "\r\n\x00"):
            raise ValueError("must be one line")
        return raw

    return convert


def date_value(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def time_value(raw: str) -> time:
    match = TIME.fullmatch(raw)
    if match is None:
        raise ValueError(f"{raw!r} is not a time of day (HH:MM, 24-hour)")
    return time(int(match.group(1)), int(match.group(2)))


def period_value(raw: str) -> tuple[int, str]:
    match = PERIOD.fullmatch(raw.lower())
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"{raw!r} is not a period (like '1 month', '2 weeks', '10 days')")
    return int(match.group(1)), match.group(2)


def whole_number(minimum: int, maximum: int = MAX_OCCURRENCES) -> Callable[[str], int]:
    """A whole number in [minimum, maximum]; the planner refuses rules beyond MAX_OCCURRENCES."""

    def convert(raw: str) -> int:
        # At most 9 digits before int(): no "integer string too long" from a pasted blob.
        if not re.fullmatch(r"\d{1,9}", raw) or not minimum <= int(raw) <= maximum:
            raise ValueError(f"{raw!r} is not a whole number from {minimum} to {maximum:,}")
        return int(raw)

    return convert


def boolean_value(raw: str) -> bool:
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ValueError(f"{raw!r} is not true or false")


def email_value(raw: str) -> str:
    return normalise_email(raw)


def language_value(raw: str) -> str:
    if not LANGUAGE.fullmatch(raw):
        raise ValueError(f"{raw!r} is not a language tag (like zh-CN or en)")
    return raw


def country_value(raw: str) -> str:
    if not COUNTRY.fullmatch(raw.upper()):
        raise ValueError(f"{raw!r} is not a two-letter country code (ISO 3166, like CN)")
    if not supports_country(raw):
        # Its public holidays are unknown: reminders would land on them.
        raise ValueError(f"{raw!r} has no public-holiday calendar here (check the code)")
    return raw.upper()


def ref_value(raw: str) -> str:
    if not REF.fullmatch(raw):
        raise ValueError(
            f"{raw!r} is not a ref (up to 32 letters, digits, dots and dashes, like 1 or 2.1)"
        )
    return raw
