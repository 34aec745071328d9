"""A participant's address changes: the same person, with all their history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import load_programme, reply_to, send_pass
from tests.smtp_server import SmtpTestServer
from tracker.db.orm import Event, InboundMessage, Participant, Reminder, Update
from tracker.errors import TrackerError
from tracker.services.coordinating import find_participant
from tracker.services.email_change import change_participant_email
from tracker.services.intake import ingest

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
WANG = "wang.xiaoming@example.org"
CHECK_IN = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)


def history(session: Session, participant_id: int) -> tuple[int, int, int]:
    """How many reminders, updates and inbound messages are linked to the participant."""
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).where(column == participant_id)) or 0
        for column in (
            Reminder.participant_id,
            Update.participant_id,
            InboundMessage.participant_id,
        )
    )


def test_the_participant_keeps_their_history_and_gets_the_next_reminder(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, CHECK_IN - timedelta(days=30))
    (first,) = [m for m in send_pass(session_factory, CHECK_IN) if WANG in str(m["To"])]
    ingest(
        reply_to(first, "1：已完成\n2：进行中 60%"),
        session_factory=session_factory,
        secret_key=TEST_SECRET_KEY,
        source="pipe",
        now=CHECK_IN + timedelta(hours=2),
    )
    with session_factory() as session:
        wang = find_participant(WANG, slug=None, session=session)
        wang_id, before = wang.id, history(session, wang.id)
    assert before[0] >= 1
    assert before[1:] == (2, 1)

    with session_factory.begin() as session:
        wang = find_participant(WANG, slug=None, session=session)
        old = change_participant_email(
            wang, " Wang.XM@New.Example.CN ", session=session, now=CHECK_IN + timedelta(days=1)
        )
    assert old == WANG
    with session_factory() as session:
        wang = session.get(Participant, wang_id)
        assert wang is not None
        assert wang.email == "wang.xm@new.example.cn"
        assert history(session, wang_id) == before
        (event,) = session.scalars(select(Event).where(Event.action == "participant.email_changed"))
        assert (event.participant_id, event.detail) == (
            wang_id,
            f"{WANG} → wang.xm@new.example.cn, by a coordinator",
        )
    # The next check-in goes to the new address, in their language.
    later = [
        m
        for m in send_pass(session_factory, CHECK_IN + timedelta(days=30))
        if "王晓明" in str(m["To"])
    ]
    assert later
    assert {str(m["To"]) for m in later} == {"王晓明 <wang.xm@new.example.cn>"}
    assert "请" in later[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("anna@example.org", "anna@example.org is already the address of Anna Keller"),
        ("ANNA@example.org", "anna@example.org is already the address of Anna Keller"),
        (WANG.upper(), f"{WANG} already has that address"),
        ("not-an-address", "the new address: 'not-an-address' is not an email address"),
        ("用户@example.cn", "the new address: '用户@example.cn' is not an email address"),
    ],
)
def test_a_new_address_that_cannot_be_theirs_changes_nothing(
    session_factory: sessionmaker[Session], new: str, message: str
) -> None:
    load_programme(session_factory, CHECK_IN)
    with session_factory.begin() as session:
        wang = find_participant(WANG, slug=None, session=session)
        with pytest.raises(TrackerError) as raised:
            change_participant_email(wang, new, session=session, now=CHECK_IN)
        assert str(raised.value).startswith(message)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0
        assert find_participant(WANG, slug=None, session=session).email == WANG


@pytest.fixture
def env(tracker_env: dict[str, str]) -> Iterator[dict[str, str]]:
    with SmtpTestServer() as server:
        env = {**tracker_env, "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{server.port}"}
        assert run_tracker("import", str(SMALL), env=env).code == 0
        yield env


def test_the_command_changes_the_address_and_says_so(env: dict[str, str]) -> None:
    result = run_tracker(
        "participant", "change-email", WANG.upper(), "wang@new.example.cn", env=env
    )
    assert result.code == 0, result.stderr
    assert result.stdout == (
        f"{WANG} is now wang@new.example.cn in small-programme; their history stays with them\n"
    )
    status = run_tracker("status", "--json", env=env).json()["programmes"][0]["participants"]
    assert [p["email"] for p in status] == ["wang@new.example.cn", "anna@example.org"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody@example.org", "x@example.org"), "error: no participant nobody@example.org"),
        ((WANG, "anna@example.org"), "error: anna@example.org is already the address of"),
        ((WANG, "bad address"), "error: the new address: 'bad address' is not an email address"),
        (
            (WANG, "x@example.org", "--programme", "nope"),
            "error: no participant wang.xiaoming@example.org in nope",
        ),
    ],
)
def test_the_command_refuses_with_one_line(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run_tracker("participant", "change-email", *args, env=env)
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1
