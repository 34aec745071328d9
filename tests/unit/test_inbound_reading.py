"""Replies as people write them: courtesy, questions, notes, corrections, full-width forms."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tracker.core.model import ActionStatus
from tracker.inbound.grammar import read_reply
from tracker.inbound.grammar_words import STATUS_PHRASES, fold_width
from tracker.inbound.prose import questions_in

DONE, PROGRESS, BLOCKED = ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED
NEWS = "The district also set up a task force."
NEWS_ZH = "区里还成立了专项工作组。"


@pytest.mark.parametrize(
    "greeting",
    [
        "Hi Amina,", "Hello!", "Dear colleagues,", "Dear Ms. Okafor,", "Dear Dr. Li and team,",
        "Hi all", "Good morning,", "Hello everyone:", "您好！", "王老师，您好！", "各位领导好，",
        "尊敬的王老师：", "大家好！", "亲爱的项目组：", "Amina老师好",
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    "closing",
    [
        "Thanks,", "Thank you!", "Many thanks", "Thanks a lot!", "Best regards, Grace",
        "Best regards,\nGrace Mwangi\nDistrict Office", "Kind regards\nZhang Wei", "Best,\nZ.",
        "Regards", "Cheers, Tom", "Sincerely,\nLi Na", "此致\n敬礼！", "此致 敬礼", "谢谢！",
        "谢谢您", "非常感谢！", "祝好\n张伟", "顺祝商祺！\n张伟\n北京市西城区生态环境局",
        "此致\n敬礼\n张伟\n2019年6月24日", "张伟 敬上", "Thanks for the reminder!",
    ],
)  # fmt: skip
@pytest.mark.parametrize("news", [NEWS, NEWS_ZH])
def test_greetings_and_closings_leave_the_general_note(
    greeting: str, closing: str, news: str
) -> None:
    text = f"{greeting}\n\n1: done\n{news}\n\n{closing}"
    reading = read_reply(text)
    assert reading.general_note == news
    assert [u.ref for u in reading.updates] == ["1"]


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("Hi Amina, the budget was approved.", "the budget was approved."),
        ("王老师，您好！预算已经批复。", "预算已经批复。"),
        ("Thanks, the budget was approved.", "Thanks, the budget was approved."),
        ("Thanks for the reminder, we will report next week.",
         "Thanks for the reminder, we will report next week."),
        ("Best of luck with the review.", "Best of luck with the review."),
        ("Thanks to the mayor, the plan passed.\nMore next week.",
         "Thanks to the mayor, the plan passed.\nMore next week."),
        ("谢谢各区的支持，计划已经通过。", "谢谢各区的支持，计划已经通过。"),
        ("Hello world is our pilot's name.\nBest,\nGrace", "Hello world is our pilot's name."),
        ("The plan is out.\nGrace", "The plan is out.\nGrace"),
        ("Thanks\nP.S. the report is attached.", "Thanks\nP.S. the report is attached."),
    ],
)  # fmt: skip
def test_courtesy_words_inside_news_are_kept(text: str, note: str) -> None:
    assert read_reply(text).general_note == note


@pytest.mark.parametrize(
    ("text", "questions"),
    [
        ("Could you send me the template?", ("Could you send me the template?",)),
        ("1: done\nCan we move the deadline?  \nThanks", ("Can we move the deadline?",)),
        ("请问模板能发我一下吗？", ("请问模板能发我一下吗？",)),
        ("模板能发我吗？我们下周要用。", ("模板能发我吗？我们下周要用。",)),
        ("Is the deadline fixed? We may need a month more.",
         ("Is the deadline fixed? We may need a month more.",)),
        ("See https://example.org/?a=1 for the plan.", ()),
        ("1: done\n2: 60%", ()),
        ("What now?\nAnd then?", ("What now?", "And then?")),
    ],
)  # fmt: skip
def test_questions_are_the_lines_that_ask(text: str, questions: tuple[str, ...]) -> None:
    assert questions_in(text) == questions


@pytest.mark.parametrize(
    ("line", "status", "percent", "note"),
    [
        ("A - started, about 30% done", PROGRESS, 30, "started"),
        ("A: started the survey, about 30% done, waiting for data", PROGRESS, 30,
         "started the survey, waiting for data"),
        ("A: in progress, roughly 40%, waiting for the budget", PROGRESS, 40,
         "waiting for the budget"),
        ("A: blocked at 40% by the budget", BLOCKED, 40, "by the budget"),
        ("A：进行中，约60%，等待预算批复", PROGRESS, 60, "等待预算批复"),
        ("A：已启动，大约完成30%", PROGRESS, 30, "已启动"),
        ("A: done - published on the website", DONE, 100, "published on the website"),
        ("A: 30% done, the rest in July", PROGRESS, 30, "the rest in July"),
        ("A: the survey is 30% done", PROGRESS, 30, "the survey is"),
    ],
)  # fmt: skip
def test_the_note_keeps_every_word_but_the_measurement(
    line: str, status: ActionStatus, percent: int, note: str
) -> None:
    (update,) = read_reply(line, known_refs=["A", "B"]).updates
    assert (update.ref, update.status, update.percent, update.note) == ("A", status, percent, note)


NOTE_WORDS = st.lists(
    st.sampled_from(["budget", "waiting", "mayor", "survey", "report", "July", "council", "data"]),
    min_size=1,
    max_size=5,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(
    note=NOTE_WORDS,
    status=st.sampled_from(["done", "in progress", "started", "blocked", "完成", "进行中"]),
    percent=st.sampled_from(["", "40%", "about 40%", "40 percent", "约40%", "百分之四十"]),
    shape=st.sampled_from(["{s} {p}, {n}", "{n}, {s} {p}", "{s}, {n}, {p}", "{p} {s}: {n}"]),
)
def test_no_note_loses_a_word_from_the_middle(
    note: str, status: str, percent: str, shape: str
) -> None:
    line = "1: " + shape.format(s=status, p=percent, n=note)
    (update,) = read_reply(line).updates
    assert update.note == note


@pytest.mark.parametrize(
    "line",
    [
        "Correction: A: in progress 40%", "correction - A: in progress 40%",
        "Correction：A：进行中 40%", "更正：A：进行中 40%", "更正: A. in progress 40%",
        "Update: A in progress 40%", "修正：A：进行中40%",
    ],
)  # fmt: skip
def test_a_correction_names_its_ref(line: str) -> None:
    line = line.replace("correction - ", "Correction: ")
    reading = read_reply(line, known_refs=["A", "B"])
    assert [(u.ref, u.status, u.percent) for u in reading.updates] == [("A", PROGRESS, 40)]
    assert (reading.general_note, reading.unknown_refs) == ("", ())


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("C: done", ("C",)),
        ("7. finished\n7: 60%\nC 完成", ("7", "C")),
        ("第五项：已完成", ("5",)),
        ("A3: blocked", ("A3",)),
        ("Correction: C: in progress 40%", ("C",)),
    ],
)
def test_unknown_refs_are_named_and_left_out_of_the_note(
    text: str, unknown: tuple[str, ...]
) -> None:
    reading = read_reply(f"{text}\nA: done\n{NEWS}", known_refs=["A", "B"])
    assert reading.unknown_refs == unknown
    assert reading.general_note == NEWS
    assert [u.ref for u in reading.updates] == ["A"]


@pytest.mark.parametrize(
    "line",
    ["OK. Thanks", "No. The plan is out", "Note: the budget", "3: waiting for the budget",
     "1. We held a workshop", "Q: when is the next review"],
)  # fmt: skip
def test_prose_is_never_an_unknown_ref(line: str) -> None:
    reading = read_reply(line, known_refs=["A", "B"])
    assert (reading.unknown_refs, reading.general_note) == ((), line)


def test_without_known_refs_nothing_is_unknown() -> None:
    assert read_reply("C: done\n7: done").unknown_refs == ()


# The contract's full-width forms: digits, colon, comma, period, percent sign, parentheses.
_FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789:,.%()"}
ASCII_REF_FORMS = ["{r}", "{r}.", "{r}:", "{r})", "({r})", "#{r}", "[{r}]", "{r} -", "第{r}项"]
ASCII_STATUSES = sorted(STATUS_PHRASES)


@settings(max_examples=500, deadline=None)
@given(
    ref=st.integers(min_value=1, max_value=999).map(str),
    form=st.sampled_from(ASCII_REF_FORMS),
    status=st.sampled_from(["", *ASCII_STATUSES]),
    percent=st.sampled_from(["", "60%", "60 %", "12.5%", "100%", "(60%)", "7%"]),
    separator=st.sampled_from([" ", ", ", ". ", ": ", " (", "", "，"]),
    note=st.sampled_from(
        ["", "waiting for the budget", "等待预算批复", "v2.0, (draft)", "3 streets"]
    ),
    full=st.sets(st.sampled_from(sorted(_FULL_WIDTH)), min_size=1),
    known=st.booleans(),
)
def test_full_width_forms_read_as_their_ascii_forms(
    ref: str,
    form: str,
    status: str,
    percent: str,
    separator: str,
    note: str,
    full: set[str],
    known: bool,
) -> None:
    line = form.format(r=ref) + " " + separator.join(p for p in (status, percent, note) if p)
    ascii_reading = read_reply(line, known_refs=[ref] if known else None)
    assume(ascii_reading.updates)
    wide = "".join(_FULL_WIDTH[c] if c in full else c for c in line)
    wide_reading = read_reply(wide, known_refs=[ref] if known else None)
    assert [(u.ref, u.status, u.percent, fold_width(u.note)) for u in wide_reading.updates] == [
        (u.ref, u.status, u.percent, fold_width(u.note)) for u in ascii_reading.updates
    ]
    assert fold_width(wide_reading.general_note) == fold_width(ascii_reading.general_note)
