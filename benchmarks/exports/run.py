"""Exporting a large programme streams: time and peak memory for CSV and XLSX.

One command: `python benchmarks/exports/run.py [actions...]` (default 50000
500000). For each size it builds a SQLite database of that many actions (ten
per participant, one update each, bulk-inserted), then exports the actions
(with their latest update) as CSV and as XLSX to files, measuring the time and
the peak of memory allocated while exporting (tracemalloc). Prints a Markdown table.
The point: memory stays flat as the programme grows (rows are read with
`yield_per` and written as they come), time grows linearly.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert

from tracker.db.migrate import upgrade
from tracker.db.orm import Action, Participant, Programme, Update
from tracker.db.session import make_engine, make_session_factory
from tracker.services.export_files import write_csv, write_xlsx
from tracker.services.exports import export_table

NOW = datetime(2019, 7, 1, tzinfo=UTC)
PER_PARTICIPANT = 10


def build(path: Path, actions: int) -> int:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = make_session_factory(engine)
    people = actions // PER_PARTICIPANT
    with factory.begin() as session:
        programme = Programme(
            slug="big",
            name="Big programme",
            starts_on=date(2019, 5, 19),
            ends_on=date(2019, 5, 23),
            timezone="Asia/Shanghai",
            language="zh-CN",
            country="CN",
            working_days_only=True,
            acknowledge_replies=True,
            weekly_digest=True,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(programme)
        session.flush()
        session.execute(
            insert(Participant),
            [
                {
                    "programme_id": programme.id,
                    "email": f"p{n}@example.org",
                    "name": f"参与者 {n}",
                    "organisation": f"单位 {n % 50}",
                    "state": "active",
                    "hard_bounces": 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(people)
            ],
        )
        ids = [
            pid
            for (pid,) in session.execute(
                Participant.__table__.select().with_only_columns(Participant.id)
            )
        ]
        session.execute(
            insert(Action),
            [
                {
                    "participant_id": pid,
                    "ref": str(k + 1),
                    "title": f"行动 {k + 1}：=清洁空气",
                    "due_on": date(2019, 9, 30),
                    "position": k,
                    "status": "in_progress",
                    "percent": 50,
                    "last_update_at": NOW,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for pid in ids
                for k in range(PER_PARTICIPANT)
            ],
        )
        action_rows = session.execute(
            Action.__table__.select().with_only_columns(Action.id, Action.participant_id)
        )
        session.execute(
            insert(Update),
            [
                {
                    "participant_id": pid,
                    "action_id": aid,
                    "at": NOW,
                    "status": "in_progress",
                    "percent": 50,
                    "note": "进行中 50%",
                    "source": "email",
                    "recorded_at": NOW,
                }
                for aid, pid in action_rows
            ],
        )
        return programme.id


def main(sizes: list[int]) -> None:
    print("| actions | CSV s | CSV peak MB | XLSX s | XLSX peak MB |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "big.db"
            programme_id = build(path, size)
            factory = make_session_factory(make_engine(f"sqlite:///{path}"))
            timings = []
            peaks = []
            for writer, name in ((write_csv, "actions.csv"), (write_xlsx, "actions.xlsx")):
                tracemalloc.start()
                start = time.perf_counter()
                with factory() as session, (Path(folder) / name).open("wb") as out:
                    table = export_table("actions", session=session, programme_ids=[programme_id])
                    if writer is write_xlsx:
                        count = write_xlsx(table.header, table.rows, out, title="actions")
                    else:
                        count = write_csv(table.header, table.rows, out)
                assert count == size, count
                timings.append(time.perf_counter() - start)
                peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
                tracemalloc.stop()
            print(
                f"| {size:,} | {timings[0]:.1f} | {peaks[0]:.1f} "
                f"| {timings[1]:.1f} | {peaks[1]:.1f} |"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [50_000, 500_000])
