"""Every client style in tests/data/replies reads as its expectation says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.inbound.parse import parse_message, to_contract_json

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "replies"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def _load(name: str) -> tuple[bytes, dict[str, object]]:
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return (FIXTURES / f"{name}.eml").read_bytes(), expected


def test_fixtures_are_present() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", CASES)
def test_fixture_reads_as_expected(name: str) -> None:
    raw, expected = _load(name)
    parsed = parse_message(raw)
    document = to_contract_json(parsed)
    for key in ("kind", "language", "reply_text", "updates", "token"):
        if key in expected:
            assert document[key] == expected[key], key
    if "bounced" in expected:
        assert list(parsed.bounced_recipients) == expected["bounced"]
    assert parsed.problem is None


@pytest.mark.parametrize("name", CASES)
def test_contract_json_has_exactly_the_contract_keys(name: str) -> None:
    raw, _ = _load(name)
    document = to_contract_json(parse_message(raw))
    assert list(document) == ["kind", "language", "reply_text", "updates", "token"]
    json.dumps(document)  # serialisable as it stands
    for update in document["updates"]:  # type: ignore[attr-defined]
        assert list(update) == ["ref", "status", "percent", "note"]
