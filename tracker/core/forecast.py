"""What a rule set would send over a window, if nobody replied: the schedule preview.

The forecast is the planner run forward, not a second copy of the rules: it
steps `rules.next_due` and `rules.due_reminders` from `start` to `end`,
treating every planned message as sent at its moment and never answered.
So the messages it lists are exactly those the metronome would plan in that
window while the facts stay as given, and escalations appear where silence
would cause them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tracker.core.facts import ParticipantFacts, PlannedMessage, Rule, SentReminder
from tracker.core.rules import due_reminders, next_due

# Far more messages than any sane rule set makes for one person in a window
# (a daily check-in for a year is 365): it bounds the work for a broken one.
MAX_FORECAST_MESSAGES = 2_000

# Reminder ids the forecast invents for its own "sent" messages: negative, so
# they never collide with real outbox ids in the facts.
_FIRST_SIMULATED_ID = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastMessage:
    """One message the rules would send: when (UTC and the participant's local day), what."""

    message: PlannedMessage
    sends_at: datetime  # UTC; `scheduled_at`, or `start` for one already due then

    @property
    def local_date(self) -> date:
        return self.message.local_date


def forecast(
    rules: Sequence[Rule], facts: ParticipantFacts, *, start: datetime, end: datetime
) -> list[ForecastMessage]:
    """Every message the planner would plan for one participant in [start, end).

    1. Ask `next_due` for the first moment anything can fire; stop when
       there is none or it is at or after `end`.
    2. At that moment (or `start`, for something due already), ask
       `due_reminders` what is due, and record it.
    3. Add what was planned to the facts as a tick would (its keys planned)
       and as the sender would (participant messages sent at their moment,
       unanswered), then go back to step 1 from there.
    """
    if end <= start:
        return []
    found: list[ForecastMessage] = []
    next_id = _FIRST_SIMULATED_ID
    now = start
    while len(found) < MAX_FORECAST_MESSAGES:
        moment = next_due(rules, facts, now=now)
        if moment is None or moment >= end:
            break
        now = max(moment, now)
        planned = due_reminders(rules, [facts], now=now)
        if not planned:
            # `next_due` may be early, never late: look again a minute on.
            now += timedelta(minutes=1)
            continue
        sent = list(facts.sent)
        keys = set(facts.planned_keys)
        for message in planned:
            found.append(ForecastMessage(message=message, sends_at=max(message.scheduled_at, now)))
            keys.add(message.key)
            keys.update(item.key for item in message.items)
            if message.audience == "participant":
                sent.append(SentReminder(reminder_id=next_id, kind=message.kind, sent_at=now))
                next_id -= 1
        facts = dataclasses.replace(facts, sent=tuple(sent), planned_keys=frozenset(keys))
    return found
