"""One participant's reminder series at one moment (built by `tracker.core.timetable`).

`tracker.core.rules` turns what is due in a plan into messages. The key
formats are documented there; they are read back here (`newest_planned`).
A plan is updated, not rebuilt, once what it planned is in the outbox
(`ParticipantPlan.with_planned`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.core.facts import ParticipantFacts, Rule
from tracker.core.model import ReminderKind, RuleKind
from tracker.core.obsolete import last_reply_at
from tracker.core.series import Placement, Series, Slot

PARTICIPANT_KINDS = frozenset(
    {ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingEscalation:
    key: str
    moment: datetime  # UTC; may still be in the future


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantPlan:
    """The series and pending escalation of one participant, seen from `now`."""

    participant: ParticipantFacts  # the facts it was built from
    now: datetime
    zone: ZoneInfo
    series: tuple[Series, ...]
    escalation: PendingEscalation | None  # not yet planned, whether due yet or not

    def due_slots(self) -> list[tuple[Series, Slot]]:
        """Each series' occurrence to send at `now` (see `Series.due`)."""
        return [(s, slot) for s in self.series if (slot := s.due()) is not None]

    def held_until(self) -> datetime | None:
        """The latest moment of a reminder still to come today, if any.

        While there is one, the reminders already due wait for it, so that
        one local day's reminders leave as one message.
        """
        today = self.now.astimezone(self.zone).date()
        later_today = [
            slot.moment for s in self.series for slot in s.upcoming() if slot.day == today
        ]
        return max(later_today, default=None)

    def with_planned(self, keys: Iterable[str]) -> ParticipantPlan:
        """This plan once `keys` are planned too: the same as planning from scratch
        with them added to the participant's `planned_keys`, without rebuilding."""
        keys = frozenset(keys)
        newest = newest_planned(keys)
        series = tuple(
            s.planned_to(newest[s.prefix]) if s.prefix in newest else s for s in self.series
        )
        escalation = self.escalation
        if escalation is not None and escalation.key in keys:
            escalation = None
        return ParticipantPlan(
            participant=self.participant,
            now=self.now,
            zone=self.zone,
            series=series,
            escalation=escalation,
        )


def pending_escalation(
    rules: Sequence[Rule], participant: ParticipantFacts, placement: Placement
) -> PendingEscalation | None:
    """The escalation not yet planned (whether due yet or not), if any.

    1. The last reply is the latest of `last_reply_at`, any action update
       and the sending of any reminder marked answered.
    2. The unanswered run is the participant reminders sent after it.
    3. For each escalate rule the run reaches (at least
       `after_unanswered` long), the moment is the rule's `at` on the
       local day after the reminder that completed the run; the earliest
       counts. The key names the run's first reminder, so one run
       escalates once, and only a reply can start another.
    """
    p = participant
    if not p.sent:
        return None
    last_reply = last_reply_at(p)
    run = sorted(
        (
            r
            for r in p.sent
            if r.kind in PARTICIPANT_KINDS and (last_reply is None or r.sent_at > last_reply)
        ),
        key=lambda r: (r.sent_at, r.reminder_id),
    )
    moments = []
    for rule in rules:
        needed = rule.after_unanswered
        if rule.kind is not RuleKind.ESCALATE or needed is None or len(run) < needed:
            continue
        completed_on = run[needed - 1].sent_at.astimezone(placement.zone).date()
        moments.append(placement.slot(completed_on + timedelta(days=1), rule.send_time))
    if not moments:
        return None
    key = f"escalate:p{p.participant_id}:r{run[0].reminder_id}"
    if key in p.planned_keys:
        return None
    return PendingEscalation(key=key, moment=min(slot.moment for slot in moments))


def newest_planned(keys: frozenset[str]) -> dict[str, date]:
    """The newest nominal date already planned, per series prefix.

    Keys that are not ours (or are malformed) cannot supersede anything and
    are skipped.
    """
    newest: dict[str, date] = {}
    for key in keys:
        parts = key.split(":")
        try:
            if parts[0] == "check_in" and len(parts) == 3:
                prefix, day = ":".join(parts[:2]), date.fromisoformat(parts[2])
            elif parts[0] == "before_due" and len(parts) == 4 and parts[3].endswith("d"):
                due = date.fromisoformat(parts[2])
                prefix, day = ":".join(parts[:3]), due - timedelta(days=int(parts[3][:-1]))
            elif parts[0] == "overdue" and len(parts) == 4:
                prefix, day = ":".join(parts[:3]), date.fromisoformat(parts[3])
            else:
                continue
        except (ValueError, OverflowError):
            continue
        if prefix not in newest or day > newest[prefix]:
            newest[prefix] = day
    return newest
