"""The printable progress report of a programme: what a funder's report needs.

The summary, status distribution and overdue list are the overview's own
(`dashboard.programme_overview`); this adds progress per participant and per
organisation (the local governments) and a month-by-month timeline of updates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.model import ActionStatus
from tracker.db.orm import Participant, Programme, Update
from tracker.services.dashboard import ProgrammeOverview, programme_overview
from tracker.services.roster import current_participants


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """How far a group of actions has come: counts by status, and the share done."""

    label: str
    detail: str  # an organisation, or the number of participants
    counts: tuple[tuple[str, int], ...]  # every status, in ActionStatus order
    last_reply_at: datetime | None = None

    @property
    def actions(self) -> int:
        return sum(count for _, count in self.counts)

    @property
    def done_share(self) -> float | None:
        done = dict(self.counts).get(ActionStatus.DONE.value, 0)
        return done / self.actions if self.actions else None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthCount:
    month: date  # its first day
    updates: int
    by_email: int
    by_coordinators: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeReport:
    overview: ProgrammeOverview
    generated_at: datetime
    participants: tuple[Progress, ...]
    organisations: tuple[Progress, ...]
    months: tuple[MonthCount, ...]


def programme_report(programme: Programme, *, session: Session, now: datetime) -> ProgrammeReport:
    """Everything the printable report shows, as of `now`."""
    overview = programme_overview(programme, session=session, now=now)
    participants = current_participants(
        programme.id,
        session=session,
        order=(Participant.organisation, Participant.name, Participant.id),
    )
    per_person = []
    per_organisation: dict[str, Counter[str]] = defaultdict(Counter)
    people_of: Counter[str] = Counter()
    for person in participants:
        counts = Counter(a.status for a in person.actions if a.archived_at is None)
        per_person.append(
            Progress(
                label=person.name,
                detail=person.organisation or "",
                counts=_ordered(counts),
                last_reply_at=person.last_reply_at,
            )
        )
        organisation = person.organisation or person.name
        per_organisation[organisation].update(counts)
        people_of[organisation] += 1
    return ProgrammeReport(
        overview=overview,
        generated_at=now,
        participants=tuple(per_person),
        organisations=tuple(
            Progress(label=name, detail=str(people_of[name]), counts=_ordered(counts))
            for name, counts in sorted(per_organisation.items())
        ),
        months=_months(programme, [p.id for p in participants], session=session),
    )


def _ordered(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple((status.value, counts.get(status.value, 0)) for status in ActionStatus)


def _months(
    programme: Programme, participant_ids: list[int], *, session: Session
) -> tuple[MonthCount, ...]:
    """Updates recorded per month of the programme's calendar, from the first to the last."""
    if not participant_ids:
        return ()
    zone = ZoneInfo(programme.timezone)
    counted: dict[date, Counter[str]] = defaultdict(Counter)
    rows = session.execute(
        select(Update.at, Update.source).where(Update.participant_id.in_(participant_ids))
    )
    for at, source in rows:
        local = at.astimezone(zone)
        counted[date(local.year, local.month, 1)][source] += 1
    if not counted:
        return ()
    first, last = min(counted), max(counted)
    months = []
    month = first
    while month <= last:
        counts = counted.get(month, Counter())
        months.append(
            MonthCount(
                month=month,
                updates=sum(counts.values()),
                by_email=counts.get("email", 0),
                by_coordinators=counts.get("coordinator", 0) + counts.get("web", 0),
            )
        )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return tuple(months)
