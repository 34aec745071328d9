"""The reliability loop with a few trials per engine (the full run: `make reliability`)."""

from __future__ import annotations

import os
import random

import pytest

from tests.reliability.faulty_smtp import Fault
from tests.reliability.loop import run_loop
from tests.reliability.parts import Figures
from tests.reliability.table import render_table
from tests.services import service_missing


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_killed_senders_failing_smtp_and_hostile_mail_lose_nothing(engine: str) -> None:
    seed = int(os.environ.get("TRACKER_TEST_SEED") or random.SystemRandom().randrange(2**32))
    report = run_loop(trials=2, seed=seed, engines=(engine,))
    if engine in report.unavailable:
        service_missing(report.unavailable[engine])
    table = render_table(report)
    print(f"\n{table}")
    figures = report.figures[engine]
    assert figures.trials == 2
    assert sum(figures.faults.values()) > 0, table
    assert figures.lost == 0, table
    assert figures.duplicates_beyond_window == 0, table
    assert figures.outbox_balanced, table
    assert figures.inbox_balanced, table
    assert figures.problems == [], table
    assert "result: passed" in table


def test_the_table_says_failed_when_anything_was_lost() -> None:
    lost = Figures(trials=1, planned=2, sent=2, stored=1, processed=1, lost=1)
    assert not lost.ok
    pending = Figures(trials=1, planned=2, sent=1, pending=1)
    assert not pending.outbox_balanced
    unread = Figures(trials=1, stored=2, processed=1, unread=1)
    assert not unread.inbox_balanced
    assert Figures(trials=1, planned=1, sent=1, stored=1, held=1).ok


def test_only_unheard_acceptance_opens_the_duplicate_window() -> None:
    assert Fault(stage="end_of_data", action="accept_reset").keeps_message
    assert Fault(stage="end_of_data", action="stall").keeps_message
    assert not Fault(stage="end_of_data", action="451").keeps_message
    assert not Fault(stage="mid_data", action="drop").keeps_message
