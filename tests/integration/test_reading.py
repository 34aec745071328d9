"""Reading a message in a child process, within a time budget and a memory cap."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection

import pytest

from tracker.inbound.parse import READER_FAILED, ParsedMessage, parse_message
from tracker.services.reading import ReadingFailed, ReadingLimits, read_within_budget

REPLY = (
    b"From: Wang <wang@example.org>\r\nTo: followup@example.org\r\n"
    b"Subject: Re: progress\r\nMessage-ID: <r1@example.org>\r\n\r\n"
    b"1: done\r\nA1: in progress 40%, waiting\r\n"
)


# Readers the child process imports by name (so they live at module level).
def never_finishes(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    time.sleep(3600)
    raise AssertionError("unreachable")


def raises(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    raise RuntimeError("a bug in the reader\nwith a second line")


def dies(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    os._exit(3)


def wants_too_much_memory(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    hog = bytearray(8 * 1024**3)
    raise AssertionError(f"allocated {len(hog)} bytes")


def fails_itself(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    return ParsedMessage(problem="unreadable", kind_reason=READER_FAILED)


def logs_and_reads(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    logging.getLogger("tracker.inbound.test").warning("action=test.child_says refs=%s", known_refs)
    return parse_message(raw, known_refs=known_refs)


def logs_its_pid(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    logging.getLogger("tracker.inbound.test").info("action=test.read_by pid=%d", os.getpid())
    return parse_message(raw, known_refs=known_refs)


def test_the_child_reads_exactly_what_the_reader_reads_with_the_refs() -> None:
    for refs in (None, ["1", "A1"], ["A1"]):
        assert read_within_budget(REPLY, known_refs=refs) == parse_message(REPLY, known_refs=refs)
    refs_read = read_within_budget(REPLY, known_refs=["1", "A1"])
    assert [(u.ref, u.percent) for u in refs_read.updates] == [("1", 100), ("A1", 40)]


@pytest.mark.parametrize("budget", [0.3, 1.0])
def test_a_reader_that_runs_past_the_budget_gives_too_complex_with_the_budget_named(
    budget: float,
) -> None:
    parsed = read_within_budget(
        REPLY, known_refs=None, limits=ReadingLimits(budget_seconds=budget, reader=never_finishes)
    )
    assert parsed.problem == "too_complex"
    assert parsed.kind_reason == f"reading it took longer than the {budget:g} s allowed"


def test_a_reader_that_raises_is_one_line_naming_the_error() -> None:
    with pytest.raises(ReadingFailed) as caught:
        read_within_budget(REPLY, limits=ReadingLimits(reader=raises))
    assert str(caught.value) == "reading it raised RuntimeError: a bug in the reader"
    assert "Traceback" in caught.value.details


@pytest.mark.parametrize(
    ("reader", "reason"),
    [
        (dies, "the reader stopped without an answer (exit code 3)"),
        (fails_itself, READER_FAILED),
        (wants_too_much_memory, "reading it raised MemoryError: (no message)"),
    ],
)
def test_a_reader_that_dies_or_hits_the_memory_cap_is_a_failure_not_a_hang(
    reader: object, reason: str
) -> None:
    with pytest.raises(ReadingFailed) as caught:
        read_within_budget(REPLY, limits=ReadingLimits(reader=reader))  # type: ignore[arg-type]
    assert str(caught.value) == reason


def logs_a_traceback(raw: bytes, known_refs: Collection[str] | None) -> ParsedMessage:
    try:
        int("x" * 5)
    except ValueError:
        logging.getLogger("tracker.inbound.test").exception("action=test.child_caught")
    return parse_message(raw, known_refs=known_refs)


def test_what_the_child_logs_is_logged_by_the_parent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    read_within_budget(REPLY, known_refs=["1"], limits=ReadingLimits(reader=logs_and_reads))
    assert "action=test.child_says refs=('1',)" in caplog.messages
    read_within_budget(REPLY, limits=ReadingLimits(reader=logs_a_traceback))
    (caught,) = [r for r in caplog.records if r.getMessage() == "action=test.child_caught"]
    assert caught.exc_text is not None
    assert "ValueError: invalid literal for int()" in caught.exc_text  # tracebacks are not lost
