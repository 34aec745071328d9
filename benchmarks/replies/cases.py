"""The benchmark's cases: the shared reply corpus and our own fixtures, with how each is judged.

Every corpus folder says in EXPECTED_SOURCES.json what its expectations mean;
`Case.judge` names the comparison that matches that meaning:

- "text": both sides compared after normalising whitespace (CRLF, trailing
  spaces per line, runs of blank lines, leading and trailing blank space);
- "no_whitespace": all whitespace removed on both sides (talon's HTML tests
  compare this way upstream);
- "markdown": the expectation is Markdown produced by a whole receiver
  pipeline (GitLab); compared as "text" after dropping Markdown emphasis marks,
  so it measures the reply we extract, not a Markdown converter we do not have.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_TRANSPORT_HEADERS = re.compile(
    rb"^(?:received|return-path|message-id|mime-version|content-type|delivered-to|x-[a-z-]+):",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    source: str
    name: str
    path: Path
    expected: str
    judge: str  # "text" | "no_whitespace" | "markdown"
    input_kind: str  # "message" | "text" | "html"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelCase:
    source: str
    name: str
    path: Path
    kind: str  # the MessageKind value expected, or "not_bounce"
    addresses: frozenset[str]  # bounced recipients expected (empty when not a bounce)


def looks_like_message(data: bytes) -> bool:
    """Whether a fixture is a whole RFC 5322 message rather than a bare body."""
    head = data.lstrip()[:4000].split(b"\n\n", 1)[0].replace(b"\r", b"")
    first = head.split(b"\n", 1)[0]
    return bool(_HEADER_LINE.match(first) or first.startswith(b"From ")) and bool(
        _TRANSPORT_HEADERS.search(head)
    )


def _judge_for(source: str, name: str) -> str:
    if source == "mailgun_talon" and name.startswith("html_replies/"):
        return "no_whitespace"
    if source == "gitlab" and name.startswith("html_"):
        return "markdown"
    return "text"


def corpus_cases(root: Path) -> list[Case]:
    cases: list[Case] = []
    for folder in sorted(p for p in root.iterdir() if (p / "EXPECTED.json").is_file()):
        expected = json.loads((folder / "EXPECTED.json").read_text(encoding="utf-8"))
        for name, text in sorted(expected.items()):
            path = folder / name
            if not path.is_file() or not isinstance(text, str):
                continue
            data = path.read_bytes()
            if path.suffix == ".html":
                input_kind = "html"
            elif path.suffix == ".eml" or looks_like_message(data):
                input_kind = "message"
            else:
                input_kind = "text"
            cases.append(
                Case(
                    source=folder.name,
                    name=name,
                    path=path,
                    expected=text,
                    judge=_judge_for(folder.name, name),
                    input_kind=input_kind,
                )
            )
    return cases


def own_cases(folder: Path) -> list[Case]:
    """Our fixtures: NAME.eml beside NAME.expected.json holding at least "reply_text"."""
    cases = []
    for expected_path in sorted(folder.glob("*.expected.json")):
        message = expected_path.with_name(expected_path.name.replace(".expected.json", ".eml"))
        if not message.is_file():
            continue
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        cases.append(
            Case(
                source="tracker (own fixtures)",
                name=message.name,
                path=message,
                expected=expected["reply_text"],
                judge="text",
                input_kind="message",
            )
        )
    return cases


def label_cases(root: Path) -> list[LabelCase]:
    """Classification expectations: flufl_bounce's bounces and the auto-replies in LABELS.json."""
    cases = []
    for labels_path in sorted(root.glob("*/LABELS.json")):
        folder = labels_path.parent
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
        for name, label in sorted(labels.items()):
            path = folder / name
            if not path.is_file() or not isinstance(label, dict):
                continue
            if "is_bounce_or_warning" in label:
                addresses: set[str] = set()
                for detector in label.get("expected_by_detector", []):
                    addresses |= {a.lower() for a in detector.get("addresses", [])}
                # flufl.bounce only says bounce or not: "not_bounce" accepts any other
                # kind. Messages its detectors find no address in are ambiguous (some
                # are a human reply or an auto-reply, some real bounces), and messages
                # no detector recognises (null) carry no expectation: both are skipped.
                if label["is_bounce_or_warning"] is None:
                    continue
                if label["is_bounce_or_warning"] and not addresses:
                    continue
                kind = "bounce" if label["is_bounce_or_warning"] else "not_bounce"
                cases.append(
                    LabelCase(
                        source=folder.name,
                        name=name,
                        path=path,
                        kind=kind,
                        addresses=frozenset(addresses),
                    )
                )
            elif "auto" in str(label.get("expected", "")).lower():
                cases.append(
                    LabelCase(
                        source=folder.name,
                        name=name,
                        path=path,
                        kind="auto_reply",
                        addresses=frozenset(),
                    )
                )
    return cases


def normalise(text: str, judge: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    if judge == "no_whitespace":
        return re.sub(r"\s+", "", text)
    if judge == "markdown":
        text = re.sub(r"(\*\*|__|\*|_|`)(\S.*?\S|\S)\1", r"\2", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
