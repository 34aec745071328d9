"""Exports of actions and updates from a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tracker.programme.reading import read_programme_file
from tracker.services.coordinating import find_participant, record_by_coordinator
from tracker.services.exports import export_table
from tracker.services.importing import import_programme
from tracker.services.schedule import find_programme

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
SLUG = "small-programme"
WANG = "wang.xiaoming@example.org"
MAY = datetime(2019, 5, 24, tzinfo=UTC)


def setup(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        import_programme(
            read_programme_file(SMALL.read_text(encoding="utf-8"), languages=("en", "zh-CN")),
            session=session,
            now=MAY,
        )
        wang = find_participant(WANG, slug=SLUG, session=session)
        record_by_coordinator(
            wang, "1: in progress 40%", session=session, now=datetime(2019, 6, 24, 2, tzinfo=UTC)
        )
        record_by_coordinator(
            wang,
            '1: done =HYPERLINK("http://evil.example")',
            session=session,
            now=datetime(2019, 7, 1, 2, tzinfo=UTC),
        )
        record_by_coordinator(
            wang, "+86 call me", session=session, now=datetime(2019, 7, 2, 2, tzinfo=UTC)
        )


def test_actions_carry_their_latest_update_and_updates_come_oldest_first(
    session_factory: sessionmaker[Session],
) -> None:
    setup(session_factory)
    with session_factory() as session:
        ids = [find_programme(SLUG, session=session).id]
        actions = export_table("actions", session=session, programme_ids=ids)
        action_rows = list(actions.rows)
        updates = list(export_table("updates", session=session, programme_ids=ids).rows)
    first = dict(zip(actions.header, action_rows[0], strict=True))
    assert (first["email"], first["ref"], first["status"], first["percent"]) == (
        WANG,
        "1",
        "done",
        100,
    )
    # In the programme's time zone (Asia/Shanghai), with its offset.
    assert first["last update at"].isoformat() == "2019-07-01T10:00:00+08:00"
    assert first["last update note"] == '=HYPERLINK("http://evil.example")'
    assert first["last update source"] == "coordinator"
    second = dict(zip(actions.header, action_rows[1], strict=True))
    assert (second["ref"], second["status"], second["last update at"]) == ("2", "not_started", None)
    assert len(action_rows) == 3
    assert [(u[5], u[7], u[8], u[9]) for u in updates] == [
        ("1", "in_progress", 40, ""),
        ("1", "done", 100, '=HYPERLINK("http://evil.example")'),
        (None, None, None, "+86 call me"),
    ]


def test_the_export_command_writes_csv_and_xlsx_that_cannot_run_formulas(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    setup(session_factory)
    result = run_tracker("export", "updates", "--programme", SLUG, env=tracker_env)
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert [r["note"] for r in rows] == ["", '\'=HYPERLINK("http://evil.example")', "'+86 call me"]
    assert rows[0]["at"] == "2019-06-24T10:00:00+08:00"

    target = tmp_path / "actions.xlsx"
    written = run_tracker("export", "actions", "--output", str(target), env=tracker_env)
    assert written.code == 0, written.stderr
    assert written.stderr.strip() == f"3 actions row(s) written to {target}"
    sheet = openpyxl.load_workbook(target)["actions"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["programme", "email", "name"]
    assert values[1][12] == '\'=HYPERLINK("http://evil.example")'
    assert values[1][7] == datetime(2019, 9, 30)  # noqa: DTZ001  (a date cell)

    missing = run_tracker("export", "actions", "--programme", "nope", env=tracker_env)
    assert (missing.code, missing.stderr.strip()) == (1, "error: no programme with slug 'nope'")
    assert run_tracker("export", "everything", env=tracker_env).code == 2
