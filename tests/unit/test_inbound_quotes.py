"""Only what the sender wrote: quoted mail, signatures and trailers stripped from plain text."""

from __future__ import annotations

import pytest

from tracker.inbound.quotes import strip_quoted_text

REPLY = "1：已完成\n2：进行中 60%"
EARLIER = "请告诉我们以下行动的进展：\n1. 发布行动计划"


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.split("\n"))


ADDR = "Follow-up <followup@example.org>"
OUTLOOK_EN = "From: Follow-up <f@example.org>\nSent: Sunday, June 23, 2019 9:30 AM\nTo: Zhang"
OUTLOOK_ZH = (
    "发件人: Follow-up <f@example.org>\n发送时间: 2019年6月23日 9:30\n收件人: 张伟\n主题: 进展"
)
OUTLOOK_ZH_FULL_WIDTH = OUTLOOK_ZH.replace(": ", "：")
OUTLOOK_TW = "寄件者: Follow-up <f@example.org>\n寄件日期: 2019年6月23日\n收件者: 林\n主旨: 進度"
HUAWEI = "-------- 原始邮件 --------\n发件人： Follow-up <f@example.org>\n日期： 2019年6月23日"


@pytest.mark.parametrize(
    "tail",
    [
        f"On Sun, Jun 23, 2019 at 9:30 AM {ADDR} wrote:\n\n{quoted(EARLIER)}",
        f"On Sun, Jun 23, 2019 at 9:30 AM Follow-up <\nf@example.org> wrote:\n{quoted(EARLIER)}",
        f"On 23 Jun 2019, at 09:30, Follow-up Office\n<f@example.org> wrote:\n\n{quoted(EARLIER)}",
        f"在 2019年6月23日，上午9:30，{ADDR} 写道：\n\n{quoted(EARLIER)}",
        f'在 2019-06-23 09:30:00，"Follow-up" <f@example.org> 写道：\n{quoted(EARLIER)}',
        f"{ADDR} 于2019年6月23日周日 上午9:30写道：\n\n{quoted(EARLIER)}",
        f"{ADDR} 於 2019年6月23日 週日 上午9:30 寫道：\n\n{quoted(EARLIER)}",
        f"-----Original Message-----\nFrom: Follow-up\nSent: Sunday\n\n{EARLIER}",
        f'------------------ 原始邮件 ------------------\n发件人: "F"<f@example.org>;\n{EARLIER}',
        f"------------------\xa0原始邮件\xa0------------------\n发件人: x\n{EARLIER}",
        f"{HUAWEI}\n{EARLIER}",
        f"---- 回复的原邮件 ----\n| 发件人 | Follow-up<f@example.org> |\n{EARLIER}",
        f"________________________________\n{OUTLOOK_EN}\nSubject: Progress\n\n{EARLIER}",
        f"{OUTLOOK_ZH}\n\n{EARLIER}",
        f"{OUTLOOK_ZH_FULL_WIDTH}\n\n{EARLIER}",
        f"{OUTLOOK_TW}\n\n{EARLIER}",
        f"From: Follow-up [mailto:f@example.org]\nSent: Sunday, June 23, 2019 9:30 AM\n{EARLIER}",
        f"*From:* Follow-up <f@example.org>\n*Date:* Sunday\n{EARLIER}",
        f"{quoted(EARLIER)}",
        f"Begin forwarded message:\n\nFrom: x\n{EARLIER}",
    ],
)
def test_quoted_earlier_mail_is_removed(tail: str) -> None:
    assert strip_quoted_text(f"{REPLY}\n\n{tail}\n") == REPLY


@pytest.mark.parametrize(
    "trailer",
    [
        "Sent from my iPhone", "Sent from my Huawei", "Sent from my Samsung Galaxy smartphone.",
        "Get Outlook for iOS", "Get Outlook for Android<https://aka.ms/ghei36>",
        "发自我的iPhone", "发自我的华为手机", "发自我的小米手机", "发自我的 iPad",
        "从我的 iPhone 发送", "從我的 iPhone 傳送", "发自网易邮箱大师",
        "Sent from Mail for Windows 10",
        "Envoyé de mon iPhone", "Von meinem iPhone gesendet", "iPhoneから送信",
    ],
)  # fmt: skip
def test_device_trailers_are_removed(trailer: str) -> None:
    assert strip_quoted_text(f"{REPLY}\n\n{trailer}\n") == REPLY


def test_trailer_between_reply_and_unmarked_quote_ends_the_reply() -> None:
    text = f"{REPLY}\n\nSent from my iPhone\n\n{EARLIER}"
    assert strip_quoted_text(text) == REPLY


def test_sent_from_in_a_sentence_is_kept() -> None:
    text = "Sent from my desk, which is much easier than from my phone, the report is attached."
    assert strip_quoted_text(text) == text


def test_signature_block_after_delimiter_is_removed() -> None:
    assert strip_quoted_text(f"{REPLY}\n-- \nZhang Wei\nDistrict office\n") == REPLY


def test_inline_answers_between_quoted_lines_are_kept() -> None:
    text = (
        "On Sun, Jun 23, 2019 at 9:30 AM Follow-up <f@example.org> wrote:\n"
        "> 1. Publish the plan\n1: done\n> 2. Pilot the zone\n2: 60%\n"
    )
    assert strip_quoted_text(text) == "1: done\n2: 60%"


def test_hard_wrapped_quote_tail_is_not_an_inline_answer() -> None:
    text = (
        "Thanks!\n\nOn Sun, Jun 23, 2019 at 9:30 AM Follow-up <f@example.org> wrote:\n"
        "> Please tell us how the actions are going; reply with one line for each acti\n"
        "on.\n> Thank you\n"
    )
    assert strip_quoted_text(text) == "Thanks!"


@pytest.mark.parametrize(
    "text",
    [
        "As I wrote: the plan is published.",
        "The mayor wrote:\nwe agree.",
        "From: the district office, with thanks.",
        "-----\nnot a quote",
    ],
)
def test_ordinary_prose_is_not_mistaken_for_quotes(text: str) -> None:
    assert strip_quoted_text(text) == text


def test_whitespace_is_trimmed_and_newlines_normalised() -> None:
    assert (
        strip_quoted_text("\r\n\r\n  1 done  \r\n\r\n\r\n\r\n2 done\r\n\r\n") == "1 done\n\n2 done"
    )
