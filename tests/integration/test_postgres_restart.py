"""A PostgreSQL restart under the tracker (a private server: the shared one is never touched):
during a send pass, and while messages are piped into `ingest`. The tracker reports or exits,
and the next pass (or the MTA's next delivery) finishes the work: nothing lost, nothing twice
beyond the window."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker, tracker_executable
from tests.conftest import TEST_SECRET_KEY
from tests.integration.sender_helpers import (
    load_programme,
    message_ids,
    outbox,
    programme_text,
    smtp_url,
)
from tests.private_postgres import PrivatePostgres
from tests.smtp_server import SmtpTestServer
from tracker.db.migrate import upgrade
from tracker.db.orm import InboundMessage
from tracker.db.session import make_engine, make_session_factory
from tracker.services.claiming import OutboxPolicy

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)
LEASE = OutboxPolicy().lease


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    with PrivatePostgres.started() as server:
        yield server


@pytest.fixture
def database(private_postgres: PrivatePostgres) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = private_postgres.create_database("tracker")
    engine = make_engine(url, pool_pre_ping=True)  # its connections outlive the restarts
    upgrade(engine)
    yield url, make_session_factory(engine)
    engine.dispose()


def environment(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        {
            "TRACKER_DATABASE_URL": url,
            "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
            "TRACKER_FROM": "Programme Office <followup@example.org>",
            **extra,
        }
    )
    return env


@pytest.mark.slow
def test_a_restart_during_a_send_pass_loses_nothing_and_the_next_pass_finishes(
    private_postgres: PrivatePostgres, database: tuple[str, sessionmaker[Session]]
) -> None:
    url, factory = database
    text = programme_text(30, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(factory, text, now=DUE - timedelta(days=30))
    with SmtpTestServer() as server:
        env = environment(url, TRACKER_SMTP_URL=smtp_url(server), TRACKER_SEND_RATE="600")
        sender = subprocess.Popen(
            [tracker_executable(), "send-due", "--now", DUE.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while len(server.messages) < 5:  # an event, with a generous bound
            assert sender.poll() is None, sender.communicate()[1].decode()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        private_postgres.restart()
        _, stderr = sender.communicate(timeout=120)
        said = stderr.decode()
        assert "Traceback" not in said, said
        if sender.returncode != 0:
            assert said.startswith("error: "), said
            assert len(said.strip().splitlines()) == 1, said
        at_restart = len(server.messages)

        later = run_tracker(
            "send-due",
            "--now",
            (DUE + LEASE + timedelta(minutes=2)).isoformat(),
            env={k: v for k, v in env.items() if k.startswith("TRACKER_")},
        )
        assert later.code == 0, later.stderr
        arrived = Counter(message_ids(server.messages))
    rows = outbox(factory)
    assert len(rows) == 30
    assert {r.state for r in rows} == {"sent"}
    assert set(arrived) == {r.message_id for r in rows}
    assert sum(n - 1 for n in arrived.values()) <= 1, arrived  # at most the one in flight
    assert at_restart < 30 or sender.returncode == 0


@pytest.mark.slow
def test_messages_piped_while_the_server_restarts_are_each_stored_once(
    private_postgres: PrivatePostgres, database: tuple[str, sessionmaker[Session]]
) -> None:
    url, factory = database
    env = environment(url)
    messages = [
        f"From: p{n}@example.org\r\nSubject: report {n}\r\nMessage-ID: <m{n}@example.org>\r\n"
        f"\r\n1: done\r\n".encode()
        for n in range(12)
    ]

    def restart_now_and_then() -> None:
        for _ in range(4):
            time.sleep(0.8)
            private_postgres.restart()

    restarter = threading.Thread(target=restart_now_and_then)
    restarter.start()
    codes: Counter[int] = Counter()
    try:
        for raw in messages:
            for _ in range(20):  # the MTA retries a deferred delivery
                result = subprocess.run(
                    [tracker_executable(), "ingest", "--exit-tempfail", "-"],
                    env=env,
                    input=raw,
                    capture_output=True,
                    timeout=120,
                    check=False,
                )
                said = result.stderr.decode()
                codes[result.returncode] += 1
                assert "Traceback" not in said, said
                if result.returncode == 0:
                    break
                assert result.returncode == 75, said
                assert said.startswith("error: not stored, try again later: "), said
                time.sleep(0.2)
            else:
                pytest.fail("a message was never stored")
    finally:
        restarter.join()
    # A message stored just before the server went away may still be unread: exit 0 was
    # right (its bytes are safe), and the service's next pass reads it, as reprocess does.
    pending = run_tracker(
        "reprocess", env={k: v for k, v in env.items() if k.startswith("TRACKER_")}
    )
    assert pending.code == 0, pending.stderr
    with factory() as session:
        rows = session.scalars(select(InboundMessage)).all()
    assert sorted(r.message_id or "" for r in rows) == sorted(
        f"<m{n}@example.org>" for n in range(12)
    )
    assert {r.state for r in rows} <= {"held", "processed"}, [r.state for r in rows]
    print(f"\ningest exit codes across the restart: {dict(codes)}")
