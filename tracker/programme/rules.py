"""Follow-up rules outside the file: from form fields, to the planner, back to the file's words.

The schedule editor and the `schedule` commands speak of rules as the
programme file does (`{kind: check_in, every: 1 month, first: 2019-06-23}`),
read them with the file's own value converters, and hand them to the planner
as `tracker.core.facts.Rule`, whose checks they share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar, cast

from tracker.core.facts import MAX_OCCURRENCES, Period, PeriodUnit, Rule
from tracker.core.model import RuleKind
from tracker.programme.fields import FieldsError
from tracker.programme.reading import _RULE_KEYS
from tracker.programme.spec import RuleSpec
from tracker.programme.values import (
    date_value,
    period_value,
    rule_kind_value,
    time_value,
    whole_number,
)

T = TypeVar("T")

# The fields a rule may have, in the order the file writes them.
RULE_FIELDS = (
    "kind",
    "every",
    "first",
    "count",
    "days",
    "every_days",
    "max",
    "after_unanswered",
    "at",
)


class RuleFieldsError(FieldsError):
    """A rule's fields do not make a rule: the problem with each field, by field name."""


def fields_of_kind(kind: RuleKind) -> tuple[str, ...]:
    """The fields a rule of `kind` takes (besides `kind`), in the file's order."""
    required, optional = _RULE_KEYS[kind]
    return tuple(name for name in RULE_FIELDS if name in required | optional)


def required_fields(kind: RuleKind) -> frozenset[str]:
    return frozenset(_RULE_KEYS[kind][0])


def rule_from_fields(fields: Mapping[str, str]) -> RuleSpec:
    """A rule from text fields as a person typed them (blank is absent).

    1. Read `kind`; without a valid one nothing else can be judged.
    2. Read each field the kind takes with the programme file's converter;
       a required one left blank is a problem; fields of other kinds are
       ignored (a form shows them all).
    3. Build the planner's rule too, so its checks (limits) apply here.
    Every problem is collected, keyed by field name.
    """
    try:
        kind = rule_kind_value(fields.get("kind", "").strip())
    except ValueError as error:
        raise RuleFieldsError({"kind": str(error)}) from None
    read = _FieldReader(fields, kind)
    period = read("every", period_value)
    spec = RuleSpec(
        kind=kind,
        at=read("at", time_value),
        every_count=period[0] if period else None,
        every_unit=period[1] if period else None,
        first=read("first", date_value),
        count=read("count", whole_number(1)),
        days=read("days", whole_number(0)),
        every_days=read("every_days", whole_number(1)),
        max_count=read("max", whole_number(1)),
        after_unanswered=read("after_unanswered", whole_number(1)),
    )
    if read.problems:
        raise RuleFieldsError(read.problems)
    try:
        planner_rule(spec)
    except ValueError as error:
        raise RuleFieldsError({_field_named_in(str(error)): str(error)}) from None
    return spec


class _FieldReader:
    """Reads one field at a time, collecting the problems (see `rule_from_fields`)."""

    def __init__(self, fields: Mapping[str, str], kind: RuleKind) -> None:
        self.fields = fields
        self.kind = kind
        self.problems: dict[str, str] = {}

    def __call__(self, name: str, convert: Callable[[str], T]) -> T | None:
        if name not in fields_of_kind(self.kind):
            return None  # a field of another kind: the form shows them all
        raw = self.fields.get(name, "").strip()
        if not raw:
            if name in required_fields(self.kind):
                self.problems[name] = f"a {self.kind.value} rule needs it"
            return None
        try:
            return convert(raw)
        except ValueError as error:
            self.problems[name] = str(error)
            return None


def planner_rule(spec: RuleSpec) -> Rule:
    """The planner's rule for `spec`; ValueError when the planner refuses it."""
    every = None
    if spec.every_count is not None and spec.every_unit is not None:
        every = Period(count=spec.every_count, unit=cast(PeriodUnit, spec.every_unit))
    return Rule(
        kind=spec.kind,
        at=spec.at,
        every=every,
        first=spec.first,
        count=spec.count,
        days=spec.days,
        every_days=spec.every_days,
        max=spec.max_count,
        after_unanswered=spec.after_unanswered,
    )


def rule_fields(spec: RuleSpec) -> dict[str, str]:
    """The rule as text fields, the inverse of `rule_from_fields` (blank: absent)."""
    values = {
        "kind": spec.kind.value,
        "every": _period_text(spec),
        "first": spec.first.isoformat() if spec.first else "",
        "count": _number(spec.count),
        "days": _number(spec.days),
        "every_days": _number(spec.every_days),
        "max": _number(spec.max_count),
        "after_unanswered": _number(spec.after_unanswered),
        "at": spec.at.strftime("%H:%M") if spec.at else "",
    }
    return {name: values[name] for name in RULE_FIELDS}


def rule_line(spec: RuleSpec) -> str:
    """The rule as the programme file writes it: `{kind: overdue, every_days: 7, max: 3}`."""
    fields = rule_fields(spec)
    parts = [f"{name}: {_quoted(name, value)}" for name, value in fields.items() if value]
    return "{" + ", ".join(parts) + "}"


def _period_text(spec: RuleSpec) -> str:
    if spec.every_count is None or spec.every_unit is None:
        return ""
    return f"{spec.every_count} {spec.every_unit}{'s' if spec.every_count != 1 else ''}"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _quoted(name: str, value: str) -> str:
    # "09:30" unquoted is a sexagesimal number to YAML 1.1 readers.
    return f'"{value}"' if name == "at" else value


def _field_named_in(message: str) -> str:
    """Which field a planner message is about (it names it first, or in quotes)."""
    for name in ("count", "days", "every_days", "max", "after_unanswered", "every", "first", "at"):
        if message.startswith(f"{name} ") or f"'{name}'" in message:
            return name
    return "kind"


__all__ = [
    "MAX_OCCURRENCES",
    "RULE_FIELDS",
    "RuleFieldsError",
    "fields_of_kind",
    "planner_rule",
    "required_fields",
    "rule_fields",
    "rule_from_fields",
    "rule_line",
]
