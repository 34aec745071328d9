"""Reply tokens under attack: every forged, altered, borrowed or replayed token is held for a
coordinator with a reason in plain words, and never changes an action."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import load_programme, reply_to, send_pass
from tracker.core.tokens import make_reply_token
from tracker.db.orm import InboundMessage, Reminder
from tracker.services.intake import ingest
from tracker.services.review import REASON_WORDS, why_waiting
from tracker.services.status import programme_status

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)  # after 09:30 in Beijing and in Berlin
LATER = datetime(2019, 6, 24, 9, 0, tzinfo=UTC)
WANG = "wang.xiaoming@example.org"
ANNA = "anna@example.org"


@pytest.fixture
def sent(session_factory: sessionmaker[Session]) -> dict[str, EmailMessage]:
    load_programme(session_factory, IMPORTED)
    messages = send_pass(session_factory, CHECK_IN)
    return {
        address: next(m for m in messages if address in str(m["To"]).lower())
        for address in (WANG, ANNA)
    }


def token_address(message: EmailMessage) -> tuple[str, str]:
    local, _, domain = str(message["Reply-To"]).partition("@")
    return local, domain


def take(factory: sessionmaker[Session], raw: bytes) -> Any:
    return ingest(
        raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=LATER
    )


def statuses(factory: sessionmaker[Session], email: str) -> dict[str, str]:
    with factory() as session:
        document = programme_status(session=session)
    person = next(p for p in document["programmes"][0]["participants"] if p["email"] == email)
    return {a["ref"]: a["status"] for a in person["actions"]}


def reason_shown(factory: sessionmaker[Session], inbound_id: int) -> str:
    with factory() as session:
        inbound = session.get(InboundMessage, inbound_id)
        assert inbound is not None
        return why_waiting(inbound)


def forged_signature(local: str) -> str:
    return local[:-4] + ("aaaa" if not local.endswith("aaaa") else "bbbb")


def other_installation(factory: sessionmaker[Session], local: str) -> str:
    """The same reminder's id and nonce, signed with another installation's key."""
    with factory() as session:
        reminder = next(
            r for r in session.query(Reminder) if (r.message_id and WANG in str(r.id)) or True
        )
        del reminder
    prefix = local.split("+", 1)[0]
    with factory() as session:
        row = session.query(Reminder).filter(Reminder.participant_id.isnot(None)).first()
        assert row is not None
        token = make_reply_token(row.id, "another-installations-secret-key-0123", nonce=row.nonce)
    return f"{prefix}+{token}"


@pytest.mark.parametrize(
    "variant",
    ["forged signature", "truncated", "extended", "another installation's key", "no token left"],
)
def test_an_altered_token_is_held_as_not_verifying_and_changes_nothing(
    session_factory: sessionmaker[Session], sent: dict[str, EmailMessage], variant: str
) -> None:
    local, domain = token_address(sent[WANG])
    prefix, _, token = local.partition("+")
    altered = {
        "forged signature": forged_signature(local),
        "truncated": f"{prefix}+{token[:-6]}",
        "extended": f"{prefix}+{token}x9",
        "another installation's key": other_installation(session_factory, local),
        "no token left": f"{prefix}+",
    }[variant]
    result = take(
        session_factory, reply_to(sent[WANG], "1: done", to=f"{altered}@{domain}", thread=False)
    )
    assert result.state == "held"
    assert result.reason in ("bad_token", "unmatched")
    assert reason_shown(session_factory, result.inbound_id) == REASON_WORDS[result.reason]
    assert statuses(session_factory, WANG)["1"] == "not_started"


def test_another_participants_token_is_held_as_the_wrong_sender(
    session_factory: sessionmaker[Session], sent: dict[str, EmailMessage]
) -> None:
    local, domain = token_address(sent[ANNA])
    raw = reply_to(sent[WANG], "1: done", to=f"{local}@{domain}", thread=False)
    result = take(session_factory, raw)
    assert (result.state, result.reason) == ("held", "sender_mismatch")
    assert "the sender is not the participant the reminder went to" in reason_shown(
        session_factory, result.inbound_id
    )
    assert statuses(session_factory, WANG)["1"] == "not_started"
    assert statuses(session_factory, ANNA)["1"] == "not_started"


def test_a_case_mangled_token_is_still_the_participants_but_not_a_strangers(
    session_factory: sessionmaker[Session], sent: dict[str, EmailMessage]
) -> None:
    local, domain = token_address(sent[WANG])
    shouted = f"{local.upper()}@{domain.upper()}"  # some mail systems fold case
    stranger = reply_to(
        sent[WANG],
        "1: done",
        to=shouted,
        thread=False,
        sender="mallory@evil.example",
        message_id="<m1@evil.example>",
    )
    held = take(session_factory, stranger)
    assert (held.state, held.reason) == ("held", "sender_mismatch")
    assert statuses(session_factory, WANG)["1"] == "not_started"
    own = take(session_factory, reply_to(sent[WANG], "1: done", to=shouted, thread=False))
    assert own.state == "processed"
    assert statuses(session_factory, WANG)["1"] == "done"


@pytest.mark.parametrize(
    "display",
    [
        '"wang.xiaoming@example.org" <attacker@evil.example>',
        "wang.xiaoming@example.org <attacker@evil.example>",
        "=?utf-8?q?wang.xiaoming=40example.org?= <attacker@evil.example>",
    ],
)
def test_a_display_name_that_names_the_participant_is_not_trusted(
    session_factory: sessionmaker[Session], sent: dict[str, EmailMessage], display: str
) -> None:
    result = take(session_factory, reply_to(sent[WANG], "1: done", sender=display))
    assert (result.state, result.reason) == ("held", "sender_mismatch")
    assert statuses(session_factory, WANG)["1"] == "not_started"


def test_a_reply_replayed_after_opting_out_is_held_and_records_nothing(
    session_factory: sessionmaker[Session], sent: dict[str, EmailMessage]
) -> None:
    opted = take(
        session_factory,
        reply_to(sent[WANG], "unsubscribe", message_id="<optout@example.org>", thread=False),
    )
    assert opted.state == "processed"
    with session_factory() as session:
        document = programme_status(session=session)
    person = next(p for p in document["programmes"][0]["participants"] if p["email"] == WANG)
    assert person["state"] == "opted_out"
    # The same token, captured and replayed under a new Message-ID.
    replay = take(
        session_factory,
        reply_to(sent[WANG], "1: done", message_id="<replay@example.org>", thread=False),
    )
    assert (replay.state, replay.reason) == ("held", "opted_out")
    assert reason_shown(session_factory, replay.inbound_id).startswith(
        "the participant had opted out, so nothing was recorded"
    )
    assert statuses(session_factory, WANG)["1"] == "not_started"
