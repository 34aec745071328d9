"""One command for every performance figure: `python -m benchmarks` (or `make bench`).

    python -m benchmarks                 # sizes 1k and 10k, SQLite and PostgreSQL
    python -m benchmarks --quick --json bench.json   # small sizes, under two minutes
    python -m benchmarks --large         # adds 100k participants (500k actions)
    python -m benchmarks --databases sqlite

Prints one Markdown table (a column per database); `--json FILE` also writes
the figures: at the top level those of the first database (with `database`
naming it), and under each database's name its own. docs/performance.md
explains each figure and what limits it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .suite import replies, sending, ticks
from .suite.data import Databases, fill, postgres_available
from .suite.memory import peak_rss
from .suite.sink import running_sink


@dataclass(frozen=True, slots=True)
class Sizes:
    ticks: tuple[int, ...]
    send: int
    raw: int
    ingest: int
    memory: int
    seconds: float  # how long each parse rate is measured


SIZES = {
    "smoke": Sizes(ticks=(20,), send=10, raw=20, ingest=3, memory=10, seconds=0.05),
    "quick": Sizes(ticks=(200, 1000), send=300, raw=1000, ingest=30, memory=300, seconds=1),
    "full": Sizes(ticks=(1000, 10000), send=2000, raw=3000, ingest=200, memory=5000, seconds=3),
}


def measure_database(kind: str, sizes: Sizes, port: int, folder: Path) -> dict[str, Any]:
    databases = Databases(kind, folder)
    try:
        figures: dict[str, Any] = ticks.tick_figures(databases, sizes.ticks)
        planned = databases.new()
        fill(planned, sizes.send)
        sending.plan_first_check_in(planned)
        messages = sending.sample_messages(databases.new(template=planned), port, sizes.raw)
        figures["smtp_raw_per_s"] = sending.smtp_raw(port, messages)
        figures["send_per_s"] = sending.send_pass(databases.new(template=planned), port)
        figures["send_naive_per_s"] = sending.send_pass(
            databases.new(template=planned), port, naive=True
        )
        figures["send_3_connections_per_s"] = sending.send_pass(
            databases.new(template=planned), port, connections=3
        )
        figures["send_ratio"] = figures["send_per_s"] / figures["smtp_raw_per_s"]
        if kind == "postgresql":
            figures["send_2_processes_per_s"] = sending.two_processes_per_s(
                databases.new(template=planned), port
            )
        sent = databases.new(template=planned)
        sending.send_pass(sent, port)
        figures["ingest_per_s"] = replies.ingest_per_s(sent, sizes.ingest)
        figures["peak_rss_mb"] = {}
        figures["peak_rss_participants"] = sizes.memory
        memory = peak_rss(databases.new(), port, sizes.memory, folder)
        figures["peak_rss_mb"] = {name: m["mb"] for name, m in memory.items()}
        figures["command_s"] = {name: m["s"] for name, m in memory.items()}
        return figures
    finally:
        databases.close()


def _table(results: dict[str, dict[str, Any]]) -> str:
    kinds = list(results)
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, pick: Any) -> None:
        rows.append((label, [pick(results[kind]) for kind in kinds]))

    first = results[kinds[0]]
    for size in first["tick_idle_ms"]:
        add(f"idle tick, {size} participants (ms)", lambda r, s=size: f"{r['tick_idle_ms'][s]:.1f}")
        add(
            f"busy tick, {size} due (ms per participant)",
            lambda r, s=size: f"{r['tick_busy_ms'][s] / int(s):.3f}",
        )
    add("bare smtplib, one connection (msg/s)", lambda r: f"{r['smtp_raw_per_s']:.0f}")
    add("send pass, one connection (msg/s)", lambda r: f"{r['send_per_s']:.0f}")
    add("send pass / bare smtplib", lambda r: f"{r['send_ratio']:.0%}")
    add("send, a connection per message (msg/s)", lambda r: f"{r['send_naive_per_s']:.0f}")
    add("send, 3 connections (msg/s)", lambda r: f"{r['send_3_connections_per_s']:.0f}")
    add(
        "send, 2 processes sharing the outbox (msg/s)",
        lambda r: f"{r['send_2_processes_per_s']:.0f}" if "send_2_processes_per_s" in r else "-",
    )
    add("ingest, whole intake (replies/s)", lambda r: f"{r['ingest_per_s']:.0f}")
    add("parse a 5 KB reply (per s)", lambda r: f"{r['parse_per_s']:.0f}")
    for peer in first["peer_parse_per_s"]:
        add(f"  peer {peer} (per s)", lambda r, p=peer: f"{r['peer_parse_per_s'][p]:.0f}")
    add("parse a 1 MB single-line body (s)", lambda r: f"{r['big_line_parse_s']:.2f}")
    for operation in first["peak_rss_mb"]:
        add(
            f"peak RSS {operation}, {first['peak_rss_participants']} participants (MB; s)",
            lambda r, o=operation: f"{r['peak_rss_mb'][o]:.0f}; {r['command_s'][o]:.1f}",
        )
    lines = ["| figure | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes only (under two minutes)")
    parser.add_argument("--smoke", action="store_true", help="the tiniest sizes (CI: keys only)")
    parser.add_argument("--large", action="store_true", help="add 100k participants")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = SIZES["smoke" if args.smoke else "quick" if args.quick else "full"]
    if args.large:
        sizes = Sizes(**{**sizes.__dict__, "ticks": (*sizes.ticks, 100_000), "memory": 100_000})
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    if "postgresql" in kinds and (why := postgres_available()) is not None:
        print(f"PostgreSQL left out: {why}", file=sys.stderr)
        kinds.remove("postgresql")
    shared = {
        "parse_per_s": replies.parse_per_s(sizes.seconds),
        "peer_parse_per_s": replies.peer_parse_per_s(sizes.seconds),
        "big_line_parse_s": replies.big_line_parse_s(),
    }
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder, running_sink() as port:
        for kind in kinds:
            print(f"measuring on {kind}…", file=sys.stderr)
            results[kind] = {**shared, **measure_database(kind, sizes, port, Path(folder))}
    print(_table(results))
    if args.json is not None:
        document: dict[str, Any] = {
            "database": kinds[0],
            **results[kinds[0]],
            **results,
            "machine": {
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg(),
                "python": platform.python_version(),
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        }
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
