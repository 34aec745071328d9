"""Every kind of message, as its reader sees it: the words, the language, the addressee.

One programme with two coordinators, a Chinese-speaking and an English-speaking
participant, played for three weeks on a real database: check-ins, a
before-due reminder that the server refuses, an overdue reminder, replies and
their acknowledgements (one retried after a temporary refusal), escalations
and the weekly digest. The programme's own language (Chinese, then English)
decides the coordinators' mail. Expected counts and dates are worked out from
what was actually sent, not asked of the code under test.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from types import TracebackType
from typing import Self
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.integration.sender_helpers import IDENTITY, body_parts, load_programme
from tests.mailflow import reply_to
from tracker.db.session import make_engine, make_session_factory
from tracker.mail.outgoing import OutgoingMail, PermanentMailError, TemporaryMailError
from tracker.mail.render import create_mail_environment
from tracker.services.intake import ingest
from tracker.services.sending import send_due

PROGRAMME = "Low-Carbon Cities Follow-up 2019"
WANG = "wang.xiaoming@example.org"
ANNA = "anna@example.org"
COORDINATORS = [("Daniel Okafor", "daniel.okafor@example.org"), ("李娜", "li.na@example.org")]
SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
ASKING = {"check_in", "before_due", "overdue"}
TITLES = (
    "发布西城区清洁空气行动计划",
    "试点低排放物流配送区",
    "Pair each city with a peer city",
    "Publish the good-practice summary",
)
OPEN_TITLES = {WANG: list(TITLES[:2]), ANNA: [TITLES[2]]}


def programme(language: str) -> str:
    return f"""\
programme:
  slug: low-carbon-2019
  name: {PROGRAMME}
  starts_on: 2019-05-19
  ends_on: 2019-05-23
  timezone: Asia/Shanghai
  language: {language}
  working_days_only: false
  coordinators:
    - {{name: 李娜, email: li.na@example.org}}
    - {{name: Daniel Okafor, email: daniel.okafor@example.org}}
follow_up:
  - {{kind: check_in, every: 1 week, first: 2019-06-24, count: 4, at: "09:30"}}
  - {{kind: before_due, days: 3, at: "09:30"}}
  - {{kind: overdue, every_days: 7, max: 2, at: "09:30"}}
  - {{kind: escalate, after_unanswered: 2}}
participants:
  - name: 王晓明
    email: {WANG}
    organisation: 北京市西城区生态环境局
    language: zh-CN
    actions:
      - {{ref: "1", title: 发布西城区清洁空气行动计划, due: 2019-07-05}}
      - {{ref: "2", title: 试点低排放物流配送区, due: 2020-03-31}}
  - name: Anna Keller
    email: {ANNA}
    organisation: City Network
    language: en
    timezone: Europe/Berlin
    actions:
      - {{ref: "1", title: Pair each city with a peer city, due: 2019-12-31}}
      - {{ref: "2", title: Publish the good-practice summary, due: 2019-12-31}}
