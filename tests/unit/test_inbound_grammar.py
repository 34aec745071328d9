"""The reply grammar of the CONTRACT, line by line."""

from __future__ import annotations

import pytest

from tracker.core.model import ActionStatus
from tracker.inbound.grammar import read_reply, read_updates
from tracker.inbound.results import ActionUpdate

DONE, PROGRESS = ActionStatus.DONE, ActionStatus.IN_PROGRESS
BLOCKED, NOT_STARTED, DROPPED = ActionStatus.BLOCKED, ActionStatus.NOT_STARTED, ActionStatus.DROPPED


@pytest.mark.parametrize(
    "line",
    [
        "1 done", "1. done", "1: done", "1： done", "1) done", "(1) done", "#1 done", "[1] done",
        "1、done", "1 - done", "第1项 done", "第1项：done", "１：done", "（１）done", "1.done",
        "1:done", "  1. done", "- 1. done", "1 – done", "第一项：done", "1完成", "01. done",
    ],
)  # fmt: skip
def test_every_ref_form_names_ref_one(line: str) -> None:
    updates, note = read_updates(line)
    assert [(u.ref, u.status) for u in updates] == [("1", DONE)]
    assert note == ""


@pytest.mark.parametrize(
    "line",
    [
        "2019年完成", "60% done", "3 个街道", "1.5 million people", "100 people came", "2019",
        "Budget talks start in July", "12345: done", "1 个", "1", "#", "()", "第项",
    ],
)  # fmt: skip
def test_lines_without_a_ref_form_are_general_notes(line: str) -> None:
    updates, note = read_updates(line)
    assert updates == ()
    assert note == line.strip()


@pytest.mark.parametrize(
    ("words", "status"),
    [
        ("done", DONE), ("Completed", DONE), ("FINISHED", DONE), ("完成", DONE), ("已完成", DONE),
        ("in progress", PROGRESS), ("In  Progress", PROGRESS), ("ongoing", PROGRESS),
        ("started", PROGRESS), ("进行中", PROGRESS), ("推进中", PROGRESS), ("正在做", PROGRESS),
        ("blocked", BLOCKED), ("stuck", BLOCKED), ("on hold", BLOCKED), ("受阻", BLOCKED),
        ("暂停", BLOCKED), ("有困难", BLOCKED), ("not started", NOT_STARTED),
        ("未开始", NOT_STARTED), ("尚未开始", NOT_STARTED), ("dropped", DROPPED),
        ("cancelled", DROPPED), ("取消", DROPPED), ("放弃", DROPPED), ("進行中", PROGRESS),
        ("未完成", PROGRESS), ("not done yet", PROGRESS),
    ],
)  # fmt: skip
def test_status_words(words: str, status: ActionStatus) -> None:
    (update,), _ = read_updates(f"1: {words}")
    assert update.status is status


@pytest.mark.parametrize(
    ("line", "status", "percent"),
    [
        ("1: done", DONE, 100),
        ("1: 60%", PROGRESS, 60),
        ("1: 60 %", PROGRESS, 60),
        ("1: ６０％", PROGRESS, 60),
        ("1: 百分之六十", PROGRESS, 60),
        ("1: 百分之百", DONE, 100),
        ("1: 100%", DONE, 100),
        ("1: in progress 100%", DONE, 100),
        ("1: 完成60%", PROGRESS, 60),
        ("1: 60% done", PROGRESS, 60),
        ("1: done 100%", DONE, 100),
        ("1: blocked", BLOCKED, None),
        ("1: blocked at 40%", BLOCKED, 40),
        ("1: not started", NOT_STARTED, None),
        ("1: 进行中，已完成 3 个", PROGRESS, None),
        ("1: 进行中 30%，然后 50%", PROGRESS, 30),
        ("1: 12.5% so far", PROGRESS, 12),
        ("1: 140%", DONE, 100),
        ("1: waiting for the budget", None, None),
    ],
)
def test_status_and_percent_rules(
    line: str, status: ActionStatus | None, percent: int | None
) -> None:
    (update,), _ = read_updates(line)
    assert (update.status, update.percent) == (status, percent)


def test_contract_example_reads_as_documented() -> None:
    updates, note = read_updates("1：已完成\n2：进行中 60%，等待预算批复")
    assert updates == (
        ActionUpdate(ref="1", status=DONE, percent=100, note=""),
        ActionUpdate(ref="2", status=PROGRESS, percent=60, note="等待预算批复"),
    )
    assert note == ""


@pytest.mark.parametrize(
    ("line", "note"),
    [
        ("1. done - published on the website", "published on the website"),
        ("2: in progress, 60%, waiting for the budget.", "waiting for the budget"),
        ("3) 受阻：资金不足", "资金不足"),
        ("4 - talked to the mayor", "talked to the mayor"),
    ],
)
def test_note_is_the_rest_of_the_line_with_separators_trimmed(line: str, note: str) -> None:
    (update,), _ = read_updates(line)
    assert update.note == note


def test_first_status_word_on_the_line_wins() -> None:
    (update,), _ = read_updates("2: not started, will be done next month")
    assert update.status is NOT_STARTED


def test_text_naming_no_ref_is_the_general_note() -> None:
    text = "Dear officer,\n\n1. done\nThe district also set up a task force.\n\nBest, Zhang"
    updates, note = read_updates(text)
    assert [u.ref for u in updates] == ["1"]
    assert note == "The district also set up a task force."


def test_known_refs_admit_literal_refs_and_only_those() -> None:
    text = "A1: done\n2.1 60%\na1 blocked\n7. finished\n３：完成"
    reading = read_reply(text, known_refs={"A1", "2.1", "3"})
    assert [(u.ref, u.status) for u in reading.updates] == [
        ("A1", DONE),
        ("2.1", PROGRESS),
        ("A1", BLOCKED),
        ("3", DONE),
    ]
    assert (reading.unknown_refs, reading.general_note) == (("7",), "")


def test_known_numeric_ref_matches_with_leading_zero_and_full_width() -> None:
    updates, _ = read_updates("０３: done", known_refs=["3"])
    assert [u.ref for u in updates] == ["3"]


def test_year_is_not_a_ref_even_when_known_refs_are_numbers() -> None:
    updates, note = read_updates("2019年完成了大部分", known_refs={"1", "2"})
    assert updates == ()
    assert note == "2019年完成了大部分"


@pytest.mark.parametrize("line", ["1. Done!", "1：已完成！", "1: done ...", "1 – 完成。"])
def test_punctuation_alone_is_no_note(line: str) -> None:
    (update,), general = read_updates(line)
    assert (update.status, update.note, general) == (ActionStatus.DONE, "", "")
