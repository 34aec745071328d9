"""Replies, auto-replies, bounces and other mail told apart."""

from __future__ import annotations

import pytest

from tracker.core.model import MessageKind
from tracker.inbound.parse import parse_message


def message(
    headers: str, body: str = "hello", *, sender: str = "Zhang <zhang@example.cn>"
) -> bytes:
    return (
        f"From: {sender}\r\nTo: followup@example.org\r\nMessage-ID: <x@example.cn>\r\n"
        f"{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (
            "Subject: Re: progress\r\nAuto-Submitted: auto-replied\r\n",
            "Auto-Submitted: auto-replied",
        ),
        (
            "Subject: Re: progress\r\nAuto-Submitted: auto-generated\r\n",
            "Auto-Submitted: auto-generated",
        ),
        ("Subject: progress\r\nX-Autoreply: yes\r\n", "X-Autoreply: yes"),
        ("Subject: progress\r\nX-Autorespond: on\r\n", "X-Autorespond: on"),
        ("Subject: progress\r\nPrecedence: auto_reply\r\n", "Precedence: auto_reply"),
        ("Subject: progress\r\nPrecedence: bulk\r\n", "Precedence: bulk"),
        ("Subject: progress\r\nPrecedence: junk\r\n", "Precedence: junk"),
        ("Subject: Automatic reply: progress\r\n", "subject: Automatic reply: progress"),
        ("Subject: Auto Reply: progress\r\n", "subject: Auto Reply: progress"),
        ("Subject: Out of Office: progress\r\n", "subject: Out of Office: progress"),
        (
            "Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSNOiBwcm9ncmVzcw==?=\r\n",
            "subject: 自动回复: progress",
        ),
        (
            "Subject: =?UTF-8?B?6Ieq5YuV5Zue6KaGOiBwcm9ncmVzcw==?=\r\n",
            "subject: 自動回覆: progress",
        ),
    ],
)
def test_auto_replies_are_recognised_with_their_reason(headers: str, reason: str) -> None:
    parsed = parse_message(message(headers))
    assert parsed.kind is MessageKind.AUTO_REPLY
    assert parsed.kind_reason == reason
    assert parsed.updates == ()


def test_auto_submitted_no_is_a_person() -> None:
    parsed = parse_message(message("Subject: Re: progress\r\nAuto-Submitted: no\r\n", "1 done"))
    assert parsed.kind is MessageKind.REPLY
    assert [u.ref for u in parsed.updates] == ["1"]


def test_delivery_status_report_names_the_failed_recipient() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.org\r\nTo: followup@example.org\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Original-Recipient: rfc822;Gone@Example.CN\r\n"
        b"Final-Recipient: rfc822; gone@example.cn\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.kind is MessageKind.BOUNCE
    assert parsed.bounced_recipients == ("gone@example.cn",)
    assert not parsed.bounce_is_temporary


def test_delayed_delivery_report_is_a_temporary_bounce() -> None:
    raw = (
        b"From: postmaster@mx.example.org\r\nTo: followup@example.org\r\nSubject: Delayed Mail\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; slow@example.cn\r\nAction: delayed\r\n--b--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.kind is MessageKind.BOUNCE
    assert parsed.bounce_is_temporary


def test_mta_notice_without_report_part_names_the_address_from_its_text() -> None:
    body = (
        "Hi. This is the qmail-send program at mx.example.net.\r\nI'm afraid I wasn't able to "
        "deliver your message to the following addresses.\r\n\r\n<nobody@example.cn>:\r\n"
        "Sorry, no mailbox here by that name.\r\n\r\n--- Below this line is a copy of the message."
        "\r\n\r\nReturn-Path: <followup@example.org>\r\nTo: other@example.cn\r\n"
    )
    raw = message("Subject: failure notice\r\n", body, sender="MAILER-DAEMON@mx.example.net")
    parsed = parse_message(raw)
    assert parsed.kind is MessageKind.BOUNCE
    assert parsed.bounced_recipients == ("nobody@example.cn",)


def test_chinese_mta_notice_is_a_bounce() -> None:
    raw = message(
        "Subject: =?UTF-8?B?57O757uf6YCA5L+h?=\r\n",
        "很抱歉，您发送的邮件无法送达以下地址：\r\nlost@example.cn\r\n",
        sender="postmaster@mail.example.cn",
    )
    parsed = parse_message(raw)
    assert parsed.kind is MessageKind.BOUNCE
    assert parsed.bounced_recipients == ("lost@example.cn",)


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: Re: progress\r\n",
        "Subject: 回复：进展\r\n",
        "Subject: 答复: 进展\r\n",
        "Subject: AW: progress\r\n",
        "Subject: progress\r\nIn-Reply-To: <tracker.1@example.org>\r\n",
        "Subject: progress\r\nReferences: <tracker.1@example.org>\r\n",
    ],
)
def test_replies_are_recognised_by_threading_or_subject(headers: str) -> None:
    assert parse_message(message(headers)).kind is MessageKind.REPLY


def test_a_person_replying_about_an_undeliverable_letter_is_still_a_reply() -> None:
    raw = message("Subject: Re: undeliverable documents\r\nIn-Reply-To: <t@example.org>\r\n")
    assert parse_message(raw).kind is MessageKind.REPLY
