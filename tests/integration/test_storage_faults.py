"""The database fails under the tracker: a disk that fills while a message is stored, and
another process holding SQLite's write lock. Real `tracker` processes, real files."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_tracker, tracker_executable
from tests.conftest import TEST_SECRET_KEY
from tests.smtp_server import SmtpTestServer

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
CHECK_IN = "2019-06-24T08:00:00+00:00"


def environment(path: Path) -> dict[str, str]:
    return {
        "TRACKER_DATABASE_URL": f"sqlite:///{path}",
        "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
        "TRACKER_FROM": "Programme Office <followup@example.org>",
    }


def inbound_rows(path: Path) -> list[tuple[str, int]]:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return list(connection.execute("SELECT state, size FROM inbound_messages"))
    finally:
        connection.close()


def a_large_message(megabytes: int) -> bytes:
    line = b"1: in progress, and a long report follows " + b"x" * 60 + b"\r\n"
    body = line * (megabytes * 1024 * 1024 // len(line))
    return (
        b"From: wang.xiaoming@example.org\r\nTo: followup@example.org\r\n"
        b"Subject: the report\r\nMessage-ID: <large-report@example.org>\r\n\r\n" + body
    )


def ingest_with_file_size_limit(
    env: dict[str, str], raw: bytes, limit: int
) -> subprocess.Popen[bytes]:
    """`tracker ingest --exit-tempfail` that may not grow any file beyond `limit` bytes: a
    full disk as the process sees it (writes fail with EFBIG; SIGXFSZ is ignored)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    full_env.update(env)
    full_env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.Popen(
        [tracker_executable(), "ingest", "--exit-tempfail", "-"],
        env=full_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limited,
    )


def test_a_disk_that_fills_while_storing_makes_ingest_exit_75_with_nothing_half_written(
    tmp_path: Path,
) -> None:
    database = tmp_path / "tracker.db"
    env = environment(database)
    assert run_tracker("db", "upgrade", env=env).code == 0
    raw = a_large_message(4)
    limit = max(f.stat().st_size for f in tmp_path.iterdir()) + 256 * 1024
    process = ingest_with_file_size_limit(env, raw, limit)
    _, stderr = process.communicate(raw, timeout=120)
    said = stderr.decode()
    assert process.returncode == 75, said
    assert said.startswith("error: not stored, try again later: ")
    assert "disk" in said, said  # SQLite says "disk I/O error" or "database or disk is full"
    assert len(said.strip().splitlines()) == 1
    assert "Traceback" not in said
    assert inbound_rows(database) == []  # nothing half-written, the database is sound

    # The MTA delivers again once there is room: stored once, whole.
    again = run_tracker("ingest", "--exit-tempfail", env=env, input=raw)
    assert again.code == 0, again.stderr
    assert inbound_rows(database) == [("held", len(raw))]


@pytest.mark.slow
def test_a_second_writer_holding_the_lock_is_reported_and_the_next_pass_recovers(
    tmp_path: Path,
) -> None:
    database = tmp_path / "tracker.db"
    env = environment(database)
    assert run_tracker("db", "upgrade", env=env).code == 0
    assert run_tracker("import", str(SMALL), env=env).code == 0
    message = b"From: someone@example.org\r\nSubject: hello\r\nMessage-ID: <l@x>\r\n\r\n1: done\r\n"
    with SmtpTestServer() as server:
        env = {**env, "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{server.port}"}
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's write transaction, never ending
        try:
            full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
            full_env.update(env)
            sender = subprocess.Popen(
                [tracker_executable(), "send-due", "--now", CHECK_IN],
                env=full_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            ingester = subprocess.Popen(
                [tracker_executable(), "ingest", "--exit-tempfail", "-"],
                env=full_env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            _, ingest_said = ingester.communicate(message, timeout=120)
            _, send_said = sender.communicate(timeout=120)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert ingester.returncode == 75, ingest_said.decode()
        assert ingest_said.decode().strip() == (
            "error: not stored, try again later: cannot open the database: database is locked"
        )
        assert sender.returncode == 1, send_said.decode()
        assert send_said.decode().strip().startswith("error: ")
        assert "database is locked" in send_said.decode()
        assert "Traceback" not in send_said.decode()
        assert server.messages == []

        # The lock gone, the next pass and the MTA's next delivery do the work.
        assert run_tracker("send-due", "--now", CHECK_IN, env=env).code == 0
        assert len(server.messages) > 0
        assert run_tracker("ingest", "--exit-tempfail", env=env, input=message).code == 0
    assert [state for state, _ in inbound_rows(database)] == ["held"]
