"""Real sender processes: one killed with SIGKILL mid-batch, and two sharing one outbox."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import tracker_executable
from tests.integration.sender_helpers import (
    load_programme,
    message_ids,
    outbox,
    programme_text,
    send_pass,
    smtp_url,
)
from tests.smtp_server import SmtpTestServer
from tracker.services.claiming import OutboxPolicy
from tracker.services.planning import plan_due_reminders

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)
LEASE = OutboxPolicy().lease
# Leases run on the pass's clock (its --now plus the time it has run): a sender
# killed within this long after starting holds no lease past DUE + LEASE + RAN.
RAN = timedelta(minutes=1)


def seeded_random() -> random.Random:
    """A random source whose seed is printed, so a failing run can be replayed
    (TRACKER_TEST_SEED=… pytest …)."""
    seed = int(os.environ.get("TRACKER_TEST_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nrandom seed: {seed} (replay with TRACKER_TEST_SEED={seed})")
    return random.Random(seed)


def start_sender(env: dict[str, str], now: datetime, *, rate: int) -> subprocess.Popen[bytes]:
    """`tracker send-due --now` as its own process (cron's way of running it)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    full_env.update(env)
    full_env["TRACKER_SEND_RATE"] = str(rate)
    return subprocess.Popen(
        [tracker_executable(), "send-due", "--now", now.isoformat(), "--json"],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_messages(server: SmtpTestServer, count: int, sender: subprocess.Popen[bytes]) -> None:
    """Wait (for an event, not a duration) until the server holds `count` messages."""
    deadline = time.monotonic() + 60
    while len(server.messages) < count:
        assert sender.poll() is None, "the sender finished before it could be killed"
        assert time.monotonic() < deadline, f"only {len(server.messages)} messages arrived"
        time.sleep(0.005)


def test_a_killed_sender_never_loses_a_reminder(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session], db_url: str
) -> None:
    rng = seeded_random()
    text = programme_text(40, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    with SmtpTestServer() as server:
        env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(server)}
        sender = start_sender(env, DUE, rate=600)  # one message every 0.1 s
        wait_for_messages(server, rng.randint(3, 30), sender)
        # Right after a message arrives the sender is in the duplicate window
        # (accepted, `sent` not yet committed); a random pause up to one rate
        # interval lands the kill anywhere in the cycle instead.
        time.sleep(rng.choice([0.0, rng.uniform(0.0, 0.1)]))
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=30)
        assert sender.returncode == -signal.SIGKILL
        at_kill = len(server.messages)

        # Before the lease ends, the dead sender's claims are left alone.
        send_pass(session_factory, server, DUE + LEASE - timedelta(seconds=1))
        left = [r for r in outbox(session_factory) if r.state == "sending"]
        assert left, "the kill came after the batch: nothing was in flight"
        assert len(server.messages) == at_kill
        # After it, a later pass finishes the work, and another has nothing left.
        send_pass(session_factory, server, DUE + LEASE + RAN)
        assert send_pass(session_factory, server, DUE + 2 * LEASE + RAN).sent == []

    rows = outbox(session_factory)
    assert len(rows) == 40
    assert {r.state for r in rows} == {"sent"}
    seen = Counter(message_ids(server.messages))
    assert set(seen) == {r.message_id for r in rows}  # every reminder arrived
    duplicates = sum(n - 1 for n in seen.values())
    assert duplicates <= 1  # at most the one in flight when the sender died
    print(f"\nkill test [{db_url.split(':')[0]}]: killed after {at_kill}, duplicates={duplicates}")


@pytest.mark.slow
def test_two_senders_share_500_reminders_and_each_arrives_exactly_once(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session], db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several senders share an outbox on PostgreSQL only (SQLite: one writer)")
    text = programme_text(500, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    # A planning tick has put them in the outbox. (Two passes that also plan
    # at once do not share: the first locks every participant to plan them,
    # the other finds nothing planned yet and ends; correct, but one-sided.)
    with session_factory.begin() as session:
        assert len(plan_due_reminders(session=session, now=DUE).planned) == 500
    with SmtpTestServer() as server:
        env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(server)}
        started = time.monotonic()
        senders = [start_sender(env, DUE, rate=1_000_000) for _ in range(2)]
        outputs = [sender.communicate(timeout=300) for sender in senders]
        elapsed = time.monotonic() - started
        received = message_ids(server.messages)
    for sender, (_, stderr) in zip(senders, outputs, strict=True):
        assert sender.returncode == 0, stderr.decode()
    rows = outbox(session_factory)
    assert len(rows) == 500
    assert {r.state for r in rows} == {"sent"}
    assert Counter(received) == Counter({r.message_id: 1 for r in rows})
    shares = [len(json.loads(stdout)["sent"]) for stdout, _ in outputs]
    assert sum(shares) == 500
    assert min(shares) > 0, f"one sender did all the work: {shares}"
    print(f"\ntwo senders: 500 reminders in {elapsed:.1f} s, split {shares}")
