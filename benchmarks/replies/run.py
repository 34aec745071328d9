"""Reply extraction benchmark: the tracker's reader against PyPI peers, over the shared corpus.

Usage: python benchmarks/replies/run.py [CORPUS_DIR]
(or REPLY_CORPUS=… in the environment). Prints a Markdown table and writes it
to benchmarks/replies/RESULTS.md.

How each side is fed, so that the comparison is fair:
- Whole messages (.eml, or .txt fixtures that are RFC 5322): the tracker gets
  the raw bytes; the peers, which read plain text only, get the body text the
  tracker decoded (same charset handling, HTML already turned into text).
- Bare bodies (.txt): everyone gets the same text.
- HTML fragments (talon's html_replies): the tracker converts and strips;
  talon uses its own `extract_from_html` + `html_to_text` (its upstream
  recipe); the text-only peers get the tracker's HTML-to-text output.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO), str(HERE)]

from cases import Case, LabelCase, corpus_cases, label_cases, normalise, own_cases  # noqa: E402
from peers import available_peers  # noqa: E402

from tracker.inbound.html_text import html_to_text  # noqa: E402
from tracker.inbound.mime import body_text, read_message  # noqa: E402
from tracker.inbound.parse import parse_message  # noqa: E402
from tracker.inbound.quotes import strip_quoted_text  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
OWN_FIXTURES = REPO / "tests" / "data" / "replies"


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def ours(case: Case) -> str:
    if case.input_kind == "message":
        return parse_message(case.path.read_bytes()).reply_text
    if case.input_kind == "html":
        return strip_quoted_text(html_to_text(_read_text(case.path)))
    return strip_quoted_text(_read_text(case.path).strip())


def peer_input(case: Case) -> str:
    if case.input_kind == "message":
        text, _ = body_text(read_message(case.path.read_bytes()))
        return text
    if case.input_kind == "html":
        return html_to_text(_read_text(case.path))
    return _read_text(case.path).strip()


def _has_han(text: str) -> bool:
    return any(0x4E00 <= ord(char) <= 0x9FFF for char in text)


def run_extraction(cases: list[Case]) -> list[str]:
    peers = available_peers()
    runners: dict[str, Callable[[Case], str]] = {"tracker": ours}
    for name, peer in peers.items():
        runners[name] = lambda case, peer=peer: peer(peer_input(case), case)  # type: ignore[misc]
    hits: dict[tuple[str, str], int] = defaultdict(int)
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    misses: list[str] = []
    for case in cases:
        groups = [case.source] + (
            ["Chinese cases (all sources)"] if _has_han(case.expected) else []
        )
        for group in groups:
            counts[group] += 1
        for name, runner in runners.items():
            started = time.perf_counter()
            try:
                got = runner(case)
            except Exception as error:  # a peer crashing on a case is a miss, not an abort
                got = f"<error {type(error).__name__}>"
            elapsed = time.perf_counter() - started
            ok = normalise(got, case.judge) == normalise(case.expected, case.judge)
            for group in groups:
                hits[(group, name)] += ok
                seconds[(group, name)].append(elapsed)
            if name == "tracker" and not ok:
                misses.append(f"{case.source}/{case.name}")
    names = list(runners)
    header = "| source | cases | " + " | ".join(f"{n} accuracy" for n in names)
    header += " | " + " | ".join(f"{n} ms/msg" for n in names) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(names))]
    for group in sorted(counts, key=lambda g: (g.startswith("Chinese"), g)):
        row = [group, str(counts[group])]
        row += [f"{100 * hits[(group, n)] / counts[group]:.0f}%" for n in names]
        row += [f"{1000 * statistics.mean(seconds[(group, n)]):.2f}" for n in names]
        lines.append("| " + " | ".join(row) + " |")
    total = len(cases)
    row = ["**all**", str(total)]
    row += [
        f"{100 * sum(hits[(c, n)] for c in counts if not c.startswith('Chinese')) / total:.0f}%"
        for n in names
    ]
    row += ["" for _ in names]
    lines.append("| " + " | ".join(row) + " |")
    if os.environ.get("SHOW_MISSES"):
        print("\n".join(f"miss: {m}" for m in misses), file=sys.stderr)
    return lines


def run_classification(cases: list[LabelCase]) -> list[str]:
    by_source: dict[str, list[tuple[bool, bool, float]]] = defaultdict(list)
    for case in cases:
        started = time.perf_counter()
        parsed = parse_message(case.path.read_bytes())
        elapsed = time.perf_counter() - started
        if case.kind == "not_bounce":
            kind_ok = parsed.kind.value != "bounce"
        else:
            kind_ok = parsed.kind.value == case.kind
        found = set(parsed.bounced_recipients)
        address_ok = not case.addresses or case.addresses <= found
        by_source[case.source].append((kind_ok, kind_ok and address_ok, elapsed))
        if os.environ.get("SHOW_MISSES") and not (kind_ok and address_ok):
            print(
                f"label miss: {case.name} {parsed.kind} {found} want {set(case.addresses)}",
                file=sys.stderr,
            )
    lines = [
        "| source | cases | kind right | kind and failed addresses right | ms/msg |",
        "|---|---|---|---|---|",
    ]
    for source, results in sorted(by_source.items()):
        n = len(results)
        lines.append(
            f"| {source} | {n} | {100 * sum(r[0] for r in results) / n:.0f}% | "
            f"{100 * sum(r[1] for r in results) / n:.0f}% | "
            f"{1000 * statistics.mean(r[2] for r in results):.2f} |"
        )
    return lines


NOTES = """## How to read this

- Peers read plain text only, so for whole messages they get the body text the tracker
  decoded (same charsets, HTML already turned into text); talon gets its own HTML recipe
  for talon's html_replies. Chinese rows are the cases whose expectation holds Han text.
- Deliberate differences (counted as misses, not special-cased): the tracker drops every
  `>`-quoted line, signature block and device trailer, as the CONTRACT asks, while some
  upstream expectations keep them (discourse quote_and_text/quote_only, talon iphone and
  sparrow keep "Sent from my iPhone" / a "-- " signature, alfonsrv email_2_1 and
  email_nl_1_2 keep Outlook's trailing "-----" separator, crisp email_with_regards
  drops a "Regards," closing that the tracker keeps as written text).
- Unquoted text below an attribution with no `>` lines is treated as the earlier mail
  (discourse embedded_email_17/18 expect it kept): reading it would turn the example
  lines of our own reminder into updates.
"""


def main() -> None:
    warnings.filterwarnings("ignore")  # peers' HTML parsers warn about Outlook markup
    corpus = Path(
        sys.argv[1] if len(sys.argv) > 1 else os.environ.get("REPLY_CORPUS", DEFAULT_CORPUS)
    )
    cases = corpus_cases(corpus) + own_cases(OWN_FIXTURES)
    report = [
        "# Reply extraction benchmark",
        "",
        f"Corpus: `{corpus.name}/` plus `tests/data/replies/`. Accuracy: share of cases whose",
        "extracted reply equals the expectation after whitespace normalisation (see cases.py).",
        "",
        *run_extraction(cases),
        "",
        "## Classification (bounces and auto-replies; the peers do not classify)",
        "",
        *run_classification(label_cases(corpus)),
        "",
        NOTES,
    ]
    text = "\n".join(report)
    print(text)
    (HERE / "RESULTS.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
