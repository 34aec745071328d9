"""Whether a planned message is still wanted when it can be sent (`tracker.core.obsolete`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.core.facts import ActionFacts, ParticipantFacts, SentReminder
from tracker.core.model import ActionStatus, ParticipantState, ReminderKind
from tracker.core.obsolete import why_obsolete

FIRST_SENT = datetime(2019, 6, 24, 1, 30, tzinfo=UTC)


def facts(
    *,
    state: ParticipantState = ParticipantState.ACTIVE,
    status: ActionStatus = ActionStatus.IN_PROGRESS,
    due: date = date(2019, 9, 30),
    updated: datetime | None = None,
    last_reply: datetime | None = None,
) -> ParticipantFacts:
    return ParticipantFacts(
        participant_id=1,
        state=state,
        timezone="Asia/Shanghai",
        actions=(
            ActionFacts(action_id=5, ref="A", due=due, status=status, last_update_at=updated),
        ),
        last_reply_at=last_reply,
        sent=(SentReminder(reminder_id=9, kind=ReminderKind.CHECK_IN, sent_at=FIRST_SENT),),
    )


ESCALATION = ["escalate:p1:r9"]
OVERDUE = ["overdue:a5:2019-09-30:2019-10-07"]
BEFORE_DUE = ["before_due:a5:2019-09-30:7d"]


@pytest.mark.parametrize(
    ("kind", "keys", "participant", "why"),
    [
        (ReminderKind.ESCALATION, ESCALATION, facts(), None),
        (
            ReminderKind.ESCALATION,
            ESCALATION,
            facts(last_reply=datetime(2019, 6, 25, tzinfo=UTC)),
            "the participant has answered since",
        ),
        (
            ReminderKind.ESCALATION,
            ESCALATION,
            facts(updated=datetime(2019, 7, 1, tzinfo=UTC)),
            "the participant has answered since",
        ),
        (
            ReminderKind.ESCALATION,
            ESCALATION,
            facts(state=ParticipantState.OPTED_OUT),
            "the participant is opted out",
        ),
        (ReminderKind.OVERDUE, OVERDUE, facts(), None),
        (ReminderKind.OVERDUE, OVERDUE, facts(status=ActionStatus.DONE), "action A is done"),
        (
            ReminderKind.OVERDUE,
            OVERDUE,
            facts(updated=datetime(2019, 9, 29, 16, 0, tzinfo=UTC)),  # 30 Sept, 00:00 in Beijing
            "action A was updated since it fell due",
        ),
        (ReminderKind.OVERDUE, OVERDUE, facts(updated=datetime(2019, 9, 29, tzinfo=UTC)), None),
        (
            ReminderKind.BEFORE_DUE,
            BEFORE_DUE,
            facts(due=date(2019, 12, 31)),
            "action A is now due on 2019-12-31",
        ),
        (
            ReminderKind.BEFORE_DUE,
            ["before_due:a6:2019-09-30:7d"],
            facts(),
            "the action was removed",
        ),
        # Merged with a check-in, the message still goes.
        (
            ReminderKind.OVERDUE,
            [*OVERDUE, "check_in:p1:2019-10-07"],
            facts(status=ActionStatus.DONE),
            None,
        ),
        (
            ReminderKind.CHECK_IN,
            ["check_in:p1:2019-10-07"],
            facts(state=ParticipantState.PAUSED),
            "the participant is paused",
        ),
        # What answers something that happened is always sent.
        (ReminderKind.ACKNOWLEDGEMENT, ["ack:1"], facts(state=ParticipantState.PAUSED), None),
    ],
)
def test_a_message_is_sent_only_while_what_it_was_planned_for_still_holds(
    kind: ReminderKind, keys: list[str], participant: ParticipantFacts, why: str | None
) -> None:
    assert why_obsolete(kind, keys, participant) == why
