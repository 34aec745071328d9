"""How long reading and importing a programme file takes, and how much memory.

    python benchmarks/programme/run.py [participants…]   (default: 2000 20000)

Each size writes a file like the example (three actions a participant) and
runs `tracker import --dry-run` on a fresh SQLite database in a child
process, reporting the file's size, the time and the peak memory (RSS).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAD = (ROOT / "examples/programme.yaml").read_text(encoding="utf-8").split("participants:")[0]


def programme(participants: int) -> str:
    people = "".join(
        f"  - name: 参与者 {n}\n"
        f"    email: person.{n}@city{n % 50}.example.cn\n"
        f"    organisation: 示例市生态环境局 {n % 50}\n"
        "    actions:\n"
        + "".join(
            f'      - {{ref: "{ref}", title: 行动事项 {ref}：清洁空气, due: 2019-1{ref}-30}}\n'
            for ref in (0, 1, 2)
        )
        for n in range(participants)
    )
    return HEAD + "participants:\n" + people


def main(sizes: list[int]) -> None:
    tracker = Path(sys.executable).parent / "tracker"
    print("| participants | file MB | import --dry-run s | peak RSS MB |")
    print("|---|---|---|---|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "programme.yaml"
            path.write_text(programme(size), encoding="utf-8")
            env = {"TRACKER_DATABASE_URL": f"sqlite:///{folder}/t.db", "PATH": "/usr/bin:/bin"}
            subprocess.run([tracker, "db", "upgrade"], env=env, check=True, capture_output=True)
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            done = subprocess.run(
                [tracker, "import", str(path), "--dry-run"], env=env, capture_output=True, text=True
            )
            elapsed = time.perf_counter() - started
            peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
            mb = path.stat().st_size / 1024 / 1024
            print(f"| {size} | {mb:.1f} | {elapsed:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [2000, 20000])
