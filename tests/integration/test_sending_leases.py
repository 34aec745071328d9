"""A claim is a lease: a sender that dies holding one delays its reminders, never loses them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.integration.sender_helpers import (
    IDENTITY,
    load_programme,
    message_ids,
    outbox,
    programme_text,
    send_pass,
)
from tests.smtp_server import SmtpTestServer
from tracker.services.claiming import OutboxPolicy, PassClock, claim_batch
from tracker.services.planning import plan_due_reminders

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)
POLICY = OutboxPolicy()


def test_a_reminder_left_sending_by_a_dead_sender_is_resent_after_its_lease_with_its_message_id(
    session_factory: sessionmaker[Session],
) -> None:
    text = programme_text(3, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    # A sender plans and claims, commits its claims, and is killed before sending.
    with session_factory.begin() as session:
        assert len(plan_due_reminders(session=session, now=DUE).planned) == 3
    claimed = claim_batch(session_factory, IDENTITY, PassClock(DUE), POLICY)
    assert len(claimed) == 3
    held = outbox(session_factory)
    assert {r.state for r in held} == {"sending"}
    assert all(r.message_id for r in held)

    with SmtpTestServer() as server:
        during = send_pass(session_factory, server, DUE + POLICY.lease - timedelta(seconds=1))
        assert during.sent == []
        assert server.messages == []
        assert {r.state for r in outbox(session_factory)} == {"sending"}

        # The lease runs from the moment of the claim (a little after DUE).
        after = send_pass(session_factory, server, DUE + POLICY.lease + timedelta(seconds=1))
        assert len(after.sent) == 3
        assert send_pass(session_factory, server, DUE + 2 * POLICY.lease).sent == []
    assert sorted(message_ids(server.messages)) == sorted(r.message_id for r in held)
    assert {r.state for r in outbox(session_factory)} == {"sent"}
    assert [r.message_id for r in outbox(session_factory)] == [r.message_id for r in held]
