"""Taking in replies on real databases: matching, trust, dedupe, crashes, reprocessing."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import SMALL, load_programme, reply_to, send_pass
from tracker.db.orm import InboundMessage, Participant, Reminder, Update
from tracker.errors import TrackerError
from tracker.services import replying
from tracker.services.intake import ingest, process_stored, reprocess
from tracker.services.review import assign_held, discard_held, held_messages, update_history
from tracker.services.status import programme_status
from tracker.services.storing import store_inbound

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 1, 31, tzinfo=UTC)  # Mon 09:31 in Shanghai
LATER = datetime(2019, 6, 24, 3, 0, tzinfo=UTC)


@pytest.fixture
def sent(session_factory: sessionmaker[Session]) -> EmailMessage:
    """The first check-in to wang.xiaoming@example.org, sent for real through the outbox."""
    load_programme(session_factory, IMPORTED)
    messages = send_pass(session_factory, CHECK_IN)
    return next(m for m in messages if "wang.xiaoming" in str(m["To"]))


def take(factory: sessionmaker[Session], raw: bytes, now: datetime = LATER) -> Any:
    return ingest(raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=now)


def actions_of(factory: sessionmaker[Session], email: str) -> dict[str, dict[str, Any]]:
    with factory() as session:
        document = programme_status(session=session)
    person = next(p for p in document["programmes"][0]["participants"] if p["email"] == email)
    return {a["ref"]: a for a in person["actions"]}


def test_a_reply_records_each_action_and_a_general_note(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    body = "1：已完成\n2：进行中 60%，等待预算批复\n另外，下月将组织一次研讨会。"
    result = take(session_factory, reply_to(sent, body, charset="gb18030"))
    assert result.state == "processed"
    assert result.participant == "wang.xiaoming@example.org"
    actions = actions_of(session_factory, "wang.xiaoming@example.org")
    assert (actions["1"]["status"], actions["1"]["percent"]) == ("done", 100)
    assert (actions["2"]["status"], actions["2"]["percent"]) == ("in_progress", 60)
    assert actions["2"]["last_update"] == {
        "at": LATER.isoformat(),
        "note": "等待预算批复",
        "source": "email",
    }
    with session_factory() as session:
        history = update_history(session=session)["updates"]
        reminder = session.get(Reminder, result.reminder_id)
        assert reminder is not None
        assert reminder.answered_at == LATER
    assert [(u["ref"], u["note"]) for u in history][-1] == (None, "另外，下月将组织一次研讨会。")
    assert {u["message_id"] for u in history} == {"<reply-1@example.org>"}


def test_the_same_message_twice_is_recorded_once(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = reply_to(sent, "1: done")
    first = take(session_factory, raw)
    second = take(session_factory, raw, now=datetime(2019, 6, 25, tzinfo=UTC))
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.inbound_id == first.inbound_id
    with session_factory() as session:
        assert len(session.scalars(select(Update)).all()) == 1
        assert len(session.scalars(select(InboundMessage)).all()) == 1


def test_messages_without_a_message_id_are_deduplicated_by_content(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = reply_to(sent, "1: done").replace(b"Message-ID: <reply-1@example.org>\r\n", b"")
    assert b"Message-ID" not in raw
    assert take(session_factory, raw).duplicate is False
    assert take(session_factory, raw).duplicate is True


def test_a_reply_from_another_address_is_held_and_not_applied(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    result = take(
        session_factory, reply_to(sent, "1: done", sender="Mallory <mallory@evil.example.net>")
    )
    assert (result.state, result.reason) == ("held", "sender_mismatch")
    assert actions_of(session_factory, "wang.xiaoming@example.org")["1"]["status"] == "not_started"
    with session_factory() as session:
        held = held_messages(session=session)["held"]
    assert [(h["from"], h["reason"]) for h in held] == [
        ("mallory@evil.example.net", "sender_mismatch")
    ]


def test_a_token_that_does_not_verify_is_held(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    reply_address = str(sent["Reply-To"])
    local, _, domain = reply_address.partition("@")
    forged = local[:-4] + "aaaa@" + domain  # same reminder id, wrong signature
    result = take(session_factory, reply_to(sent, "1: done", to=forged, thread=False))
    assert (result.state, result.reason) == ("held", "bad_token")
    assert actions_of(session_factory, "wang.xiaoming@example.org")["1"]["status"] == "not_started"


def test_a_reply_without_the_token_is_matched_by_our_message_id(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    result = take(session_factory, reply_to(sent, "2: blocked", to="followup@example.org"))
    assert result.state == "processed"
    assert actions_of(session_factory, "wang.xiaoming@example.org")["2"]["status"] == "blocked"


def test_a_message_that_answers_nothing_of_ours_is_held_as_unmatched(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    result = take(
        session_factory, reply_to(sent, "1: done", to="followup@example.org", thread=False)
    )
    assert (result.state, result.reason) == ("held", "unmatched")


def test_an_auto_reply_is_recorded_but_is_not_an_answer(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = reply_to(sent, "我正在休假，6月30日返回。", extra={"Auto-Submitted": "auto-replied"})
    result = take(session_factory, raw)
    assert (result.state, result.kind) == ("processed", "auto_reply")
    with session_factory() as session:
        assert session.scalars(select(Update)).all() == []
        reminder = session.get(Reminder, result.reminder_id)
        assert reminder is not None
        assert reminder.answered_at is None


def test_a_bounce_marks_the_participant_bouncing_and_stops_reminders(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    bounce = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        b"To: followup@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@mx.example.org>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message "
        b"could not be delivered.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; wang.xiaoming@example.org\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n--b--\r\n"
    )
    result = take(session_factory, bounce)
    assert result.kind == "bounce"
    with session_factory() as session:
        person = session.scalars(select(Participant).where(Participant.email.like("wang%"))).one()
        assert person.state == "bouncing"
    later = send_pass(session_factory, datetime(2019, 7, 24, 8, 0, tzinfo=UTC))
    reminders = [m for m in later if m["X-Tracker-Kind"] != "digest"]
    assert [str(m["To"]) for m in reminders] == ["Anna Keller <anna@example.org>"]


def test_unsubscribe_opts_out_and_cancels_what_was_planned(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = reply_to(sent, "退订")
    assert take(session_factory, raw).detail == "opted out"
    with session_factory() as session:
        person = session.scalars(select(Participant).where(Participant.email.like("wang%"))).one()
        assert person.state == "opted_out"
    assert all(
        "wang" not in str(m["To"])
        for m in send_pass(session_factory, datetime(2019, 8, 30, 2, tzinfo=UTC))
    )


def test_a_crash_between_storing_and_processing_loses_nothing(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = reply_to(sent, "1: done")
    with session_factory.begin() as session:  # stored and committed; then the process died
        store_inbound(raw, session=session, source="imap", now=LATER)
    results = process_stored(session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER)
    assert [r.state for r in results] == ["processed"]
    assert (
        process_stored(session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER) == []
    )
    assert actions_of(session_factory, "wang.xiaoming@example.org")["1"]["status"] == "done"


def test_a_failure_while_processing_leaves_the_message_failed_until_reprocessed(
    session_factory: sessionmaker[Session], sent: EmailMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in applying replies\nsecond line")

    monkeypatch.setattr("tracker.services.deciding.apply_reply", broken)
    raw = reply_to(sent, "1: done")
    result = take(session_factory, raw)
    assert (result.state, result.duplicate) == ("failed", False)
    assert result.detail == "processing raised RuntimeError: a bug in applying replies"
    with session_factory() as session:
        assert session.scalars(select(InboundMessage.state)).all() == ["failed"]
        assert session.scalars(select(Update)).all() == []
        held = held_messages(session=session)["held"]
    assert [(h["state"], h["reason"], h["detail"]) for h in held] == [
        ("failed", "failed", "processing raised RuntimeError: a bug in applying replies")
    ]
    assert held[0]["why"].startswith("processing it failed")
    # Never retried on its own: the service's pass leaves it alone.
    assert (
        process_stored(session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER) == []
    )
    monkeypatch.setattr("tracker.services.deciding.apply_reply", replying.apply_reply)
    results = reprocess(
        [result.inbound_id], session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER
    )
    assert [r.state for r in results] == ["processed"]
    assert actions_of(session_factory, "wang.xiaoming@example.org")["1"]["status"] == "done"


def test_reprocessing_replaces_what_a_message_recorded(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    result = take(session_factory, reply_to(sent, "1: done\n2: in progress 30%"))
    for _ in range(2):
        reprocess(
            [result.inbound_id],
            session_factory=session_factory,
            secret_key=TEST_SECRET_KEY,
            now=LATER,
        )
    with session_factory() as session:
        assert len(session.scalars(select(Update)).all()) == 2
        acks = session.scalars(select(Reminder).where(Reminder.kind == "acknowledgement")).all()
        assert len(acks) == 1
    assert actions_of(session_factory, "wang.xiaoming@example.org")["2"]["percent"] == 30


def test_a_coordinator_can_assign_or_discard_a_held_message(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    spoofed = take(session_factory, reply_to(sent, "1: done", sender="wang.private@example.net"))
    other = take(
        session_factory,
        reply_to(sent, "spam", sender="x@example.net", message_id="<other@example.net>"),
    )
    result = assign_held(
        spoofed.inbound_id,
        "Wang.Xiaoming@example.org",
        slug=None,
        session_factory=session_factory,
        now=LATER,
    )
    with session_factory.begin() as session:
        discard_held(other.inbound_id, session=session, now=LATER)
    assert result.updates[0]["status"] == "done"
    assert actions_of(session_factory, "wang.xiaoming@example.org")["1"]["status"] == "done"
    with session_factory() as session:
        assert held_messages(session=session) == {"held": []}
    with (
        pytest.raises(TrackerError, match="not held for review"),
        session_factory.begin() as session,
    ):
        discard_held(spoofed.inbound_id, session=session, now=LATER)


def test_an_acknowledgement_echoes_what_was_recorded_once(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    take(session_factory, reply_to(sent, "2: in progress 60%, waiting for the budget"))
    acks = send_pass(session_factory, LATER)
    assert len(acks) == 1
    assert acks[0]["In-Reply-To"] == "<reply-1@example.org>"
    assert "60%" in acks[0].get_body(("plain",)).get_content()
    assert send_pass(session_factory, LATER) == []


def test_no_acknowledgement_when_the_programme_turns_them_off(
    session_factory: sessionmaker[Session],
) -> None:
    text = SMALL.replace("  country: CN\n", "  country: CN\n  acknowledge_replies: false\n")
    load_programme(session_factory, IMPORTED, text)
    first = next(m for m in send_pass(session_factory, CHECK_IN) if "wang" in str(m["To"]))
    take(session_factory, reply_to(first, "1: done"))
    assert send_pass(session_factory, LATER) == []


def test_a_message_too_large_to_read_is_stored_and_held(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = reply_to(sent, "1: done\n" + "x" * 80 + "\n") + b"y" * (10 * 1024 * 1024)
    result = take(session_factory, raw)
    assert (result.state, result.reason) == ("held", "too_large")
    assert result.detail == "over 10485760 bytes"
    with session_factory() as session:
        assert session.scalars(select(InboundMessage.size)).one() == len(raw)
