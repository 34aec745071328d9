"""A programme as its file describes it: validated, immutable, ready to import."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time
from typing import Protocol

from tracker.core.model import RuleKind


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinatorSpec:
    name: str
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSpec:
    """One `follow_up` entry; fields that do not apply to the kind are None."""

    kind: RuleKind
    at: time | None = None
    every_count: int | None = None
    every_unit: str | None = None  # day | week | month
    first: date | None = None
    count: int | None = None
    days: int | None = None
    every_days: int | None = None
    max_count: int | None = None
    after_unanswered: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSpec:
    ref: str
    title: str
    due: date


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantSpec:
    name: str
    email: str
    organisation: str | None
    language: str | None
    timezone: str | None
    country: str | None
    actions: tuple[ActionSpec, ...]
    previous_emails: tuple[str, ...] = ()  # addresses they had; an import matches them too


class Participants(Protocol):
    """A programme's participants: a tuple, or a large file's, read again at each pass."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[ParticipantSpec]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeSpec:
    slug: str
    name: str
    starts_on: date
    ends_on: date
    timezone: str
    language: str
    country: str | None
    working_days_only: bool
    acknowledge_replies: bool
    weekly_digest: bool
    coordinators: tuple[CoordinatorSpec, ...]
    rules: tuple[RuleSpec, ...]
    participants: Participants
    # Values that are read but deserve a look ("line 6: programme timezone: 'EST' is …").
    warnings: tuple[str, ...] = ()
