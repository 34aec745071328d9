"""A pass that outlives a lease sends nothing twice.

The lease used to be the pass's `now` plus ten minutes, so rows claimed late in
a long pass were born expired: with 700 due reminders and 60 a minute, a second
`send-due` started 10½ minutes later re-sent 20 reminders the first was still
working through. Leases now run on the pass's clock (its `now` plus the time
elapsed), a claim takes no more than the rate sends in half a lease, and a
claim close to expiry is renewed, compare-and-set, before its message goes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Self

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import tracker_executable
from tests.integration.sender_helpers import (
    IDENTITY,
    load_programme,
    message_ids,
    outbox,
    programme_text,
    smtp_url,
)
from tests.smtp_server import SmtpTestServer
from tracker.mail.outgoing import OutgoingMail
from tracker.mail.render import create_mail_environment
from tracker.services.claiming import OutboxPolicy
from tracker.services.planning import plan_due_reminders
from tracker.services.sending import SendReport, send_due

DUE = datetime(2019, 7, 1, 3, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when a message is sent."""

    seconds: float = 1000.0

    def __call__(self) -> float:
        return self.seconds


@dataclass
class SlowMailer:
    """Each message takes `per_message` seconds (on the fake clock). Before message
    number `second_pass_at`, another sender runs a whole pass of its own, `later`
    after this pass began: as cron would start it."""

    clock: FakeClock
    per_message: float
    second_pass_at: int
    start_second_pass: Callable[[], SendReport]
    sent: list[OutgoingMail] = field(default_factory=list)
    second: SendReport | None = None

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
        if len(self.sent) + 1 == self.second_pass_at and self.second is None:
            self.second = self.start_second_pass()
        self.clock.seconds += self.per_message
        self.sent.append(message)


@dataclass
class QuickMailer:
    sent: list[OutgoingMail] = field(default_factory=list)

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
        self.sent.append(message)


@pytest.mark.parametrize(
    ("rate", "per_message", "lease", "why"),
    [
        (60.0, 1.0, 40, "the rate bounds each claim to half a lease"),
        (None, 2.0, 60, "no rate: claims close to expiry are renewed, or given up"),
    ],
)
def test_a_second_pass_during_a_long_one_sends_nothing_twice(
    session_factory: sessionmaker[Session],
    rate: float | None,
    per_message: float,
    lease: int,
    why: str,
) -> None:
    """The reported case, scaled down: a lease of a minute or less, 70 due reminders,
    and a second pass started 1.05 leases (the report's 10½ minutes) after the first."""
    text = programme_text(70, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(session_factory, text, now=DUE - timedelta(days=30))
    with session_factory.begin() as session:
        assert len(plan_due_reminders(session=session, now=DUE).planned) == 70
    policy = OutboxPolicy(lease=timedelta(seconds=lease), send_rate=rate)
    clock, env, other = FakeClock(), create_mail_environment(), QuickMailer()
    later = timedelta(seconds=lease * 1.05)

    def second_pass() -> SendReport:
        return send_due(
            session_factory=session_factory,
            mailer=other,
            env=env,
            identity=IDENTITY,
            now=DUE + later,
            policy=policy,
            monotonic=clock,
        )

    first = SlowMailer(
        clock=clock,
        per_message=per_message,
        second_pass_at=int(later.total_seconds() / per_message) + 1,
        start_second_pass=second_pass,
    )
    report = send_due(
        session_factory=session_factory,
        mailer=first,
        env=env,
        identity=IDENTITY,
        now=DUE,
        policy=policy,
        monotonic=clock,
    )
    assert first.second is not None, "the second pass never ran"
    sent = Counter(m.message_id for m in [*first.sent, *other.sent])
    duplicates = sum(n - 1 for n in sent.values())
    assert duplicates == 0, why
    assert len(sent) == 70
    rows = outbox(session_factory)
    assert {r.state for r in rows} == {"sent"}
    assert set(sent) == {r.message_id for r in rows}
    if rate is not None:
        # Claims small enough to send within their lease: none ran out.
        assert report.claims_lost == 0
    else:
        # Claims that ran out went to the second pass, and the first let them go.
        assert report.claims_lost > 0
    print(
        f"\n{why}: first pass {len(first.sent)}, second pass {len(other.sent)}, "
        f"claims given up {report.claims_lost}, duplicates 0"
    )


def start_sender(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`tracker send-due` on the real clock, as cron starts it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    full_env.update(env)
    return subprocess.Popen(
        [tracker_executable(), "send-due", "--json"],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_two_senders_with_a_slow_server_and_a_short_lease_send_each_reminder_once(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """Real processes on the real clock: each message takes the server 0.2 s, the
    lease is 2 s, and a second sender starts while the first is half-way."""
    today = datetime.now(UTC).date()
    text = programme_text(20, first=today, at="00:00", timezone="UTC", working_days_only=False)
    load_programme(session_factory, text, now=datetime.now(UTC) - timedelta(days=1))
    with SmtpTestServer() as server:
        server.data_delay = 0.2
        env = {
            **tracker_env,
            "TRACKER_SMTP_URL": smtp_url(server),
            "TRACKER_SEND_LEASE": "2",
            "TRACKER_SEND_RATE": "100000",
        }
        first = start_sender(env)
        deadline = time.monotonic() + 60
        while len(server.messages) < 6:
            assert first.poll() is None, "the first sender finished too soon"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = start_sender(env)
        outputs = [first.communicate(timeout=120), second.communicate(timeout=120)]
        received = Counter(message_ids(server.messages))
    for sender, (_, stderr) in zip((first, second), outputs, strict=True):
        assert sender.returncode == 0, stderr.decode()
    rows = outbox(session_factory)
    assert len(rows) == 20
    assert {r.state for r in rows} == {"sent"}
    assert received == Counter({r.message_id: 1 for r in rows})  # each arrived exactly once
    shares = [len(json.loads(stdout)["sent"]) for stdout, _ in outputs]
    assert sum(shares) == 20
    print(f"\ntwo senders, 2 s lease, slow server: split {shares}, duplicates 0")
