"""Whether a planned message is still wanted when its moment to be sent comes.

A message is planned from what was known at planning time, but it may be sent
much later: the mail server was down and it is retrying, or a coordinator put
a failed one back. By then the participant may have answered, closed the
action, or been paused. Sending it anyway tells coordinators that someone
"has not answered" who just did, or chases an action that is done. So the
sender asks, just before sending, whether the message is still wanted, on the
same facts the planner uses (`tracker.core.facts`); the key formats are the
planner's (`tracker.core.rules`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from tracker.core.calendar import local_moment
from tracker.core.facts import ActionFacts, ParticipantFacts
from tracker.core.model import ParticipantState, ReminderKind

_BEFORE_DUE = re.compile(r"before_due:a(\d+):(\d{4}-\d{2}-\d{2}):\d+d")
_OVERDUE = re.compile(r"overdue:a(\d+):(\d{4}-\d{2}-\d{2}):\d{4}-\d{2}-\d{2}")
_ESCALATE = re.compile(r"escalate:p\d+:r(\d+)")

# The kinds the planner sends on its own, which a change of facts can make moot.
_RULE_KINDS = frozenset(
    {ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE, ReminderKind.ESCALATION}
)


def last_reply_at(participant: ParticipantFacts) -> datetime | None:
    """The latest sign of an answer: a reply, any action update, or the sending
    of a reminder that was marked answered."""
    replies = [participant.last_reply_at, *(a.last_update_at for a in participant.actions)]
    replies += [r.sent_at for r in participant.sent if r.answered]
    return max((r for r in replies if r is not None), default=None)


def why_obsolete(
    kind: ReminderKind, item_keys: Sequence[str], participant: ParticipantFacts
) -> str | None:
    """Why a message of `kind` carrying `item_keys` should no longer be sent; None
    while it is still wanted.

    1. Acknowledgements and digests answer something that happened: always wanted.
    2. A participant who is not active (paused, opted out, bouncing) gets
       nothing from the rules, and the coordinators hear nothing about them.
    3. Otherwise the message is wanted while any of its items is: a check-in
       always; a before-due reminder while its action is open and still due
       that day; an overdue reminder while its action is open, still due that
       day and not updated since it fell due; an escalation while the
       participant has not answered since the first reminder of the run.
    """
    if kind not in _RULE_KINDS:
        return None
    if participant.state is not ParticipantState.ACTIVE:
        return f"the participant is {participant.state.value.replace('_', ' ')}"
    reasons = [_item_obsolete(key, participant) for key in item_keys]
    if not reasons or any(reason is None for reason in reasons):
        return None
    return "; ".join(dict.fromkeys(r for r in reasons if r is not None))


def _item_obsolete(key: str, participant: ParticipantFacts) -> str | None:
    if match := _ESCALATE.fullmatch(key):
        first_id = int(match.group(1))
        first = next((r for r in participant.sent if r.reminder_id == first_id), None)
        answered = last_reply_at(participant)
        if first is not None and answered is not None and answered >= first.sent_at:
            return "the participant has answered since"
        return None
    if match := _BEFORE_DUE.fullmatch(key) or _OVERDUE.fullmatch(key):
        action = next((a for a in participant.actions if a.action_id == int(match.group(1))), None)
        due = date.fromisoformat(match.group(2))
        overdue = key.startswith("overdue:")
        return _action_obsolete(action, due, participant.timezone, overdue=overdue)
    return None


def _action_obsolete(
    action: ActionFacts | None, due: date, timezone: str, *, overdue: bool
) -> str | None:
    if action is None:
        return "the action was removed"
    if not action.status.is_open:
        return f"action {action.ref} is {action.status.value.replace('_', ' ')}"
    if action.due != due:
        return f"action {action.ref} is now due on {action.due.isoformat()}"
    fell_due = local_moment(due, time(0), ZoneInfo(timezone))
    if overdue and action.last_update_at is not None and action.last_update_at >= fell_due:
        return f"action {action.ref} was updated since it fell due"
    return None