"""


@dataclass
class Mail:
    message: EmailMessage
    at: datetime  # the pass that sent (or tried to send) it
    delivered: bool

    @property
    def kind(self) -> str:
        return str(self.message["X-Tracker-Kind"])

    @property
    def to(self) -> list[tuple[str, str]]:
        return [(a.display_name, a.addr_spec) for a in self.message["To"].addresses]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return body_parts(self.message)["text/plain"]

    @property
    def html(self) -> str:
        return body_parts(self.message)["text/html"]

    @property
    def html_text(self) -> str:
        """The HTML part as a reader sees it: no tags, entities decoded, spaces collapsed."""
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", self.html)).split())


@dataclass
class StoryMailer:
    """Keeps every message; refuses Wang's before-due reminder for good and his first
    acknowledgement twice for now (the server is busy)."""

    now: datetime = datetime(2019, 1, 1, tzinfo=UTC)
    mail: list[Mail] = field(default_factory=list)
    busy_for_wang_ack: int = 2

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def send(self, mail: OutgoingMail) -> None:
        message = mail.parsed()
        kind, to = str(message["X-Tracker-Kind"]), str(message["To"])
        if kind == "before_due" and WANG in to:
            self.mail.append(Mail(message, self.now, delivered=False))
            raise PermanentMailError("550 5.2.2 mailbox full", code=550, connection_level=False)
        if kind == "acknowledgement" and WANG in to and self.busy_for_wang_ack:
            self.busy_for_wang_ack -= 1
            raise TemporaryMailError("451 4.3.0 try again later", code=451, connection_level=False)
        self.mail.append(Mail(message, self.now, delivered=True))


def reply_id(address: str) -> str:
    return f"<reply.{address.split('@')[0]}@example.net>"


ANNA_REPLIES_AT = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)  # after her 09:30 Berlin check-in
WANG_REPLIES_AT = datetime(2019, 6, 30, 12, 0, tzinfo=UTC)  # Sunday 20:00 in Shanghai


def play(factory: sessionmaker[Session], language: str) -> list[Mail]:
    """Three weeks of passes: 09:31 in Shanghai and in Berlin every day, and after replies."""
    load_programme(factory, programme(language), now=datetime(2019, 6, 1, tzinfo=UTC))
    mailer, env = StoryMailer(), create_mail_environment()
    replies = {
        ANNA_REPLIES_AT: (ANNA, "1: in progress 40%, two cities paired\n2: done"),
        WANG_REPLIES_AT: (WANG, "1：进行中 50%，已完成初稿\n2：未开始"),
    }
    days = [datetime(2019, 6, 24, tzinfo=UTC) + timedelta(days=n) for n in range(19)]
    moments = sorted(
        {d + timedelta(hours=1, minutes=31) for d in days}
        | {d + timedelta(hours=7, minutes=31) for d in days}
        | {at + timedelta(minutes=1) for at in replies}
    )
    for moment in moments:
        for at, (address, body) in replies.items():
            if moment == at + timedelta(minutes=1):
                first = next(m for m in mailer.mail if m.kind == "check_in" and address in m.to[0])
                raw = reply_to(first.message, body, message_id=reply_id(address))
                ingest(
                    raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=at
                )
        mailer.now = moment
        send_due(session_factory=factory, mailer=mailer, env=env, identity=IDENTITY, now=moment)
    return mailer.mail


# A story is played once per engine and language, and read by every test below.
_STORIES: dict[tuple[str, str], list[Mail]] = {}


@pytest.fixture(params=["zh-CN", "en"])
def story(request: pytest.FixtureRequest, db_url: str) -> tuple[str, list[Mail]]:
    key = (db_url.split(":")[0], request.param)
    if key not in _STORIES:
        engine = make_engine(db_url)
        try:
            _STORIES[key] = play(make_session_factory(engine), request.param)
        finally:
            engine.dispose()
    return request.param, _STORIES[key]


def of(mail: list[Mail], kind: str, address: str | None = None) -> list[Mail]:
    return [
        m for m in mail if m.kind == kind and (address is None or address in dict(m.to).values())
    ]


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def en_date(day: date) -> str:
    return f"{day.day} {day:%B} {day.year}"


def both_parts_say(mail: Mail, *phrases: str) -> None:
    for phrase in phrases:
        assert phrase in mail.text, (mail.kind, phrase, mail.text)
        in_html = " ".join(phrase.split())  # html_text collapses every kind of space
        assert in_html in mail.html_text, (mail.kind, phrase, mail.html_text)


def test_participants_get_their_reminders_in_their_own_language(
    story: tuple[str, list[Mail]],
) -> None:
    _, mail = story
    # Chinese for Wang, whatever the programme's language.
    (wang_first, *_) = of(mail, "check_in", WANG)
    assert wang_first.to == [("王晓明", WANG)]
    assert wang_first.subject == f"【{PROGRAMME}】行动计划落实情况了解"
    both_parts_say(
        wang_first, "尊敬的王晓明：", f"感谢您参加“{PROGRAMME}”培训", "发布西城区清洁空气行动计划"
    )
    assert f"“{PROGRAMME}”项目组" in wang_first.text
    assert "Daniel Okafor、李娜" in wang_first.text
    assert '<html lang="zh-CN">' in wang_first.html
    # English for Anna.
    (anna_first, *_) = of(mail, "check_in", ANNA)
    assert anna_first.to == [("Anna Keller", ANNA)]
    assert anna_first.subject == f"{PROGRAMME}: how are your actions going?"
    both_parts_say(
        anna_first,
        "Dear Anna Keller,",
        f"As part of the follow-up to {PROGRAMME}",
        "Pair each city with a peer city",
    )
    assert "Daniel Okafor and 李娜" in anna_first.text
    assert '<html lang="en">' in anna_first.html

    (before_due,) = of(mail, "before_due", WANG)  # the one the server refused
    assert not before_due.delivered
    assert before_due.to == [("王晓明", WANG)]
    assert (
        before_due.subject
        == f"【{PROGRAMME}】提醒：“发布西城区清洁空气行动计划”将于2019年7月5日到期"
    )
    both_parts_say(
        before_due,
        "尊敬的王晓明：",
        "[1]“发布西城区清洁空气行动计划”将于2019年7月5日到期（还有3天）",
    )

    (overdue,) = of(mail, "overdue", WANG)
    assert local_day(overdue.at, SHANGHAI) == date(2019, 7, 12)  # due 5 July, every 7 days
    assert overdue.subject == f"【{PROGRAMME}】关于已到期行动事项的进展询问"
    both_parts_say(
        overdue, "尊敬的王晓明：", "行动事项[1]“发布西城区清洁空气行动计划”原定于2019年7月5日完成"
    )


def test_acknowledgements_echo_the_reply_to_its_sender_in_their_language(
    story: tuple[str, list[Mail]],
) -> None:
    _, mail = story
    (wang,) = of(mail, "acknowledgement", WANG)
    assert wang.to == [("王晓明", WANG)]
    assert wang.subject == f"【{PROGRAMME}】已收到您的进展反馈"
    both_parts_say(
        wang,
        "尊敬的王晓明：",
        "我们已记录以下进展",
        "[1] 发布西城区清洁空气行动计划：进行中 50%，已完成初稿",
        "[2] 试点低排放物流配送区：未开始",
    )
    assert f"“{PROGRAMME}”项目组" in wang.text
    assert wang.message["In-Reply-To"] == reply_id(WANG)
    (anna,) = of(mail, "acknowledgement", ANNA)
    assert anna.to == [("Anna Keller", ANNA)]
    assert anna.subject == f"Thank you – your update for {PROGRAMME} is recorded"
    both_parts_say(
        anna,
        "Dear Anna Keller,",
        "We recorded:",
        "[1] Pair each city with a peer city: in progress 40% – two cities paired",
        "[2] Publish the good-practice summary: done",
    )
    assert anna.message["In-Reply-To"] == reply_id(ANNA)


def unanswered_run(
    mail: list[Mail], address: str, replied: datetime, escalation: Mail
) -> list[Mail]:
    """The reminders that asked `address` for an answer and reached them after their reply."""
    return [
        m
        for m in mail
        if m.kind in ASKING
        and m.delivered
        and m.to[0][1] == address
        and replied < m.at < escalation.at
    ]


def test_escalations_name_the_participant_the_count_and_the_date_to_all_coordinators(
    story: tuple[str, list[Mail]],
) -> None:
    language, mail = story
    for address, name, replied in (
        (WANG, "王晓明", WANG_REPLIES_AT),
        (ANNA, "Anna Keller", ANNA_REPLIES_AT),
    ):
        (escalation,) = [m for m in of(mail, "escalation") if address in m.text]
        run = unanswered_run(mail, address, replied, escalation)
        # The refused before-due reminder and the late acknowledgement are not in it.
        assert [m.kind for m in run] == ["check_in", "check_in"]
        since = local_day(run[0].at, SHANGHAI if address == WANG else BERLIN)
        last_reply = local_day(replied, SHANGHAI if address == WANG else BERLIN)
        assert escalation.to == COORDINATORS
        assert escalation.message["Reply-To"] == IDENTITY.from_address
        if language == "zh-CN":
            assert escalation.subject == f"【{PROGRAMME}】学员未回复提醒：{name}"
            both_parts_say(
                escalation,
                "Daniel Okafor、李娜：",
                f"学员{name}",
                f"自{zh_date(since)}以来，已连续{len(run)}次未回复进展询问邮件",
                f"其最近一次回复时间为{zh_date(last_reply)}",
            )
        else:
            assert escalation.subject == f"No reply from {name} – {PROGRAMME}"
            both_parts_say(
                escalation,
                "Dear Daniel Okafor and 李娜,",
                f"has not answered the last {len(run)} reminders, "
                f"the first sent on {en_date(since)}",
                f"Their last reply arrived on {en_date(last_reply)}",
            )
        assert address in escalation.text
        # Only the actions still open: Anna's finished summary is not among them.
        listed = [title for title in TITLES if title in escalation.text]
        assert listed == OPEN_TITLES[address]


def test_the_digest_reports_the_week_to_all_coordinators_in_the_programmes_language(
    story: tuple[str, list[Mail]],
) -> None:
    language, mail = story
    first = of(mail, "digest")[0]
    assert first.at == datetime(2019, 7, 1, 1, 31, tzinfo=UTC)  # Monday 09:31 in Shanghai
    assert first.to == COORDINATORS
    # Four updates that week: two in Wang's reply, two in Anna's.
    if language == "zh-CN":
        assert first.subject == f"【{PROGRAMME}】每周进展汇总（2019年6月24日 – 30日）"
        both_parts_say(
            first,
            "Daniel Okafor、李娜：",
            f"现将“{PROGRAMME}”项目2019年6月24日\u2009–\u200930日的进展情况汇总如下",
            "学员共2人，行动事项共4项",
            "本期收到进展反馈4条",
            "发布西城区清洁空气行动计划：进行中 50%，已完成初稿",
        )
    else:
        assert first.subject == f"{PROGRAMME}: weekly digest, 24 – 30 Jun 2019"
        both_parts_say(
            first,
            "Dear Daniel Okafor and 李娜,",
            f"Here is where {PROGRAMME} stands for 24\u2009–\u200930 Jun 2019.",
            "2 participants, 4 actions",
            "4 updates received",
            "Pair each city with a peer city: in progress 40% – two cities paired",
        )
