"""How long a planning tick takes as the database grows, with little or much due.

One command: `python benchmarks/planning/run.py [sizes...]` (default 1000 10000).
For each size it builds a SQLite database of that many participants (two
actions each, the four follow-up rules), plans once so every participant has
its `next_due_at`, then times:

- an idle tick (a week after the first check-in: the indexed `next_due_at`
  query finds no one due),
- a busy tick (the second monthly check-in: every participant is due).

Prints a Markdown table. The point: an idle tick costs the same whatever the
size; a busy tick grows with the work.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from tracker.db.migrate import upgrade
from tracker.db.orm import Action, Coordinator, FollowUpRule, Participant, Programme
from tracker.db.session import make_engine, make_session_factory
from tracker.services.planning import REPLAN, plan_due_reminders

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
FIRST_CHECK_IN = datetime(2019, 6, 24, 2, 0, tzinfo=UTC)  # Mon 10:00 in Beijing
IDLE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)  # between check-ins: nothing due
BUSY = datetime(2019, 7, 23, 2, 0, tzinfo=UTC)  # the second monthly check-in


def build(path: Path, size: int) -> float:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        programme = Programme(
            slug="bench",
            name="Benchmark",
            starts_on=date(2019, 5, 19),
            ends_on=date(2019, 5, 23),
            timezone="Asia/Shanghai",
            language="zh-CN",
            country="CN",
            working_days_only=True,
            acknowledge_replies=True,
            created_at=IMPORTED,
            updated_at=IMPORTED,
        )
        programme.coordinators = [Coordinator(email="o@example.org", name="O", created_at=IMPORTED)]
        programme.rules = [
            FollowUpRule(
                position=0,
                kind="check_in",
                at_time="09:30",
                every_count=1,
                every_unit="month",
                first_on=date(2019, 6, 23),
                count=6,
            ),
            FollowUpRule(position=1, kind="before_due", at_time="09:30", days=7),
            FollowUpRule(position=2, kind="overdue", at_time="09:30", every_days=7, max_count=3),
            FollowUpRule(position=3, kind="escalate", after_unanswered=2),
        ]
        session.add(programme)
        for n in range(size):
            person = Participant(
                programme=programme,
                email=f"p{n}@example.org",
                name=f"P{n}",
                state="active",
                hard_bounces=0,
                next_due_at=REPLAN,
                created_at=IMPORTED,
                updated_at=IMPORTED,
            )
            person.actions = [
                Action(
                    ref=str(k),
                    title=f"Action {k}",
                    due_on=date(2019, 9 + k, 30),
                    position=k,
                    status="not_started",
                    created_at=IMPORTED,
                    updated_at=IMPORTED,
                )
                for k in (1, 2)
            ]
            session.add(person)
    started = time.perf_counter()
    with factory.begin() as session:  # the first plan after an import: everyone is looked at
        plan_due_reminders(session=session, now=datetime(2019, 6, 1, tzinfo=UTC))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def tick(path: Path, now: datetime) -> tuple[float, int, int]:
    engine = make_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory.begin() as session:
        report = plan_due_reminders(session=session, now=now)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, report.participants_checked, len(report.planned)


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [1000, 10000]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"bench-{size}.db"
            first = build(path, size)
            tick(path, FIRST_CHECK_IN)
            idle = tick(path, IDLE)
            busy = tick(path, BUSY)
            rows.append((size, first, idle, busy))
    print(
        "| participants | first plan after import | idle tick (checked, planned) "
        "| busy tick (checked, planned) | busy ms per participant |"
    )
    print("|---|---|---|---|---|")
    for size, first, idle, busy in rows:
        print(
            f"| {size} | {first:.2f} s | {idle[0] * 1000:.1f} ms ({idle[1]}, {idle[2]}) "
            f"| {busy[0]:.2f} s ({busy[1]}, {busy[2]}) | {busy[0] * 1000 / max(busy[1], 1):.2f} |"
        )


if __name__ == "__main__":
    main()
