"""The dashboard's commands as users run them: set-password, password-link, participant remind."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.mailflow import load_programme
from tracker.db.orm import Coordinator, Event, Reminder
from tracker.services.passwords import verify_password

NOW = datetime(2019, 6, 1, tzinfo=UTC)


def test_set_password_reads_stdin_and_stores_an_argon2id_hash(
    session_factory: sessionmaker[Session], tracker_env: dict[str, str], tmp_path: Path
) -> None:
    load_programme(session_factory, NOW)
    result = run_tracker(
        "coordinator",
        "set-password",
        "Officer@Example.org",
        env=tracker_env,
        input="a fine long secret\n",
    )
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "password set for officer@example.org"
    assert "a fine long secret" not in result.stdout + result.stderr
    with session_factory() as session:
        coordinator = session.scalar(
            select(Coordinator).where(Coordinator.email == "officer@example.org")
        )
        assert coordinator is not None
        assert coordinator.password_hash is not None
        assert coordinator.password_hash.startswith("$argon2id$")
        assert verify_password(coordinator.password_hash, "a fine long secret")
        event = session.scalar(select(Event).where(Event.action == "coordinator.password_set"))
        assert event is not None
        assert event.actor == "cli"


def test_set_password_refuses_a_short_password_and_an_unknown_coordinator(
    session_factory: sessionmaker[Session], tracker_env: dict[str, str]
) -> None:
    load_programme(session_factory, NOW)
    short = run_tracker(
        "coordinator", "set-password", "officer@example.org", env=tracker_env, input="short\n"
    )
    assert short.code == 1
    assert short.stderr.strip() == "error: the password must have at least 10 characters"
    nobody = run_tracker(
        "coordinator", "set-password", "nobody@example.org", env=tracker_env, input="x" * 20
    )
    assert nobody.code == 1
    assert "no coordinator nobody@example.org" in nobody.stderr
    assert "Traceback" not in short.stderr + nobody.stderr


def test_password_link_prints_a_link_under_the_public_url(
    session_factory: sessionmaker[Session], tracker_env: dict[str, str]
) -> None:
    load_programme(session_factory, NOW)
    missing = run_tracker("coordinator", "password-link", "officer@example.org", env=tracker_env)
    assert missing.code == 1
    assert "TRACKER_PUBLIC_URL is not set" in missing.stderr
    env = {**tracker_env, "TRACKER_PUBLIC_URL": "https://followup.example.org/"}
    result = run_tracker("coordinator", "password-link", "officer@example.org", env=env)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("https://followup.example.org/set-password/")
    assert "works once, for 72 hours" in result.stderr


def test_participant_remind_plans_a_check_in_now(
    session_factory: sessionmaker[Session], tracker_env: dict[str, str]
) -> None:
    load_programme(session_factory, NOW)
    result = run_tracker("participant", "remind", "anna@example.org", env=tracker_env)
    assert result.code == 0, result.stderr
    assert "to anna@example.org planned" in result.stdout
    again = run_tracker("participant", "remind", "anna@example.org", env=tracker_env)
    assert again.code == 1
    assert "already waiting to go out" in again.stderr
    with session_factory() as session:
        reminders = session.scalars(
            select(Reminder).where(Reminder.occurrence_key.like("msg:nudge:%"))
        ).all()
        assert len(reminders) == 1
        assert reminders[0].kind == "check_in"
