"""Hostile mail: the reader's time and memory per shape, at growing sizes.

Usage: python benchmarks/hostile/run.py [--quick]

Each shape is parsed at two or three sizes in a fresh subprocess (so that peak
memory is the shape's own); the table shows seconds, peak RSS, the growth of
time per tenfold (or per step) size, and what the reader made of it. Linear
work grows about as the size does (ratio near the size ratio); a quadratic
step would grow with its square. Writes the table to RESULTS.md beside this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

HEAD = (
    b"From: Zhang Wei <zhangwei@example.cn>\r\nTo: followup@example.org\r\n"
    b"Subject: Re: progress\r\nIn-Reply-To: <tracker.1@example.org>\r\n"
)
HTML = HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n"
PLAIN = HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"


def _nested(depth: int) -> bytes:
    return (
        HEAD
        + b"".join(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
            for i in range(depth)
        )
        + b"Content-Type: text/plain\r\n\r\n1: done\r\n"
    )


SHAPES: dict[str, tuple[Callable[[int], bytes], tuple[int, ...]]] = {
    "Cc of n addresses": (
        lambda n: (
            HEAD
            + b"Cc: "
            + b", ".join(b"u%d@example.org" % i for i in range(n))
            + b"\r\n\r\n1: done\r\n"
        ),
        (1_000, 10_000, 100_000),
    ),
    "1: done, then n newlines": (
        lambda n: PLAIN + b"1: done" + b"\n" * n,
        (40_000, 400_000, 4_000_000),
    ),
    "n lines of text": (
        lambda n: PLAIN + b"1: done\n" + b"more news\n" * n,
        (1_000, 10_000, 100_000),
    ),
    "n 'Sent from my iPhone' lines": (
        lambda n: PLAIN + b"1: done\n" + b"Sent from my iPhone\n" * n,
        (2_000, 20_000, 200_000),
    ),
    "one line of n characters": (
        lambda n: PLAIN + b"1: done " + b"x" * n,
        (10_000, 100_000, 1_000_000),
    ),
    "n '> ' on one line": (
        lambda n: PLAIN + b"1: done\n" + b"> " * n,
        (10_000, 100_000, 1_000_000),
    ),
    "HTML n <p> then n </div>": (
        lambda n: HTML + b"<p>" * n + b"1: done" + b"</div>" * n,
        (8_000, 80_000),
    ),
    "HTML tag with n attributes": (
        lambda n: HTML + b"<div>1: done</div><p " + b"a=1 " * n + b">",
        (24_000, 240_000, 2_400_000),
    ),
    "HTML of n '<'": (
        lambda n: HTML + b"<div>1: done</div>" + b"<" * n,
        (95_000, 950_000, 9_500_000),
    ),
    "HTML of n '<a'": (
        lambda n: HTML + b"<div>1: done</div>" + b"<a" * n,
        (20_000, 200_000, 2_000_000),
    ),
    "HTML of n '<!--'": (
        lambda n: HTML + b"<div>1: done</div>" + b"<!--" * n,
        (20_000, 200_000, 2_000_000),
    ),
    "HTML n nested <div>": (lambda n: HTML + b"<div>" * n + b"1: done", (100, 1_000, 10_000)),
    "multipart nested n levels": (_nested, (10, 100, 1_000)),
    "Cc of n '('": (
        lambda n: HEAD + b"Cc: " + b"(" * n + b"\r\n\r\n1: done\r\n",
        (1_000, 10_000, 90_000),
    ),
    "ref line of n digits": (
        lambda n: PLAIN + b"1: done\n2: in progress 60%\n" + b"9" * n + b":\n",
        (4_301, 43_010, 430_100),
    ),
    "百分之 then n digits": (
        lambda n: PLAIN + "1: 百分之".encode() + b"9" * n,
        (5_000, 50_000, 500_000),
    ),
    "n header fields": (
        lambda n: HEAD + b"X-A: b\r\n" * n + b"\r\n1: done\r\n",
        (100, 1_000, 10_000),
    ),
}

_CHILD = """
import json, resource, sys, time
from tracker.inbound.parse import parse_message
raw = sys.stdin.buffer.read()
start = time.perf_counter()
parsed = parse_message(raw, known_refs=["1", "2"], max_bytes=64 * 1024 * 1024)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
outcome = parsed.problem and f"{parsed.problem}: {parsed.kind_reason}"
outcome = outcome or f"{parsed.kind.value}, {len(parsed.updates)} update(s)"
print(json.dumps({"seconds": seconds, "rss": rss, "outcome": outcome}))
"""


def measure(raw: bytes) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=raw,
        capture_output=True,
        check=True,
        cwd=REPO,
        timeout=600,
    )
    return dict(json.loads(result.stdout))


def main() -> None:
    quick = "--quick" in sys.argv
    rows = [
        "| shape | size n | bytes | seconds | peak RSS MB | time ratio / size ratio | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (build, sizes) in SHAPES.items():
        previous: tuple[int, float] | None = None
        for n in sizes[:2] if quick else sizes:
            raw = build(n)
            found = measure(raw)
            seconds = float(str(found["seconds"]))
            growth = ""
            if previous is not None and previous[1] > 0.002:
                growth = f"{seconds / previous[1]:.1f} / {n / previous[0]:.0f}"
            rows.append(
                f"| {name} | {n:,} | {len(raw):,} | {seconds:.3f} | {found['rss']} | {growth} "
                f"| {found['outcome']} |"
            )
            print(rows[-1], flush=True)
            previous = (n, seconds)
    table = "\n".join(rows)
    if not quick:
        (HERE / "RESULTS.md").write_text(
            "# Hostile mail: time and memory per shape\n\n"
            "`python benchmarks/hostile/run.py` (one subprocess per row; known refs 1 and 2).\n\n"
            + table
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
