"""`tracker run` while its IMAP server restarts: one line per failed poll, no traceback, and the
reply that arrives after the restart is recorded by the next poll, unattended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli import run_tracker
from tests.dovecot import DovecotServer
from tests.integration.sender_helpers import programme_text, smtp_url
from tests.integration.test_run_inbox import action_one, running_service
from tests.mailflow import reply_to
from tests.smtp_server import SmtpTestServer


def test_the_service_rides_out_an_imap_restart_and_records_what_came_after(
    tracker_env: dict[str, str], tmp_path: Path, dovecot: DovecotServer
) -> None:
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
        env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(smtp), "TRACKER_IMAP_URL": dovecot.url}
        assert run_tracker("import", str(programme), env=env).code == 0
        with running_service(env, tmp_path / "service.log") as service:
            service.wait_for("sending the reminder", lambda: bool(smtp.messages))
            reminder = smtp.messages[0].parsed()
            dovecot.deliver(reply_to(reminder, "1: in progress 30%", message_id="<r1@example.org>"))
            service.wait_for("the first reply", lambda: action_one(env)["percent"] == 30)

            dovecot.stop()
            service.wait_for(
                "a poll failing while the server is down",
                lambda: "action=fetch.failed" in service.log(),
            )
            dovecot.start()
            dovecot.deliver(reply_to(reminder, "1: done", message_id="<r2@example.org>"))
            service.wait_for(
                "the reply after the restart", lambda: action_one(env)["status"] == "done"
            )
            code = service.stop()
        log = service.log()
    assert code == 0, log
    failed = [line for line in log.splitlines() if "action=fetch.failed" in line]
    assert all(f"IMAP server 127.0.0.1:{dovecot.port}" in line for line in failed), failed
    assert "Traceback" not in log
    assert "action=tick.failed" not in log
    assert dovecot.password not in log
