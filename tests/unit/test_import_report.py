"""An import's report: every change counted, the first `keep` of them kept to be listed."""

from __future__ import annotations

import pytest

from tracker.services.import_report import Change, ImportReport

CHANGES = [
    Change(entity="participant", subject=f"participant p{n}@example.org", what="new")
    for n in range(4)
] + [Change(entity="action", subject="action 1 of p0@example.org", what="archived")]


@pytest.mark.parametrize("keep", [0, 2, 5, 6, None])
def test_a_report_counts_every_change_and_keeps_the_first(keep: int | None) -> None:
    report = ImportReport(slug="p", keep=keep)
    report.add(*CHANGES[:2])
    report.add(*CHANGES[2:])
    assert report.changes == CHANGES[:keep]
    assert report.total == len(CHANGES)
    assert report.complete == (keep is None or keep >= len(CHANGES))
    assert report.summary() == "1 action archived, 4 participants new"
    assert report.changed


def test_an_empty_report_is_complete_and_unchanged() -> None:
    report = ImportReport(slug="p", keep=0)
    assert (report.complete, report.changed, report.summary()) == (True, False, "")
