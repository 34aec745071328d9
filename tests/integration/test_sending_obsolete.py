"""A message planned on facts that have changed by the time it can be sent is not sent.

The mail server refuses the escalations, so they wait to be retried; the
participant answers meanwhile. When the server is back, the coordinators must
not be told that someone "has not answered" who just did.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli import run_tracker
from tests.mailflow import reply_to
from tests.smtp_server import SmtpTestServer

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
WANG, ANNA = "wang.xiaoming@example.org", "anna@example.org"
COORDINATORS = "officer@example.org, second@example.org"
FIRST_CHECK_IN = "2019-06-24T08:00:00+00:00"
SECOND_CHECK_IN = "2019-07-23T08:00:00+00:00"
ESCALATIONS_DUE = "2019-07-24T08:00:00+00:00"  # 09:00 in Beijing and in Berlin have passed
WANG_REPLIES = "2019-07-24T09:00:00+00:00"
SERVER_BACK = "2019-07-24T12:00:00+00:00"


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def env(tracker_env: dict[str, str], smtp: SmtpTestServer) -> dict[str, str]:
    env = {**tracker_env, "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    assert run_tracker("import", str(SMALL), env=env).code == 0
    for moment in (FIRST_CHECK_IN, SECOND_CHECK_IN):
        assert run_tracker("send-due", "--now", moment, env=env).code == 0
    return env


def escalations(smtp: SmtpTestServer) -> list[str]:
    return [
        str(m["Subject"])
        for m in (r.parsed() for r in smtp.messages)
        if m["X-Tracker-Kind"] == "escalation"
    ]


def last_check_in_to(smtp: SmtpTestServer, address: str) -> EmailMessage:
    return next(
        m
        for m in reversed([r.parsed() for r in smtp.messages])
        if address in str(m["To"]).lower() and m["X-Tracker-Kind"] == "check_in"
    )


def test_an_escalation_waiting_to_be_retried_is_not_sent_once_the_participant_answered(
    env: dict[str, str], smtp: SmtpTestServer
) -> None:
    smtp.rcpt_reply = "451 4.3.0 Try again later"
    refused = run_tracker("send-due", "--now", ESCALATIONS_DUE, "--json", env=env).json()
    assert sorted(r["kind"] for r in refused["retrying"]) == ["escalation", "escalation"]
    smtp.rcpt_reply = None

    reply = reply_to(last_check_in_to(smtp, WANG), "1：进行中 50%，已提交审议")
    ingested = run_tracker("ingest", "-", "--now", WANG_REPLIES, env=env, input=reply)
    assert ingested.code == 0, ingested.stderr

    back = run_tracker("send-due", "--now", SERVER_BACK, env=env)
    assert back.code == 0, back.stderr
    assert f"  not sent escalation to {COORDINATORS}: the participant has answered since" in (
        back.stdout.splitlines()
    )
    assert "1 no longer wanted" in back.stdout
    # Anna has still not answered: the coordinators hear about her, and only her.
    assert escalations(smtp) == ["【Small test programme】学员未回复提醒：Anna Keller"]
    cancelled = run_tracker("outbox", "--state", "cancelled", "--json", env=env).json()
    assert [(m["kind"], m["participant"], m["error"]) for m in cancelled["messages"]] == [
        ("escalation", WANG, "not sent: the participant has answered since")
    ]


def test_a_retried_overdue_reminder_is_not_sent_about_an_action_reported_done(
    env: dict[str, str], smtp: SmtpTestServer
) -> None:
    # Wang's action 1 falls due on 30 September 2019; the first overdue
    # reminder is planned for 7 October (a holiday: sent on the 8th), and the
    # server refuses it.
    assert run_tracker("send-due", "--now", "2019-09-24T08:00:00+00:00", env=env).code == 0
    smtp.rcpt_reply = "451 4.3.0 Try again later"
    refused = run_tracker("send-due", "--now", "2019-10-08T02:00:00+00:00", "--json", env=env)
    assert "overdue" in [r["kind"] for r in refused.json()["retrying"]]
    smtp.rcpt_reply = None

    recorded = run_tracker(
        "record", WANG, "1：已完成", "--now", "2019-10-08T03:00:00+00:00", env=env
    )
    assert recorded.code == 0, recorded.stderr
    sent_before = len(smtp.messages)
    back = run_tracker("send-due", "--now", "2019-10-08T06:00:00+00:00", env=env)
    assert back.code == 0, back.stderr
    assert f"  not sent overdue to {WANG}: action 1 is done" in back.stdout.splitlines()
    assert WANG not in " ".join(str(m.parsed()["To"]) for m in smtp.messages[sent_before:])
