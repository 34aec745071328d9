"""Personal link tokens, page rows and attached files: the pure parts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest

from tracker.core.links import (
    LinkFacts,
    link_expired,
    link_expiry,
    link_matches,
    make_link_token,
    read_link_token,
)
from tracker.core.model import ActionStatus
from tracker.core.page_answers import RowAnswer, settle_row
from tracker.core.tokens import make_reply_token
from tracker.inbound.attachments import attached_files, safe_content_type, safe_filename

KEY = "a-secret-key-long-enough-for-the-tracker"
NOW = datetime(2019, 7, 1, 2, 0, tzinfo=UTC)
FACTS = LinkFacts(participant_id=7, programme_id=2, email="anna@example.org")


def _token(facts: LinkFacts = FACTS, days: int = 60) -> str:
    return make_link_token(facts, expires_on=link_expiry(NOW, days), secret_key=KEY)


def test_a_link_token_verifies_for_its_participant_and_nobody_else() -> None:
    read = read_link_token(_token())
    assert read is not None
    assert read.participant_id == 7
    assert link_matches(read, FACTS, KEY)
    other_email = LinkFacts(participant_id=7, programme_id=2, email="new@example.org")
    other_programme = LinkFacts(participant_id=7, programme_id=3, email="anna@example.org")
    assert not link_matches(read, other_email, KEY)
    assert not link_matches(read, other_programme, KEY)
    assert not link_matches(read, FACTS, KEY + "x")


def test_an_altered_link_token_does_not_verify() -> None:
    token = _token()
    ident, day, signature = token.split(".")
    flipped = signature[:-1] + ("a" if signature[-1] != "a" else "b")
    for altered in (
        f"{ident}.{day}.{flipped}",
        f"8.{day}.{signature}",  # another participant's id under this signature
        f"{ident}.{int(day) + 1}.{signature}",  # a later expiry
    ):
        read = read_link_token(altered)
        assert read is not None
        assert not link_matches(read, FACTS, KEY)
    for junk in ("", "not-a-token", "7.1.short", token + "x", "0.1." + "a" * 26):
        assert read_link_token(junk) is None


def test_a_reply_token_is_not_a_link_token() -> None:
    reply = make_reply_token(7, KEY, nonce="abcdefghijkl")
    assert read_link_token(reply) is None


def test_a_link_expires_after_its_days() -> None:
    read = read_link_token(_token(days=60))
    assert read is not None
    assert read.expires_on == date(2019, 8, 31)
    assert not link_expired(read, NOW + timedelta(days=60))
    assert link_expired(read, NOW + timedelta(days=61))


@pytest.mark.parametrize(
    ("status", "percent", "note", "has_file", "expected"),
    [
        (ActionStatus.NOT_STARTED, None, "", False, None),  # the row as shown: nothing
        (ActionStatus.NOT_STARTED, None, "", True, RowAnswer(status=None, percent=None, note="")),
        (
            ActionStatus.NOT_STARTED,
            None,
            " asked ",
            False,
            RowAnswer(status=None, percent=None, note="asked"),
        ),
        (
            ActionStatus.DONE,
            None,
            "",
            False,
            RowAnswer(status=ActionStatus.DONE, percent=100, note=""),
        ),
        (
            ActionStatus.IN_PROGRESS,
            100,
            "",
            False,
            RowAnswer(status=ActionStatus.DONE, percent=100, note=""),
        ),
        (
            ActionStatus.DONE,
            60,
            "",
            False,
            RowAnswer(status=ActionStatus.IN_PROGRESS, percent=60, note=""),
        ),
        (None, 40, "", False, RowAnswer(status=ActionStatus.IN_PROGRESS, percent=40, note="")),
        (
            ActionStatus.BLOCKED,
            None,
            "budget",
            False,
            RowAnswer(status=ActionStatus.BLOCKED, percent=None, note="budget"),
        ),
    ],
)
def test_a_page_row_follows_the_reply_grammar(
    status: ActionStatus | None,
    percent: int | None,
    note: str,
    has_file: bool,
    expected: RowAnswer | None,
) -> None:
    answer = settle_row(
        current_status=ActionStatus.NOT_STARTED,
        current_percent=None,
        status=status,
        percent=percent,
        note=note,
        has_file=has_file,
    )
    assert answer == expected


def test_a_page_row_refuses_a_percentage_out_of_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        settle_row(
            current_status=ActionStatus.NOT_STARTED,
            current_percent=None,
            status=None,
            percent=120,
            note="",
            has_file=False,
        )


def test_file_names_lose_folders_and_control_characters() -> None:
    assert safe_filename("../../etc/passwd", fallback="x") == "passwd"
    assert safe_filename("C:\\Users\\me\\报告.pdf", fallback="x") == "报告.pdf"
    assert safe_filename("a\r\nBcc: b.pdf", fallback="x") == "aBcc: b.pdf"
    assert safe_filename("...", fallback="attachment-1") == "attachment-1"
    long = safe_filename("x" * 300 + ".pdf", fallback="x")
    assert len(long) <= 200
    assert long.endswith(".pdf")
    assert safe_content_type("Application/PDF; name=x") == "application/pdf"
    assert safe_content_type("text/html\r\nX: y") == "application/octet-stream"


def test_attached_files_are_found_but_inline_images_and_bodies_are_not() -> None:
    message = EmailMessage()
    message["From"] = "anna@example.org"
    message["Subject"] = "Re: follow-up"
    message.set_content("1: done")
    message.add_alternative("<p>1: done</p>", subtype="html")
    message.add_attachment(
        b"%PDF-1.4 plan", maintype="application", subtype="pdf", filename="计划.pdf"
    )
    message.add_attachment(b"\x89PNG logo", maintype="image", subtype="png", filename="logo.png")
    inner = EmailMessage()
    inner["Subject"] = "forwarded"
    inner.set_content("hello")
    message.add_attachment(inner)
    files = attached_files(message.as_bytes())
    assert [(f.filename, f.content_type) for f in files] == [
        ("计划.pdf", "application/pdf"),
        ("logo.png", "image/png"),  # attached (not inline): kept as a file
        ("attachment-3.eml", "message/rfc822"),
    ]
    assert files[0].data == b"%PDF-1.4 plan"
    assert b"forwarded" in files[2].data


def test_a_message_without_files_has_none() -> None:
    message = EmailMessage()
    message.set_content("1: done")
    assert attached_files(message.as_bytes()) == []
