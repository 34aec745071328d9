"""No data can add a header to what we send: every kind, over real SMTP, on real databases.

Python's `email` package decodes an RFC 2047 encoded-word when it refolds a
header, so a name like ``=?utf-8?q?Eve=0D=0AReply-To:_…?=`` used to put a
real CR LF on the wire: the participant's reminder got an attacker's Reply-To
and body, a coordinator's name did the same to the digest's To and Subject,
and a reply's Message-ID did it to the acknowledgement's In-Reply-To and
References. Each message here is read back from the bytes the SMTP server
received.
"""

from __future__ import annotations

import email
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.integration.sender_helpers import IDENTITY, load_programme, send_pass
from tests.mailflow import CollectingMailer, reply_to
from tests.smtp_server import ReceivedMessage, SmtpTestServer
from tracker.mail.headers import header_text
from tracker.mail.render import create_mail_environment
from tracker.services.intake import ingest
from tracker.services.sending import send_due

ATTACKS = {
    "participant": "=?utf-8?q?Eve=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AInjected_body?=",
    "coordinator": "=?utf-8?q?Officer=0D=0ABcc:_victim@evil.example=0D=0A=0D=0AInjected?=",
    "programme": "Programme =?UTF-8?B?DQpCY2M6IGJjY0BldmlsLmV4YW1wbGUNCg0KYm9keQ==?= 2019",
    "title": "Plan =?utf-8?q?=E2=80=A8X-Injected:_yes?=\u2028Bcc: title@evil.example",
}
HOSTILE_MESSAGE_ID = (
    "<=?utf-8?q?x=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AInjected?=@example.net>"
)
EVE = "eve@example.org"
COORDINATORS = ["officer@example.org", "second@example.org"]
OUR_HEADERS = {
    "from",
    "to",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "x-auto-response-suppress",
    "list-unsubscribe",
    "x-tracker-kind",
    "mime-version",
    "content-type",
}


def programme() -> str:
    q = json.dumps  # a JSON string is a YAML double-quoted scalar
    return f"""\
programme:
  slug: hostile
  name: {q(ATTACKS["programme"])}
  starts_on: 2019-05-19
  ends_on: 2019-05-23
  timezone: UTC
  language: en
  working_days_only: false
  coordinators:
    - {{name: {q(ATTACKS["coordinator"])}, email: officer@example.org}}
    - {{name: Second Officer, email: second@example.org}}
follow_up:
  - {{kind: check_in, every: 1 week, first: 2019-06-24, count: 3, at: "09:00"}}
  - {{kind: before_due, days: 3, at: "09:00"}}
  - {{kind: escalate, after_unanswered: 2}}
participants:
  - name: {q(ATTACKS["participant"])}
    email: {EVE}
    actions:
      - {{ref: "1", title: {q(ATTACKS["title"])}, due: 2019-07-05}}
  - name: Anna Keller
    email: anna@example.org
    actions:
      - {{ref: "1", title: Pair each city with a peer city, due: 2019-12-31}}
"""


def unfolded(message: Message, name: str) -> list[str]:
    return [re.sub(r"\r\n(?=[ \t])", "", str(v)) for v in message.get_all(name, [])]


def rfc_mailboxes(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) as RFC 2047 mail programs decode them."""
    pairs = getaddresses(unfolded(message, name))
    return [(str(make_header(decode_header(n))), a) for n, a in pairs]


def rfc_text(message: Message, name: str) -> str:
    (value,) = unfolded(message, name)
    return str(make_header(decode_header(value)))


@pytest.fixture
def received(session_factory: sessionmaker[Session]) -> Iterator[list[ReceivedMessage]]:
    """Every message of a hostile programme's first weeks, as the SMTP server got it."""
    load_programme(session_factory, programme(), now=datetime(2019, 6, 1, tzinfo=UTC))
    with SmtpTestServer() as server:
        day = datetime(2019, 6, 24, 9, 30, tzinfo=UTC)
        send_pass(session_factory, server, day)
        anna = next(m.parsed() for m in server.messages if "anna@example.org" in m.rcpt_tos)
        raw = reply_to(anna, "1: in progress 40%", message_id=HOSTILE_MESSAGE_ID)
        take = {"session_factory": session_factory, "secret_key": TEST_SECRET_KEY}
        assert ingest(raw, source="pipe", now=day, **take).state == "processed"
        for n in range(1, 16):
            send_pass(session_factory, server, day + timedelta(days=n))
        yield server.messages


def kinds(messages: list[ReceivedMessage]) -> dict[str, list[ReceivedMessage]]:
    found: dict[str, list[ReceivedMessage]] = {}
    for m in messages:
        found.setdefault(str(m.parsed()["X-Tracker-Kind"]), []).append(m)
    return found


