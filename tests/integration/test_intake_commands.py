"""The intake and review commands as a coordinator runs them: real `tracker` processes,
asserting the words they print (text mode), their exit codes, and what a terminal shows."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli import Result, run_tracker, tracker_executable
from tests.dovecot import DovecotServer
from tests.mailflow import reply_to
from tests.smtp_server import SmtpTestServer
from tracker.db.session import make_engine

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
CHECK_IN = "2019-06-24T08:00:00+00:00"
LATER = "2019-06-24T09:00:00+00:00"
WANG = "wang.xiaoming@example.org"


@pytest.fixture
def env(tracker_env: dict[str, str]) -> Iterator[dict[str, str]]:
    with SmtpTestServer() as server:
        env = {**tracker_env, "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{server.port}"}
        assert run_tracker("import", str(SMALL), env=env).code == 0
        assert run_tracker("send-due", "--now", CHECK_IN, env=env).code == 0
        env["_CHECK_IN_FOR_WANG"] = next(
            m.raw.decode("ascii", "replace")
            for m in server.messages
            if WANG in str(m.parsed()["To"]).lower()
        )
        yield env


def check_in(env: dict[str, str]) -> EmailMessage:
    from email import message_from_string, policy

    message = message_from_string(env["_CHECK_IN_FOR_WANG"], policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def tracker(*args: str, env: dict[str, str], input: bytes | None = None) -> Result:
    return run_tracker(
        *args, env={k: v for k, v in env.items() if k.startswith("TRACKER_")}, input=input
    )


def on_a_terminal(*args: str, env: dict[str, str], stream: str) -> tuple[int, str, str]:
    """Run `tracker` with `stream` (stdout or stderr) on a pseudo-terminal; (code, tty, other)."""
    controller, terminal = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    full_env.update({k: v for k, v in env.items() if k.startswith("TRACKER_")})
    full_env["COLUMNS"] = "100"
    process = subprocess.Popen(
        [tracker_executable(), *args],
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=terminal if stream == "stdout" else subprocess.PIPE,
        stderr=terminal if stream == "stderr" else subprocess.PIPE,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    other = (process.stderr if stream == "stdout" else process.stdout).read()  # type: ignore[union-attr]
    code = process.wait(timeout=60)
    return code, shown.decode("utf-8", "replace"), other.decode("utf-8", "replace")


def refuse_updates(db_url: str) -> None:
    """Make the database refuse to record updates, as a full disk or a bad migration would."""
    engine = make_engine(db_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_updates BEFORE INSERT ON updates "
                    "BEGIN SELECT RAISE(ABORT, 'updates are refused for this test'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'updates are refused for this test'; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_updates BEFORE INSERT ON updates "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    engine.dispose()


def allow_updates(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "DROP TRIGGER refuse_updates"
                + ("" if engine.dialect.name == "sqlite" else " ON updates")
            )
        )
    engine.dispose()


def test_ingest_and_updates_say_what_was_recorded(env: dict[str, str]) -> None:
    raw = reply_to(check_in(env), "1：已完成\n2：进行中 60%，等待预算批复\n能否发给我报告模板？")
    result = tracker("ingest", "--now", LATER, env=env, input=raw)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"message 1: reply, 3 update(s) recorded; 1 question(s) for the coordinators for {WANG}",
        "  1: done 100%",
        "  2: in progress 60% 等待预算批复",
        "  general: 能否发给我报告模板？",
    ]
    again = tracker("ingest", "--now", LATER, env=env, input=raw)
    assert again.stdout.startswith("message 1 (already stored): reply, 3 update(s) recorded")
    updates = tracker("updates", env=env)
    assert updates.code == 0
    assert updates.stdout.splitlines() == [
        f"2019-06-24T09:00  {WANG}  1: done 100%",
        f"2019-06-24T09:00  {WANG}  2: in progress 60% 等待预算批复",
        f"2019-06-24T09:00  {WANG}  general: 能否发给我报告模板？  [question]",
    ]
    as_json = tracker("updates", "--json", env=env).json()["updates"]
    assert [u["question"] for u in as_json] == [False, False, True]


def test_a_held_message_is_listed_shown_and_assigned_in_words(env: dict[str, str]) -> None:
    raw = reply_to(
        check_in(env),
        "1: in progress 40%, draft \x1b[2J\x1b]0;pwned\x07sent for comments",
        sender="Wang Xiaoming <wang.private@example.net>",
    )
    held = tracker("ingest", "--now", LATER, env=env, input=raw)
    assert held.stdout.strip() == (
        "message 1: held for review: the sender is not the participant the reminder went "
        "to, or the sender's address could not be read unambiguously (sent by "
        f"wang.private@example.net, reminder 1 went to {WANG})"
    )
    listed = tracker("review", env=env)
    assert listed.code == 0
    lines = listed.stdout.splitlines()
    assert re.match(r"^\s+1  2019-06-24T09:00  wang\.private@example\.net  ", lines[0])
    assert lines[1] == (
        "       why: the sender is not the participant the reminder went to, or the sender's "
        "address could not be read unambiguously"
    )
    shown = tracker("review", "show", "1", env=env)
    assert shown.code == 0
    out = shown.stdout.splitlines()
    assert out[0] == "message 1: held for review"
    assert "sender_mismatch" not in listed.stdout + shown.stdout  # words, not codes
    assert "From:      Wang Xiaoming <wang.private@example.net>" in out
    assert any(line.startswith("To:        followup+") for line in out)
    # The escape sequences in the reply are shown, not obeyed by the terminal.
    assert "\x1b" not in shown.stdout
    assert "\x07" not in shown.stdout
    written = "draft \\x1b[2J\\x1b]0;pwned\\x07sent for comments"
    assert f"  | 1: in progress 40%, {written}" in out
    assert f"it would record (as a reply from {WANG}):" in out
    assert f"  1: in progress 40% {written}" in out
    assert out[-1] == "decide: tracker review assign 1 EMAIL  |  tracker review discard 1"

    assigned = tracker("review", "assign", "1", WANG, "--now", LATER, env=env)
    assert assigned.code == 0, assigned.stderr
    assert assigned.stdout.splitlines() == [
        f"message 1 applied as a reply from {WANG}:",
        f"  1: in progress 40% {written}",
    ]
    assert tracker("updates", env=env).stdout.strip().endswith(f"1: in progress 40% {written}")
    assert tracker("review", env=env).stdout.strip() == "nothing held for review"
    twice = tracker("review", "assign", "1", WANG, env=env)
    assert (twice.code, twice.stderr.strip()) == (
        1,
        "error: message 1 is not held for review (it is processed)",
    )


def test_review_show_raw_prints_the_bytes_when_piped_and_escapes_on_a_terminal(
    env: dict[str, str],
) -> None:
    raw = reply_to(check_in(env), "1: done", to="followup@example.org", thread=False)
    raw = raw.replace(b"Subject: ", b"Subject: \x1b]0;pwned\x07", 1)
    tracker("ingest", env=env, input=raw)
    piped = subprocess.run(
        [tracker_executable(), "review", "show", "1", "--raw"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
            **{k: v for k, v in env.items() if k.startswith("TRACKER_")},
        },
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 0
    assert piped.stdout == raw  # byte for byte, to save as an .eml file
    code, shown, _ = on_a_terminal("review", "show", "1", "--raw", env=env, stream="stdout")
    assert code == 0
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "Subject: \\x1b]0;pwned\\x07" in shown


def test_discarding_says_so_and_a_second_time_is_an_error(env: dict[str, str]) -> None:
    raw = reply_to(check_in(env), "spam", sender="x@example.net")
    tracker("ingest", env=env, input=raw)
    discarded = tracker("review", "discard", "1", env=env)
    assert (discarded.code, discarded.stdout.strip()) == (0, "message 1 discarded")
    again = tracker("review", "discard", "1", env=env)
    assert (again.code, again.stderr.strip()) == (
        1,
        "error: message 1 is not held for review (it is discarded)",
    )
    missing = tracker("review", "show", "42", env=env)
    assert (missing.code, missing.stderr.strip()) == (1, "error: no inbound message 42")


def test_reprocess_exits_1_when_a_message_fails_and_it_waits_in_review(
    env: dict[str, str], db_url: str
) -> None:
    refuse_updates(db_url)
    ingested = tracker("ingest", "--now", LATER, env=env, input=reply_to(check_in(env), "1: done"))
    assert ingested.code == 0  # stored: the mail system's part is done
    assert re.fullmatch(
        r"message 1: failed: processing raised \w+: updates are refused for this test; it waits "
        r"in `tracker review` \(after a fix: `tracker reprocess 1`\)\n",
        ingested.stdout,
    )
    failing = tracker("reprocess", "1", "--now", LATER, env=env)
    assert failing.code == 1
    assert failing.stdout.splitlines()[-1] == "1 message(s) processed, 1 failed"
    assert failing.stderr.strip() == "error: 1 message(s) failed: 1"
    listed = tracker("review", env=env).stdout.splitlines()
    assert re.match(r"^\s+1  2019-06-24T09:00  \S+@", listed[0])
    assert listed[1].startswith("       why: processing it failed (an error in the tracker or")
    as_json = tracker("reprocess", "1", "--json", env=env)
    assert as_json.code == 1
    assert as_json.json()["failed"] == 1
    assert as_json.stderr == ""
    allow_updates(db_url)
    fixed = tracker("reprocess", "1", "--now", LATER, env=env)
    assert (fixed.code, fixed.stdout.splitlines()) == (
        0,
        [
            f"message 1: reply, 1 update(s) recorded for {WANG}",
            "  1: done 100%",
            "1 message(s) processed, 0 failed",
        ],
    )
    assert tracker("reprocess", env=env).stdout.strip() == "0 message(s) processed, 0 failed"


def test_reprocess_draws_progress_on_a_terminal_only(env: dict[str, str]) -> None:
    for n in range(3):
        tracker(
            "ingest",
            env=env,
            input=reply_to(check_in(env), f"{n % 2 + 1}: done", message_id=f"<r{n}@example.org>"),
        )
    code, drawn, out = on_a_terminal("reprocess", "1", "2", "3", env=env, stream="stderr")
    assert code == 0
    assert "reading messages" in drawn
    assert out.splitlines()[-1] == "3 message(s) processed, 0 failed"
    code, drawn, out = on_a_terminal("reprocess", "1", "--json", env=env, stream="stderr")
    assert (code, drawn) == (0, "")
    piped = tracker("reprocess", "1", "2", env=env)
    assert (piped.code, piped.stderr) == (0, "")


def test_fetch_mail_says_what_it_fetched_and_recorded(
    env: dict[str, str], dovecot: DovecotServer
) -> None:
    dovecot.deliver(reply_to(check_in(env), "2: blocked, waiting for the budget"))
    imap_env = {**env, "TRACKER_IMAP_URL": dovecot.url}
    result = tracker("fetch-mail", "--now", LATER, env=imap_env)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"message 1: reply, 1 update(s) recorded for {WANG}",
        "  2: blocked waiting for the budget",
        "fetched 1, stored 1, failed 0",
    ]
    assert tracker("fetch-mail", env=imap_env).stdout.strip() == "fetched 0, stored 0, failed 0"


def test_what_parse_with_the_refs_shows_is_what_ingest_records(
    env: dict[str, str], tmp_path: Path
) -> None:
    body = (
        "Hi Programme Office,\n"
        "1 - started, about 30% done\n"
        "第2项：受阻，等待预算批复\n"
        "3: done\n"
        "Could you send me the template?\n"
        "Thanks,\nWang"
    )
    path = tmp_path / "reply.eml"
    path.write_bytes(reply_to(check_in(env), body))
    parsed = tracker("parse", str(path), "--refs", "1,2", "--json", "--details", env=env).json()
    recorded = tracker("ingest", str(path), "--now", LATER, "--json", env=env).json()
    assert recorded["state"] == "processed"
    fields = ("ref", "status", "percent", "note")
    assert [tuple(u[f] for f in fields) for u in recorded["updates"] if u["ref"]] == [
        tuple(u[f] for f in fields) for u in parsed["updates"]
    ]
    assert [u["note"] for u in recorded["updates"] if u["question"]] == parsed["questions"]
    assert parsed["unknown_refs"] == ["3"]
    assert "no action 3 for this participant" in recorded["detail"]
