"""The whole story on real parts: `send-due` over SMTP, a reply, `ingest` or `fetch-mail`
from Dovecot, and `status` — every step a real `tracker` process."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli import run_tracker
from tests.dovecot import DovecotServer
from tests.mailflow import reply_to
from tests.smtp_server import SmtpTestServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/programme.yaml"
CHECK_IN = "2019-06-24T08:00:00+00:00"  # after the first check-ins: 09:30 in Beijing and in Seoul


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def env(tracker_env: dict[str, str], smtp: SmtpTestServer) -> dict[str, str]:
    env = {
        **tracker_env,
        "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "TRACKER_FROM": "ICLEI East Asia <followup@iclei-eastasia.example.org>",
        "TRACKER_SEND_RATE": "6000",
    }
    assert run_tracker("import", str(EXAMPLE), env=env).code == 0
    result = run_tracker("send-due", "--now", CHECK_IN, env=env)
    assert result.code == 0, result.stderr
    return env


def first_check_in(smtp: SmtpTestServer, address: str) -> EmailMessage:
    for received in smtp.messages:
        message = message_from_bytes(received.raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        if address in str(message["To"]):
            return message
    raise AssertionError(f"nothing was sent to {address}")


def actions(env: dict[str, str], address: str) -> dict[str, dict[str, object]]:
    document = run_tracker("status", "--json", env=env).json()
    person = next(p for p in document["programmes"][0]["participants"] if p["email"] == address)
    return {a["ref"]: a for a in person["actions"]}


WANG = "wang.xiaoming@xicheng.example.cn"


def test_a_reply_piped_to_ingest_shows_in_status(
    env: dict[str, str], smtp: SmtpTestServer, tmp_path: Path
) -> None:
    sent = first_check_in(smtp, WANG)
    raw = reply_to(sent, "1：已完成\n2：进行中 60%，等待预算批复", charset="gb18030")
    first = run_tracker(
        "ingest", "--now", "2019-06-24T03:00:00+00:00", "--json", env=env, input=raw
    )
    assert first.code == 0, first.stderr
    assert first.json()["state"] == "processed"
    again = run_tracker(
        "ingest", "-", "--now", "2019-06-25T03:00:00+00:00", "--json", env=env, input=raw
    )
    assert again.json()["duplicate"] is True
    state = actions(env, WANG)
    assert (state["1"]["status"], state["1"]["percent"]) == ("done", 100)
    assert (state["2"]["status"], state["2"]["percent"]) == ("in_progress", 60)
    assert state["3"]["status"] == "not_started"
    updates = run_tracker("updates", "--participant", WANG, "--json", env=env).json()["updates"]
    assert [(u["ref"], u["status"]) for u in updates] == [("1", "done"), ("2", "in_progress")]


def test_a_forged_reply_is_held_for_review(env: dict[str, str], smtp: SmtpTestServer) -> None:
    sent = first_check_in(smtp, WANG)
    forged = reply_to(sent, "1：已完成", sender="冒充者 <impostor@example.net>")
    result = run_tracker("ingest", "--json", env=env, input=forged)
    assert result.code == 0
    assert (result.json()["state"], result.json()["reason"]) == ("held", "sender_mismatch")
    held = run_tracker("review", "--json", env=env).json()["held"]
    assert [(h["from"], h["reason"]) for h in held] == [("impostor@example.net", "sender_mismatch")]
    assert actions(env, WANG)["1"]["status"] == "not_started"


def test_a_reply_fetched_from_the_mailbox_shows_in_status(
    env: dict[str, str], smtp: SmtpTestServer, dovecot: DovecotServer
) -> None:
    sent = first_check_in(smtp, "soojin.kim@seoul.example.org")
    dovecot.deliver(reply_to(sent, "2: done\n1: in progress 40%, two cities paired so far"))
    imap_env = {**env, "TRACKER_IMAP_URL": dovecot.url}
    first = run_tracker("fetch-mail", "--now", "2019-06-24T10:00:00+00:00", "--json", env=imap_env)
    assert first.code == 0, first.stderr
    assert (first.json()["fetched"], first.json()["stored"]) == (1, 1)
    assert [p["state"] for p in first.json()["processed"]] == ["processed"]
    assert run_tracker("fetch-mail", "--json", env=imap_env).json()["fetched"] == 0
    state = actions(env, "soojin.kim@seoul.example.org")
    assert state["2"]["status"] == "done"
    assert (state["1"]["status"], state["1"]["percent"]) == ("in_progress", 40)
    assert state["1"]["last_update"]["note"] == "two cities paired so far"


def test_parse_prints_the_contract_document(
    tmp_path: Path, smtp: SmtpTestServer, env: dict[str, str]
) -> None:
    sent = first_check_in(smtp, WANG)
    path = tmp_path / "reply.eml"
    path.write_bytes(reply_to(sent, "1：已完成\n2：进行中 60%，等待预算批复", charset="gb18030"))
    result = run_tracker("parse", str(path), "--json")
    assert result.code == 0
    document = result.json()
    assert list(document) == ["kind", "language", "reply_text", "updates", "token"]
    assert document["kind"] == "reply"
    assert document["language"] == "zh"
    assert document["reply_text"] == "1：已完成\n2：进行中 60%，等待预算批复"
    assert document["updates"] == [
        {"ref": "1", "status": "done", "percent": 100, "note": ""},
        {"ref": "2", "status": "in_progress", "percent": 60, "note": "等待预算批复"},
    ]
    assert document["token"] is not None
    assert document["token"] in str(sent["Reply-To"])


def test_an_mta_is_told_to_retry_when_the_message_cannot_be_stored(tmp_path: Path) -> None:
    unreachable = {
        "TRACKER_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        "TRACKER_SECRET_KEY": "k" * 40,
    }
    message = b"From: someone@example.org\r\nSubject: hello\r\n\r\n1: done\r\n"
    deferred = run_tracker(
        "ingest", "--exit-tempfail", env=unreachable, cwd=tmp_path, input=message
    )
    assert deferred.code == 75
    assert deferred.stderr.startswith(
        "error: not stored, try again later: cannot open the database"
    )
    plain = run_tracker("ingest", env=unreachable, cwd=tmp_path, input=message)
    assert plain.code == 1
    assert "Traceback" not in plain.stderr + deferred.stderr
