"""How long a planning tick takes as the database grows, with little or much due.

One command, from the project folder: `python -m benchmarks.planning.run
[sizes...]` (default 1000 10000). For each size it builds a SQLite database
of that many participants with the benchmark suite's generator (five actions
each, the example's four follow-up rules), then times the first plan after
the import, a busy tick (the first check-in: every participant is due) and an
idle tick (a week later: the indexed `next_due_at` query finds no one).
Prints a Markdown table. The point: an idle tick costs the same whatever the
size; a busy tick grows with the work. `python -m benchmarks` measures the
same ticks on both engines, among its other figures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.suite.data import Databases
from benchmarks.suite.ticks import tick_figures


def main(sizes: list[int]) -> None:
    print("| participants | first plan | busy tick | ms per due participant | idle tick |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            figures = tick_figures(Databases("sqlite", Path(folder)), (size,))
            first, busy, idle = (figures[key][str(size)] for key in
                                 ("first_plan_ms", "tick_busy_ms", "tick_idle_ms"))  # fmt: skip
            print(
                f"| {size:,} | {first / 1000:.2f} s | {busy / 1000:.2f} s "
                f"| {busy / size:.3f} | {idle:.1f} ms |",
                flush=True,
            )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 10000])
