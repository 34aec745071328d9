"""The reader's child processes do not import the program's main module again.

Were it imported, every message would pay for the `tracker` script's imports
(the whole CLI): hundreds of milliseconds instead of a few.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from pathlib import Path

with Path(sys.argv[1]).open("a") as marks:  # runs each time this file is imported
    marks.write(__name__ + "\\n")

from tracker.services.reading import read_within_budget


def main():
    raw = b"From: a@example.org\\r\\nTo: b@example.org\\r\\nSubject: hi\\r\\n\\r\\n1: done\\r\\n"
    for _ in range(3):
        assert read_within_budget(raw).updates
    print("read")


if __name__ == "__main__":
    main()
"""


def test_reading_three_messages_imports_the_main_script_once(tmp_path: Path) -> None:
    script, marks = tmp_path / "reader_main.py", tmp_path / "marks.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(marks)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "read"
    assert marks.read_text(encoding="utf-8").splitlines() == ["__main__"]
