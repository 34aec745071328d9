"""Reading a programme file: YAML in, a validated `ProgrammeSpec` out, or every problem.

The YAML is composed into nodes (not loaded) so that every problem can name its
line, and so that YAML 1.1's guessing never changes a value: `country: NO`
stays Norway, `ref: 1.10` stays the text "1.10". Nothing here touches the
database or the templates: the caller says which languages there are.

Every problem is reported at once, and one mistake yields one problem: a value
that cannot be read still counts for what it can (a broken action still holds
its ref, so a second action with that ref is reported; a coordinator with a bad
address still counts as a coordinator, so "needs at least one" is not added).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo, available_timezones

import yaml

from tracker.core.model import RuleKind
from tracker.core.series import add_months
from tracker.errors import ProgrammeFileError
from tracker.programme.limits import ReadingLimits, shape_problem
from tracker.programme.nodes import Mapping, NodeWalker
from tracker.programme.spec import (
    ActionSpec,
    CoordinatorSpec,
    ParticipantSpec,
    ProgrammeSpec,
    RuleSpec,
)
from tracker.programme.streaming import compose_head, participant_nodes
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


def read_programme_file(
    data: str | bytes,
    *,
    languages: Collection[str],
    path: str = "<programme>",
    limits: ReadingLimits | None = None,
) -> ProgrammeSpec:
    """Validate a programme file; raise ProgrammeFileError listing every problem by line.

    `languages` are the template languages there are (`tracker.mail.render.
    template_languages`); a language with no templates is a problem. Values
    that are read but deserve a look come back in the spec's `warnings`.

    The file is read a participant at a time (`streaming`): its participants
    are checked here and dropped, and the spec reads them again from `data`
    each time it is iterated, so memory does not grow with the file.
    """
    problem = shape_problem(data, limits or ReadingLimits())
    if problem is not None:
        raise ProgrammeFileError(path, [problem])
    reader = _Reader(languages)
    try:
        root, streamed = compose_head(data)
        spec = reader.programme_file(root, streamed, lambda: participant_nodes(data))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ProgrammeFileError(path, [f"{where}not valid YAML: {problem}"]) from None
    if reader.problems or spec is None:
        problems = sorted(reader.problems, key=_line_number) or ["the file is empty"]
        raise ProgrammeFileError(path, problems)
    if streamed is not None:
        participants = _FileParticipants(
            data, count=reader.counted, languages=reader.languages, starts_on=spec.starts_on
        )
        spec = replace(spec, participants=participants)
    return replace(spec, warnings=tuple(sorted(reader.warnings, key=_line_number)))


class _FileParticipants:
    """The participants of a checked file, read again from its bytes at each iteration."""

    def __init__(
        self, data: str | bytes, *, count: int, languages: tuple[str, ...], starts_on: date
    ) -> None:
        self._data = data
        self._count = count
        self._languages = languages
        self._starts_on = starts_on

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ParticipantSpec]:
        reader = _Reader(self._languages)
        reader.starts_on = self._starts_on
        for node in participant_nodes(self._data):
            spec, _ = reader.participant(node)
            assert spec is not None, "the file was checked"
            yield spec


def _line_number(problem: str) -> int:
    match = re.match(r"line (\d+):", problem)
    return int(match.group(1)) if match else 0


_RULE_KEYS: dict[RuleKind, tuple[set[str], set[str]]] = {  # kind: (required, optional)
    RuleKind.CHECK_IN: ({"every", "first"}, {"count", "at"}),
    RuleKind.BEFORE_DUE: ({"days"}, {"at"}),
    RuleKind.OVERDUE: ({"every_days", "max"}, {"at"}),
    RuleKind.ESCALATE: ({"after_unanswered"}, set()),
}


class _Reader(NodeWalker):
    """Reads the composed YAML of a programme file, collecting every problem."""

    def __init__(self, languages: Collection[str]) -> None:
        super().__init__()
        self.languages = tuple(languages)
        self.starts_on: date | None = None
        self._zones = available_timezones()
        # Every previous address in the file: (address, its line, whose it is).
        self._previous: list[tuple[str, int, str]] = []
        self.counted = 0  # the valid participants read

    # -- values that need a look ---------------------------------------------------------

    def timezone(self, fields: Mapping | None, what: str) -> str | None:
        """An IANA zone; a legacy or fixed-offset one (EST, Etc/GMT+5) is read with a warning.

        Links to a place's zone (US/Eastern, Asia/Calcutta) are read as they are:
        they follow that place's clock exactly.
        """
        zone = self.field(fields, "timezone", what, self._zone)
        if zone is not None and fields is not None and ("/" not in zone or zone.startswith("Etc/")):
            self.warning(
                fields["timezone"][1],
                f"{what} timezone: {zone!r} is a fixed offset or a legacy name, not a place: "
                "it may not follow the local clock all year (daylight saving); use the "
                "place's name, like America/New_York or Asia/Shanghai",
            )
        return zone

    def language(self, fields: Mapping | None, what: str) -> str | None:
        """A language tag that the mail templates speak, or the family of one.

        "en-GB" is read as English with no word said (the templates' "en" is for
        every English reader); "zh-TW" is read with a warning, since its
        messages would be in another variety (zh-CN); "fr" is a problem.
        """
        language = self.field(fields, "language", what, language_value)
        if language is None or fields is None:
            return language
        node = fields["language"][1]
        shipped = {tag.lower(): tag for tag in self.languages}
        if language.lower() in shipped:
            return shipped[language.lower()]
        primary = language.split("-")[0].lower()
        family = sorted(tag for key, tag in shipped.items() if key.split("-")[0] == primary)
        if primary in shipped:
            return language
        if family:
            self.warning(
                node, f"{what} language: no templates in {language}; it will get {family[0]}"
            )
            return language
        there = ", ".join(sorted(self.languages)) or "none"
        self.problem(
            node, f"{what} language: no email templates in {language!r} (there are: {there})"
        )
        return None

    # -- the file ----------------------------------------------------------------------

    def programme_file(
        self,
        root: yaml.Node | None,
        streamed: yaml.Node | None,
        stream: Callable[[], Iterable[yaml.Node]],
    ) -> ProgrammeSpec | None:
        """The programme; its participants are checked from `stream()` when their list
        is `streamed` (left empty in `root`), and then left out of the spec."""
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
        participants = self.participants(top, streamed, stream)
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
        timezone = self.timezone(fields, what)
        language = self.language(fields, what)
        country = self.field(fields, "country", what, country_value)
        flags = {
            flag: self.field(fields, flag, what, boolean_value)
            for flag in ("working_days_only", "acknowledge_replies", "weekly_digest")
        }
        self.starts_on = starts_on  # the later checks need it, whatever else is wrong here
        if starts_on is not None and ends_on is not None and ends_on < starts_on:
            assert fields is not None
            self.problem(fields["ends_on"][1], "programme ends_on is before starts_on")
        coordinators = self.coordinators(fields)
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
            coordinators=coordinators,
            rules=(),
            participants=(),
        )

    def coordinators(self, fields: Mapping | None) -> tuple[CoordinatorSpec, ...]:
        if fields is None or "coordinators" not in fields:
            return ()
        node = fields["coordinators"][1]
        items = self.sequence(node, "programme coordinators")
        if not items and not self.problems_about(node):
            self.problem(node, "programme needs at least one coordinator")
        result: list[CoordinatorSpec] = []
        seen: set[str] = set()
        for item in items:
            person = self.mapping(item, "coordinator", {"name", "email"}, set())
            person_name = self.field(person, "name", "coordinator", text_value(200))
            email = self.field(person, "email", "coordinator", email_value)
            if email is not None and email in seen:
                self.problem(item, f"coordinator {email} is listed twice")
            elif email is not None:
                seen.add(email)
                if person_name is not None:
                    result.append(CoordinatorSpec(name=person_name, email=email))
        return tuple(result)

    def rule(self, node: yaml.Node) -> RuleSpec | None:
        """One rule. Its values are checked even when its kind is unknown or misspelt."""
        fields = self.mapping(node, "follow_up rule", {"kind"}, set(_RULE_KEYS_ALL))
        kind = self.field(fields, "kind", "follow_up rule", rule_kind_value)
        what = f"{kind.value} rule" if kind is not None else "follow_up rule"
        if fields is not None and kind is not None:
            required, optional = _RULE_KEYS[kind]
            present = set(fields) - {"kind"}
            for key in sorted(present - required - optional):
                self.problem(fields[key][0], f"{what}: key {key!r} does not apply to {kind.value}")
            for key in sorted(required - present):
                self.problem(node, f"{what}: missing key {key!r}")
        period = self.field(fields, "every", what, period_value)
        first = self.field(fields, "first", what, date_value)
        count = self.field(fields, "count", what, whole_number(1))
        spec = RuleSpec(
            kind=kind or RuleKind.CHECK_IN,
            at=self.field(fields, "at", what, time_value),
            every_count=period[0] if period else None,
            every_unit=period[1] if period else None,
            first=first,
            count=count,
            days=self.field(fields, "days", what, whole_number(0)),
            every_days=self.field(fields, "every_days", what, whole_number(1)),
            max_count=self.field(fields, "max", what, whole_number(1)),
            after_unanswered=self.field(fields, "after_unanswered", what, whole_number(1)),
        )
        if fields is not None and first is not None:
            if self.starts_on is not None and first < self.starts_on:
                self.problem(
                    fields["first"][1],
                    f"{what} first: {first} is before the programme starts ({self.starts_on})",
                )
            if (
                period is not None
                and count is not None
                and _series_end(first, period, count) is None
            ):
                self.problem(
                    fields["count"][1],
                    f"{what}: {count} check-ins every {period[0]} {period[1]}(s) "
                    "would run past the year 9999",
                )
        return spec if fields is not None and kind is not None else None

    def participants(
        self,
        top: Mapping,
        streamed: yaml.Node | None,
        stream: Callable[[], Iterable[yaml.Node]],
    ) -> tuple[ParticipantSpec, ...]:
        """The participants, or () when `streamed`: then only what the checks need is kept
        (each address and its line), and `counted` says how many there are."""
        if "participants" not in top:
            return ()
        listed = top["participants"][1]
        keep = listed is not streamed
        nodes = self.sequence(listed, "participants") if keep else stream()
        result: list[ParticipantSpec] = []
        lines: dict[str, int] = {}  # current address: line of the participant
        for node in nodes:
            spec, email = self.participant(node)
            line = node.start_mark.line + 1
            if email is not None and email in lines:
                self.problem(
                    node, f"participant {email} is listed twice (first on line {lines[email]})"
                )
                continue
            if email is not None:
                lines[email] = line
            if spec is not None:
                self.counted += 1
                if keep:
                    result.append(spec)
        self.check_previous_emails(lines)
        return tuple(result)

    def check_previous_emails(self, current: dict[str, int]) -> None:
        """A previous address must name one person only, and nobody's current one."""
        owners: dict[str, tuple[str, int]] = {}
        for address, line, owner in self._previous:
            if address == owner:
                self.problem_at(line, f"participant {owner}: {address} is their own email")
            elif address in current:
                self.problem_at(
                    line,
                    f"participant {owner}: previous email {address} is the email of "
                    f"the participant on line {current[address]}",
                )
            elif address in owners and owners[address][0] != owner:
                self.problem_at(
                    line,
                    f"participant {owner}: previous email {address} is also listed for "
                    f"{owners[address][0]} (line {owners[address][1]})",
                )
            else:
                owners.setdefault(address, (owner, line))

    def participant(self, node: yaml.Node) -> tuple[ParticipantSpec | None, str | None]:
        """The participant and their address (the address alone when the rest is broken)."""
        what = "participant"
        fields = self.mapping(
            node,
            what,
            {"name", "email", "actions"},
            {"organisation", "language", "timezone", "country", "previous_emails"},
        )
        name = self.field(fields, "name", what, text_value(200))
        email = self.field(fields, "email", what, email_value)
        who = email or name or f"the participant on line {node.start_mark.line + 1}"
        actions: list[ActionSpec] = []
        refs: set[str] = set()
        if fields is not None and "actions" in fields:
            for item in self.sequence(fields["actions"][1], f"{what} actions"):
                ref, action = self.action(item)
                if ref is not None and ref in refs:
                    self.problem(item, f"action ref {ref!r} appears twice for {who}")
                    continue
                if ref is not None:
                    refs.add(ref)
                if action is not None:
                    actions.append(action)
        previous = self.previous_emails(fields, who)
        spec = ParticipantSpec(
            name=name or "",
            email=email or "",
            organisation=self.field(fields, "organisation", what, text_value(300)),
            language=self.language(fields, what),
            timezone=self.timezone(fields, what),
            country=self.field(fields, "country", what, country_value),
            actions=tuple(actions),
            previous_emails=previous,
        )
        return (spec if name and email else None), email

    def previous_emails(self, fields: Mapping | None, who: str) -> tuple[str, ...]:
        if fields is None or "previous_emails" not in fields:
            return ()
        result: list[str] = []
        for item in self.sequence(fields["previous_emails"][1], "participant previous_emails"):
            raw = self.scalar(item, "participant previous_emails")
            if raw is None:
                continue
            try:
                address = email_value(raw)
            except ValueError as error:
                self.problem(item, f"participant previous_emails: {error}")
                continue
            if address in result:
                self.problem(item, f"participant previous_emails: {address} is listed twice")
                continue
            result.append(address)
            self._previous.append((address, item.start_mark.line + 1, who))
        return tuple(result)

    def action(self, node: yaml.Node) -> tuple[str | None, ActionSpec | None]:
        """The action and its ref (the ref alone when the rest is broken)."""
        fields = self.mapping(node, "action", {"ref", "title", "due"}, set())
        ref = self.field(fields, "ref", "action", ref_value)
        title = self.field(fields, "title", "action", text_value(500))
        due = self.field(fields, "due", "action", date_value)
        if due is not None and self.starts_on is not None and due < self.starts_on and fields:
            self.problem(
                fields["due"][1],
                f"action {ref or ''} is due {due}, before the programme starts".replace("  ", " "),
            )
        if ref is None or title is None or due is None:
            return ref, None
        return ref, ActionSpec(ref=ref, title=title, due=due)

    def _zone(self, raw: str) -> str:
        if raw not in self._zones:
            raise ValueError(f"unknown time zone {raw!r} (use an IANA name like Asia/Shanghai)")
        ZoneInfo(raw)
        return raw


def _series_end(first: date, period: tuple[int, str], count: int) -> date | None:
    """The date of the series' last check-in, or None when it falls past the calendar's end."""
    steps = period[0] * (count - 1)
    try:
        if period[1] == "month":
            return add_months(first, steps)
        return first + timedelta(days=steps * (7 if period[1] == "week" else 1))
    except (OverflowError, ValueError):
        return None


_RULE_KEYS_ALL = {key for required, optional in _RULE_KEYS.values() for key in required | optional}
