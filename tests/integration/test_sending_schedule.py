"""`tracker send-due` over the example programme's year: exactly the reminders the rules name.

The expected mail is worked out here from the rules' definitions in the
CONTRACT (and a hand-written table of the 2019 Chinese and German public
holidays), not by asking the planner.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.headerregistry import Address
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import run_tracker
from tests.conftest import TEST_SECRET_KEY
from tests.integration.sender_helpers import (
    EXAMPLE,
    body_parts,
    load_programme,
    message_ids,
    reminders_only,
    send_pass,
    smtp_url,
)
from tests.smtp_server import ReceivedMessage, SmtpTestServer
from tracker.core.tokens import verify_reply_token
from tracker.db.orm import Reminder

# Days off and official make-up working days, from the State Council's 2019
# notice and Germany's nationwide holidays (the window is 2019-06-24..2020-01-01).
CN_DAYS_OFF = {date(2019, 9, 13), *(date(2019, 10, d) for d in range(1, 8)), date(2020, 1, 1)}
CN_MAKE_UP_WORKING_DAYS = {date(2019, 9, 29), date(2019, 10, 12)}
DE_DAYS_OFF = {date(2019, 10, 3), date(2019, 12, 25), date(2019, 12, 26), date(2020, 1, 1)}
LAST_DAY = date(2020, 1, 1)
IMPORTED = datetime(2019, 6, 1, tzinfo=UTC)
PRIORITY = ("overdue", "before_due", "check_in")  # a merged message is named after the first
# 2019-09-23 (a check-in on a Monday), the make-up working Sunday, the day after
# the National-Day week.
BY_CONSOLE_SCRIPT = {date(2019, 9, 23), date(2019, 9, 29), date(2019, 10, 8)}
COORDINATORS = {"mei.lin@iclei-eastasia.example.org", "jiwon.park@shrdc.example.org"}


def is_working_day(day: date, country: str) -> bool:
    if country == "CN":
        return day not in CN_DAYS_OFF and (day.weekday() < 5 or day in CN_MAKE_UP_WORKING_DAYS)
    return day not in DE_DAYS_OFF and day.weekday() < 5


def next_working_day(day: date, country: str) -> date:
    while not is_working_day(day, country):
        day += timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, day.day)


@dataclass(frozen=True)
class Expected:
    to: str  # the participant's address, or "coordinators"
    about: str  # whose reminder (the participant's address)
    day: date  # local send date
    kind: str


def expected_mail() -> set[Expected]:
    """Every message the example's rules call for up to LAST_DAY, computed from the CONTRACT.

    check_in: monthly from 2019-06-23, 6 times; before_due: 7 days before a
    due date (not once it is over); overdue: every 7 days after the due date,
    3 times (nobody ever answers); all at 09:30 local, moved to the next
    working day. Same participant and day: one message. Escalate after 2
    unanswered: once (no reply ever starts a new run), on the working day
    after the second reminder.
    """
    programme = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    found: set[Expected] = set()
    for person in programme["participants"]:
        country = person.get("country", "CN")
        items: dict[date, set[str]] = {}
        for n in range(6):
            day = next_working_day(add_months(date(2019, 6, 23), n), country)
            items.setdefault(day, set()).add("check_in")
        for action in person["actions"]:
            due: date = action["due"]
            before = next_working_day(due - timedelta(days=7), country)
            if before <= due:
                items.setdefault(before, set()).add("before_due")
            for n in (1, 2, 3):
                day = next_working_day(due + timedelta(days=7 * n), country)
                items.setdefault(day, set()).add("overdue")
        days = sorted(day for day in items if day <= LAST_DAY)
        email = person["email"]
        for day in days:
            kind = next(k for k in PRIORITY if k in items[day])
            found.add(Expected(to=email, about=email, day=day, kind=kind))
        escalation_day = next_working_day(days[1] + timedelta(days=1), country)
        found.add(Expected(to="coordinators", about=email, day=escalation_day, kind="escalation"))
    return found


# Subject words of each kind, in the two languages (the templates' own wording).
SUBJECT_KINDS = (
    ("escalation", re.compile(r"学员未回复提醒|No reply from")),
    ("overdue", re.compile(r"已到期行动事项|how does .* stand\?|past their date")),
    ("before_due", re.compile(r"提醒：|is due on|due soon")),
    ("check_in", re.compile(r"行动计划落实情况了解|how are your actions going\?")),
)


def kind_of(subject: str) -> str:
    return next(kind for kind, words in SUBJECT_KINDS if words.search(subject))


@dataclass(frozen=True)
class Participant:
    email: str
    name: str
    zone: ZoneInfo
    language: str


def participants() -> dict[str, Participant]:
    programme = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return {
        p["email"]: Participant(
            email=p["email"],
            name=p["name"],
            zone=ZoneInfo(p.get("timezone", "Asia/Shanghai")),
            language=p.get("language", "zh-CN"),
        )
        for p in programme["participants"]
    }


def read_received(
    received: ReceivedMessage,
    session_factory: sessionmaker[Session],
    people: dict[str, Participant],
) -> Expected:
    """Check one message's headers and parts; say what it is."""
    message = received.parsed()
    assert str(message["From"]) == "Programme Office <followup@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    parts = body_parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    assert all(text.strip() for text in parts.values())
    subject = str(message["Subject"])
    kind = kind_of(subject)
    message_id = str(message["Message-ID"])
    addresses: tuple[Address, ...] = message["To"].addresses
    sent_on = parsedate_to_datetime(str(message["Date"]))
    if kind == "escalation":
        assert {a.addr_spec for a in addresses} == COORDINATORS
        assert set(received.rcpt_tos) == COORDINATORS
        about = next(p for p in people.values() if p.name in subject)
        assert about.email in parts["text/plain"]
        return Expected(
            to="coordinators",
            about=about.email,
            day=sent_on.astimezone(about.zone).date(),
            kind=kind,
        )
    (address,) = addresses
    person = people[address.addr_spec]
    assert address.display_name == person.name  # RFC 2047 decoded: 王晓明, not =?utf-8?...
    assert received.rcpt_tos == (person.email,)
    token = str(message["Reply-To"].addresses[0].addr_spec).split("+", 1)[1].split("@")[0]
    reminder_id = verify_reply_token(token, TEST_SECRET_KEY)
    assert reminder_id is not None, f"the Reply-To token {token} does not verify"
    assert (
        str(message["List-Unsubscribe"]).strip()
        == f"<mailto:followup+{token}@example.org?subject=unsubscribe>"
    )
    with session_factory() as session:
        reminder = session.get(Reminder, reminder_id)
        assert reminder is not None
        assert reminder.participant.email == person.email
        assert reminder.message_id == message_id
        assert reminder.kind == kind
        assert reminder.state == "sent"
    chinese = bool(re.search(r"[\u4e00-\u9fff]", subject + parts["text/plain"]))
    if person.language == "en":
        assert not re.search(r"[\u4e00-\u9fff]", subject)
        assert "Kim Soo-jin" in parts["text/plain"]
    else:
        assert chinese
        assert subject.startswith("【")
    return Expected(
        to=person.email, about=person.email, day=sent_on.astimezone(person.zone).date(), kind=kind
    )


