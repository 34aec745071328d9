"""Exporting a large programme streams: time and peak memory for CSV and XLSX.

One command, from the project folder: `python -m benchmarks.exports.run
[actions...]` (default 50000 500000). For each size it builds a SQLite
database with the benchmark suite's generator (five actions a participant)
and gives every action one update, then exports the actions (with their
latest update) as CSV and as XLSX to files, measuring the time and the peak
of memory allocated while exporting (tracemalloc). Prints a Markdown table.
The point: memory stays flat as the programme grows (rows are read with
`yield_per` and written as they come), time grows linearly.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, literal, select

from benchmarks.suite.data import ACTIONS_EACH, Databases, fill
from tracker.db.orm import Action, Programme, Update
from tracker.db.session import make_engine, make_session_factory
from tracker.services.export_files import write_csv, write_xlsx
from tracker.services.exports import export_table

NOW = datetime(2019, 7, 1, tzinfo=UTC)


def build(folder: Path, actions: int) -> str:
    """A database of `actions` actions, each with one update; its URL."""
    url = Databases("sqlite", folder).new()
    fill(url, actions // ACTIONS_EACH)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(Update).from_select(
                ["participant_id", "action_id", "at", "status", "percent", "note", "source",
                 "recorded_at"],
                select(Action.participant_id, Action.id, literal(NOW, Update.at.type),
                       literal("in_progress"), literal(50), literal("进行中 50%"),
                       literal("email"), literal(NOW, Update.recorded_at.type)),
            )
        )  # fmt: skip
    engine.dispose()
    return url


def main(sizes: list[int]) -> None:
    print("| actions | CSV s | CSV peak MB | XLSX s | XLSX peak MB |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            factory = make_session_factory(make_engine(build(Path(folder), size)))
            with factory() as session:
                programme_id = session.scalars(select(Programme.id)).one()
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
