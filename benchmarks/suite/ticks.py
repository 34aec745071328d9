"""Planning ticks as the programme grows: idle (no one due) and busy (everyone due).

For each size: a database of that many participants (5 actions each), the
first plan after the import, then a busy tick at the first check-in (every
participant due: its time divided by the size is the cost per due
participant), then an idle tick a week later (the indexed `next_due_at`
query finds no one).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tracker.db.session import make_engine, make_session_factory
from tracker.services.planning import plan_due_reminders

from .data import Databases, fill
from .sending import plan_first_check_in

IDLE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)


def idle_tick_ms(url: str) -> float:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory.begin() as session:
        planned = plan_due_reminders(session=session, now=IDLE).planned
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert not planned, "an idle tick planned something"
    return elapsed * 1000


def tick_figures(databases: Databases, sizes: tuple[int, ...]) -> dict[str, dict[str, float]]:
    idle: dict[str, float] = {}
    busy: dict[str, float] = {}
    first: dict[str, float] = {}
    for size in sizes:
        url = databases.new()
        fill(url, size)
        first_s, busy_s, planned = plan_first_check_in(url)
        assert planned == size, f"the busy tick planned {planned} of {size}"
        first[str(size)] = first_s * 1000
        busy[str(size)] = busy_s * 1000
        idle[str(size)] = idle_tick_ms(url)
    return {"tick_idle_ms": idle, "tick_busy_ms": busy, "first_plan_ms": first}
