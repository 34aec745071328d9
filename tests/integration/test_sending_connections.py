"""Several SMTP connections in one pass (TRACKER_SMTP_CONNECTIONS): each message still
goes out exactly once, with its claim and Message-ID committed before DATA."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.integration.sender_helpers import (
    IDENTITY,
    load_programme,
    message_ids,
    outbox,
    programme_text,
    smtp_settings,
)
from tests.smtp_server import SmtpTestServer
from tracker.mail.render import create_mail_environment
from tracker.mail.smtp import SmtpMailer
from tracker.services.sending import SendReport, send_due

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)


def _pass(
    session_factory: sessionmaker[Session], server: SmtpTestServer, connections: int
) -> SendReport:
    mailers = [
        SmtpMailer(smtp_settings(server), rate_per_minute=None, timeout=10)
        for _ in range(connections)
    ]
    return send_due(
        session_factory=session_factory,
        mailer=mailers[0],
        more_mailers=mailers[1:],
        env=create_mail_environment(),
        identity=IDENTITY,
        now=DUE,
    )


def test_three_connections_send_every_reminder_once_over_three_sessions(
    session_factory: sessionmaker[Session],
) -> None:
    text = programme_text(60, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    with SmtpTestServer() as server:
        report = _pass(session_factory, server, connections=3)
        again = _pass(session_factory, server, connections=3)
        received = list(server.messages)
    assert len(report.sent) == 60
    assert report.stopped_early is None
    assert again.sent == []
    sent = Counter(message_ids(received))
    assert len(sent) == 60
    assert set(sent.values()) == {1}, "a message went out twice"
    assert len({m.peer for m in received}) == 3, "the pass did not use three connections"
    rows = outbox(session_factory)
    assert {r.state for r in rows} == {"sent"}
    assert set(sent) == {r.message_id for r in rows}
    assert received[0].parsed()["Subject"]


def test_a_server_refusing_mail_stops_every_connection_and_gives_the_rest_back(
    session_factory: sessionmaker[Session],
) -> None:
    text = programme_text(30, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    with SmtpTestServer() as server:
        server.data_reply = "421 4.3.2 Service shutting down"
        report = _pass(session_factory, server, connections=3)
    assert report.sent == []
    assert report.stopped_early is not None
    assert "421" in report.stopped_early
    assert "the rest waits for a later pass" in report.stopped_early
    rows = outbox(session_factory)
    # Those tried wait for a retry; the rest were given back untouched.
    assert {r.state for r in rows} == {"planned"}
    assert 1 <= sum(r.attempts for r in rows) <= 3
