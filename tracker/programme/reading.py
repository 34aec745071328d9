"""Reading a programme file: YAML in, a validated `ProgrammeSpec` out, or every problem.

The YAML is composed into nodes (not loaded) so that every problem can name its
line, and so that YAML 1.1's guessing never changes a value: `country: NO`
stays Norway, `ref: 1.10` stays the text "1.10". Nothing here touches the
database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TypeVar
from zoneinfo import ZoneInfo, available_timezones

import yaml

from tracker.core.model import RuleKind
from tracker.errors import ProgrammeFileError
from tracker.programme.spec import (
    ActionSpec,
    CoordinatorSpec,
    ParticipantSpec,
    ProgrammeSpec,
    RuleSpec,
)
from tracker.programme.values import (
    boolean_value,
    country_value,
    date_value,
    email_value,
    language_value,
    period_value,
    ref_value,
    rule_kind_value,
    slug_value,
    text_value,
    time_value,
    whole_number,
)


def read_programme_file(text: str, *, path: str = "<programme>") -> ProgrammeSpec:
    """Validate a programme file; raise ProgrammeFileError listing every problem by line."""
    reader = _Reader()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ProgrammeFileError(path, [f"{where}not valid YAML: {problem}"]) from None
    spec = reader.programme_file(root)
    if reader.problems or spec is None:
        problems = sorted(reader.problems, key=_line_number) or ["the file is empty"]
        raise ProgrammeFileError(path, problems)
    return spec


def _line_number(problem: str) -> int:
    match = re.match(r"line (\d+):", problem)
    return int(match.group(1)) if match else 0


_RULE_KEYS: dict[RuleKind, tuple[set[str], set[str]]] = {  # kind: (required, optional)
    RuleKind.CHECK_IN: ({"every", "first"}, {"count", "at"}),
    RuleKind.BEFORE_DUE: ({"days"}, {"at"}),
    RuleKind.OVERDUE: ({"every_days", "max"}, {"at"}),
    RuleKind.ESCALATE: ({"after_unanswered"}, set()),
}

T = TypeVar("T")
Mapping = dict[str, tuple[yaml.ScalarNode, yaml.Node]]


class _Reader:
    """Walks the composed YAML, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._zones = available_timezones()

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(f"line {node.start_mark.line + 1}: {message}")

    # -- structure ---------------------------------------------------------------------

    def mapping(
        self, node: yaml.Node, what: str, required: set[str], optional: set[str]
    ) -> Mapping | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return None
        result: Mapping = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node, f"{what}: keys must be plain words")
            elif key in result:
                self.problem(key_node, f"{what}: key {key!r} appears twice")
            elif key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.problem(key_node, f"{what}: unknown key {key!r} (allowed: {allowed})")
            else:
                result[key] = (key_node, value_node)
        for key in sorted(required - set(result)):
            self.problem(node, f"{what}: missing key {key!r}")
        return result

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            self.problem(node, f"{what} must be a single value")
            return None
        return str(node.value).strip()

    def field(
        self, fields: Mapping | None, key: str, what: str, convert: Callable[[str], T]
    ) -> T | None:
        """Convert `key` of a mapping; a ValueError's text becomes the problem."""
        if fields is None or key not in fields:
            return None
        node = fields[key][1]
        raw = self.scalar(node, f"{what} {key}")
        if raw is None:
            return None
        try:
            return convert(raw)
        except ValueError as error:
            self.problem(node, f"{what} {key}: {error}")
            return None

    # -- the file ----------------------------------------------------------------------

    def programme_file(self, root: yaml.Node | None) -> ProgrammeSpec | None:
        if root is None:
            return None
        top = self.mapping(root, "the file", {"programme", "participants"}, {"follow_up"})
        if top is None:
            return None
        programme = self.programme(top["programme"][1]) if "programme" in top else None
        rules = (
            tuple(
                rule
                for node in self.sequence(top["follow_up"][1], "follow_up")
                if (rule := self.rule(node)) is not None
            )
            if "follow_up" in top
            else ()
        )
        participants = self.participants(top, programme.starts_on if programme else None)
        if programme is None or self.problems:
            return None
        return replace(programme, rules=rules, participants=participants)

    def programme(self, node: yaml.Node) -> ProgrammeSpec | None:
        """The `programme` mapping, with no rules or participants yet."""
        what = "programme"
        required = {"slug", "name", "starts_on", "ends_on", "timezone", "language", "coordinators"}
        optional = {"country", "working_days_only", "acknowledge_replies", "weekly_digest"}
        fields = self.mapping(node, what, required, optional)
        slug = self.field(fields, "slug", what, slug_value)
        name = self.field(fields, "name", what, text_value(300))
        starts_on = self.field(fields, "starts_on", what, date_value)
        ends_on = self.field(fields, "ends_on", what, date_value)
        timezone = self.field(fields, "timezone", what, self._timezone)
        language = self.field(fields, "language", what, language_value)
        country = self.field(fields, "country", what, country_value)
        flags = {
            flag: self.field(fields, flag, what, boolean_value)
            for flag in ("working_days_only", "acknowledge_replies", "weekly_digest")
        }
        if starts_on is not None and ends_on is not None and ends_on < starts_on:
            assert fields is not None
            self.problem(fields["ends_on"][1], "programme ends_on is before starts_on")
        coordinators: list[CoordinatorSpec] = []
        if fields is not None and "coordinators" in fields:
            seen: set[str] = set()
            for item in self.sequence(fields["coordinators"][1], "programme coordinators"):
                person = self.mapping(item, "coordinator", {"name", "email"}, set())
                person_name = self.field(person, "name", "coordinator", text_value(200))
                email = self.field(person, "email", "coordinator", email_value)
                if email is not None and email in seen:
                    self.problem(item, f"coordinator {email} is listed twice")
                if person_name is not None and email is not None:
                    seen.add(email)
                    coordinators.append(CoordinatorSpec(name=person_name, email=email))
            if not coordinators:
                self.problem(fields["coordinators"][1], "programme needs at least one coordinator")
        if (
            slug is None
            or name is None
            or starts_on is None
            or ends_on is None
            or timezone is None
            or language is None
        ):
            return None
        return ProgrammeSpec(
            slug=slug,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            timezone=timezone,
            language=language,
            country=country,
            working_days_only=flags["working_days_only"] is not False,  # default true
            acknowledge_replies=flags["acknowledge_replies"] is not False,
            weekly_digest=flags["weekly_digest"] is not False,
            coordinators=tuple(coordinators),
            rules=(),
            participants=(),
        )

    def rule(self, node: yaml.Node) -> RuleSpec | None:
        fields = self.mapping(node, "follow_up rule", {"kind"}, set(_RULE_KEYS_ALL))
        kind = self.field(fields, "kind", "follow_up rule", rule_kind_value)
        if fields is None or kind is None:
            return None
        what = f"{kind.value} rule"
        required, optional = _RULE_KEYS[kind]
        present = set(fields) - {"kind"}
        for key in sorted(present - required - optional):
            self.problem(fields[key][0], f"{what}: key {key!r} does not apply to {kind.value}")
        for key in sorted(required - present):
            self.problem(node, f"{what}: missing key {key!r}")
        period = (
            self.field(fields, "every", what, period_value) if kind is RuleKind.CHECK_IN else None
        )
        return RuleSpec(
            kind=kind,
            at=self.field(fields, "at", what, time_value),
            every_count=period[0] if period else None,
            every_unit=period[1] if period else None,
            first=self.field(fields, "first", what, date_value),
            count=self.field(fields, "count", what, whole_number(1)),
            days=self.field(fields, "days", what, whole_number(0)),
            every_days=self.field(fields, "every_days", what, whole_number(1)),
            max_count=self.field(fields, "max", what, whole_number(1)),
            after_unanswered=self.field(fields, "after_unanswered", what, whole_number(1)),
        )

    def participants(self, top: Mapping, starts: date | None) -> tuple[ParticipantSpec, ...]:
        if "participants" not in top:
            return ()
        result: list[ParticipantSpec] = []
        emails: dict[str, int] = {}
        for node in self.sequence(top["participants"][1], "participants"):
            spec = self.participant(node, starts)
            if spec is None:
                continue
            if spec.email in emails:
                self.problem(
                    node,
                    f"participant {spec.email} is listed twice "
                    f"(first on line {emails[spec.email]})",
                )
                continue
            emails[spec.email] = node.start_mark.line + 1
            result.append(spec)
        return tuple(result)

    def participant(self, node: yaml.Node, starts_on: date | None) -> ParticipantSpec | None:
        what = "participant"
        fields = self.mapping(
            node,
            what,
            {"name", "email", "actions"},
            {"organisation", "language", "timezone", "country"},
        )
        name = self.field(fields, "name", what, text_value(200))
        email = self.field(fields, "email", what, email_value)
        actions: list[ActionSpec] = []
        refs: set[str] = set()
        if fields is not None and "actions" in fields:
            for item in self.sequence(fields["actions"][1], f"{what} actions"):
                action = self.action(item, starts_on)
                if action is not None and action.ref in refs:
                    self.problem(
                        item, f"action ref {action.ref!r} appears twice for {email or name}"
                    )
                elif action is not None:
                    refs.add(action.ref)
                    actions.append(action)
        spec = ParticipantSpec(
            name=name or "",
            email=email or "",
            organisation=self.field(fields, "organisation", what, text_value(300)),
            language=self.field(fields, "language", what, language_value),
            timezone=self.field(fields, "timezone", what, self._timezone),
            country=self.field(fields, "country", what, country_value),
            actions=tuple(actions),
        )
        return spec if name and email else None

    def action(self, node: yaml.Node, starts_on: date | None) -> ActionSpec | None:
        fields = self.mapping(node, "action", {"ref", "title", "due"}, set())
        ref = self.field(fields, "ref", "action", ref_value)
        title = self.field(fields, "title", "action", text_value(500))
        due = self.field(fields, "due", "action", date_value)
        if due is not None and starts_on is not None and due < starts_on and fields:
            self.problem(
                fields["due"][1], f"action {ref} is due {due}, before the programme starts"
            )
        if ref is None or title is None or due is None:
            return None
        return ActionSpec(ref=ref, title=title, due=due)

    def _timezone(self, raw: str) -> str:
        if raw not in self._zones:
            raise ValueError(f"unknown time zone {raw!r} (use an IANA name like Asia/Shanghai)")
        ZoneInfo(raw)
        return raw


_RULE_KEYS_ALL = {key for required, optional in _RULE_KEYS.values() for key in required | optional}
