"""Updates take the time the participant sent them; resent replies are recorded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import load_programme, reply_to, send_pass
from tracker.db.orm import InboundMessage, Reminder, Update
from tracker.services.intake import ingest, reprocess
from tracker.services.replying import said_at
from tracker.services.review import assign_held, held_messages, update_history
from tracker.services.status import programme_status

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 1, 31, tzinfo=UTC)  # the check-in goes out at 01:31 UTC
WANG = "wang.xiaoming@example.org"


@pytest.fixture
def sent(session_factory: sessionmaker[Session]) -> EmailMessage:
    load_programme(session_factory, IMPORTED)
    return next(m for m in send_pass(session_factory, CHECK_IN) if "wang" in str(m["To"]))


def take(factory: sessionmaker[Session], raw: bytes, now: datetime) -> Any:
    return ingest(raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=now)


def dated(when: datetime) -> dict[str, str]:
    return {"Date": format_datetime(when)}


def action(factory: sessionmaker[Session], ref: str) -> dict[str, Any]:
    with factory() as session:
        document = programme_status(session=session)
    person = next(p for p in document["programmes"][0]["participants"] if p["email"] == WANG)
    return next(a for a in person["actions"] if a["ref"] == ref)


# -- said_at: the Date header, bounded -------------------------------------------------------

RECEIVED = datetime(2019, 6, 24, 12, 0, tzinfo=UTC)
SENT = datetime(2019, 6, 24, 1, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("date", "not_before", "expected"),
    [
        (None, SENT, RECEIVED),  # no Date: when it was received
        (datetime(2019, 6, 24, 9, 0, tzinfo=UTC), SENT, datetime(2019, 6, 24, 9, 0, tzinfo=UTC)),
        (datetime(2019, 6, 30, tzinfo=UTC), SENT, RECEIVED),  # a Date in the future
        (datetime(1999, 1, 1, tzinfo=UTC), SENT, SENT),  # before the reminder was sent
        (datetime(1999, 1, 1, tzinfo=UTC), None, datetime(1999, 1, 1, tzinfo=UTC)),
        # A reminder "sent" after the reply arrived (a replayed clock): only reception bounds it.
        (
            datetime(2019, 6, 24, 9, 0, tzinfo=UTC),
            RECEIVED + timedelta(hours=1),
            datetime(2019, 6, 24, 9, 0, tzinfo=UTC),
        ),
    ],
)
def test_an_update_is_dated_when_it_was_said_within_what_is_possible(
    date: datetime | None, not_before: datetime | None, expected: datetime
) -> None:
    assert said_at(date, received_at=RECEIVED, not_before=not_before) == expected


def test_a_reply_is_recorded_at_its_date_not_when_it_was_read(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    written = datetime(2019, 6, 24, 2, 15, tzinfo=UTC)
    take(session_factory, reply_to(sent, "1: in progress 20%", extra=dated(written)), RECEIVED)
    with session_factory() as session:
        (history,) = update_history(session=session)["updates"]
        reminder = session.scalars(select(Reminder).where(Reminder.kind == "check_in")).first()
    assert history["at"] == written.isoformat()
    assert action(session_factory, "1")["last_update"]["at"] == written.isoformat()
    assert reminder is not None
    assert reminder.answered_at is not None


def test_an_old_message_assigned_late_never_overrides_newer_progress(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    # Monday: written from a private address, held. Wednesday: "done" from the right one.
    monday = datetime(2019, 6, 24, 3, 0, tzinfo=UTC)
    wednesday = datetime(2019, 6, 26, 3, 0, tzinfo=UTC)
    held = take(
        session_factory,
        reply_to(
            sent,
            "1: in progress 40%",
            sender="wang.private@example.net",
            message_id="<old@example.net>",
            extra=dated(monday),
        ),
        monday + timedelta(minutes=5),
    )
    assert (held.state, held.reason) == ("held", "sender_mismatch")
    take(
        session_factory,
        reply_to(sent, "1: done", message_id="<new@example.org>", extra=dated(wednesday)),
        wednesday,
    )
    # Friday: the coordinator vouches for Monday's message.
    assign_held(
        held.inbound_id,
        WANG,
        slug=None,
        session_factory=session_factory,
        now=datetime(2019, 6, 28, 3, 0, tzinfo=UTC),
    )
    state = action(session_factory, "1")
    assert (state["status"], state["percent"]) == ("done", 100)
    assert state["last_update"]["at"] == wednesday.isoformat()
    with session_factory() as session:
        history = update_history(session=session, email=WANG)["updates"]
    assert [(u["at"], u["status"], u["percent"]) for u in history] == [
        (monday.isoformat(), "in_progress", 40),
        (wednesday.isoformat(), "done", 100),
    ]


def test_updates_said_at_the_same_moment_follow_the_order_they_arrived(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    moment = datetime(2019, 6, 24, 3, 0, tzinfo=UTC)
    first = take(
        session_factory,
        reply_to(
            sent,
            "1: in progress 40%",
            sender="wang.private@example.net",
            message_id="<first@example.net>",
            extra=dated(moment),
        ),
        moment + timedelta(minutes=1),
    )
    take(
        session_factory,
        reply_to(sent, "1: blocked", message_id="<second@example.org>", extra=dated(moment)),
        moment + timedelta(minutes=2),
    )
    # Assigned after the second arrived, but it arrived first: "blocked" stands.
    assign_held(
        first.inbound_id,
        WANG,
        slug=None,
        session_factory=session_factory,
        now=moment + timedelta(hours=5),
    )
    assert action(session_factory, "1")["status"] == "blocked"


# -- the same reply resent under a new Message-ID ------------------------------------------


def test_the_same_reply_resent_with_a_new_message_id_is_stored_as_a_duplicate(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    first = take(session_factory, reply_to(sent, "1: done\n2: in progress 60%"), CHECK_IN)
    # The client retries an hour later: new Message-ID, new Date, same words (rewrapped).
    again = take(
        session_factory,
        reply_to(sent, "1: done\n2:  in progress 60%\n", message_id="<resent@example.org>"),
        CHECK_IN + timedelta(hours=1),
    )
    assert (again.state, again.duplicate, again.duplicate_of) == (
        "duplicate",
        False,
        first.inbound_id,
    )
    assert again.detail == (
        f"the same reply as message {first.inbound_id} (same sender, text and reminder, "
        "within a day): nothing recorded again"
    )
    with session_factory() as session:
        assert len(session.scalars(select(Update)).all()) == 2
        states = session.scalars(select(InboundMessage.state).order_by(InboundMessage.id)).all()
    assert states == ["processed", "duplicate"]
    acknowledgements = send_pass(session_factory, CHECK_IN + timedelta(hours=2))
    assert len(acknowledgements) == 1  # one acknowledgement, for the first copy
    assert acknowledgements[0]["In-Reply-To"] == "<reply-1@example.org>"
    # Reprocessing either copy changes nothing.
    for inbound_id in (first.inbound_id, again.inbound_id):
        reprocess(
            [inbound_id],
            session_factory=session_factory,
            secret_key=TEST_SECRET_KEY,
            now=CHECK_IN + timedelta(hours=3),
        )
    with session_factory() as session:
        assert len(session.scalars(select(Update)).all()) == 2
        states = session.scalars(select(InboundMessage.state).order_by(InboundMessage.id)).all()
    assert states == ["processed", "duplicate"]


@pytest.mark.parametrize(
    ("second", "sender", "later", "why"),
    [
        ("1: done\n2: in progress 70%", None, timedelta(hours=1), "different words"),
        ("1: done\n2: in progress 60%", None, timedelta(days=1, minutes=1), "more than a day"),
        (
            "1: done\n2: in progress 60%",
            "wang.private@example.net",
            timedelta(hours=1),
            "another sender (held instead)",
        ),
    ],
)
def test_a_reply_that_differs_is_not_a_duplicate(
    session_factory: sessionmaker[Session],
    sent: EmailMessage,
    second: str,
    sender: str | None,
    later: timedelta,
    why: str,
) -> None:
    take(session_factory, reply_to(sent, "1: done\n2: in progress 60%"), CHECK_IN)
    result = take(
        session_factory,
        reply_to(sent, second, sender=sender, message_id="<second@example.org>"),
        CHECK_IN + later,
    )
    assert result.state != "duplicate", why
    assert result.duplicate_of is None


def test_the_same_words_after_a_change_of_mind_are_recorded_again(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    take(session_factory, reply_to(sent, "1: done"), CHECK_IN)
    take(
        session_factory,
        reply_to(sent, "1: in progress 80%", message_id="<r2@example.org>"),
        CHECK_IN + timedelta(minutes=10),
    )
    third = take(
        session_factory,
        reply_to(sent, "1: done", message_id="<r3@example.org>"),
        CHECK_IN + timedelta(minutes=20),
    )
    assert third.state == "processed"
    assert action(session_factory, "1")["status"] == "done"


def test_a_resent_held_message_assigned_after_its_original_is_a_duplicate(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    original = take(session_factory, reply_to(sent, "2: blocked, no budget"), CHECK_IN)
    copy = take(
        session_factory,
        reply_to(
            sent,
            "2: blocked, no budget",
            to="followup@example.org",
            thread=False,
            message_id="<copy@example.org>",
        ),
        CHECK_IN + timedelta(minutes=5),
    )
    assert (copy.state, copy.reason) == ("held", "unmatched")
    result = assign_held(
        copy.inbound_id,
        WANG,
        slug=None,
        session_factory=session_factory,
        now=CHECK_IN + timedelta(hours=1),
    )
    # No reminder links the copy, so it is not "the same reminder": it is applied.
    assert result.state == "processed"
    assert original.state == "processed"
    with session_factory() as session:
        assert held_messages(session=session) == {"held": []}
