"""Participant mail carries the personal link and one-click unsubscribe; replies bring files."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import IDENTITY, CollectingMailer, load_programme, reply_to
from tests.web.conftest import PASSWORD, Client
from tracker.clock import FixedClock
from tracker.config import settings_from_values
from tracker.db.orm import Attachment, InboundMessage, Participant
from tracker.mail.render import create_mail_environment
from tracker.services.attachments import AttachmentLimits
from tracker.services.composing import MailIdentity
from tracker.services.intake import ingest, reprocess
from tracker.services.participant_links import participant_for_link
from tracker.services.passwords import find_coordinator, set_password
from tracker.services.reading import ReadingLimits, reading_limits
from tracker.services.sending import send_due
from tracker.web.app import create_app

FIRST_SEND = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)
PUBLIC_URL = "https://followup.example.org/tracker"
LINKED = replace(IDENTITY, public_url=PUBLIC_URL)


def _send(
    factory: sessionmaker[Session], now: datetime, identity: MailIdentity = LINKED
) -> list[EmailMessage]:
    mailer = CollectingMailer()
    send_due(
        session_factory=factory,
        mailer=mailer,
        env=create_mail_environment(),
        identity=identity,
        now=now,
    )
    # As the recipient reads it: through the bytes on the wire.
    return [
        message_from_bytes(m.as_bytes(), policy=policy.default)  # type: ignore[misc]
        for m in mailer.sent
    ]


def _to(sent: list[EmailMessage], fragment: str, kind: str = "check_in") -> EmailMessage:
    return next(m for m in sent if fragment in str(m["To"]) and m["X-Tracker-Kind"] == kind)


def _text(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_each_reminder_carries_the_personal_link_and_one_click_unsubscribe(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, FIRST_SEND - timedelta(days=40))
    sent = _send(session_factory, FIRST_SEND)
    anna, wang = _to(sent, "anna@"), _to(sent, "wang.xiaoming")
    for message, sentence in (
        (anna, "You can also answer on your personal page"),
        (wang, "您也可以在个人页面上填写进展"),
    ):
        text, html = _text(message), _text(message, "html")
        assert sentence in text
        page = next(w for w in text.split() if w.startswith(f"{PUBLIC_URL}/u/"))
        assert f'href="{page}"' in html
        header = str(message["List-Unsubscribe"])
        assert header.startswith(f"<{PUBLIC_URL}/unsubscribe/")
        assert ">, <mailto:followup+" in header
        assert header.isascii()
        assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        token = page.rsplit("/", 1)[1]
        assert header.split(">", 1)[0].endswith(token)
        with session_factory() as session:
            participant = participant_for_link(
                token, session=session, secret_key=TEST_SECRET_KEY, now=FIRST_SEND
            )
            assert participant.email == str(message["To"]).split("<")[-1].rstrip(">").lower()
    assert f"{PUBLIC_URL}/unsubscribe/" in _text(anna)  # the footer: stop them there


def test_without_a_public_url_the_reminder_reads_as_before(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, FIRST_SEND - timedelta(days=40))
    sent = _send(session_factory, FIRST_SEND, IDENTITY)
    anna = _to(sent, "anna@")
    assert "/u/" not in _text(anna)
    assert "personal page" not in _text(anna)
    assert str(anna["List-Unsubscribe"]).startswith("<mailto:followup+")
    assert anna["List-Unsubscribe-Post"] is None


def _reply_with_files(sent: EmailMessage, files: list[tuple[str, bytes]]) -> bytes:
    raw = reply_to(sent, "1: in progress 50%, plan attached", message_id="<files@example.org>")
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()


def test_a_reply_with_files_keeps_them_and_notes_one_too_large(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, FIRST_SEND - timedelta(days=40))
    anna = _to(_send(session_factory, FIRST_SEND), "anna@")
    raw = _reply_with_files(anna, [("plan.pdf", b"%PDF plan"), ("huge.pdf", b"x" * 5000)])
    limits = ReadingLimits(
        attachments=AttachmentLimits(max_file_bytes=1000, max_message_bytes=4000)
    )
    result = ingest(
        raw,
        session_factory=session_factory,
        secret_key=TEST_SECRET_KEY,
        source="pipe",
        now=FIRST_SEND + timedelta(hours=2),
        limits=limits,
    )
    assert result.state == "processed"
    assert "1 file(s) kept; 1 file(s) too large, not kept" in result.detail
    with session_factory() as session:
        files = session.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(f.filename, f.stored, f.size) for f in files] == [
            ("plan.pdf", True, 9),
            ("huge.pdf", False, 5000),
        ]
        assert files[0].sha256 == hashlib.sha256(b"%PDF plan").hexdigest()
        inbound_id = session.scalar(select(InboundMessage.id))
    ack = _to(_send(session_factory, FIRST_SEND + timedelta(hours=2)), "anna@", "acknowledgement")
    text = _text(ack)
    assert "We kept the file you sent: plan.pdf." in text
    assert "This file was too large to keep, and was not stored: huge.pdf." in text
    # A reply is how to get a fresh link: the acknowledgement carries one.
    assert f"Your personal page, to answer again or send a document:\r\n{PUBLIC_URL}/u/" in text
    # Reprocessing the message reads its files again, never twice.
    assert inbound_id is not None
    reprocess(
        [inbound_id],
        session_factory=session_factory,
        secret_key=TEST_SECRET_KEY,
        now=FIRST_SEND + timedelta(hours=3),
        limits=limits,
    )
    with session_factory() as session:
        assert len(session.scalars(select(Attachment)).all()) == 2
        anna_row = session.scalars(
            select(Participant).where(Participant.email == "anna@example.org")
        ).one()
        assert anna_row.actions[0].percent == 50


def test_a_replys_file_shows_on_the_coordinators_page_and_in_the_export(
    session_factory: sessionmaker[Session], tracker_env: dict[str, str]
) -> None:
    load_programme(session_factory, FIRST_SEND - timedelta(days=40))
    anna = _to(_send(session_factory, FIRST_SEND), "anna@")
    raw = _reply_with_files(anna, [("城市配对.pdf", b"%PDF pairs")])
    ingest(
        raw,
        session_factory=session_factory,
        secret_key=TEST_SECRET_KEY,
        source="pipe",
        now=FIRST_SEND + timedelta(hours=2),
    )
    with session_factory.begin() as session:
        officer = find_coordinator("officer@example.org", session=session)
        set_password(officer, PASSWORD, session=session, now=FIRST_SEND, actor="cli")
        anna_id = session.scalars(
            select(Participant.id).where(Participant.email == "anna@example.org")
        ).one()
    settings = settings_from_values(
        {"TRACKER_SECRET_KEY": TEST_SECRET_KEY, "TRACKER_FROM": "Office <followup@example.org>"}
    )
    app = create_app(settings, session_factory, clock=FixedClock(FIRST_SEND + timedelta(days=1)))
    client = Client(app.test_client())
    client.sign_in("officer@example.org")
    page = client.get(f"/programmes/small-programme/participants/{anna_id}")
    body = page.get_data(as_text=True)
    assert "城市配对.pdf" in body
    assert "by email" in body.split("城市配对.pdf", 1)[1].split("</li>", 1)[0]
    result = run_tracker("export", "files", "--programme", "small-programme", env=tracker_env)
    assert result.code == 0, result.stderr
    row = result.stdout.splitlines()[1]
    assert "anna@example.org,Anna Keller,,城市配对.pdf,application/pdf,10," in row
    assert row.endswith(",yes,email,<files@example.org>")


def test_a_reply_carrying_files_up_to_the_limits_is_read_not_held_as_too_large(
    session_factory: sessionmaker[Session],
) -> None:
    """An 8 MB file is over 10 MB once base64-encoded: the settings' reader takes it."""
    load_programme(session_factory, FIRST_SEND - timedelta(days=40))
    anna = _to(_send(session_factory, FIRST_SEND), "anna@")
    report = os.urandom(8 * 1024 * 1024)
    raw = _reply_with_files(anna, [("report.pdf", report)])
    assert len(raw) > 10 * 1024 * 1024
    settings = settings_from_values({"TRACKER_SECRET_KEY": TEST_SECRET_KEY})
    result = ingest(
        raw,
        session_factory=session_factory,
        secret_key=TEST_SECRET_KEY,
        source="pipe",
        now=FIRST_SEND + timedelta(hours=2),
        limits=reading_limits(settings),
    )
    assert result.state == "processed", result.detail
    assert "1 file(s) kept" in result.detail
    with session_factory() as session:
        (kept,) = session.scalars(select(Attachment)).all()
        assert kept.size == len(report)
        assert kept.sha256 == hashlib.sha256(report).hexdigest()
