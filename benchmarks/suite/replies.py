"""Reading replies: parse alone, the peer parsers on the same text, and whole intake.

- `parse_per_s`: `parse_message` on a typical 5 KB reply (a Chinese answer
  above the quoted reminder), in this process;
- `peer_parse_per_s`: each published reply parser installed (the `bench`
  extra: see benchmarks/replies/peers.py) on that reply's body text;
- `big_line_parse_s`: seconds to parse a 1 MB single-line body;
- `ingest_per_s`: `ingest` (store, read in the reader process within the time
  budget, match, record, plan the acknowledgement) of replies to reminders the
  send pass sent.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.orm import Participant, Reminder
from tracker.db.session import make_engine, make_session_factory
from tracker.inbound.mime import body_text, read_message
from tracker.inbound.parse import parse_message
from tracker.services.intake import ingest

from .sending import FIRST_CHECK_IN, IDENTITY

REPLIES = Path(__file__).resolve().parents[1] / "replies"
_QUOTED = (
    "> 王晓明，您好！\n>\n> 这是《气候变化政策能力建设》行动计划的每月进展询问。\n"
    "> 请直接回复本邮件，每项一行：编号、状态、百分比和说明。\n>\n"
    "> 1. 发布区级清洁空气行动计划（截止 2019-09-30）：尚未开始\n"
    "> 2. Pilot a low-emission logistics zone (due 2020-03-31): not started\n>\n"
)


def typical_reply(*, to: str = "followup@example.org", sender: str = "wang@example.cn") -> bytes:
    """About 5 KB: three update lines, a signature, the quoted reminder below."""
    body = (
        "1：已完成\n2：进行中 60%，等待预算批复\n3：受阻，需要市里协调\n\n"
        "王晓明\n西城区生态环境局\n\n"
        "在 2019年6月24日 10:00，Follow-up <followup@example.org> 写道：\n" + _QUOTED * 12
    )
    message = EmailMessage()
    message["From"] = f"王晓明 <{sender}>"
    message["To"] = to
    message["Subject"] = "回复：行动计划进展"
    message["Date"] = format_datetime(FIRST_CHECK_IN + timedelta(hours=3))
    message["Message-ID"] = f"<reply.{abs(hash((to, sender)))}@example.cn>"
    message.set_content(body, charset="utf-8")
    return message.as_bytes()


def rate(work: Any, *, seconds: float, at_least: int = 20) -> float:
    """Calls a second of `work()`, repeated for about `seconds`."""
    done = 0
    started = time.perf_counter()
    while done < at_least or time.perf_counter() - started < seconds:
        work()
        done += 1
    return done / (time.perf_counter() - started)


def parse_per_s(seconds: float) -> float:
    raw = typical_reply()
    return rate(lambda: parse_message(raw), seconds=seconds)


def big_line_parse_s() -> float:
    message = EmailMessage()
    message["From"] = "someone@example.cn"
    message["To"] = "followup@example.org"
    message["Subject"] = "long"
    message.set_content("1: done " + "x" * (1024 * 1024), charset="utf-8", cte="8bit")
    raw = message.as_bytes()
    started = time.perf_counter()
    parse_message(raw, max_bytes=4 * 1024 * 1024)
    return time.perf_counter() - started


def peer_parse_per_s(seconds: float) -> dict[str, float]:
    sys.path.insert(0, str(REPLIES))
    try:
        from cases import Case  # type: ignore[import-not-found]
        from peers import available_peers  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPLIES))
    text, _ = body_text(read_message(typical_reply()))
    case = Case(source="bench", name="typical", path=Path("typical.txt"), expected="",
                judge="text", input_kind="text")  # fmt: skip
    return {
        name: rate(lambda peer=peer: peer(text, case), seconds=seconds)
        for name, peer in available_peers().items()
    }


def replies_to_sent(factory: sessionmaker[Session], count: int) -> list[bytes]:
    """The typical reply from each participant of the first `count` reminders sent."""
    with factory() as session:
        rows = session.execute(
            select(Reminder.id, Reminder.nonce, Participant.email)
            .join(Participant, Reminder.participant_id == Participant.id)
            .where(Reminder.state == "sent")
            .order_by(Reminder.id)
            .limit(count)
        ).all()
    return [
        typical_reply(to=IDENTITY.reply_to(reminder_id, nonce), sender=email)
        for reminder_id, nonce, email in rows
    ]


def ingest_per_s(url: str, count: int) -> float:
    """Replies a second through `ingest`, to `count` reminders sent on `url`."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    replies = replies_to_sent(factory, count)
    now = FIRST_CHECK_IN + timedelta(hours=3)
    started = time.perf_counter()
    for raw in replies:
        result = ingest(
            raw, session_factory=factory, secret_key=IDENTITY.secret_key, source="bench", now=now
        )
        if result.state != "processed":
            raise RuntimeError(f"a benchmark reply was not recorded: {result}")
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(replies) / elapsed
