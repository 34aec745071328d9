"""How long reading and importing a programme file takes, and how much memory.

    python -m benchmarks.programme.run [participants…]   (default: 2000 20000)

Each size writes the benchmark suite's programme file (five actions a
participant) and runs `tracker import --dry-run`, then the import itself, on
a fresh SQLite database, each in a child process, reporting the file's size,
the time and the peak memory (RSS) of each.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.suite.data import Databases, programme_yaml
from benchmarks.suite.memory import run_measured

NOW = "2019-05-24T00:00:00+00:00"


def main(sizes: list[int]) -> None:
    print("| participants | file MB | import --dry-run s | peak RSS MB | import s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            path = folder / "programme.yaml"
            programme_yaml(size, path)
            env = {
                "PATH": "/usr/bin:/bin",
                "TRACKER_DATABASE_URL": Databases("sqlite", folder).new(),
                "TRACKER_MAX_PROGRAMME_MB": "1000",
            }
            checked = run_measured(["import", str(path), "--dry-run", "--now", NOW], env, folder)
            imported = run_measured(["import", str(path), "--now", NOW], env, folder)
            print(
                f"| {size:,} | {path.stat().st_size / 2**20:.1f} | {checked[1]:.1f} "
                f"| {checked[0]:.0f} | {imported[1]:.1f} | {imported[0]:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [2000, 20000])
