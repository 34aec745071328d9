"""A reply to our acknowledgement is read like a reply to a reminder.

The acknowledgement itself lists the recorded lines ("[1] Publish the plan:
done") and an example correction ("2: in progress 70%"); quoted back by a
client, with or without ">", none of that may be read as the participant's
own update. The acknowledgement is rendered from the real templates.
"""

from __future__ import annotations

import pytest

from tracker.core.model import ActionStatus
from tracker.inbound.parse import parse_message
from tracker.mail.contexts import AcknowledgementContext, RecordedUpdate
from tracker.mail.render import create_mail_environment, render_mail

CORRECTIONS = {"en": "Correction: 2: in progress 40%", "zh-CN": "更正：2：进行中 40%"}


def acknowledgement(language: str) -> tuple[str, str]:
    ctx = AcknowledgementContext(
        language=language,
        participant_name="王伟",
        programme_name="Capacity Building for Chinese Cities",
        updates=(
            RecordedUpdate(
                ref="1", title="Publish the plan", status=ActionStatus.DONE, percent=100
            ),
            RecordedUpdate(
                ref="2",
                title="Pilot zone",
                status=ActionStatus.IN_PROGRESS,
                percent=60,
                note="等待预算批复",
            ),
            RecordedUpdate(ref=None, title="", status=None, percent=None, note="Budget talks."),
        ),
        unknown_refs=("7",),
        coordinator_names=("Amina Okafor",),
        opt_out_url_or_address="followup@example.org",
    )
    mail = render_mail(create_mail_environment(), ctx)
    return mail.text, mail.html


def quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.split("\n"))


def gmail(text: str) -> str:
    return "On Mon, Jun 24, 2019 at 10:05 AM Follow-up <followup@example.org> wrote:\n\n" + quoted(
        text
    )


def outlook(text: str) -> str:
    return (
        "________________________________\nFrom: Follow-up <followup@example.org>\n"
        "Sent: Monday, June 24, 2019 10:05 AM\nTo: Wang Wei <wangwei@example.cn>\n"
        "Subject: Re: progress\n\n" + text
    )


def qq(text: str) -> str:
    return (
        "------------------ 原始邮件 ------------------\n"
        '发件人: "Follow-up"<followup@example.org>;\n发送时间: 2019年6月24日(星期一) 上午10:05\n'
        '收件人: "王伟"<wangwei@example.cn>;\n主题: 回复：进展\n\n' + text
    )


def iphone_zh(text: str) -> str:
    return (
        "发自我的iPhone\n\n在 2019年6月24日，上午10:05，Follow-up <followup@example.org> 写道：\n\n"
        + quoted(text)
    )


def foxmail(text: str) -> str:
    return "\n\n\nFrom: Follow-up\nDate: 2019-06-24 10:05\nTo: 王伟\nSubject: 回复：进展\n" + text


def message(body: str, content_type: str = "text/plain") -> bytes:
    return (
        "From: 王伟 <wangwei@example.cn>\r\nTo: followup+9.abcdefghijklmnop@example.org\r\n"
        "Subject: Re: progress\r\nIn-Reply-To: <tracker.9@example.org>\r\n"
        f"Content-Type: {content_type}; charset=utf-8\r\n\r\n{body}"
    ).encode()


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize("correction_language", ["en", "zh-CN"])
@pytest.mark.parametrize("client", [gmail, outlook, qq, iphone_zh, foxmail])
def test_a_correction_above_the_quoted_acknowledgement_is_the_only_update(
    language: str, correction_language: str, client: object
) -> None:
    text, _ = acknowledgement(language)
    correction = CORRECTIONS[correction_language]
    body = f"{correction}\n\n{client(text)}\n"  # type: ignore[operator]
    parsed = parse_message(message(body), known_refs=["1", "2"])
    assert parsed.reply_text == correction
    assert [(u.ref, u.status, u.percent) for u in parsed.updates] == [
        ("2", ActionStatus.IN_PROGRESS, 40)
    ]
    assert (parsed.general_note, parsed.unknown_refs, parsed.questions) == ("", (), ())


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_correction_above_the_quoted_html_acknowledgement(language: str) -> None:
    _, html = acknowledgement(language)
    body = (
        f"<div>{CORRECTIONS[language]}</div><br><div class='gmail_quote'>"
        "<div class='gmail_attr'>On Mon, Follow-up wrote:</div>"
        f"<blockquote>{html}</blockquote></div>"
    )
    parsed = parse_message(message(body, "text/html"), known_refs=["1", "2"])
    assert [(u.ref, u.percent) for u in parsed.updates] == [("2", 40)]
    assert parsed.general_note == ""


def test_the_acknowledgement_quoted_alone_gives_no_update() -> None:
    text, _ = acknowledgement("en")
    parsed = parse_message(message(f"Thanks!\n\n{outlook(text)}"), known_refs=["1", "2"])
    assert (parsed.updates, parsed.general_note, parsed.unknown_refs) == ((), "", ())
