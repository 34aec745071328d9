"""What a pass does when the SMTP server says no, or is not there: retry, fail, stop, resume."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.integration.sender_helpers import (
    SMALL,
    load_programme,
    message_ids,
    outbox,
    programme_text,
    reminders_only,
    send_pass,
    smtp_url,
)
from tests.smtp_server import SmtpTestServer
from tracker.db.orm import Event, Participant

# The small programme's first check-in (Sunday 2019-06-23) leaves on Monday
# at 09:30 in Shanghai for Wang, and at 09:30 in Berlin for Anna.
WANG_DUE = datetime(2019, 6, 24, 1, 31, tzinfo=UTC)
BOTH_DUE = datetime(2019, 6, 24, 7, 31, tzinfo=UTC)
IMPORTED = datetime(2019, 6, 1, tzinfo=UTC)


def test_a_temporary_refusal_is_retried_later_and_sent_once(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, reminders_only(SMALL.read_text(encoding="utf-8")), now=IMPORTED)
    with SmtpTestServer() as server:
        server.rcpt_reply = "450 4.2.0 Mailbox busy, try later"
        report = send_pass(session_factory, server, WANG_DUE)
        assert report.sent == []
        assert [r["error"] for r in report.retrying] == [
            f"SMTP {server.host}:{server.port}: 450 recipient wang.xiaoming@example.org refused: "
            "4.2.0 Mailbox busy, try later"
        ]
        (row,) = outbox(session_factory)
        assert row.state == "planned"
        assert row.attempts == 1
        assert row.next_attempt_at > WANG_DUE  # backed off, not retried in the same pass

        server.rcpt_reply = None
        assert send_pass(session_factory, server, WANG_DUE + timedelta(minutes=1)).sent == []
        assert server.messages == []
        retried = send_pass(session_factory, server, row.next_attempt_at)
        assert [r["reminder_id"] for r in retried.sent] == [row.id]
        assert (
            send_pass(session_factory, server, row.next_attempt_at + timedelta(hours=1)).sent == []
        )
    assert message_ids(server.messages) == [row.message_id]
    assert [r.state for r in outbox(session_factory)] == ["sent"]


def test_three_permanent_failures_make_a_participant_bouncing_and_silent(
    session_factory: sessionmaker[Session],
) -> None:
    first = date(2019, 7, 1)
    text = programme_text(1, first=first, every="1 week", count=6, working_days_only=False)
    load_programme(session_factory, text, now=IMPORTED)
    weeks = [datetime(2019, 7, 1, 2, 0, tzinfo=UTC) + timedelta(weeks=n) for n in range(6)]
    with SmtpTestServer() as server:
        server.rcpt_reply = "550 5.1.1 No such user"
        for moment in weeks[:3]:
            report = send_pass(session_factory, server, moment)
            assert len(report.failed) == 1
            assert "550 recipient person0@example.org refused: 5.1.1" in report.failed[0]["error"]
        server.rcpt_reply = None
        for moment in weeks[3:]:
            report = send_pass(session_factory, server, moment)
            assert report.planned == 0
            assert report.sent == []
    assert server.messages == []
    rows = outbox(session_factory)
    assert [r.state for r in rows] == ["failed"] * 3
    assert all(r.attempts == 1 for r in rows)  # a 5xx is not retried
    with session_factory() as session:
        participant = session.scalars(select(Participant)).one()
        assert participant.state == "bouncing"
        assert participant.hard_bounces == 3
        assert session.scalars(
            select(Event.action).where(Event.action == "participant.bouncing")
        ).all() == ["participant.bouncing"]


def test_a_server_that_is_down_loses_nothing_and_the_next_pass_sends_everything_once(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    text = programme_text(5, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=IMPORTED)
    server = SmtpTestServer()  # its port is chosen, nobody listens yet
    env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(server), "TRACKER_SEND_RATE": "100000"}
    due = "2019-07-01T03:00:00+00:00"

    down = run_tracker("send-due", "--now", due, env=env)
    assert down.code == 1
    assert "Traceback" not in down.stderr
    last = down.stderr.strip().splitlines()[-1]
    assert last.startswith("error: SMTP 127.0.0.1:")
    assert "Connection refused" in last
    assert last.endswith("; the rest waits for a later pass")
    rows = outbox(session_factory)
    assert len(rows) == 5
    assert {r.state for r in rows} == {"planned"}

    with server:
        later = datetime(2019, 7, 1, 3, 10, tzinfo=UTC).isoformat()
        up = run_tracker("send-due", "--now", later, "--json", env=env)
        assert up.code == 0, up.stderr
        assert len(up.json()["sent"]) == 5
        assert run_tracker("send-due", "--now", later, env=env).code == 0
    assert sorted(message_ids(server.messages)) == sorted(
        r.message_id for r in outbox(session_factory)
    )
    assert len(server.messages) == 5
    assert {r.state for r in outbox(session_factory)} == {"sent"}
