"""Headers and bodies decoded whatever the charset, encoding or structure."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracker.core.model import MessageKind
from tracker.inbound.charsets import decode_text
from tracker.inbound.html_text import html_to_text
from tracker.inbound.parse import parse_message

TOKEN = "42.abcdefghijklmnop"


def message(
    body: bytes,
    *,
    headers: str = "",
    content_type: str = "text/plain; charset=utf-8",
    encoding: str = "8bit",
) -> bytes:
    head = (
        "From: Zhang Wei <ZhangWei@Example.CN>\r\n"
        f"To: followup+{TOKEN}@example.org\r\nSubject: Re: progress\r\n"
        "Message-ID: <m1@example.cn>\r\nIn-Reply-To: <tracker.1@example.org>\r\n"
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n{headers}\r\n"
    )
    return head.encode("ascii") + body


@pytest.mark.parametrize(
    ("text", "encoded_as", "label"),
    [
        ("进行中，朱镕基", "gbk", "gb2312"),  # 镕 is GBK, not GB2312
        ("已完成𠀀", "gb18030", "gb2312"),  # four-byte GB18030
        ("進行中，謝謝", "big5", "big5"),
        ("進行中，謝謝", "utf-8", "big5"),  # a Big5 label on UTF-8
        ("进行中，谢谢", "gb18030", None),  # no label at all
        ("進行中，謝謝您的提醒", "big5", None),
        ("こんにちは。この世界は素晴らしいです。", "shift_jis", None),
        ("こんにちは", "iso-2022-jp", "iso-2022-jp"),
        ("Žluťoučký kůň", "iso-8859-2", "iso-8859-2"),
        ("café déjà", "cp1252", "iso-8859-1"),
        ("café déjà", "latin-1", None),
    ],
)
def test_decode_text_reads_mislabelled_and_unlabelled_charsets(
    text: str, encoded_as: str, label: str | None
) -> None:
    assert decode_text(text.encode(encoded_as), label) == text


@pytest.mark.parametrize(
    ("data", "label", "text"),
    [
        (b"\xff\xfe\xfa\x80\x81", "utf-8", "\ufffd" * 5),  # no codec reads these bytes
        (b"\x81\xff\x81\xff", None, "\ufffd" * 4),
        (b"ok \xff\xfe\xfa\x80\x81", "no-such-charset", "ok " + "\ufffd" * 5),
    ],
)
def test_undecodable_bytes_become_replacement_characters_not_errors(
    data: bytes, label: str | None, text: str
) -> None:
    assert decode_text(data, label) == text


def test_headers_decode_encoded_words_8bit_and_addresses() -> None:
    subject = "=?gb2312?B?" + base64.b64encode("回复：朱镕基".encode("gbk")).decode() + "?="
    raw = message(b"1 done\r\n", headers=f"Subject: {subject}\r\n").replace(
        b"Subject: Re: progress\r\n", b""
    )
    raw = raw.replace(b"From: Zhang Wei", "From: 张伟".encode())
    parsed = parse_message(raw)
    assert parsed.subject == "回复：朱镕基"
    assert parsed.from_address == "zhangwei@example.cn"
    assert parsed.from_name == "张伟"
    assert parsed.message_id == "<m1@example.cn>"
    assert parsed.in_reply_to == "<tracker.1@example.org>"
    assert parsed.token == TOKEN
    assert f"followup+{TOKEN}@example.org" in parsed.recipients


def test_token_found_in_references_when_recipients_lack_it() -> None:
    raw = message(b"1 done\r\n", headers=f"References: <tracker.{TOKEN}@example.org>\r\n")
    raw = raw.replace(f"followup+{TOKEN}@".encode(), b"followup@")
    assert parse_message(raw).token == TOKEN


def test_token_found_in_delivered_to() -> None:
    raw = message(b"ok\r\n", headers=f"Delivered-To: followup+{TOKEN}@example.org\r\n")
    raw = raw.replace(f"\r\nTo: followup+{TOKEN}@".encode(), b"\r\nTo: followup@")
    parsed = parse_message(raw)
    assert parsed.token == TOKEN
    assert parsed.recipients == ("followup@example.org", f"followup+{TOKEN}@example.org")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date: Mon, 24 Jun 2019 10:02:11 +0800\r\n",
         datetime(2019, 6, 24, 10, 2, 11, tzinfo=timezone(timedelta(hours=8)))),
        ("Date: Mon, 24 Jun 2019 10:02:11 -0000\r\n", datetime(2019, 6, 24, 10, 2, 11, tzinfo=UTC)),
        ("Date: yesterday-ish\r\n", None),
        ("", None),
    ],
)  # fmt: skip
def test_date_is_aware_or_none(header: str, expected: datetime | None) -> None:
    parsed = parse_message(message(b"x", headers=header))
    assert parsed.date == expected
    assert parsed.date is None or parsed.date.tzinfo is not None


def test_base64_gb18030_body_without_charset_label() -> None:
    body = base64.encodebytes("1：已完成\n2：受阻".encode("gb18030"))
    parsed = parse_message(message(body, content_type="text/plain", encoding="base64"))
    assert parsed.reply_text == "1：已完成\n2：受阻"
    assert parsed.language == "zh"


def test_multipart_prefers_plain_and_skips_attachments() -> None:
    body = (
        b"--X\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment;"
        b' filename="notes.txt"\r\n\r\n1 blocked\r\n--X\r\nContent-Type: text/plain; charset=utf-8'
        b"\r\n\r\n1 done\r\n--X\r\nContent-Type: text/html\r\n\r\n<p>2 done</p>\r\n--X--\r\n"
    )
    parsed = parse_message(message(body, content_type='multipart/mixed; boundary="X"'))
    assert parsed.reply_text == "1 done"


def test_html_only_body_is_read_as_text() -> None:
    html = b"<html><body><div>1. done</div><div>2. 60%<br>thanks</div></body></html>"
    parsed = parse_message(message(html, content_type="text/html; charset=utf-8"))
    assert parsed.reply_text == "1. done\n2. 60%\nthanks"
    assert parsed.body_was_html


@pytest.mark.parametrize(
    "quoted",
    [
        '<div class="gmail_quote"><div class="gmail_attr">On Sun … wrote:</div>'
        '<blockquote class="gmail_quote">old</blockquote></div>',
        '<blockquote type="cite">old</blockquote>',
        '<blockquote id="isReplyContent">old</blockquote>',
        '<hr><div id="divRplyFwdMsg"><b>From:</b> x</div><div>old</div>',
        '<div class="moz-cite-prefix">On … wrote:</div><blockquote>old</blockquote>',
        "<style>p {color: red}</style><script>var old = 1;</script>",
    ],
)
def test_html_quoted_parts_are_dropped(quoted: str) -> None:
    assert html_to_text(f"<p>new</p>{quoted}") == "new"


def test_html_entities_and_pre_blocks_keep_their_text() -> None:
    text = html_to_text("<p>a&nbsp;&amp;&lt;b&gt;</p><pre>  x\n  y</pre>")
    assert text == "a &<b>\n  x\n  y"


def test_message_kind_other_without_reply_markers() -> None:
    raw = message(b"hello\r\n").replace(b"In-Reply-To: <tracker.1@example.org>\r\n", b"")
    raw = raw.replace(b"Subject: Re: progress", b"Subject: hello").replace(TOKEN.encode(), b"x")
    parsed = parse_message(raw)
    assert parsed.kind is MessageKind.OTHER
    assert parsed.reply_text == "hello"
