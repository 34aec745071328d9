"""Intake that nothing can stall or lose: reading outside the lock, a time budget, failures
kept with their reason, hostile mail held (not logged as a crash), NUL bytes on both engines."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.integration.test_reading import fails_itself, never_finishes
from tests.mailflow import load_programme, reply_to, send_pass
from tracker.db.orm import InboundMessage, Update
from tracker.db.session import make_engine, make_session_factory
from tracker.inbound.parse import READER_FAILED, ParsedMessage
from tracker.services.intake import ingest, process_stored, reprocess
from tracker.services.reading import ReadingLimits, parse_with_refs
from tracker.services.status import programme_status

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 1, 31, tzinfo=UTC)
LATER = datetime(2019, 6, 24, 3, 0, tzinfo=UTC)
WANG = "wang.xiaoming@example.org"


@pytest.fixture
def sent(session_factory: sessionmaker[Session]) -> EmailMessage:
    load_programme(session_factory, IMPORTED)
    return next(m for m in send_pass(session_factory, CHECK_IN) if "wang" in str(m["To"]))


def take(factory: sessionmaker[Session], raw: bytes, **kwargs: Any) -> Any:
    return ingest(
        raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=LATER, **kwargs
    )


def actions_of(factory: sessionmaker[Session], email: str = WANG) -> dict[str, dict[str, Any]]:
    with factory() as session:
        document = programme_status(session=session)
    person = next(p for p in document["programmes"][0]["participants"] if p["email"] == email)
    return {a["ref"]: a for a in person["actions"]}


def waits_for_release(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    """A reader that announces it started, then waits until the test releases it.

    The child process gets no state from the test but the message, so the
    two file names travel in the message's own X-Test-* headers.
    """
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    Path(str(headers["X-Test-Started"]).strip()).touch()
    released = Path(str(headers["X-Test-Release"]).strip())
    deadline = time.monotonic() + 60
    while not released.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return parse_with_refs(raw, known_refs)


@pytest.fixture
def impatient_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions that give up after 2 s on a locked SQLite database (the default waits 30 s)."""
    engine: Engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _impatient(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout = 2000")

    yield make_session_factory(engine)
    engine.dispose()


def test_ingest_holds_no_lock_while_reading_so_others_write_meanwhile(
    session_factory: sessionmaker[Session],
    impatient_factory: sessionmaker[Session],
    sent: EmailMessage,
    tmp_path: Path,
) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    slow = reply_to(
        sent,
        "1: done",
        extra={"X-Test-Started": str(started), "X-Test-Release": str(release)},
    )
    outcome: dict[str, Any] = {}
    reading = threading.Thread(
        target=lambda: outcome.update(
            slow=take(session_factory, slow, limits=ReadingLimits(reader=waits_for_release))
        )
    )
    reading.start()
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline, "the slow reader never started"
            time.sleep(0.02)
        # While that message is being read: a second ingest and a send pass both write.
        other = take(impatient_factory, reply_to(sent, "2: blocked", message_id="<r2@example.org>"))
        assert other.state == "processed"
        assert send_pass(impatient_factory, LATER)  # the acknowledgement of the second reply
        assert reading.is_alive()
    finally:
        release.touch()
        reading.join(timeout=60)
    assert outcome["slow"].state == "processed"
    state = actions_of(session_factory)
    assert (state["1"]["status"], state["2"]["status"]) == ("done", "blocked")


@pytest.mark.parametrize("budget", [0.5, 1.5])
def test_a_message_that_takes_too_long_to_read_is_held_too_complex_and_the_next_goes_on(
    session_factory: sessionmaker[Session], sent: EmailMessage, budget: float
) -> None:
    stuck = take(
        session_factory,
        reply_to(sent, "1: done"),
        limits=ReadingLimits(budget_seconds=budget, reader=never_finishes),
    )
    assert (stuck.state, stuck.reason) == ("held", "too_complex")
    assert stuck.detail == f"reading it took longer than the {budget:g} s allowed"
    following = take(session_factory, reply_to(sent, "2: done", message_id="<r2@example.org>"))
    assert following.state == "processed"
    assert actions_of(session_factory)["1"]["status"] == "not_started"
    assert actions_of(session_factory)["2"]["status"] == "done"


def test_a_failed_message_never_blocks_the_next_one_and_is_not_retried_by_the_service(
    session_factory: sessionmaker[Session], sent: EmailMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.services import replying

    def broken_for_the_first(*args: Any, **kwargs: Any) -> Any:
        inbound = args[0]
        if inbound.message_id == "<reply-1@example.org>":
            raise KeyError("no such thing")
        return replying.apply_reply(*args, **kwargs)

    monkeypatch.setattr("tracker.services.deciding.apply_reply", broken_for_the_first)
    with session_factory.begin() as session:  # both arrived through a pipe that died
        from tracker.services.storing import store_inbound

        store_inbound(reply_to(sent, "1: done"), session=session, source="pipe", now=LATER)
        store_inbound(
            reply_to(sent, "2: done", message_id="<r2@example.org>"),
            session=session,
            source="pipe",
            now=LATER,
        )
    results = process_stored(session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER)
    assert [(r.state, r.detail) for r in results] == [
        ("failed", "processing raised KeyError: 'no such thing'"),
        ("processed", "1 update(s) recorded"),
    ]
    assert (
        process_stored(session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER) == []
    )


def test_a_fault_of_the_reader_is_a_failed_message_not_an_unreadable_one(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    result = take(
        session_factory, reply_to(sent, "1: done"), limits=ReadingLimits(reader=fails_itself)
    )
    assert (result.state, result.reason, result.detail) == ("failed", None, READER_FAILED)


HOSTILE_SHAPES = {
    "1,000-level nested multipart": (
        "MIME-Version: 1.0\r\n"
        + "".join(
            f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(1000)
        )
        + "Content-Type: text/plain\r\n\r\n1: done\r\n"
    ),
    "100,000 '(' in Cc": "Cc: " + "(" * 100_000 + "\r\n\r\n1: done\r\n",
    "百分之 and 5,000 digits": "\r\n1: 进行中 百分之" + "1" * 5000 + "\r\n",
    "a line of 4,301 digits and a colon": "\r\n1: done\r\n2: in progress 60%\r\n"
    + "7" * 4301
    + ":\r\n",
}


@pytest.mark.parametrize("shape", list(HOSTILE_SHAPES))
def test_hostile_mail_is_stored_and_decided_with_a_reason_never_logged_as_a_crash(
    session_factory: sessionmaker[Session],
    sent: EmailMessage,
    shape: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    head = (
        f"From: {sent['To']}\r\nTo: {sent['Reply-To']}\r\nSubject: Re: progress\r\n"
        f"Message-ID: <hostile@example.org>\r\nIn-Reply-To: {sent['Message-ID']}\r\n"
    )
    body = HOSTILE_SHAPES[shape]
    raw = (head + ("" if body.startswith(("\r\n", "MIME", "Cc")) else "\r\n") + body).encode()
    result = take(session_factory, raw)
    assert result.state in ("processed", "held"), result.detail
    if result.state == "held":
        assert result.reason in ("too_complex", "unreadable")
        assert result.detail  # the defect, named
    crashes = [r for r in caplog.records if r.exc_info or r.exc_text or "Traceback" in r.message]
    assert crashes == []
    with session_factory() as session:
        assert session.scalars(select(InboundMessage.raw)).one() == raw


def test_a_long_number_loses_nothing_else_of_the_reply(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    body = "1: done, published\n2: in progress 60%\n" + "7" * 4301 + ":\n"
    result = take(session_factory, reply_to(sent, body))
    assert result.state == "processed"
    assert [(u["ref"], u["status"], u["percent"]) for u in result.updates][:2] == [
        ("1", "done", 100),
        ("2", "in_progress", 60),
    ]
    state = actions_of(session_factory)
    assert (state["1"]["status"], state["2"]["percent"]) == ("done", 60)


def test_nul_in_the_subject_and_body_is_stored_read_and_recorded_on_both_engines(
    session_factory: sessionmaker[Session], sent: EmailMessage
) -> None:
    raw = (
        f"From: {sent['To']}\r\nTo: {sent['Reply-To']}\r\nSubject: Re:\x00 progress\r\n"
        "Message-ID: <nul@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "1: done, with a NUL \x00 inside\r\n2: in progress 30%\r\n"
    ).encode()
    assert raw.count(b"\x00") == 2
    result = take(session_factory, raw)
    assert result.state == "processed", result.detail
    with session_factory() as session:
        inbound = session.scalars(select(InboundMessage)).one()
        notes = session.scalars(select(Update.note).order_by(Update.id)).all()
    assert inbound.raw == raw  # the bytes as they came, NUL and all
    assert inbound.subject is not None
    assert "\x00" not in inbound.subject
    assert inbound.subject.replace("\ufffd", " ").split() == ["Re:", "progress"]
    assert all("\x00" not in note for note in notes)
    assert actions_of(session_factory)["2"]["percent"] == 30
    again = reprocess(
        [result.inbound_id], session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER
    )
    assert [r.state for r in again] == ["processed"]


def test_the_digest_counts_a_failed_message_among_those_waiting_for_review(
    session_factory: sessionmaker[Session], sent: EmailMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("tracker.services.deciding.apply_reply", broken)
    assert take(session_factory, reply_to(sent, "1: done")).state == "failed"
    digest = next(
        m
        for m in send_pass(session_factory, datetime(2019, 7, 1, 0, 30, tzinfo=UTC))
        if m["X-Tracker-Kind"] == "digest"
    )
    assert "另有1封来信待您审核" in digest.get_body(("plain",)).get_content()
