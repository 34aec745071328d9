"""One reader process reads message after message; one that overran, raised or died is
replaced by a fresh one; none outlives the program that started it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_reading import REPLY, dies, logs_its_pid, never_finishes, raises
from tracker.inbound.parse import parse_message
from tracker.services.reading import (
    KEEP_READER_UP_TO_BYTES,
    ReadingFailed,
    ReadingLimits,
    close_idle_readers,
    read_within_budget,
)

ROOT = Path(__file__).resolve().parents[2]
BY_PID = ReadingLimits(reader=logs_its_pid)


def reader_pid(caplog: pytest.LogCaptureFixture) -> int:
    """The process that read the last message (its log line is forwarded with its pid)."""
    caplog.clear()
    assert read_within_budget(REPLY, limits=BY_PID) == parse_message(REPLY)
    (record,) = [r for r in caplog.records if r.getMessage().startswith("action=test.read_by")]
    assert record.getMessage() == f"action=test.read_by pid={record.process}"
    assert record.process is not None
    return record.process


def is_gone(pid: int) -> bool:
    """No such process, or only its exit status is left (a zombie)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def wait_until_gone(pid: int) -> bool:
    deadline = time.monotonic() + 30
    while not is_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def caplog_info(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def test_one_process_reads_message_after_message(caplog_info: pytest.LogCaptureFixture) -> None:
    first = reader_pid(caplog_info)
    assert [reader_pid(caplog_info) for _ in range(3)] == [first] * 3
    assert first != os.getpid()


@pytest.mark.parametrize(
    ("limits", "failure"),
    [
        (ReadingLimits(budget_seconds=0.3, reader=never_finishes), None),
        (ReadingLimits(reader=raises), ReadingFailed),
        (ReadingLimits(reader=dies), ReadingFailed),
    ],
    ids=["past the budget", "raised", "died"],
)
def test_a_process_that_overran_raised_or_died_is_replaced_by_a_fresh_one(
    caplog_info: pytest.LogCaptureFixture,
    limits: ReadingLimits,
    failure: type[Exception] | None,
) -> None:
    before = reader_pid(caplog_info)
    if failure is None:
        assert read_within_budget(REPLY, limits=limits).problem == "too_complex"
    else:
        with pytest.raises(failure):
            read_within_budget(REPLY, limits=limits)
    after = reader_pid(caplog_info)  # reads the next message as well as ever
    assert after != before
    assert wait_until_gone(before)


def test_a_process_that_read_a_large_message_is_not_kept(
    caplog_info: pytest.LogCaptureFixture,
) -> None:
    small = reader_pid(caplog_info)
    large = REPLY + b"x" * KEEP_READER_UP_TO_BYTES
    caplog_info.clear()
    assert read_within_budget(large, limits=BY_PID) == parse_message(large)
    (record,) = [r for r in caplog_info.records if r.getMessage().startswith("action=test.read_by")]
    assert record.process == small  # read by the kept process, which then retires
    assert reader_pid(caplog_info) != small
    assert wait_until_gone(small)


def test_a_process_killed_while_it_waited_is_replaced_without_failing_the_message(
    caplog_info: pytest.LogCaptureFixture,
) -> None:
    waiting = reader_pid(caplog_info)
    os.kill(waiting, signal.SIGKILL)
    assert wait_until_gone(waiting)
    assert reader_pid(caplog_info) != waiting


def test_closing_the_idle_readers_ends_their_processes(
    caplog_info: pytest.LogCaptureFixture,
) -> None:
    waiting = reader_pid(caplog_info)
    close_idle_readers()
    assert is_gone(waiting)  # closed and reaped before it returns
    assert reader_pid(caplog_info) != waiting


PROGRAM = """
import logging, sys
from tests.integration.test_reading import REPLY, logs_its_pid
from tracker.services.reading import ReadingLimits, read_within_budget

class Tell(logging.Handler):
    def emit(self, record):
        print(record.process, flush=True)

logging.getLogger("tracker.inbound.test").addHandler(Tell())
logging.getLogger("tracker.inbound.test").setLevel(logging.INFO)
read_within_budget(REPLY, limits=ReadingLimits(reader=logs_its_pid))
sys.stdin.readline()  # until the test says so
"""


@pytest.mark.parametrize("end", ["exits", "killed"])
def test_no_reader_process_outlives_its_program(end: str) -> None:
    program = subprocess.Popen(
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert program.stdin is not None
    assert program.stdout is not None
    reader = int(program.stdout.readline())
    assert not is_gone(reader)
    if end == "killed":
        program.kill()  # SIGKILL: no atexit, no cleanup of its own
    else:
        program.stdin.write("\n")
        program.stdin.flush()
    assert program.wait(timeout=60) == (-signal.SIGKILL if end == "killed" else 0)
    assert wait_until_gone(reader)
