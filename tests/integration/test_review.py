"""Review is safe to decide on: a held message shown as the tracker reads it, with why."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.integration.test_reading import never_finishes
from tests.mailflow import load_programme, reply_to, send_pass
from tracker.errors import NotFoundError, TrackerError
from tracker.services.intake import ingest
from tracker.services.reading import ReadingLimits
from tracker.services.review import REASON_WORDS, assign_held, held_messages, show_message

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 1, 31, tzinfo=UTC)
LATER = datetime(2019, 6, 24, 3, 0, tzinfo=UTC)
BAD_TOKEN_WORDS = (
    "the reply token does not verify: the message answers a reminder from another "
    "installation, or it was altered"
)


@pytest.fixture
def sent(session_factory: sessionmaker[Session]) -> EmailMessage:
    load_programme(session_factory, IMPORTED)
    return next(m for m in send_pass(session_factory, CHECK_IN) if "wang" in str(m["To"]))


def take(factory: sessionmaker[Session], raw: bytes, **kwargs: Any) -> Any:
    return ingest(
        raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=LATER, **kwargs
    )


def forged_token(sent: EmailMessage) -> str:
    local, _, domain = str(sent["Reply-To"]).partition("@")
    return local[:-4] + "aaaa@" + domain


def test_every_hold_reason_has_one_plain_sentence() -> None:
    for reason, words in REASON_WORDS.items():
        assert words[0].islower(), reason
        assert "_" not in words, reason
        assert words.count(". ") == 0, reason
    assert REASON_WORDS["bad_token"] == BAD_TOKEN_WORDS


def test_a_message_with_a_forged_token_is_shown_with_why_and_what_it_would_record(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = reply_to(
        sent,
        "1：已完成\n2：进行中 60%，等待预算批复",
        to=forged_token(sent),
        thread=False,
        extra={"Date": "Mon, 24 Jun 2019 10:15:00 +0800"},
    )
    held = take(session_factory, raw)
    with session_factory() as session:
        (listed,) = held_messages(session=session)["held"]
    assert (listed["reason"], listed["why"]) == ("bad_token", BAD_TOKEN_WORDS)
    view = show_message(held.inbound_id, session_factory=session_factory)
    assert (view.state, view.reason, view.why) == ("held", "bad_token", BAD_TOKEN_WORDS)
    headers = dict(view.headers)
    assert "wang.xiaoming@example.org" in headers["From"]
    assert headers["To"] == forged_token(sent)
    assert headers["Date"] == "Mon, 24 Jun 2019 10:15:00 +0800"
    assert headers["Subject"].startswith("Re: ")
    assert view.reply_text == "1：已完成\n2：进行中 60%，等待预算批复"
    assert view.participant is None  # nobody vouched for it: read with numbered refs
    assert list(view.updates) == [
        {"ref": "1", "status": "done", "percent": 100, "note": ""},
        {"ref": "2", "status": "in_progress", "percent": 60, "note": "等待预算批复"},
    ]
    assert view.raw == raw
    assert view.to_json()["size"] == len(raw)


def test_a_message_from_another_sender_is_read_with_the_participants_refs(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    held = take(
        session_factory,
        reply_to(sent, "2: blocked\n7: done", sender="Wang <wang.private@example.net>"),
    )
    view = show_message(held.inbound_id, session_factory=session_factory)
    assert view.reason == "sender_mismatch"
    assert view.detail == (
        f"sent by wang.private@example.net, reminder {held.reminder_id} went to "
        "wang.xiaoming@example.org"
    )
    assert view.participant == "wang.xiaoming@example.org"
    assert [u["ref"] for u in view.updates] == ["2"]
    assert view.unknown_refs == ("7",)


def test_a_message_too_complex_to_read_is_shown_with_the_reason_and_its_raw_bytes(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    slow = ReadingLimits(budget_seconds=0.5, reader=never_finishes)
    raw = reply_to(sent, "1: done")
    held = take(session_factory, raw, limits=slow)
    view = show_message(held.inbound_id, session_factory=session_factory, limits=slow)
    assert (view.reason, view.why) == ("too_complex", REASON_WORDS["too_complex"])
    assert view.reading_problem == "too_complex: reading it took longer than the 0.5 s allowed"
    assert view.reply_text == ""
    assert view.updates == ()
    assert view.raw == raw
    with pytest.raises(TrackerError, match="cannot be assigned: the tracker cannot read it"):
        assign_held(
            held.inbound_id,
            "wang.xiaoming@example.org",
            slug=None,
            session_factory=session_factory,
            now=LATER,
            limits=slow,
        )
    with session_factory() as session:
        assert [h["id"] for h in held_messages(session=session)["held"]] == [held.inbound_id]


def test_a_processed_message_can_be_shown_too_but_waits_for_nobody(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    done = take(session_factory, reply_to(sent, "1: done"))
    view = show_message(done.inbound_id, session_factory=session_factory)
    assert (view.state, view.reason, view.why) == ("processed", None, None)
    with pytest.raises(NotFoundError, match="no inbound message 99"):
        show_message(99, session_factory=session_factory)
