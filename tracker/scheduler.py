"""`tracker run`: APScheduler as a metronome over single-pass service functions.

The database is the source of truth; the scheduler holds no job store and no
reminder: each job is a cheap tick that asks the database what is due. So a
restart loses nothing, several processes may run (on PostgreSQL), and an edit
to the rules takes effect on the next tick.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tick:
    """One periodic job: a name, how often, and the pass it runs."""

    name: str
    seconds: int
    run: Callable[[threading.Event], Any]


def run_service(ticks: list[Tick], *, stop: threading.Event | None = None) -> None:
    """Run the ticks on their intervals until SIGTERM or SIGINT, then stop cleanly.

    Each job is coalesced (missed runs collapse into one), never overlaps
    itself (max_instances=1), and is skipped rather than run late by more
    than its own interval. On a signal, `stop` is set, which a pass checks
    between messages (it finishes the message in flight and releases the
    rest), and the scheduler waits for running passes to return.
    """
    stop = stop or threading.Event()
    scheduler = BlockingScheduler(timezone="UTC")
    for tick in ticks:
        scheduler.add_job(
            _guarded(tick, stop),
            "interval",
            seconds=tick.seconds,
            id=tick.name,
            name=tick.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=tick.seconds,
            next_run_time=datetime.now(UTC),  # the first pass at once
        )

    def shut_down(signum: int, _frame: FrameType | None) -> None:
        log.info("action=service.stopping signal=%s", signal.Signals(signum).name)
        stop.set()
        # Off the signal handler: shutdown(wait=True) joins the running passes.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    previous = {sig: signal.signal(sig, shut_down) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("action=service.started jobs=%s", ",".join(t.name for t in ticks))
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("action=service.stopped")


def _guarded(tick: Tick, stop: threading.Event) -> Callable[[], None]:
    """A pass that logs its failure instead of killing the service."""

    def job() -> None:
        if stop.is_set():
            return
        try:
            tick.run(stop)
        except Exception:
            # The next tick tries again; the database keeps every row safe.
            log.exception("action=tick.failed job=%s", tick.name)

    return job
