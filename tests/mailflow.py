"""Helpers for tests that send reminders and answer them."""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tracker.mail.outgoing import OutgoingMail
from tracker.mail.render import create_mail_environment
from tracker.programme.reading import read_programme_file
from tracker.services.composing import MailIdentity
from tracker.services.importing import import_programme
from tracker.services.sending import send_due

ROOT = Path(__file__).resolve().parents[1]
SMALL = (ROOT / "tests/data/programmes/small.yaml").read_text(encoding="utf-8")
IDENTITY = MailIdentity(
    from_header="Programme Office <followup@example.org>",
    from_address="followup@example.org",
    reply_pattern="followup+{token}@example.org",
    secret_key=TEST_SECRET_KEY,
)


class CollectingMailer:
    """A Mailer that keeps what it is given, as a mail program reads it (the SMTP
    adapter has its own real-server tests)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.raws: list[bytes] = []  # the same, as SMTP would send them

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def send(self, message: OutgoingMail) -> None:
        self.sent.append(message.parsed())
        self.raws.append(message.raw)


def load_programme(factory: sessionmaker[Session], now: datetime, text: str = SMALL) -> None:
    with factory.begin() as session:
        import_programme(
            read_programme_file(text, languages=("en", "zh-CN")), session=session, now=now
        )


def send_pass(factory: sessionmaker[Session], now: datetime) -> list[EmailMessage]:
    mailer = CollectingMailer()
    send_due(
        session_factory=factory,
        mailer=mailer,
        env=create_mail_environment(),
        identity=IDENTITY,
        now=now,
    )
    return mailer.sent


def reply_to(
    sent: EmailMessage,
    body: str,
    *,
    sender: str | None = None,
    message_id: str = "<reply-1@example.org>",
    charset: str = "utf-8",
    to: str | None = None,
    thread: bool = True,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A participant's reply to `sent`, as a mail client would write it (quote below)."""
    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = sender or str(sent["To"])
    reply["To"] = to if to is not None else str(sent["Reply-To"])
    reply["Subject"] = "Re: " + str(sent["Subject"])
    reply["Message-ID"] = message_id
    if thread:
        reply["In-Reply-To"] = str(sent["Message-ID"])
        reply["References"] = str(sent["Message-ID"])
    for name, value in (extra or {}).items():
        reply[name] = value
    quoted = "\n".join("> " + line for line in sent.get_body(("plain",)).get_content().splitlines())
    reply.set_content(
        f"{body}\n\nOn Mon, 24 Jun 2019, Programme Office wrote:\n{quoted}\n", charset=charset
    )
    return reply.as_bytes()
