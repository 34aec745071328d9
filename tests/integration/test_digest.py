"""The coordinators' weekly digest, on real databases.

One a week that has something to report, never dated before the programme's
first planning pass, only the latest week after downtime, and never calling a
participant silent whose mail did not get through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import IDENTITY, CollectingMailer, load_programme, reply_to, send_pass
from tracker.mail.outgoing import OutgoingMail, PermanentMailError
from tracker.mail.render import create_mail_environment
from tracker.services.intake import ingest
from tracker.services.sending import send_due
from tracker.services.status import programme_status

IMPORTED = datetime(2019, 5, 24, tzinfo=UTC)
CHECK_IN = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)  # after both first check-ins (09:30 local)


def at(month: int, day: int, hour: int = 0, minute: int = 30) -> datetime:
    return datetime(2019, month, day, hour, minute, tzinfo=UTC)


def digests(messages: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in messages if m["X-Tracker-Kind"] == "digest"]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def take(factory: sessionmaker[Session], raw: bytes, now: datetime) -> None:
    ingest(raw, session_factory=factory, secret_key=TEST_SECRET_KEY, source="pipe", now=now)


def test_a_digest_for_a_week_with_news_and_none_for_a_quiet_week(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)
    # The first full week after the training: nothing sent, nothing received.
    assert digests(send_pass(session_factory, at(5, 27))) == []
    assert digests(send_pass(session_factory, at(6, 3))) == []
    assert digests(send_pass(session_factory, at(6, 17))) == []
    send_pass(session_factory, CHECK_IN)  # the first check-ins go out
    (first,) = digests(send_pass(session_factory, at(7, 1)))
    assert sorted(a.addr_spec for a in first["To"].addresses) == [
        "officer@example.org",
        "second@example.org",
    ]
    assert "2019年6月24日 – 30日" in str(first["Subject"])
    assert "王晓明" in text_of(first)
    assert "Anna Keller" in text_of(first)
    assert first["Auto-Submitted"] == "auto-generated"
    assert digests(send_pass(session_factory, at(7, 1, 2))) == []  # planned once
    assert digests(send_pass(session_factory, at(7, 8))) == []  # a quiet week


def test_no_digest_is_dated_before_the_programmes_first_planning_pass(
    session_factory: sessionmaker[Session],
) -> None:
    """Set up on Wednesday 3 July: the Monday digest of the week before is not sent."""
    load_programme(session_factory, at(7, 2))
    first_pass = send_pass(session_factory, at(7, 3, 2))
    assert digests(first_pass) == []
    assert {m["X-Tracker-Kind"] for m in first_pass} == {"check_in"}  # the missed check-ins
    (digest,) = digests(send_pass(session_factory, at(7, 8)))
    assert "2019年7月1日 – 7日" in str(digest["Subject"])
    assert "本期收到进展反馈0条" in text_of(digest)


def test_after_downtime_only_the_latest_week_is_sent(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)
    sent = send_pass(session_factory, CHECK_IN)
    wang = next(m for m in sent if "wang" in str(m["To"]))
    # The sender is down for three weeks; a reply still arrives through the MTA pipe.
    take(session_factory, reply_to(wang, "1：进行中 30%"), at(7, 9, 3))
    (digest,) = digests(send_pass(session_factory, at(7, 17)))
    assert "2019年7月8日 – 14日" in str(digest["Subject"])  # the week before 15 July
    assert "[1] 发布西城区清洁空气行动计划：进行中 30%" in text_of(digest)
    assert digests(send_pass(session_factory, at(7, 17, 1))) == []


def test_the_digest_shows_the_weeks_updates_and_held_messages(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)
    sent = next(m for m in send_pass(session_factory, CHECK_IN) if "wang" in str(m["To"]))
    take(session_factory, reply_to(sent, "2：进行中 60%，等待预算批复"), CHECK_IN)
    forged = reply_to(sent, "1: done", sender="x@example.net", message_id="<forged@example.net>")
    take(session_factory, forged, CHECK_IN)
    (digest,) = digests(send_pass(session_factory, at(7, 1)))
    text = text_of(digest)
    assert "[2] 试点低排放物流配送区：进行中 60%，等待预算批复" in text
    assert "本期收到进展反馈1条" in text
    assert "另有1封来信待您审核" in text  # the forged reply, held
    assert "Anna Keller：尚未回复" in text


class RefusingAnna(CollectingMailer):
    """The server refuses Anna's address for good."""

    def send(self, message: OutgoingMail) -> None:
        if "anna@example.org" in message.recipients:
            raise PermanentMailError(
                "SMTP mail.example.org:25: 550 recipient anna@example.org refused: "
                "5.1.1 no such user",
                code=550,
                connection_level=False,
            )
        super().send(message)


def test_a_participant_never_reached_is_listed_as_such_not_as_silent(
    session_factory: sessionmaker[Session],
) -> None:
    load_programme(session_factory, IMPORTED)
    env = create_mail_environment()
    refusing = RefusingAnna()
    send_due(
        session_factory=session_factory,
        mailer=refusing,
        env=env,
        identity=IDENTITY,
        now=CHECK_IN,
    )
    (digest,) = digests(send_pass(session_factory, at(7, 1)))
    text = text_of(digest)
    assert "另有1封发给学员的邮件未能送达（见下文）。" in text
    assert (
        "Anna Keller（anna@example.org）：2019年6月24日的进展询问未能送达："
        "SMTP mail.example.org:25: 550 recipient anna@example.org refused: 5.1.1 no such user"
    ) in text
    assert "Anna Keller：尚未回复" not in text  # she was never asked
    assert "王晓明（北京市西城区生态环境局）：尚未回复" in text  # he was, and said nothing
    with session_factory() as session:
        people = programme_status(session=session)["programmes"][0]["participants"]
    anna = next(p for p in people if p["email"] == "anna@example.org")
    (failed,) = anna["failed_sends"]
    assert (failed["kind"], failed["state"]) == ("check_in", "failed")
    assert failed["error"].startswith("SMTP mail.example.org:25: 550 recipient anna@example.org")
    assert failed["at"].startswith("2019-06-24")
    assert next(p for p in people if p["email"] != "anna@example.org")["failed_sends"] == []