def test_every_kind_was_sent(received: list[ReceivedMessage]) -> None:
    assert set(kinds(received)) >= {
        "check_in",
        "before_due",
        "acknowledgement",
        "escalation",
        "digest",
    }


def test_no_message_carries_a_header_we_did_not_write(received: list[ReceivedMessage]) -> None:
    for m in received:
        head = m.raw.split(b"\r\n\r\n", 1)[0]
        head.decode("ascii")
        message = email.message_from_bytes(m.raw, policy=policy.compat32)
        names = {n.lower() for n in message}
        threading = {"in-reply-to", "references"}
        acknowledgement = message["X-Tracker-Kind"] == "acknowledgement"
        expected = OUR_HEADERS | threading if acknowledgement else OUR_HEADERS
        assert names <= expected, names - expected
        for value in message.values():
            assert "\n" not in re.sub(r"\r\n(?=[ \t])", "", str(value))
        # No injected blank line ended the headers early: the MIME structure is ours.
        parsed = m.parsed()
        assert parsed.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_the_participant_reminder_goes_to_the_participant_under_the_name_as_text(
    received: list[ReceivedMessage],
) -> None:
    for kind in ("check_in", "before_due"):
        for m in kinds(received)[kind]:
            if EVE not in m.rcpt_tos:
                continue
            message = email.message_from_bytes(m.raw, policy=policy.compat32)
            assert m.rcpt_tos == (EVE,)
            assert rfc_mailboxes(message, "To") == [(header_text(ATTACKS["participant"]), EVE)]
            (reply,) = message.get_all("Reply-To")
            assert re.fullmatch(r"followup\+[0-9]+\.[a-z2-7]{12}\.[a-z2-7]{16}@example\.org", reply)
            subject = rfc_text(message, "Subject")
            assert header_text(ATTACKS["programme"]) in subject
            if kind == "before_due":
                assert header_text(ATTACKS["title"]) in subject


def test_mail_to_the_coordinators_names_them_and_the_programme_as_text(
    received: list[ReceivedMessage],
) -> None:
    for m in [*kinds(received)["escalation"], *kinds(received)["digest"]]:
        message = email.message_from_bytes(m.raw, policy=policy.compat32)
        assert sorted(m.rcpt_tos) == COORDINATORS
        assert rfc_mailboxes(message, "To") == [
            (header_text(ATTACKS["coordinator"]), "officer@example.org"),
            ("Second Officer", "second@example.org"),
        ]
        subject = rfc_text(message, "Subject")
        assert header_text(ATTACKS["programme"]) in subject
        assert message.get_all("Reply-To") == ["followup@example.org"]


def test_the_acknowledgement_echoes_no_hostile_message_id(received: list[ReceivedMessage]) -> None:
    (ack,) = kinds(received)["acknowledgement"]
    message = email.message_from_bytes(ack.raw, policy=policy.compat32)
    assert ack.rcpt_tos == ("anna@example.org",)
    assert "In-Reply-To" not in message
    # The thread still holds: References names the reminder that was answered.
    anna_check_in = next(
        m.parsed() for m in kinds(received)["check_in"] if m.rcpt_tos == ("anna@example.org",)
    )
    assert message.get_all("References") == [str(anna_check_in["Message-ID"])]


def test_with_a_public_url_participants_get_one_click_unsubscribe_and_coordinators_do_not(
    session_factory: sessionmaker[Session],
) -> None:
    """RFC 8058: an https URI and List-Unsubscribe-Post, on participant mail only."""
    load_programme(session_factory, programme(), now=datetime(2019, 6, 1, tzinfo=UTC))
    identity = replace(IDENTITY, public_url="https://tracker.example.org/")
    mailer = CollectingMailer()
    env = create_mail_environment()
    for day in (datetime(2019, 6, 24, 9, 30, tzinfo=UTC), datetime(2019, 7, 2, 9, 30, tzinfo=UTC)):
        send_due(
            session_factory=session_factory, mailer=mailer, env=env, identity=identity, now=day
        )
    kinds_seen = set()
    for raw in mailer.raws:
        message = email.message_from_bytes(raw, policy=policy.compat32)
        kind = str(message["X-Tracker-Kind"])
        kinds_seen.add(kind)
        (unsubscribe,) = unfolded(message, "List-Unsubscribe")
        if kind in {"escalation", "digest"}:
            assert unsubscribe == "<mailto:followup@example.org?subject=unsubscribe>"
            assert "List-Unsubscribe-Post" not in message
            continue
        (reply_to_address,) = message.get_all("Reply-To")
        # The https URI carries the participant's personal link token (tracker.core.links).
        assert re.fullmatch(
            r"<https://tracker\.example\.org/unsubscribe/[0-9]+\.[0-9]+\.[a-z2-7]{26}>, "
            + re.escape(f"<mailto:{reply_to_address}?subject=unsubscribe>"),
            unsubscribe,
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {"check_in", "digest"} <= kinds_seen
