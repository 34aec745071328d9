"""Running the real `tracker` console script in a subprocess, as users do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def tracker_executable() -> str:
    found = shutil.which("tracker", path=str(Path(sys.executable).parent))
    assert found, "the tracker console script is not installed (pip install -e .)"
    return found


def run_tracker(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    input: str | bytes | None = None,
    timeout: float = 120,
) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    full_env.update(env or {})
    data = input.encode("utf-8") if isinstance(input, str) else input
    completed = subprocess.run(
        [tracker_executable(), *args],
        env=full_env,
        cwd=cwd,
        input=data,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Result(
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )
