"""Helpers shared by the sending tests: loading programmes, passes, reading the outbox and mail."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.smtp_server import ReceivedMessage, SmtpTestServer
from tracker.config import SmtpSettings
from tracker.db.orm import Reminder
from tracker.mail.render import create_mail_environment
from tracker.mail.smtp import SmtpMailer
from tracker.programme.reading import read_programme_file
from tracker.services.claiming import OutboxPolicy
from tracker.services.composing import MailIdentity
from tracker.services.importing import import_programme
from tracker.services.sending import SendReport, send_due

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples/programme.yaml"
SMALL = ROOT / "tests/data/programmes/small.yaml"

IDENTITY = MailIdentity(
    from_header="Programme Office <followup@example.org>",
    from_address="followup@example.org",
    reply_pattern="followup+{token}@example.org",
    secret_key=TEST_SECRET_KEY,
)


def load_programme(session_factory: sessionmaker[Session], text: str, *, now: datetime) -> None:
    """Import a programme file's text, as `tracker import` does."""
    spec = read_programme_file(text, languages=("en", "zh-CN"))
    with session_factory.begin() as session:
        import_programme(spec, session=session, now=now)


def programme_text(
    participants: int,
    *,
    first: date,
    at: str = "09:30",
    timezone: str = "Asia/Shanghai",
    working_days_only: bool = True,
    slug: str = "bulk",
    every: str = "1 month",
    count: int = 3,
) -> str:
    """A programme with one check-in rule and `participants` people with one action each."""
    due = (first + timedelta(days=200)).isoformat()
    people = "\n".join(
        f"  - {{name: Person {n}, email: person{n}@example.org, "
        f"actions: [{{ref: '1', title: Action {n}, due: {due}}}]}}"
        for n in range(participants)
    )
    return (
        textwrap.dedent(
            f"""\
        programme:
          slug: {slug}
          name: Bulk test programme
          starts_on: {(first - timedelta(days=30)).isoformat()}
          ends_on: {(first - timedelta(days=26)).isoformat()}
          timezone: {timezone}
          language: en
          working_days_only: {"true" if working_days_only else "false"}
          weekly_digest: false
          coordinators:
            - {{name: Officer, email: officer@example.org}}
        follow_up:
          - {{kind: check_in, every: {every}, first: {first}, count: {count}, at: "{at}"}}
        participants:
        """
        )
        + people
        + "\n"
    )


def reminders_only(programme_file: str) -> str:
    """The programme file with the coordinators' weekly digest turned off.

    These tests count participant reminders exactly; the digest has its own.
    """
    assert "\n  coordinators:\n" in programme_file
    return programme_file.replace(
        "\n  coordinators:\n", "\n  weekly_digest: false\n  coordinators:\n", 1
    )


def smtp_settings(server: SmtpTestServer) -> SmtpSettings:
    return SmtpSettings(host=server.host, port=server.port, security="plain")


def smtp_url(server: SmtpTestServer) -> str:
    return f"smtp://{server.host}:{server.port}"


def send_pass(
    session_factory: sessionmaker[Session],
    server: SmtpTestServer,
    now: datetime,
    *,
    policy: OutboxPolicy | None = None,
) -> SendReport:
    """One `send_due` pass in this process, over real SMTP, without a rate limit."""
    return send_due(
        session_factory=session_factory,
        mailer=SmtpMailer(smtp_settings(server), rate_per_minute=None, timeout=10),
        env=create_mail_environment(),
        identity=IDENTITY,
        now=now,
        policy=policy,
    )


@dataclass(frozen=True)
class OutboxRow:
    id: int
    state: str
    kind: str
    attempts: int
    next_attempt_at: datetime
    lease_expires_at: datetime | None
    message_id: str | None
    last_error: str | None


def outbox(session_factory: sessionmaker[Session]) -> list[OutboxRow]:
    with session_factory() as session:
        return [
            OutboxRow(
                id=r.id,
                state=r.state,
                kind=r.kind,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                lease_expires_at=r.lease_expires_at,
                message_id=r.message_id,
                last_error=r.last_error,
            )
            for r in session.scalars(select(Reminder).order_by(Reminder.id))
        ]


def message_ids(messages: list[ReceivedMessage]) -> list[str]:
    return [str(m.parsed()["Message-ID"]) for m in messages]


def body_parts(message: EmailMessage) -> dict[str, str]:
    """The text parts of a message by content type."""
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if part.get_content_maintype() == "text"
    }
