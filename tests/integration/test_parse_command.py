"""`tracker parse` as a user runs it: the contract document, `--refs`, and what it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run_tracker
from tracker.inbound.parse import parse_message, to_contract_json

REPLY = (
    "From: Grace Mwangi <grace@example.org>\r\nTo: followup+42.abcdefghijklmnop@example.org\r\n"
    "Subject: Re: progress\r\nIn-Reply-To: <tracker.42@example.org>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Hi Amina,\r\n\r\nA - started, about 30% done\r\nC: done\r\n"
    "Could you send me the template?\r\n\r\nBest regards, Grace\r\n"
)


@pytest.fixture
def reply(tmp_path: Path) -> Path:
    path = tmp_path / "reply.eml"
    path.write_bytes(REPLY.encode())
    return path


def test_parse_with_refs_reads_as_intake_does(reply: Path) -> None:
    result = run_tracker("parse", str(reply), "--refs", "A,B", "--json")
    assert result.code == 0, result.stderr
    # The same call intake makes for a participant whose actions are A and B.
    expected = to_contract_json(parse_message(reply.read_bytes(), known_refs=["A", "B"]))
    assert result.json() == expected
    result = run_tracker("parse", str(reply), "--refs", "A,B", "--json", "--details")
    document = result.json()
    assert {key: document[key] for key in expected} == expected
    assert document["updates"] == [
        {"ref": "A", "status": "in_progress", "percent": 30, "note": "started"}
    ]
    assert document["unknown_refs"] == ["C"]
    assert document["questions"] == ["Could you send me the template?"]
    assert document["general_note"] == "Could you send me the template?"
    assert (document["sender"], document["sender_problem"]) == ("grace@example.org", None)


def test_parse_text_names_unknown_refs_questions_and_an_untrusted_sender(
    tmp_path: Path,
) -> None:
    path = tmp_path / "forged.eml"
    path.write_bytes(
        REPLY.replace(
            "Grace Mwangi <grace@example.org>", "grace@example.org <eve@evil.example>"
        ).encode()
    )
    result = run_tracker("parse", str(path), "--refs", "A, B")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "update A: in_progress 30% — started" in lines
    assert "unknown:   no action C; the refs given are A, B" in lines
    assert "question:  Could you send me the template?" in lines
    assert (
        "sender:    not trusted: the From display name is another address (grace@example.org)"
        in lines
    )


def test_parse_without_refs_reads_numbers_only(reply: Path) -> None:
    result = run_tracker("parse", str(reply), "--json", "--details")
    assert result.code == 0, result.stderr
    assert result.json()["updates"] == []
    assert result.json()["unknown_refs"] == []


@pytest.mark.parametrize("refs", ["", " , "])
def test_parse_with_empty_refs_is_bad_usage(reply: Path, refs: str) -> None:
    result = run_tracker("parse", str(reply), "--refs", refs)
    assert result.code == 2
    assert "--refs" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_of_hostile_mail_says_why_in_one_document(tmp_path: Path) -> None:
    path = tmp_path / "cc.eml"
    cc = ", ".join(f"u{i}@example.org" for i in range(5000))
    path.write_bytes(REPLY.replace("Subject:", f"Cc: {cc}\r\nSubject:").encode())
    result = run_tracker("parse", str(path), "--json", "--details")
    assert result.code == 0, result.stderr
    assert result.json()["problem"] == "too_complex"
    assert result.json()["problem_reason"] == "more than 1000 addresses in Cc"
