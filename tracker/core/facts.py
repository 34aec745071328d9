"""The records the planner takes and returns: rules, what is known of a participant,
and the messages it plans. Plain frozen data, shared by `tracker.core.rules`
(which decides what is due) and `tracker.core.participant_plan` (one
participant's series).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

from tracker.core.model import ActionStatus, ParticipantState, ReminderKind, RuleKind

# No series runs longer than this many occurrences (a daily check-in for
# 27 years): it bounds the work for a mistyped `count`.
MAX_OCCURRENCES = 10_000

PeriodUnit = Literal["day", "week", "month"]
Audience = Literal["participant", "coordinators"]

DEFAULT_AT = time(9, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """A check-in interval: `count` days, weeks or months."""

    count: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"a period needs a count of at least 1, not {self.count}")
        if self.unit not in ("day", "week", "month"):
            raise ValueError(f"a period is in days, weeks or months, not {self.unit!r}")


_FIELDS_OF: dict[RuleKind, frozenset[str]] = {
    RuleKind.CHECK_IN: frozenset({"every", "first", "count"}),
    RuleKind.BEFORE_DUE: frozenset({"days"}),
    RuleKind.OVERDUE: frozenset({"every_days", "max"}),
    RuleKind.ESCALATE: frozenset({"after_unanswered"}),
}
_REQUIRED_OF: dict[RuleKind, frozenset[str]] = {
    RuleKind.CHECK_IN: frozenset({"every", "first"}),
    RuleKind.BEFORE_DUE: frozenset({"days"}),
    RuleKind.OVERDUE: frozenset({"every_days", "max"}),
    RuleKind.ESCALATE: frozenset({"after_unanswered"}),
}
_ALL_FIELDS = frozenset().union(*_FIELDS_OF.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One entry of a programme's `follow_up` list (see CONTRACT, "Programme file").

    `at` is a local wall-clock time (09:00 when omitted). `count=None` on a
    check-in means "until the participant's last action due date".
    """

    kind: RuleKind
    at: time | None = None
    every: Period | None = None
    first: date | None = None
    count: int | None = None
    days: int | None = None
    every_days: int | None = None
    max: int | None = None
    after_unanswered: int | None = None

    def __post_init__(self) -> None:
        if self.at is not None and self.at.tzinfo is not None:
            raise ValueError("a rule's `at` is a local time and takes no time zone")
        for name in _ALL_FIELDS:
            given = getattr(self, name) is not None
            if given and name not in _FIELDS_OF[self.kind]:
                raise ValueError(f"a {self.kind} rule takes no {name!r}")
            if not given and name in _REQUIRED_OF[self.kind]:
                raise ValueError(f"a {self.kind} rule needs {name!r}")
        limits = {"count": 1, "days": 0, "every_days": 1, "max": 1, "after_unanswered": 1}
        for name, lowest in limits.items():
            value = getattr(self, name)
            if value is not None and not lowest <= value <= MAX_OCCURRENCES:
                raise ValueError(f"{name} must be between {lowest} and {MAX_OCCURRENCES}")

    @property
    def send_time(self) -> time:
        return self.at if self.at is not None else DEFAULT_AT


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionFacts:
    action_id: int
    ref: str
    due: date
    status: ActionStatus
    last_update_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SentReminder:
    reminder_id: int
    kind: ReminderKind
    sent_at: datetime
    answered: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantFacts:
    participant_id: int
    state: ParticipantState
    timezone: str
    country: str | None = None
    working_days_only: bool = True
    actions: tuple[ActionFacts, ...] = ()
    last_reply_at: datetime | None = None
    sent: tuple[SentReminder, ...] = ()
    planned_keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedItem:
    key: str
    kind: ReminderKind
    action_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedMessage:
    key: str
    participant_id: int
    audience: Audience
    kind: ReminderKind
    local_date: date
    scheduled_at: datetime
    items: tuple[PlannedItem, ...]
