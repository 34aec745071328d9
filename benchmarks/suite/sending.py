"""Sending figures, all against one SMTP sink in another process, in the same run.

- `smtp_raw_per_s`: the ceiling. Bare smtplib over one reused connection,
  messages built beforehand (bytes of the tracker's own reminders).
- `send_per_s`: `send_due` on a database where `count` reminders are due
  (planned beforehand, so the figure is the send path: claim, compose, SMTP,
  record), one connection.
- `send_naive_per_s`: the same with a new connection for every message.
- `send_2_processes_per_s` (PostgreSQL): two `send_due` processes sharing
  one outbox, against `send_per_s`: all the due messages over the time from
  the first process starting to send to the last one finishing.
- `send_3_connections_per_s`: the same with three SMTP connections
  (`TRACKER_SMTP_CONNECTIONS=3`).
"""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from sqlalchemy import func, select

from tracker.config import SmtpSettings
from tracker.db.orm import Reminder
from tracker.db.session import make_engine, make_session_factory
from tracker.mail.outgoing import OutgoingMail
from tracker.mail.render import create_mail_environment
from tracker.mail.smtp import SmtpMailer
from tracker.services.composing import MailIdentity
from tracker.services.planning import plan_due_reminders
from tracker.services.sending import send_due

from .sink import HOST

ROOT = Path(__file__).resolve().parents[2]

FIRST_PLAN = datetime(2019, 6, 1, tzinfo=UTC)
FIRST_CHECK_IN = datetime(2019, 6, 24, 2, 0, tzinfo=UTC)  # Mon 10:00 in Beijing
IDENTITY = MailIdentity(
    from_header="Follow-up <followup@example.org>",
    from_address="followup@example.org",
    reply_pattern="followup+{token}@example.org",
    secret_key="benchmark-secret-key-for-reply-tokens-0123456789",
)


def plan_first_check_in(url: str) -> tuple[float, float, int]:
    """Plan after the import, then the first check-in (everyone due).

    Returns (first plan seconds, busy tick seconds, reminders planned).
    """
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory.begin() as session:
        plan_due_reminders(session=session, now=FIRST_PLAN)
    first = time.perf_counter() - started
    started = time.perf_counter()
    with factory.begin() as session:
        planned = len(plan_due_reminders(session=session, now=FIRST_CHECK_IN).planned)
    busy = time.perf_counter() - started
    engine.dispose()
    return first, busy, planned


class _ConnectionPerMessage(SmtpMailer):
    """The naive sender: connect, send one message, quit."""

    def send(self, message: OutgoingMail) -> None:
        try:
            super().send(message)
        finally:
            self.close()


def smtp_settings(port: int) -> SmtpSettings:
    return SmtpSettings(host=HOST, port=port, security="plain")


def send_pass(url: str, port: int, *, naive: bool = False, connections: int = 1) -> float:
    """Messages a second of one `send_due` pass over the due reminders of `url`."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    kind = _ConnectionPerMessage if naive else SmtpMailer
    mailers = [kind(smtp_settings(port), rate_per_minute=None) for _ in range(connections)]
    env = create_mail_environment()
    started = time.perf_counter()
    report = send_due(
        session_factory=factory,
        mailer=mailers[0],
        more_mailers=mailers[1:],
        env=env,
        identity=IDENTITY,
        now=FIRST_CHECK_IN,
    )
    elapsed = time.perf_counter() - started
    engine.dispose()
    if report.failed or report.retrying or report.stopped_early:
        raise RuntimeError(f"the send pass did not send everything: {report.to_json()}")
    return len(report.sent) / elapsed


def sample_messages(url: str, port: int, count: int) -> list[bytes]:
    """`count` raw messages like the tracker's (what a pass over a copy sent)."""
    captured: list[bytes] = []

    class _Capture:
        def __enter__(self) -> Self:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def send(self, message: OutgoingMail) -> None:
            captured.append(message.raw)

    engine = make_engine(url)
    factory = make_session_factory(engine)
    send_due(
        session_factory=factory,
        mailer=_Capture(),
        env=create_mail_environment(),
        identity=IDENTITY,
        now=FIRST_CHECK_IN,
    )
    with factory() as session:
        assert session.scalar(select(Reminder.id).where(Reminder.state == "planned")) is None
    engine.dispose()
    return (captured * (count // max(len(captured), 1) + 1))[:count]


def smtp_raw(port: int, messages: list[bytes]) -> float:
    """Bare smtplib over one connection: messages a second."""
    started = time.perf_counter()
    with smtplib.SMTP(HOST, port) as connection:
        connection.ehlo()
        for n, raw in enumerate(messages):
            connection.sendmail("followup@example.org", [f"person.{n}@example.cn"], raw)
    return len(messages) / (time.perf_counter() - started)


def two_processes_per_s(url: str, port: int) -> float:
    """Messages a second when two sender processes share the outbox of `url`
    (PostgreSQL: they split it with SKIP LOCKED)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        due = connection.scalar(select(func.count()).where(Reminder.state == "planned"))
    engine.dispose()
    # Each child says when it began and ended sending (after its imports).
    code = (
        "import sys, time; from benchmarks.suite.sending import send_pass; "
        "began = time.time(); send_pass(sys.argv[1], int(sys.argv[2])); "
        "print(began, time.time())"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, str(port)], cwd=ROOT, stdout=subprocess.PIPE
        )
        for _ in range(2)
    ]
    spans = [child.communicate()[0].split() for child in children]
    if any(child.returncode != 0 for child in children):
        raise RuntimeError("a sender process failed")
    began = min(float(span[0]) for span in spans)
    ended = max(float(span[1]) for span in spans)
    return int(due or 0) / (ended - began)
