"""`tracker run` reads replies by itself: from an IMAP mailbox, or (without one) what was stored.

The service runs as a real subprocess with one-second intervals. Each test
waits, with a generous bound, for an event (a message caught by the SMTP
server, an update in `tracker status --json`, a line in the log); none of
them asserts how long anything took.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.cli import run_tracker, tracker_executable
from tests.dovecot import DovecotServer
from tests.integration.sender_helpers import programme_text, smtp_url
from tests.mailflow import reply_to
from tests.smtp_server import SmtpTestServer

WAIT_SECONDS = 60  # the bound on waiting for an event, far above what it takes
# APScheduler's line after each run of a job that returned normally.
PROCESS_STORED_RAN = re.compile(r'Job "process-stored \(trigger: [^"]*\)" executed successfully')


class Service:
    """A running `tracker -v run`, its log (stderr) written to a file we can read meanwhile."""

    def __init__(self, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds; fail if the service dies or the bound passes."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            assert self.process.poll() is None, f"the service exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"{what} did not happen:\n{self.log()}"
            time.sleep(0.2)

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@contextmanager
def running_service(env: dict[str, str], log_path: Path) -> Iterator[Service]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    full_env.update(env)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [tracker_executable(), "-v", "run", "--send-every", "1", "--fetch-every", "1"],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            yield Service(process, log_path)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def action_one(env: dict[str, str]) -> dict[str, Any]:
    """Action "1" of the only participant, as `tracker status --json` shows it."""
    status = run_tracker("status", "--json", env=env)
    assert status.code == 0, status.stderr
    (programme,) = status.json()["programmes"]
    (participant,) = programme["participants"]
    (action,) = participant["actions"]
    assert action["ref"] == "1"
    return dict(action)


def test_the_service_fetches_a_reply_from_the_mailbox_and_records_it_unattended(
    tracker_env: dict[str, str], tmp_path: Path, dovecot: DovecotServer
) -> None:
    # A check-in due at the real now (two minutes ago), so the service sends it at once.
    moment = datetime.now(UTC) - timedelta(minutes=2)
    programme = tmp_path / "today.yaml"
    programme.write_text(
        programme_text(
            1,
            first=moment.date(),
            at=moment.strftime("%H:%M"),
            timezone="UTC",
            working_days_only=False,
        ),
        encoding="utf-8",
    )
    with SmtpTestServer() as smtp:
        env = {
            **tracker_env,
            "TRACKER_SMTP_URL": smtp_url(smtp),
            "TRACKER_IMAP_URL": dovecot.url,
        }
        assert run_tracker("import", str(programme), env=env).code == 0
        assert action_one(env)["last_update"] is None

        with running_service(env, tmp_path / "service.log") as service:
            service.wait_for("sending the reminder", lambda: bool(smtp.messages))
            reminder = smtp.messages[0].parsed()
            assert reminder["To"].addresses[0].addr_spec == "person0@example.org"

            # The participant answers; their mail server puts the reply in our mailbox.
            raw = reply_to(reminder, "1: done, published last week", message_id="<r1@example.org>")
            uid = dovecot.deliver(raw)

            service.wait_for(
                "recording the reply", lambda: action_one(env)["last_update"] is not None
            )
            code = service.stop()
        log = service.log()

    action = action_one(env)
    assert action["status"] == "done"
    assert action["percent"] == 100
    assert action["last_update"]["source"] == "email"
    assert action["last_update"]["note"] == "published last week"
    assert b"$TrackerStored" in dovecot.flags()[uid]  # taken, and marked as taken
    assert code == 0, log
    assert "action=service.started jobs=send-due,fetch-mail" in log
    assert "action=service.stopping signal=SIGTERM" in log
    assert log.rstrip().splitlines()[-1].endswith("action=service.stopped")
    assert "action=tick.failed" not in log
    assert "Traceback" not in log
    assert dovecot.password not in log


def test_without_a_mailbox_the_service_processes_stored_mail_and_stops_cleanly(
    tracker_env: dict[str, str], tmp_path: Path
) -> None:
    with SmtpTestServer() as smtp:
        env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(smtp)}
        with running_service(env, tmp_path / "service.log") as service:
            service.wait_for(
                "a process-stored pass", lambda: bool(PROCESS_STORED_RAN.search(service.log()))
            )
            code = service.stop()
        log = service.log()

    assert code == 0, log
    assert "action=service.started jobs=send-due,process-stored" in log
    assert "fetch-mail" not in log
    assert log.rstrip().splitlines()[-1].endswith("action=service.stopped")
    assert "action=tick.failed" not in log
    assert "Traceback" not in log
