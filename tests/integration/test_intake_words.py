"""What intake tells people: refs it could not find, and questions for the coordinators.

Each test reads what a participant or coordinator sees: the acknowledgement's
words and language, `updates`, the digest.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import SMALL, load_programme, reply_to, send_pass
from tracker.db.orm import InboundMessage
from tracker.services.intake import ingest, reprocess
from tracker.services.review import update_history

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)  # 09:30 in Shanghai and in Berlin have passed
LATER = datetime(2019, 6, 24, 9, 0, tzinfo=UTC)
WANG, ANNA = "wang.xiaoming@example.org", "anna@example.org"
# Anna's plan uses letters for refs.
LETTERED = SMALL.replace(
    '      - {ref: "1", title: Pair each city with a peer city, due: 2019-09-30}',
    '      - {ref: "A", title: Pair each city with a peer city, due: 2019-09-30}\n'
    '      - {ref: "B", title: Open the shared data portal, due: 2019-12-31}',
)


@pytest.fixture
def check_ins(session_factory: sessionmaker[Session]) -> dict[str, EmailMessage]:
    load_programme(session_factory, IMPORTED, LETTERED)
    sent = send_pass(session_factory, CHECK_IN)
    return {email: next(m for m in sent if email in str(m["To"]).lower()) for email in (WANG, ANNA)}


def take(factory: sessionmaker[Session], raw: bytes) -> Any:
    return ingest(
        raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=LATER
    )


def acknowledgement(factory: sessionmaker[Session]) -> EmailMessage:
    (message,) = send_pass(factory, LATER)
    assert message["X-Tracker-Kind"] == "acknowledgement"
    return message


def text_of(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return str(message.get_body(("html",)).get_content())


def history(factory: sessionmaker[Session], email: str) -> list[dict[str, Any]]:
    with factory() as session:
        return list(update_history(session=session, email=email)["updates"])


# -- refs that are none of the participant's actions -----------------------------------------


def test_an_unknown_ref_is_named_in_the_acknowledgement_with_the_participants_actions(
    session_factory: sessionmaker[Session], check_ins: dict[str, EmailMessage]
) -> None:
    result = take(session_factory, reply_to(check_ins[ANNA], "A: in progress 40%\nC: done"))
    assert result.detail == "1 update(s) recorded; no action C for this participant"
    assert [(u["ref"], u["status"], u["note"]) for u in history(session_factory, ANNA)] == [
        ("A", "in_progress", "")
    ]  # "C: done" became no general note either
    ack = acknowledgement(session_factory)
    assert str(ack["To"]) == "Anna Keller <anna@example.org>"
    text = text_of(ack)
    assert "We could not find action C; your actions are A and B." in text
    assert "Nothing was recorded for C: please reply with the right one." in text
    assert "[A] Pair each city with a peer city: in progress 40%" in text
    assert "We could not find action C; your actions are A and B." in html_of(ack)


def test_a_reply_naming_only_unknown_refs_is_still_acknowledged(
    session_factory: sessionmaker[Session], check_ins: dict[str, EmailMessage]
) -> None:
    take(session_factory, reply_to(check_ins[ANNA], "C: done\nD: in progress 50%"))
    assert history(session_factory, ANNA) == []
    text = text_of(acknowledgement(session_factory))
    assert "We could not find actions C and D; your actions are A and B." in text
    assert '"A: in progress 70%"' in text  # the correction example uses one of their refs


def test_the_acknowledgement_names_unknown_refs_in_chinese_for_a_chinese_participant(
    session_factory: sessionmaker[Session], check_ins: dict[str, EmailMessage]
) -> None:
    take(session_factory, reply_to(check_ins[WANG], "1：已完成\n3：进行中 50%"))
    ack = acknowledgement(session_factory)
    assert "wang.xiaoming@example.org" in str(ack["To"]).lower()
    text = text_of(ack)
    assert "我们未能找到行动事项 3；您的行动事项为 1、2。" in text
    assert "3 的内容未被记录，请回复正确的编号。" in text
    assert "We could not find" not in text


def test_reprocessing_keeps_the_unknown_refs_for_the_acknowledgement(
    session_factory: sessionmaker[Session], check_ins: dict[str, EmailMessage]
) -> None:
    result = take(session_factory, reply_to(check_ins[ANNA], "A: done\nZ: done"))
    reprocess(
        [result.inbound_id], session_factory=session_factory, secret_key=TEST_SECRET_KEY, now=LATER
    )
    with session_factory() as session:
        assert session.scalars(select(InboundMessage.unknown_refs)).one() == ["Z"]
    assert "We could not find action Z" in text_of(acknowledgement(session_factory))


# -- questions for the coordinators ---------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "body", "question", "acknowledged"),
    [
        (
            ANNA,
            "A: done\nCould you send me the reporting template?",
            "Could you send me the reporting template?",
            "Your question has been passed on to the programme team, who will answer you:",
        ),
        (
            WANG,
            "1：已完成\n能否发给我报告模板？",
            "能否发给我报告模板？",
            "您的问题已转交项目组，他们会答复您：",
        ),
    ],
)
def test_a_question_is_flagged_for_the_coordinators_and_acknowledged(
    session_factory: sessionmaker[Session],
    check_ins: dict[str, EmailMessage],
    who: str,
    body: str,
    question: str,
    acknowledged: str,
) -> None:
    result = take(session_factory, reply_to(check_ins[who], body))
    assert "1 question(s) for the coordinators" in result.detail
    rows = history(session_factory, who)
    assert [(u["ref"], u["note"], u["question"]) for u in rows] == [
        (rows[0]["ref"], "", False),
        (None, question, True),
    ]
    text = text_of(acknowledgement(session_factory))
    assert f"{acknowledged}\n" in text
    assert question in text.split(acknowledged, 1)[1]


def test_a_question_on_an_actions_line_flags_that_update(
    session_factory: sessionmaker[Session], check_ins: dict[str, EmailMessage]
) -> None:
    take(
        session_factory,
        reply_to(check_ins[ANNA], "B: blocked, could you send me the budget template?"),
    )
    (row,) = history(session_factory, ANNA)
    assert (row["ref"], row["status"], row["question"]) == ("B", "blocked", True)
    assert "could you send me the budget template?" in row["note"]


def test_a_reply_without_a_question_flags_nothing(
    session_factory: sessionmaker[Session], check_ins: dict[str, EmailMessage]
) -> None:
    take(session_factory, reply_to(check_ins[ANNA], "A: done\nWe met the mayor on Tuesday."))
    assert [u["question"] for u in history(session_factory, ANNA)] == [False, False]
    assert "question" not in text_of(acknowledgement(session_factory))


def test_the_weekly_digest_lists_the_weeks_questions(
    session_factory: sessionmaker[Session], check_ins: dict[str, EmailMessage]
) -> None:
    take(session_factory, reply_to(check_ins[WANG], "2：受阻\n能否延长截止日期？"))
    digest = next(
        m
        for m in send_pass(session_factory, datetime(2019, 7, 1, 0, 30, tzinfo=UTC))
        if m["X-Tracker-Kind"] == "digest"
    )
    text = text_of(digest)
    assert "六、学员提问（待您答复）" in text
    assert "王晓明（北京市西城区生态环境局），2019年6月24日：\n      能否延长截止日期？" in text
    assert "能否延长截止日期？" in html_of(digest)
