"""The benchmark command runs end to end at its smallest size (figures are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "tick_idle_ms",
    "tick_busy_ms",
    "send_per_s",
    "send_naive_per_s",
    "smtp_raw_per_s",
    "ingest_per_s",
    "parse_per_s",
    "peer_parse_per_s",
    "peak_rss_mb",
}


def test_benchmark_command_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--databases", "sqlite", "--json",
         str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(output.read_text(encoding="utf-8"))
    assert set(figures) >= KEYS
    assert set(figures["tick_busy_ms"]) == {"20"}
    assert {"import", "busy_tick", "status_json", "send_pass"} <= set(figures["peak_rss_mb"])
    assert all(value > 0 for value in figures["peak_rss_mb"].values())
    assert figures["send_per_s"] > 0
    assert "| send pass, one connection (msg/s) |" in done.stdout


def test_each_smaller_benchmark_prints_its_table() -> None:
    """The one-figure commands run at a tiny size and print a row for it."""
    for module, size, row in (
        ("benchmarks.planning.run", "20", "| 20 |"),
        ("benchmarks.intake.run", "5", "| 5 | sqlite |"),
        ("benchmarks.programme.run", "20", "| 20 |"),
        ("benchmarks.exports.run", "100", "| 100 |"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", module, size],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{module}: {done.stderr}"
        lines = done.stdout.splitlines()
        assert lines[0].startswith("| "), done.stdout
        assert set(lines[1]) <= set("|-: "), done.stdout
        assert lines[2].startswith(row), f"{module}: {done.stdout}"
