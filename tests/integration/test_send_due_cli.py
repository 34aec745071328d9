"""`tracker send-due` as users run it: dry runs, JSON, and the mistakes they can make."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.cli import run_tracker, tracker_executable
from tests.integration.sender_helpers import (
    SMALL,
    load_programme,
    programme_text,
    reminders_only,
    smtp_url,
)
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


def _stderr_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `tracker` with stderr on a pseudo-terminal, as a person at a terminal would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    full_env.update(env, TERM="xterm-256color", COLUMNS="100")
    full_env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [tracker_executable(), *args], env=full_env, stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    process.communicate(timeout=120)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_a_pass_shows_progress_on_a_terminal_and_nowhere_else(
    tracker_env: dict[str, str], engine: Engine, smtp_server: SmtpTestServer
) -> None:
    text = programme_text(30, first=date(2019, 7, 1), at="10:00", working_days_only=False)
    load_programme(make_session_factory(engine), text, now=IMPORTED)
    env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(smtp_server), "TRACKER_SEND_RATE": "3000"}
    # Piped: no bar.
    piped = run_tracker("send-due", "--now", "2019-07-01T02:00:00+00:00", env=env)
    assert piped.code == 0, piped.stderr
    assert "Sending" not in piped.stderr
    assert "30 sent" in piped.stdout
    # At a terminal: the bar counts the due messages.
    load_programme(
        make_session_factory(engine), text.replace("slug: bulk", "slug: bulk-2"), now=IMPORTED
    )
    code, terminal = _stderr_on_a_terminal(["send-due", "--now", "2019-07-01T02:00:00+00:00"], env)
    assert code == 0, terminal
    assert "Sending" in terminal
    assert "/30" in terminal
    # Under --json, even at a terminal: nothing but the document.
    load_programme(
        make_session_factory(engine), text.replace("slug: bulk", "slug: bulk-3"), now=IMPORTED
    )
    code, terminal = _stderr_on_a_terminal(
        ["send-due", "--now", "2019-07-01T02:00:00+00:00", "--json"], env
    )
    assert code == 0, terminal
    assert "Sending" not in terminal
