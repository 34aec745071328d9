"""The demo: the whole story of a programme's follow-up, on SQLite, with no network.

It imports the example programme, then lets time pass: reminders go out (into
a folder of .eml files instead of an SMTP server), participants reply from
different mail clients, a stranger forges a reply, an out-of-office answers,
an address bounces, silence is escalated, and the coordinators' view is shown.
Every step runs the same services as the real commands.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.core.model import ActionStatus
from tracker.db.migrate import upgrade
from tracker.db.orm import Coordinator, Participant
from tracker.db.session import make_engine, make_session_factory
from tracker.errors import TrackerError
from tracker.inbound.attachments import AttachedFile
from tracker.mail.outgoing import OutgoingMail
from tracker.mail.render import create_mail_environment, template_languages
from tracker.programme.reading import read_programme_file
from tracker.resources import bundled
from tracker.services.attachments import AttachmentLimits
from tracker.services.composing import MailIdentity
from tracker.services.importing import import_programme
from tracker.services.intake import IntakeResult, ingest
from tracker.services.review import REASON_WORDS
from tracker.services.sending import send_due
from tracker.services.web_answers import RowInput, open_actions, record_page_answer

EXAMPLE = bundled("examples") / "programme.yaml"
FIRST_DAY = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)  # after 09:30 in both Beijing and Seoul
LAST_DAY = datetime(2019, 11, 1, 8, 0, tzinfo=UTC)


@dataclass
class FolderMailer:
    """A Mailer that writes each message to a folder as an .eml file."""

    folder: Path
    sent: list[EmailMessage] = field(default_factory=list)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def send(self, message: OutgoingMail) -> None:
        self.sent.append(message.parsed())
        name = f"{len(self.sent):03d}-{message.recipients[-1].split('@')[0]}.eml"
        (self.folder / name).write_bytes(message.raw)


@dataclass(frozen=True, slots=True)
class DemoReply:
    """How one participant answers their first reminder in the demo."""

    address: str
    body: str
    charset: str = "utf-8"
    sender: str | None = None  # someone else's address: a forgery
    auto: bool = False


REPLIES = (
    DemoReply(
        address="wang.xiaoming@xicheng.example.cn",
        body="1：已完成\n2：进行中 60%，等待预算批复\n3：受阻，缺少监测设备经费\n\n"
        '------------------ 原始邮件 ------------------\n发件人: "ICLEI East Asia";\n',
        charset="gb18030",
    ),
    DemoReply(
        address="li.jing@xicheng.example.cn",
        body="1. 进行中 80%，初稿已完成\n2 未开始\n\n"
        "发件人: ICLEI East Asia\n发送时间: 2019年6月24日 9:30\n",
    ),
    DemoReply(
        address="liu.yang@shijingshan.example.cn",
        body="1 进行中 30%，项目清单初稿已报区政府\n2：已完成\n\n发自我的iPhone\n",
    ),
    DemoReply(
        address="soojin.kim@seoul.example.org",
        body="2: done, the guidelines are on our English website\n"
        "1: in progress 50%, visit dates agreed for October\n\n"
        "On Mon, 24 Jun 2019 at 17:30, ICLEI East Asia wrote:\n> Dear Kim Soo-jin,\n",
    ),
    DemoReply(
        address="zhao.min@changping.example.cn",
        body="您好，我正在休假，7月8日返回后回复您。",
        auto=True,
    ),
    DemoReply(address="sun.li@yanqing.example.cn", body="1：已完成", sender="someone@example.net"),
)


# Who the demo's mail comes from; the dashboard it serves says the same.
DEMO_FROM_ADDRESS = "followup@iclei-eastasia.example.org"
DEMO_FROM = f"ICLEI East Asia <{DEMO_FROM_ADDRESS}>"
DEMO_REPLY_ADDRESS = "followup+{token}@iclei-eastasia.example.org"

# Where `tracker demo` serves the dashboard by default: the reminders' personal links.
DEMO_PUBLIC_URL = "http://127.0.0.1:8000"
# The story spans half a year; its links must still open on the dashboard's last day.
DEMO_LINK_DAYS = 3650
# Who answers on their personal page instead of by email, with a document.
PAGE_ANSWER = "ma.chao@tongzhou.example.cn"


def run_demo(
    folder: Path,
    echo: Callable[[str], None],
    *,
    secret_key: str | None = None,
    public_url: str = DEMO_PUBLIC_URL,
) -> sessionmaker[Session]:
    """Play the story in `folder` (a fresh demo.db and outbox/); return the database.

    `secret_key` signs the reminders' tokens and personal links (random when
    None); pass the dashboard's, and its `public_url`, so the links open there.
    """
    outbox = folder / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    for old in [*outbox.glob("*.eml"), *folder.glob("demo.db*")]:
        old.unlink()
    engine = make_engine(f"sqlite:///{folder / 'demo.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    identity = MailIdentity(
        from_header=DEMO_FROM,
        from_address=DEMO_FROM_ADDRESS,
        reply_pattern=DEMO_REPLY_ADDRESS,
        secret_key=secret_key or secrets.token_urlsafe(32),
        public_url=public_url,
        link_days=DEMO_LINK_DAYS,
    )
    env = create_mail_environment()
    mailer = FolderMailer(outbox)

    def send_pass(now: datetime) -> list[EmailMessage]:
        before = len(mailer.sent)
        report = send_due(
            session_factory=factory, mailer=mailer, env=env, identity=identity, now=now
        )
        kinds = Counter(item["kind"].replace("_", "-") for item in report.sent)
        if kinds and now > replied_at + timedelta(minutes=1):
            counts = ", ".join(f"{kind} ×{count}" for kind, count in sorted(kinds.items()))
            echo(f"  {now:%Y-%m-%d}: {counts}")
        return mailer.sent[before:]

    replied_at = FIRST_DAY + timedelta(hours=20)

    spec = read_programme_file(
        EXAMPLE.read_text(encoding="utf-8"), path=str(EXAMPLE), languages=template_languages(env)
    )
    with factory.begin() as session:
        report = import_programme(spec, session=session, now=FIRST_DAY - timedelta(days=31))
    echo(
        f"Imported {spec.name}: {len(spec.participants)} participants, "
        f"{sum(len(p.actions) for p in spec.participants)} actions ({report.created} rows)."
    )

    first = [m for m in send_pass(FIRST_DAY) if m["X-Tracker-Kind"] == "check_in"]
    echo(
        f"\n{FIRST_DAY:%Y-%m-%d}: {len(first)} check-in reminders sent, each in the participant's "
        "language at 09:30 local time (23 June is a Sunday, so they went out on Monday)."
    )
    echo(f"  e.g. “{first[0]['Subject']}” to {first[0]['To']}")

    def receive(raw: bytes) -> IntakeResult:
        return ingest(
            raw,
            session_factory=factory,
            secret_key=identity.secret_key,
            source="pipe",
            now=replied_at,
        )

    echo("\nReplies arrive the next day:")
    for reply in REPLIES:
        reminder = next(m for m in first if reply.address in str(m["To"]))
        echo(f"  {reply.sender or reply.address}: {_outcome(receive(_reply(reminder, reply)))}")
    result = receive(_bounce("wu.fang@hunan.example.cn"))
    echo(f"  a delivery failure report: {result.detail}")
    echo(f"  {PAGE_ANSWER}: {_answer_on_page(factory, PAGE_ANSWER, now=replied_at)}")
    acknowledged = send_pass(replied_at + timedelta(minutes=1))
    echo(f"  {len(acknowledged)} acknowledgements sent, echoing what was recorded.")

    echo("\nTime passes; the tracker follows up on its own (silence goes to the coordinators):")
    day = FIRST_DAY + timedelta(days=2)
    while day <= LAST_DAY:
        send_pass(day)
        day += timedelta(days=1)
    echo(f"\n{len(mailer.sent)} messages in all, written to {outbox}/ as .eml files.")
    return factory


def _answer_on_page(factory: sessionmaker[Session], email: str, *, now: datetime) -> str:
    """One participant opens the link in their reminder and answers there, with a file."""
    with factory.begin() as session:
        participant = session.scalars(select(Participant).where(Participant.email == email)).one()
        first, second = open_actions(participant)[:2]
        plan = AttachedFile(
            filename="近零碳示范区实施方案（征求意见稿）.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4\n% demo: the draft plan\n",
        )
        rows = [
            RowInput(
                action_id=first.id,
                status=ActionStatus.IN_PROGRESS,
                percent=70,
                note="实施方案已完成征求意见稿",
                file=plan,
            ),
            RowInput(action_id=second.id, status=ActionStatus.IN_PROGRESS, percent=55, note=""),
        ]
        outcome = record_page_answer(
            participant, rows, address="demo", session=session, now=now, limits=AttachmentLimits()
        )
    return (
        f"answered on their personal page: {outcome.updates} update(s), "
        f"{len(outcome.files_kept)} file kept"
    )


def _reply(reminder: EmailMessage, reply: DemoReply) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = reply.sender or str(reminder["To"])
    message["To"] = str(reminder["Reply-To"])
    message["Subject"] = ("自动回复：" if reply.auto else "回复：") + str(reminder["Subject"])
    message["Message-ID"] = f"<demo-{secrets.token_hex(6)}@{reply.address.split('@')[1]}>"
    message["In-Reply-To"] = str(reminder["Message-ID"])
    if reply.auto:
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(reply.body, charset=reply.charset)
    return message.as_bytes()


def _bounce(address: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.hunan.example.cn>\r\n"
        "To: followup@iclei-eastasia.example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <bounce-{secrets.token_hex(6)}@mx.hunan.example.cn>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.hunan.example.cn\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
    ).encode("ascii")


def _outcome(result: IntakeResult) -> str:
    if result.state == "held":
        return f"held for a coordinator: {REASON_WORDS.get(result.reason or '', result.reason)}"
    if result.kind == "auto_reply":
        return "an out-of-office auto-reply: noted, not counted as an answer"
    return result.detail


def demo_coordinator(*, session: Session) -> Coordinator:
    """Whom the demo's dashboard signs in: the example programme's first coordinator."""
    coordinator = session.scalars(select(Coordinator).order_by(Coordinator.id)).first()
    if coordinator is None:
        raise TrackerError("the demo programme has no coordinator to sign in as")
    return coordinator
