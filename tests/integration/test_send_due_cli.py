"""`tracker send-due` as users run it: dry runs, JSON, and the mistakes they can make."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.cli import run_tracker
from tests.integration.sender_helpers import SMALL, load_programme, reminders_only, smtp_url
from tests.smtp_server import SmtpTestServer
from tracker.db.orm import Base
from tracker.db.session import make_session_factory

IMPORTED = datetime(2019, 6, 1, tzinfo=UTC)
DUE = "2019-06-24T07:31:00+00:00"  # both small-programme participants' first check-in


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def smtp_server() -> Any:
    with SmtpTestServer() as server:
        yield server


def test_a_dry_run_says_what_is_due_and_sends_and_writes_nothing(
    tracker_env: dict[str, str], engine: Engine, smtp_server: SmtpTestServer
) -> None:
    env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(smtp_server)}
    load_programme(
        make_session_factory(engine),
        reminders_only(SMALL.read_text(encoding="utf-8")),
        now=IMPORTED,
    )
    before = snapshot(engine)

    dry = run_tracker("send-due", "--now", DUE, "--dry-run", "--json", env=env)
    assert dry.code == 0, dry.stderr
    report = dry.json()
    assert report["dry_run"] is True
    assert sorted(item["participant"] for item in report["due"]) == [
        "anna@example.org",
        "wang.xiaoming@example.org",
    ]
    assert report["sent"] == []
    text = run_tracker("send-due", "--now", DUE, "--dry-run", env=env)
    assert text.code == 0
    assert "2 due, nothing sent" in text.stdout
    assert smtp_server.messages == []
    assert snapshot(engine) == before

    real = run_tracker("send-due", "--now", DUE, env=env)
    assert real.code == 0, real.stderr
    assert len(smtp_server.messages) == 2


def test_json_output_is_one_document_on_stdout(
    tracker_env: dict[str, str], engine: Engine, smtp_server: SmtpTestServer
) -> None:
    env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(smtp_server)}
    load_programme(
        make_session_factory(engine),
        reminders_only(SMALL.read_text(encoding="utf-8")),
        now=IMPORTED,
    )
    result = run_tracker("send-due", "--now", DUE, "--json", env=env)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)  # raises on anything but exactly one document
    assert document["now"] == DUE
    assert document["dry_run"] is False
    assert document["planned"] == 2
    assert sorted(item["kind"] for item in document["sent"]) == ["check_in", "check_in"]
    assert {item["message_id"] for item in document["sent"]} == {
        str(m.parsed()["Message-ID"]) for m in smtp_server.messages
    }
    assert document["stopped_early"] is None


def test_a_bad_now_is_a_usage_error(tracker_env: dict[str, str]) -> None:
    result = run_tracker("send-due", "--now", "next tuesday", env=tracker_env)
    assert result.code == 2
    assert "--now" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_secret_key_is_one_line_naming_it(
    tracker_env: dict[str, str], smtp_server: SmtpTestServer
) -> None:
    env = {k: v for k, v in tracker_env.items() if k != "TRACKER_SECRET_KEY"}
    env["TRACKER_SMTP_URL"] = smtp_url(smtp_server)
    result = run_tracker("send-due", "--now", DUE, env=env)
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "TRACKER_SECRET_KEY" in lines[0]
    assert result.stdout == ""
    assert smtp_server.messages == []
