"""Nothing fails silently: `tracker outbox`, `outbox retry` and `status` show what did not go.

A reminder that gave up after its last attempt, one refused for good and one
waiting to be retried are each visible with their last error, as a coordinator
runs the commands; a failed one can be put back and is then sent once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.integration.sender_helpers import load_programme, outbox, programme_text, smtp_url
from tests.smtp_server import SmtpTestServer
from tracker.db.orm import Reminder
from tracker.services.planning import plan_due_reminders

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)  # the check-ins are due at 02:00 UTC
NOW = DUE.isoformat()


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as running:
        yield running


@pytest.fixture
def env(
    tracker_env: dict[str, str], server: SmtpTestServer, session_factory: sessionmaker[Session]
) -> dict[str, str]:
    """Three participants whose check-in is due at DUE."""
    text = programme_text(3, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    return {**tracker_env, "TRACKER_SMTP_URL": smtp_url(server), "TRACKER_SEND_RATE": "100000"}


def test_failed_and_retrying_messages_show_with_their_last_error(
    env: dict[str, str], server: SmtpTestServer, session_factory: sessionmaker[Session]
) -> None:
    # A long outage: the server refuses every message for now, and person0's
    # reminder had already been tried seven times: this is its last attempt.
    with session_factory.begin() as session:
        assert len(plan_due_reminders(session=session, now=DUE).planned) == 3
        session.execute(update(Reminder).where(Reminder.id == 1).values(attempts=7))
    server.rcpt_reply = "451 4.3.0 Mailbox temporarily unavailable"
    assert run_tracker("send-due", "--now", NOW, env=env).code == 0
    rows = {r.id: r for r in outbox(session_factory)}
    assert [rows[n].state for n in (1, 2, 3)] == ["failed", "planned", "planned"]
    assert rows[1].last_error is not None
    assert rows[1].last_error.startswith("gave up after 8 attempts: SMTP 127.0.0.1:")

    listing = run_tracker("outbox", env=env)
    assert listing.code == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["id", "state", "kind", "to", "when", "tries", "last", "error"]
    failed = next(line for line in lines if line.startswith("1 "))
    assert failed.split()[:4] == ["1", "failed", "check_in", "person0@example.org"]
    assert "gave up after 8 attempts: SMTP 127.0.0.1:" in failed
    retrying = next(line for line in lines if line.startswith("2 "))
    assert retrying.split()[:4] == ["2", "retrying", "check_in", "person1@example.org"]
    assert "451 recipient person1@example.org refused" in retrying
    assert "1 failed, 2 retrying" in listing.stdout
    assert "`tracker outbox retry ID`" in listing.stdout

    document = run_tracker("outbox", "--state", "failed", "--json", env=env).json()
    assert document["total"] == 1
    (entry,) = document["messages"]
    assert (entry["id"], entry["state"], entry["kind"], entry["to"]) == (
        1,
        "failed",
        "check_in",
        ["person0@example.org"],
    )
    assert entry["error"].startswith("gave up after 8 attempts: SMTP 127.0.0.1:")

    status = run_tracker("status", "--json", env=env).json()
    people = {p["email"]: p for p in status["programmes"][0]["participants"]}
    (gave_up,) = people["person0@example.org"]["failed_sends"]
    assert set(gave_up) >= {"id", "kind", "error", "at"}
    assert (gave_up["id"], gave_up["kind"], gave_up["state"]) == (1, "check_in", "failed")
    assert gave_up["at"].startswith("2019-07-01T03:00")
    (waiting,) = people["person1@example.org"]["failed_sends"]
    assert (waiting["id"], waiting["state"]) == (2, "retrying")
    assert waiting["retry_at"] > NOW
    assert [s["state"] for s in people["person2@example.org"]["failed_sends"]] == ["retrying"]

    text = run_tracker("status", env=env).stdout
    assert "    ! check in (message 1) failed 2019-07-01: gave up after 8 attempts: SMTP" in text
    assert "(`tracker outbox retry 1` sends it again)" in text
    assert "    ! check in (message 2) not sent yet, next try 2019-07-01T03:05:" in text


def test_a_failed_message_put_back_is_sent_once(
    env: dict[str, str], server: SmtpTestServer, session_factory: sessionmaker[Session]
) -> None:
    server.rcpt_reply = "550 5.1.1 No such user"
    run_tracker("send-due", "--now", NOW, env=env)
    assert [r.state for r in outbox(session_factory)] == ["failed"] * 3
    server.rcpt_reply = None  # the addresses were fixed on the server's side

    assert run_tracker("outbox", "retry", env=env).code == 2  # neither ids nor --all-failed
    assert run_tracker("outbox", "retry", "1", "--all-failed", env=env).code == 2
    unknown = run_tracker("outbox", "retry", "99", env=env)
    assert unknown.code == 1
    assert unknown.stderr.strip() == "error: no outgoing message 99"

    one = run_tracker("outbox", "retry", "2", "--now", NOW, env=env)
    assert one.code == 0, one.stderr
    assert one.stdout.strip() == "put back 1 message (2): the next send pass sends them"
    again = run_tracker("send-due", "--now", NOW, "--json", env=env)
    assert [m["reminder_id"] for m in again.json()["sent"]] == [2]
    not_failed = run_tracker("outbox", "retry", "2", env=env)
    assert not_failed.code == 1
    assert not_failed.stderr.strip() == (
        "error: message 2 is sent, not failed: only failed messages can be retried"
    )

    rest = run_tracker("outbox", "retry", "--all-failed", "--now", NOW, "--json", env=env)
    assert rest.json() == {"retried": [1, 3]}
    run_tracker("send-due", "--now", NOW, env=env)
    assert run_tracker("send-due", "--now", NOW, env=env).code == 0
    received = [m.rcpt_tos for m in server.messages]
    assert sorted(received) == [
        ("person0@example.org",),
        ("person1@example.org",),
        ("person2@example.org",),
    ]
    assert [r.state for r in outbox(session_factory)] == ["sent"] * 3
    nothing = run_tracker("outbox", env=env)
    assert nothing.stdout.strip() == "the outbox has no message waiting, being retried or failed"
    history = run_tracker("outbox", "--state", "sent", env=env)
    assert "3 sent" in history.stdout
