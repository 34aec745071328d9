"""What coordinators do by hand: record progress, pause, resume, opt out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import run_tracker
from tests.smtp_server import SmtpTestServer

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
WANG = "wang.xiaoming@example.org"
CHECK_IN = "2019-06-24T08:00:00+00:00"  # the first check-in, in Beijing and Berlin


@pytest.fixture
def env(tracker_env: dict[str, str]) -> Iterator[dict[str, str]]:
    with SmtpTestServer() as server:
        env = {**tracker_env, "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{server.port}"}
        assert run_tracker("import", str(SMALL), env=env).code == 0
        yield env


def test_a_coordinator_records_progress_heard_by_phone(env: dict[str, str]) -> None:
    result = run_tracker(
        "record", WANG, "1：已完成\n2：进行中 40%，等待审批\n下周再联系", "--now", CHECK_IN, env=env
    )
    assert result.code == 0, result.stderr
    assert "recorded 3 update(s)" in result.stdout
    updates = run_tracker("updates", "--participant", WANG, "--json", env=env).json()["updates"]
    assert [(u["ref"], u["status"], u["percent"], u["source"]) for u in updates] == [
        ("1", "done", 100, "coordinator"),
        ("2", "in_progress", 40, "coordinator"),
        (None, None, None, "coordinator"),
    ]
    status = run_tracker("status", "--json", env=env).json()["programmes"][0]["participants"][0]
    assert status["actions"][1]["last_update"]["source"] == "coordinator"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("1: done\n7: done", "we could not find action 7"),
        ("7: done\n9：进行中 40%", "we could not find actions 7 and 9"),
        ("A: in progress 20%", "we could not find action A"),
    ],
)
def test_recording_an_unknown_action_names_their_actions_and_changes_nothing(
    env: dict[str, str], text: str, said: str
) -> None:
    result = run_tracker("record", WANG, text, env=env)
    assert (result.code, result.stderr.strip()) == (
        1,
        f"error: {said} for {WANG}; their actions are 1 and 2: nothing recorded",
    )
    assert result.stdout == ""
    assert run_tracker("updates", "--json", env=env).json() == {"updates": []}


def test_a_paused_participant_gets_nothing_until_resumed(env: dict[str, str]) -> None:
    assert run_tracker("participant", "pause", WANG, env=env).code == 0
    sent = run_tracker("send-due", "--now", CHECK_IN, "--json", env=env).json()["sent"]
    assert [s["participant"] for s in sent if s["kind"] != "digest"] == ["anna@example.org"]
    again = run_tracker("participant", "pause", WANG, env=env)
    assert (again.code, again.stderr.strip()) == (1, f"error: {WANG} is already paused")
    assert run_tracker("participant", "resume", WANG, env=env).code == 0
    later = run_tracker("send-due", "--now", "2019-07-23T08:00:00+00:00", "--json", env=env)
    assert WANG in [s["participant"] for s in later.json()["sent"]]


def test_opting_out_by_a_coordinator_shows_in_status(env: dict[str, str]) -> None:
    assert run_tracker("participant", "opt-out", WANG, env=env).stdout.strip() == (
        f"{WANG} is now opted_out"
    )
    people = run_tracker("status", "--json", env=env).json()["programmes"][0]["participants"]
    assert {p["email"]: p["state"] for p in people}[WANG] == "opted_out"
    missing = run_tracker("participant", "pause", "nobody@example.org", env=env)
    assert (missing.code, missing.stderr.strip()) == (1, "error: no participant nobody@example.org")


def test_a_participant_paused_until_a_day_is_followed_up_again_from_that_day(
    env: dict[str, str],
) -> None:
    paused = run_tracker(
        "participant", "pause", WANG, "--until", "2019-07-20", "--now", CHECK_IN, env=env
    )
    assert (paused.code, paused.stdout.strip()) == (
        0,
        f"{WANG} is now paused until 2019-07-20 (follow-up resumes that day, 00:00 Asia/Shanghai)",
    )
    status = run_tracker("status", env=env).stdout
    assert f"王晓明 <{WANG}>  paused until 2019-07-20, last reply: never" in status
    people = run_tracker("status", "--json", env=env).json()["programmes"][0]["participants"]
    assert {p["email"]: p["paused_until"] for p in people} == {
        WANG: "2019-07-20",
        "anna@example.org": None,
    }
    sent = run_tracker("send-due", "--now", CHECK_IN, "--json", env=env).json()["sent"]
    assert WANG not in [s["participant"] for s in sent]
    later = run_tracker("send-due", "--now", "2019-07-23T08:00:00+00:00", "--json", env=env)
    assert WANG in [s["participant"] for s in later.json()["sent"]]
    assert f"王晓明 <{WANG}>  active," in run_tracker("status", env=env).stdout


@pytest.mark.parametrize(
    ("until", "said"),
    [
        ("2019-06-24", "error: the day to resume on must be after today (2019-06-24 is not)"),
        ("2019-06-01", "error: the day to resume on must be after today (2019-06-01 is not)"),
    ],
)
def test_a_pause_must_end_after_today(env: dict[str, str], until: str, said: str) -> None:
    paused = run_tracker("participant", "pause", WANG, "--until", until, "--now", CHECK_IN, env=env)
    assert (paused.code, paused.stderr.strip()) == (1, said)
    people = run_tracker("status", "--json", env=env).json()["programmes"][0]["participants"]
    assert {p["email"]: p["state"] for p in people}[WANG] == "active"


def test_a_pause_day_that_is_not_a_date_is_bad_usage(env: dict[str, str]) -> None:
    paused = run_tracker("participant", "pause", WANG, "--until", "next week", env=env)
    assert paused.code == 2
    assert "'next week' does not match the format '%Y-%m-%d'" in paused.stderr