def send_due_at(env: dict[str, str], moment: datetime) -> str:
    result = run_tracker("send-due", "--now", moment.isoformat(), env=env)
    assert result.code == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_a_year_of_the_example_programme_sends_exactly_what_the_rules_name(
    tracker_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    expected = expected_mail()
    people = participants()
    with SmtpTestServer() as server:
        env = {**tracker_env, "TRACKER_SMTP_URL": smtp_url(server), "TRACKER_SEND_RATE": "100000"}
        load_programme(
            session_factory, reminders_only(EXAMPLE.read_text(encoding="utf-8")), now=IMPORTED
        )

        # The first check-in is named for Sunday 2019-06-23: it leaves on Monday
        # at 09:30 in each participant's zone, not a minute before (Seoul is an
        # hour ahead of Shanghai).
        shanghai, seoul = ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Seoul")
        send_due_at(env, datetime(2019, 6, 24, 9, 29, tzinfo=seoul))
        assert server.messages == []
        send_due_at(env, datetime(2019, 6, 24, 9, 31, tzinfo=seoul))
        first = [read_received(m, session_factory, people) for m in server.messages]
        assert {(e.to, e.kind) for e in first} == {("soojin.kim@seoul.example.org", "check_in")}
        send_due_at(env, datetime(2019, 6, 24, 9, 29, tzinfo=shanghai))
        assert len(server.messages) == 1
        send_due_at(env, datetime(2019, 6, 24, 9, 31, tzinfo=shanghai))
        first = [read_received(m, session_factory, people) for m in server.messages]
        assert {(e.to, e.kind) for e in first} == {(p.email, "check_in") for p in people.values()}
        again = send_due_at(env, datetime(2019, 6, 24, 9, 31, tzinfo=shanghai))
        assert "0 sent" in again
        assert len(server.messages) == 12

        # Then every day something is due, after the day's last moment everywhere:
        # the days the brief names by the console script, the others by the
        # same pass in this process (a process start costs a second or more).
        days = sorted({e.day for e in expected} - {date(2019, 6, 24)})
        for day in days:
            moment = datetime.combine(day, time(9, 0), tzinfo=UTC)
            if day in BY_CONSOLE_SCRIPT:
                send_due_at(env, moment)
            else:
                send_pass(session_factory, server, moment)
        before_rerun = len(server.messages)
        assert send_pass(session_factory, server, datetime(2020, 1, 1, 9, tzinfo=UTC)).sent == []
        assert len(server.messages) == before_rerun

        received = [read_received(m, session_factory, people) for m in server.messages]
    counted = Counter(received)
    assert [e for e, n in counted.items() if n > 1] == []
    assert set(received) - expected == set(), "sent but not called for"
    assert expected - set(received) == set(), "called for but not sent"
    assert len(set(message_ids(server.messages))) == len(received)


def test_the_expectation_covers_the_holiday_moves_the_rules_name() -> None:
    """The independent expectation itself: the dates the CONTRACT's example implies."""
    mail = expected_mail()
    wang = {(e.day, e.kind) for e in mail if e.to == "wang.xiaoming@xicheng.example.cn"}
    # Sunday 2019-06-23 → Monday; 2019-09-23 is a Monday: before_due (due 09-30) merged in.
    assert (date(2019, 6, 24), "check_in") in wang
    assert (date(2019, 9, 23), "before_due") in wang
    # Due 2019-09-30: overdue on 10-07 falls in the National-Day week → Tuesday 10-08.
    assert (date(2019, 10, 8), "overdue") in wang
    sun = {(e.day, e.kind) for e in mail if e.to == "sun.li@yanqing.example.cn"}
    assert (date(2019, 9, 29), "overdue") in sun  # a Sunday that is an official working day
    kim = {(e.day, e.kind) for e in mail if e.to == "soojin.kim@seoul.example.org"}
    assert (date(2019, 9, 30), "overdue") in kim  # in Seoul that Sunday is a Sunday
    assert (date(2019, 9, 29), "overdue") not in kim
