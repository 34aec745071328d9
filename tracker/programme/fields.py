"""Values people type one by one, in a form or a spreadsheet cell: read with the
programme file's converters, every problem kept by field name."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import Any
from zoneinfo import available_timezones

from tracker.programme.values import (
    country_value,
    date_value,
    email_value,
    language_value,
    ref_value,
    text_value,
)


class FieldsError(ValueError):
    """Fields that do not make a valid record: the problem with each, by field name."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {text}" for name, text in problems.items()))


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_value(raw: str) -> str:
    if raw not in _zones():
        raise ValueError(f"unknown time zone {raw!r} (use an IANA name like Asia/Shanghai)")
    return raw


def template_language(languages: Collection[str]) -> Callable[[str], str]:
    """A language tag the mail templates speak (or one of their family, like en-GB).

    The same rule as the programme file's: a language with no templates at
    all ("fr" when there are en and zh-CN) is a problem naming those there are.
    """
    shipped = {tag.lower(): tag for tag in languages}

    def convert(raw: str) -> str:
        tag = language_value(raw)
        if tag.lower() in shipped:
            return shipped[tag.lower()]
        primary = tag.split("-")[0].lower()
        if any(key.split("-")[0] == primary for key in shipped):
            return tag
        there = ", ".join(sorted(languages)) or "none"
        raise ValueError(f"no email templates in {tag!r} (there are: {there})")

    return convert


def participant_fields(languages: Collection[str] | None) -> dict[str, Callable[[str], Any]]:
    """The converters of a participant's fields; `languages`: the template languages."""
    if languages is None:
        return PARTICIPANT_FIELDS
    return {**PARTICIPANT_FIELDS, "language": template_language(languages)}


PARTICIPANT_FIELDS: dict[str, Callable[[str], Any]] = {
    "email": email_value,
    "name": text_value(200),
    "organisation": text_value(300),
    "language": language_value,
    "timezone": timezone_value,
    "country": country_value,
}
ACTION_FIELDS: dict[str, Callable[[str], Any]] = {
    "ref": ref_value,
    "title": text_value(500),
    "due": date_value,
}


def read_fields(
    fields: Mapping[str, str],
    converters: Mapping[str, Callable[[str], Any]],
    *,
    required: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Each field given (a blank one as None), converted; FieldsError with every problem.

    Only the fields present in `fields` are returned, so an edit changes only
    what it names. Unknown names are a problem, not ignored.
    """
    problems: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in fields:
        if name not in converters:
            problems[name] = f"unknown field (one of {', '.join(converters)})"
    for name, convert in converters.items():
        if name not in fields:
            if name in required:
                problems[name] = "missing"
            continue
        raw = fields[name].strip()
        if not raw:
            if name in required:
                problems[name] = "must not be empty"
            values[name] = None
            continue
        try:
            values[name] = convert(raw)
        except ValueError as error:
            problems[name] = str(error)
    if problems:
        raise FieldsError(problems)
    return values
