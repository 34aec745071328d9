"""The CPU a reply costs through `ingest`, in this process and in the reader processes.

One command, from the project folder: `python -m benchmarks.intake.run
[replies] [--postgresql] [--profile]` (default 200 replies, SQLite). It builds
a programme of that many participants with the benchmark suite's generator,
sends the first check-in to a local sink, then ingests a typical reply to each
reminder (`benchmarks/suite/replies.py`) and prints a Markdown row, per reply:
the wall time, this process's CPU (`time.process_time()`), and the reader
side's CPU (the fork server is stopped at the end and reaps every reader
process, so its `RUSAGE_CHILDREN` holds theirs). Wall time on a shared machine
swings widely; the CPU figures are the ones to compare. `--profile` also
writes a cProfile of the ingest loop to `intake.prof` and prints its top
entries.
"""

from __future__ import annotations

import cProfile
import multiprocessing.forkserver
import os
import pstats
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.suite import sending
from benchmarks.suite.data import Databases, fill
from benchmarks.suite.replies import replies_to_sent
from benchmarks.suite.sending import FIRST_CHECK_IN, IDENTITY
from benchmarks.suite.sink import running_sink
from tracker.db.session import make_engine, make_session_factory
from tracker.services.intake import ingest
from tracker.services.reading import close_idle_readers


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> None:
    count = int(next((a for a in argv if a.isdigit()), "200"))
    kind = "postgresql" if "--postgresql" in argv else "sqlite"
    with tempfile.TemporaryDirectory() as folder:
        databases = Databases(kind, Path(folder))
        try:
            with running_sink() as port:
                planned = databases.new()
                fill(planned, count)
                sending.plan_first_check_in(planned)
                sent = databases.new(template=planned)
                sending.send_pass(sent, port)
            measure(sent, count, kind, profile="--profile" in argv)
        finally:
            databases.close()


def measure(url: str, count: int, kind: str, *, profile: bool) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    replies = replies_to_sent(factory, count)
    now = FIRST_CHECK_IN + timedelta(hours=3)
    profiler = cProfile.Profile() if profile else None
    load = os.getloadavg()
    children, wall, cpu = children_cpu(), time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    for raw in replies:
        result = ingest(
            raw, session_factory=factory, secret_key=IDENTITY.secret_key, source="bench", now=now
        )
        if result.state != "processed":
            raise RuntimeError(f"a benchmark reply was not recorded: {result}")
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    close_idle_readers()
    multiprocessing.forkserver._forkserver._stop()  # reaps the fork server (and so its readers)
    readers = children_cpu() - children
    engine.dispose()
    n = len(replies)
    print("| replies | database | wall (ms; per s) | CPU (ms) | of which intake | of which reading "
          "| load average |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {n} | {kind} | {1000 * wall / n:.1f}; {n / wall:.1f} "
        f"| {1000 * (cpu + readers) / n:.1f} | {1000 * cpu / n:.1f} | {1000 * readers / n:.1f} "
        f"| {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} |"
    )
    if profiler is not None:
        profiler.dump_stats("intake.prof")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main(sys.argv[1:])
