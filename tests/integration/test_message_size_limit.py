"""TRACKER_MAX_MESSAGE_MB: a message over it is stored whole and held as too_large, never dropped
and never read; under it, it is read as usual; a bad value stops the command with one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli import run_tracker
from tests.conftest import TEST_SECRET_KEY
from tracker.inbound.parse import DEFAULT_MAX_BYTES
from tracker.services.reading import ReadingLimits, read_within_budget

MB = 1024 * 1024


def report(megabytes: float, message_id: str = "<big@example.org>") -> bytes:
    line = b"1: in progress; the appendix follows " + b"x" * 500 + b"\r\n"
    body = line * int(megabytes * MB // len(line) + 1)
    return (
        b"From: wang.xiaoming@example.org\r\nTo: followup@example.org\r\n"
        b"Subject: report\r\nMessage-ID: " + message_id.encode() + b"\r\n\r\n" + body
    )


def environment(path: Path, **extra: str) -> dict[str, str]:
    return {
        "TRACKER_DATABASE_URL": f"sqlite:///{path}",
        "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
        "TRACKER_FROM": "Programme Office <followup@example.org>",
        **extra,
    }


def test_a_message_over_the_setting_is_stored_whole_and_held_as_too_large(tmp_path: Path) -> None:
    database = tmp_path / "tracker.db"
    env = environment(database, TRACKER_MAX_MESSAGE_MB="1")
    assert run_tracker("db", "upgrade", env=env).code == 0
    big = report(1.5)
    stored = run_tracker("ingest", "--json", env=env, input=big)
    assert stored.code == 0, stored.stderr
    assert (stored.json()["state"], stored.json()["reason"]) == ("held", "too_large")
    small = report(0.5, "<small@example.org>")
    read = run_tracker("ingest", "--json", env=env, input=small)
    assert read.code == 0, read.stderr
    assert read.json()["reason"] != "too_large"
    review = run_tracker("review", env=env)
    assert "larger than the tracker reads" in review.stdout
    connection = sqlite3.connect(database)
    try:
        rows = dict(connection.execute("SELECT message_id, raw FROM inbound_messages"))
    finally:
        connection.close()
    assert rows["<big@example.org>"] == big  # every byte kept


def test_a_raised_setting_reads_what_the_default_would_refuse() -> None:
    over_default = report(DEFAULT_MAX_BYTES / MB + 0.5)
    refused = read_within_budget(over_default)
    assert refused.problem == "too_large"
    raised = read_within_budget(
        over_default, limits=ReadingLimits(max_bytes=DEFAULT_MAX_BYTES + MB)
    )
    assert raised.problem is None, raised.kind_reason
    assert raised.updates[0].ref == "1"


def test_a_bad_setting_stops_the_command_with_one_line(tmp_path: Path) -> None:
    for value in ("abc", "0", "-3"):
        env = environment(tmp_path / "tracker.db", TRACKER_MAX_MESSAGE_MB=value)
        said = run_tracker("ingest", env=env, input=report(0.01))
        assert said.code == 1
        assert said.stderr.startswith("error: TRACKER_MAX_MESSAGE_MB"), said.stderr
        assert len(said.stderr.strip().splitlines()) == 1
