"""Peak memory (RSS) of the tracker's own commands, each in a child process.

One programme of `participants` × 5 actions goes through the commands a
coordinator runs, in order, each as `tracker …` in its own process, whose
peak RSS the kernel reports when it ends (`os.wait4`'s resource usage, per
child, read by a small parent process): import the file, a busy planning
pass (`send-due --dry-run` at the first check-in, when everyone is due),
`status --json`, both exports, and the send pass itself (to the SMTP sink).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .data import programme_yaml
from .sending import FIRST_CHECK_IN, IDENTITY

TRACKER = Path(sys.executable).parent / "tracker"


def _environment(url: str, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TRACKER_DATABASE_URL": url,
        "TRACKER_SECRET_KEY": IDENTITY.secret_key,
        "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "TRACKER_FROM": IDENTITY.from_header,
        "TRACKER_SEND_RATE": "1000000",
        "TRACKER_MAX_PROGRAMME_MB": "1000",
    }


# A small parent for each command: on Linux a child's peak RSS starts from
# its parent's at fork time, so measured straight from this (large) process
# every command would seem to need at least what the benchmark itself holds.
_WRAPPER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:], stdout=open(sys.argv[1] + ".out", "wb"),
                         stderr=open(sys.argv[1] + ".err", "wb"))
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_measured(arguments: list[str], env: dict[str, str], folder: Path) -> tuple[float, float]:
    """Run `tracker ARGUMENTS`; (peak RSS in MB, seconds). Output goes to files."""
    result = folder / "measured.txt"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(result), str(TRACKER), *arguments],
        env=env, cwd=folder, check=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    code, peak_kb = (int(word) for word in result.read_text().split())
    if code != 0:
        problem = Path(f"{result}.err").read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"tracker {' '.join(arguments)} failed: {problem}")
    return peak_kb / 1024, elapsed


def peak_rss(url: str, port: int, participants: int, folder: Path) -> dict[str, dict[str, float]]:
    """{operation: {"mb": peak RSS, "s": seconds}} for one programme on the empty database `url`."""
    env = _environment(url, port)
    path = folder / "programme.yaml"
    programme_yaml(participants, path)
    now = FIRST_CHECK_IN.isoformat()
    steps = {
        "import": ["import", str(path), "--now", "2019-05-24T00:00:00+00:00"],
        "busy_tick": ["send-due", "--dry-run", "--now", now],
        "status_json": ["status", "--json"],
        "export_actions": ["export", "actions", "--output", str(folder / "actions.csv")],
        "send_pass": ["send-due", "--now", now],
        "export_updates": ["export", "updates", "--output", str(folder / "updates.csv")],
    }
    measured: dict[str, dict[str, float]] = {}
    for name, arguments in steps.items():
        mb, seconds = run_measured(arguments, env, folder)
        measured[name] = {"mb": round(mb, 1), "s": round(seconds, 2)}
    return measured
