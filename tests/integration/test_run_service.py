"""`tracker run`: the unattended service sends what is due, and stops cleanly on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli import run_tracker, tracker_executable
from tests.integration.sender_helpers import programme_text, smtp_url
from tests.smtp_server import SmtpTestServer


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_service_sends_what_is_due_unattended_and_stops_cleanly_on_a_signal(
    tracker_env: dict[str, str], tmp_path: Path, stop_signal: signal.Signals
) -> None:
    # Something due at the real now: a check-in whose first date is today, two minutes ago.
    moment = datetime.now(UTC) - timedelta(minutes=2)
    text = programme_text(
        1,
        first=moment.date(),
        at=moment.strftime("%H:%M"),
        timezone="UTC",
        working_days_only=False,
    )
    programme = tmp_path / "today.yaml"
    programme.write_text(text, encoding="utf-8")
    with SmtpTestServer() as server:
        env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(server)}
        assert run_tracker("import", str(programme), env=env).code == 0
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        full_env.update(env)
        service = subprocess.Popen(
            [tracker_executable(), "-v", "run"],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60  # a wait for the message, not a timing assertion
            while not server.messages:
                assert service.poll() is None, service.communicate()[1].decode()
                assert time.monotonic() < deadline, "the service sent nothing"
                time.sleep(0.05)
            service.send_signal(stop_signal)
            _, stderr = service.communicate(timeout=30)
        finally:
            if service.poll() is None:
                service.kill()
                service.wait()
        (received,) = server.messages
    log = stderr.decode()
    assert service.returncode == 0, log
    assert received.rcpt_tos == ("person0@example.org",)
    assert f"action=service.stopping signal={stop_signal.name}" in log
    assert log.rstrip().splitlines()[-1].endswith("action=service.stopped")
    assert "Traceback" not in log
