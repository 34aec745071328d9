"""The fault-injection loop: real `tracker` processes, real servers, seeded faults, one table.

Each trial, on a fresh database of its engine:

1. imports a programme whose participants each have one check-in due now;
2. arms one SMTP fault (a kind taken in turn from `faulty_smtp.fault_kinds`,
   at a random stage occurrence), starts the sender — `tracker send-due`,
   `tracker run`, or on PostgreSQL two `send-due` at once — and SIGKILLs it
   (one of the two) at a random moment: after a random number of messages
   arrived, plus a random fraction of a send interval;
3. runs clean `send-due` passes later than any lease and retry, as cron would;
4. pipes replies to the reminders that arrived and hostile messages into
   `tracker ingest --exit-tempfail`, SIGKILLing some deliveries at random
   moments and delivering again (an MTA retries until it hears 0);
5. counts: every due reminder planned once and arrived (lost otherwise),
   duplicates beyond the window (one per kill, plus one when the SMTP fault
   kept a message the client never heard accepted), the outbox's states
   (planned = sent + failed + pending, pending 0 at the end), every delivered
   message stored, each reply's update recorded once, the inbox's states
   (stored = processed + held + ignored + failed, none left unread).

Waiting is for events (messages arriving, processes ending) with generous
deadlines; a deadline passed is counted as a hang, never silently waited out.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import tracker_executable
from tests.conftest import TEST_SECRET_KEY
from tests.integration.sender_helpers import load_programme, programme_text
from tests.mailflow import reply_to
from tests.reliability.faulty_smtp import Fault, FaultySmtpServer, fault_kinds
from tests.reliability.hostile import SHAPES
from tests.reliability.parts import Databases, EngineUnavailable, Figures
from tracker.db.orm import InboundMessage, Reminder, Update
from tracker.db.session import make_engine, make_session_factory
from tracker.services.envelope import read_envelope

PARTICIPANTS = 8
SEND_RATE = 600  # a message every 0.1 s: kills land mid-batch
SMTP_TIMEOUT = 2  # seconds; a stalled server ends a pass this quickly
LEASE = 60  # seconds
PROCESS_DEADLINE = 120  # seconds a pass may take before it counts as hung
ENGINES = ("sqlite", "postgresql")


# -- processes -------------------------------------------------------------------


def _environment(db_url: str, smtp_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        {
            "TRACKER_DATABASE_URL": db_url,
            "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
            "TRACKER_FROM": "Programme Office <followup@example.org>",
            "TRACKER_SMTP_URL": smtp_url,
            "TRACKER_SEND_RATE": str(SEND_RATE),
            "TRACKER_SMTP_TIMEOUT": str(SMTP_TIMEOUT),
            "TRACKER_SEND_LEASE": str(LEASE),
        }
    )
    return env


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [tracker_executable(), *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _finish(process: subprocess.Popen[bytes], figures: Figures, what: str) -> int | None:
    """Wait for a process to end by itself; past the deadline it is a hang (and killed)."""
    try:
        _, stderr = process.communicate(timeout=PROCESS_DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        figures.hung += 1
        figures.problems.append(f"{what} did not finish within {PROCESS_DEADLINE} s")
        return None
    if b"Traceback" in stderr:
        figures.problems.append(f"{what} printed a traceback: {stderr.decode()[-300:]}")
    return process.returncode


def _kill_at_random_moment(
    process: subprocess.Popen[bytes], server: FaultySmtpServer, rng: random.Random, before: int
) -> bool:
    """SIGKILL after a random number of messages (plus a fraction of an interval); False
    when the process ended first."""
    target = before + rng.randint(0, PARTICIPANTS - 1)
    deadline = time.monotonic() + 30
    while len(server.messages) < target and process.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.005)
    time.sleep(rng.choice([0.0, rng.uniform(0.0, 60 / SEND_RATE)]))
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait()
    return True


# -- one trial -------------------------------------------------------------------


@dataclass(frozen=True)
class TrialPlan:
    sender: str  # send-due | run | two senders
    fault: Fault | None


def _header(raw: bytes, name: str) -> str | None:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    value = parsed[name]
    return None if value is None else str(value)


def run_trial(
    plan: TrialPlan,
    *,
    db_url: str,
    rng: random.Random,
    figures: Figures,
    folder: Path,
    trial: int,
) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        received = _send_phase(
            plan, db_url=db_url, factory=factory, rng=rng, figures=figures, folder=folder
        )
        _ingest_phase(
            received,
            db_url=db_url,
            factory=factory,
            rng=rng,
            figures=figures,
            folder=folder,
            trial=trial,
        )
    finally:
        engine.dispose()
    figures.trials += 1


def _send_phase(
    plan: TrialPlan,
    *,
    db_url: str,
    factory: sessionmaker[Session],
    rng: random.Random,
    figures: Figures,
    folder: Path,
) -> list[bytes]:
    """Steps 1-3; returns the messages the server received."""
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    load_programme(
        factory,
        programme_text(
            PARTICIPANTS,
            first=due.date(),
            at=due.strftime("%H:%M"),
            timezone="UTC",
            working_days_only=False,
        ),
        now=due - timedelta(days=30),
    )
    with FaultySmtpServer() as server:
        env = _environment(db_url, f"smtp://{server.host}:{server.port}")
        server.arm(plan.fault)
        kills = 0
        if plan.sender == "run":
            process = _start(["run"], env, folder)
            if _kill_at_random_moment(process, server, rng, 0):
                kills += 1
                figures.faults["SIGKILL tracker run"] += 1
            else:
                figures.problems.append("tracker run ended by itself")
        else:
            count = 2 if plan.sender == "two senders" else 1
            processes = [_start(["send-due"], env, folder) for _ in range(count)]
            victim = rng.randrange(count)
            if _kill_at_random_moment(processes[victim], server, rng, 0):
                kills += 1
                figures.faults[f"SIGKILL send-due ({plan.sender})"] += 1
            for n, process in enumerate(processes):
                if n != victim or process.returncode is None:
                    _finish(process, figures, "send-due")
        # Later passes, as cron runs them: after every lease and the first retries. A
        # fault that has not fired yet stays armed for the first of them.
        now = datetime.now(UTC)
        for n, later in enumerate((timedelta(minutes=15), timedelta(hours=8), timedelta(days=2))):
            if n == 1:
                server.arm(None)
            process = _start(["send-due", "--now", (now + later).isoformat()], env, folder)
            _finish(process, figures, "a clean send-due")
            with factory() as session:
                waiting = session.scalar(
                    select(func.count()).where(Reminder.state.in_(("planned", "sending")))
                )
            if not waiting:
                break
        fired = server.fired
        for fault in fired:
            figures.faults[f"SMTP {fault.name}"] += 1
        _count_outbox(factory, server, figures, kills=kills, fired=fired)
        return server.messages


def _count_outbox(
    factory: sessionmaker[Session],
    server: FaultySmtpServer,
    figures: Figures,
    *,
    kills: int,
    fired: list[Fault],
) -> None:
    with factory() as session:
        rows = list(session.scalars(select(Reminder)))
    arrived = Counter(_header(raw, "Message-ID") for raw in server.messages)
    states = Counter(r.state for r in rows)
    figures.planned += len(rows)
    figures.sent += states["sent"]
    figures.failed += states["failed"]
    figures.pending += states["planned"] + states["sending"]
    figures.arrived += sum(arrived.values())
    if len(rows) != PARTICIPANTS:
        figures.lost += max(0, PARTICIPANTS - len(rows))
        figures.problems.append(f"{len(rows)} reminders planned, {PARTICIPANTS} due")
    sent_ids = {r.message_id for r in rows if r.state == "sent"}
    never_arrived = [r for r in rows if r.state == "sent" and r.message_id not in arrived]
    figures.lost += len(never_arrived)
    refused = sum(1 for f in fired if f.action.startswith("5"))
    if states["failed"] > refused:
        figures.lost += states["failed"] - refused
        figures.problems.append(f"{states['failed']} failed after {refused} refusals")
    strangers = set(arrived) - sent_ids - {r.message_id for r in rows}
    if strangers:
        figures.problems.append(f"{len(strangers)} messages arrived that no row sent")
    duplicates = sum(n - 1 for n in arrived.values())
    window = kills + sum(1 for f in fired if f.keeps_message)
    figures.duplicates += duplicates
    figures.duplicates_beyond_window += max(0, duplicates - window)


def _ingest_phase(
    received: list[bytes],
    *,
    db_url: str,
    factory: sessionmaker[Session],
    rng: random.Random,
    figures: Figures,
    folder: Path,
    trial: int,
) -> None:
    """Step 4 (and the inbox's half of step 5)."""
    env = _environment(db_url, "smtp://127.0.0.1:9")  # ingest sends nothing
    originals: dict[str, EmailMessage] = {}
    for raw in received:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        originals.setdefault(str(parsed["Message-ID"]), parsed)
    replies = [
        reply_to(
            original, "1: done", message_id=f"<reply-{trial}-{n}-{uuid.uuid4().hex}@example.net>"
        )
        for n, original in enumerate(list(originals.values())[:1])
    ]
    base = replies[0] if replies else b"From: a@example.org\nSubject: hello\n\n1: done\n"
    names = sorted(SHAPES)
    hostile = [names[(trial * 2 + k) % len(names)] for k in range(2)]
    inputs: list[tuple[str, bytes]] = [("reply", raw) for raw in replies]
    inputs += [(name, SHAPES[name](rng, base)) for name in hostile]
    now = datetime.now(UTC)
    for kind, raw in inputs:
        figures.inputs[kind] += 1
        _deliver(raw, env=env, now=now, rng=rng, figures=figures, folder=folder)
    _count_inbox(factory, inputs, figures)


def _deliver(
    raw: bytes,
    *,
    env: dict[str, str],
    now: datetime,
    rng: random.Random,
    figures: Figures,
    folder: Path,
) -> None:
    """Pipe `raw` into `tracker ingest --exit-tempfail` until it exits 0, as an MTA does."""
    for attempt in range(5):
        process = _start(["ingest", "--exit-tempfail", "--now", now.isoformat(), "-"], env, folder)
        assert process.stdin is not None
        try:
            process.stdin.write(raw)
            process.stdin.close()
        except BrokenPipeError:
            pass
        process.stdin = None  # closed: communicate() must not flush it
        if attempt == 0 and rng.random() < 0.35:
            time.sleep(rng.uniform(0.0, 1.0))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                figures.faults["SIGKILL ingest"] += 1
                continue
        code = _finish(process, figures, "ingest")
        if code == 0:
            return
        if code != 75:
            figures.problems.append(f"ingest exited {code}")
            return
    figures.problems.append("ingest never stored a message after 5 deliveries")


def _count_inbox(
    factory: sessionmaker[Session], inputs: list[tuple[str, bytes]], figures: Figures
) -> None:
    with factory() as session:
        rows = list(session.scalars(select(InboundMessage)))
        updates = Counter(
            session.scalars(select(Update.inbound_message_id).where(Update.source == "email"))
        )
    hashes = {r.content_hash: r for r in rows}
    by_id = {r.message_id: r for r in rows if r.message_id}
    for kind, raw in inputs:
        row = hashes.get(hashlib.sha256(raw).hexdigest()) or by_id.get(
            read_envelope(raw).message_id
        )
        if row is None:
            figures.lost += 1
            figures.problems.append(f"a delivered {kind} was not stored")
        elif kind == "reply" and updates[row.id] != 1:
            figures.lost += updates[row.id] == 0
            figures.duplicates_beyond_window += max(0, updates[row.id] - 1)
            figures.problems.append(f"a reply recorded {updates[row.id]} updates ({row.state})")
    states = Counter(r.state for r in rows)
    figures.stored += len(rows)
    figures.processed += states["processed"]
    figures.held += states["held"]
    figures.ignored += states["duplicate"] + states["discarded"]
    figures.failed_inbound += states["failed"]
    figures.unread += states["stored"]


# -- the loop --------------------------------------------------------------------


def plans(engine: str, trials: int, rng: random.Random) -> Iterator[TrialPlan]:
    """Each trial's sender and SMTP fault: every fault kind in turn, every fourth trial none."""
    kinds = fault_kinds()
    offset = rng.randrange(len(kinds))
    senders = ["send-due", "run"] + (["two senders"] if engine == "postgresql" else [])
    for n in range(trials):
        sender = senders[n % len(senders)]
        if n % 4 == 3:
            yield TrialPlan(sender=sender, fault=None)
            continue
        stage, action = kinds[(offset + n - n // 4) % len(kinds)]
        yield TrialPlan(
            sender=sender, fault=Fault(stage=stage, action=action, at=rng.randint(1, 2))
        )


@dataclass
class Report:
    seed: int
    trials: int
    figures: dict[str, Figures]
    unavailable: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.figures.values())


def run_loop(
    *,
    trials: int,
    seed: int,
    engines: tuple[str, ...],
    progress: Callable[[str, Figures], None] | None = None,
) -> Report:
    report = Report(seed=seed, trials=trials, figures={}, unavailable={})
    with _scratch() as folder:
        for engine in engines:
            rng = random.Random(f"{seed}-{engine}")
            try:
                databases = Databases(engine, folder)
            except EngineUnavailable as error:
                report.unavailable[engine] = str(error)
                continue
            figures = report.figures[engine] = Figures()
            try:
                for n, plan in enumerate(plans(engine, trials, rng)):
                    run_trial(
                        plan,
                        db_url=databases.fresh(),
                        rng=rng,
                        figures=figures,
                        folder=folder,
                        trial=n,
                    )
                    if progress is not None:
                        progress(engine, figures)
            finally:
                databases.close()
    return report


@contextmanager
def _scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="tracker-reliability-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
