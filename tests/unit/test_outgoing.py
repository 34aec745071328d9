"""Building outgoing messages: structure, encodings, and no header injection."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.core.tokens import make_reply_token
from tracker.mail.outgoing import (
    UnsafeHeaderError,
    build_message,
    make_message_id,
    reply_address,
    unsubscribe_mailto,
)
from tracker.mail.render import RenderedMail

TOKEN = make_reply_token(12, "test-secret", nonce=None)
RENDERED = RenderedMail(
    subject="【城市气候变化政策能力建设】行动计划落实情况了解",
    text="尊敬的王伟：\n\n您好！\n\n    1：已完成\n",
    html='<!DOCTYPE html><html lang="zh-CN"><body><p>尊敬的王伟：</p></body></html>\n',
    language="zh-CN",
)


def build(**changes: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "rendered": RENDERED,
        "from_header": "项目组 <followup@example.org>",
        "to_name": "王伟",
        "to_address": "wang.wei@example.cn",
        "reply_to": reply_address("followup+{token}@example.org", TOKEN),
        "message_id": make_message_id(TOKEN, "example.org"),
        "list_unsubscribe": unsubscribe_mailto("followup@example.org"),
        "date": datetime(2019, 6, 23, 1, 30, tzinfo=UTC),
    }
    arguments.update(changes)
    return build_message(**arguments)  # type: ignore[arg-type]


def round_trip(message: EmailMessage) -> EmailMessage:
    raw = message.as_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_decodes_back_to_what_was_rendered() -> None:
    parsed = round_trip(build())
    assert parsed["Subject"] == RENDERED.subject
    assert parsed["From"].addresses[0].display_name == "项目组"
    assert parsed["From"].addresses[0].addr_spec == "followup@example.org"
    assert parsed["To"].addresses[0].display_name == "王伟"
    assert parsed["To"].addresses[0].addr_spec == "wang.wei@example.cn"
    assert parsed["Reply-To"].addresses[0].addr_spec == f"followup+{TOKEN}@example.org"
    assert parsed["Message-ID"] == f"<tracker.{TOKEN}@example.org>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["List-Unsubscribe"] == "<mailto:followup@example.org?subject=unsubscribe>"
    assert parsed["Date"].datetime == datetime(2019, 6, 23, 1, 30, tzinfo=UTC)
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    # The wire uses CRLF line ends; the content is otherwise what was rendered.
    assert text.get_content().replace("\r\n", "\n") == RENDERED.text
    assert html.get_content().replace("\r\n", "\n") == RENDERED.html
    assert text.get_content_charset() == "utf-8"


def test_headers_are_7bit_with_rfc2047_for_chinese() -> None:
    raw = build().as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # nothing but ASCII on the wire
    assert b"=?utf-8?" in head
    assert b"\r\nSubject: =?utf-8?" in head


def test_whole_message_is_ascii_so_it_needs_no_8bitmime() -> None:
    build().as_bytes().decode("ascii")


def test_date_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    parsed = round_trip(build(date=None))
    assert parsed["Date"].datetime >= before


@pytest.mark.parametrize(
    "hostile",
    [
        "Wang\r\nBcc: victim@example.org",
        "Wang\nBcc: victim@example.org",
        "Wang\rBcc: victim@example.org",
        "Wang\u2028Bcc: victim@example.org",
        "Wang\x00\x1b",
        '"Wang" <evil@example.org>, other@example.org',
    ],
)
def test_hostile_display_names_cannot_add_headers(hostile: str) -> None:
    parsed = round_trip(build(to_name=hostile))
    assert parsed["Bcc"] is None
    assert len(parsed["To"].addresses) == 1
    assert parsed["To"].addresses[0].addr_spec == "wang.wei@example.cn"


def test_hostile_subject_is_flattened_not_obeyed() -> None:
    rendered = RenderedMail(
        subject="Hello\r\nBcc: victim@example.org\r\n\r\nbody", text="t", html="h", language="en"
    )
    parsed = round_trip(build(rendered=rendered))
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hello Bcc: victim@example.org body"


@given(st.text(max_size=80))
def test_no_name_or_subject_can_add_a_header(data: str) -> None:
    rendered = RenderedMail(subject=data or "x", text="t", html="h", language="en")
    parsed = round_trip(build(rendered=rendered, to_name=data))
    expected = {
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "List-Unsubscribe",
        "MIME-Version",
        "Content-Type",
    }
    assert set(parsed.keys()) == expected
    assert parsed["To"].addresses[0].addr_spec == "wang.wei@example.cn"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to_address", "wang@example.cn\r\nBcc: victim@example.org"),
        ("to_address", "wang@example.cn, victim@example.org"),
        ("to_address", "not an address"),
        ("reply_to", "followup@example.org\nBcc: victim@example.org"),
        ("message_id", "<tracker.1.x@example.org>\r\nBcc: victim@example.org"),
        ("message_id", "tracker.1.x@example.org"),
        ("list_unsubscribe", "mailto:x@example.org\r\nBcc: victim@example.org"),
        ("from_header", "Follow-up <followup@example.org>\r\nBcc: victim@example.org"),
        ("from_header", "a@example.org, b@example.org"),
    ],
)
def test_hostile_addresses_and_ids_are_refused(field: str, value: str) -> None:
    with pytest.raises(UnsafeHeaderError):
        build(**{field: value})


def test_extra_headers_are_added_but_cannot_inject_or_override() -> None:
    parsed = round_trip(build(extra_headers={"X-Tracker-Programme": "shrdc-2019-china"}))
    assert parsed["X-Tracker-Programme"] == "shrdc-2019-china"
    with pytest.raises(UnsafeHeaderError):
        build(extra_headers={"X-Note": "a\r\nBcc: victim@example.org"})
    with pytest.raises(UnsafeHeaderError):
        build(extra_headers={"Bcc": "victim@example.org"})
    with pytest.raises(UnsafeHeaderError):
        build(extra_headers={"X-Bad:Name": "x"})


def test_message_id_wraps_the_token() -> None:
    assert make_message_id("12.abcdefghijklmnop", "example.org") == (
        "<tracker.12.abcdefghijklmnop@example.org>"
    )
    with pytest.raises(UnsafeHeaderError):
        make_message_id("12 x", "example.org")


def test_reply_address_fills_the_pattern_or_plus_addresses_the_sender() -> None:
    assert reply_address("replies+{token}@example.org", "12.abc") == "replies+12.abc@example.org"
    assert reply_address("{token}@in.example.org", "12.abc") == "12.abc@in.example.org"
    assert (
        reply_address(None, "12.abc", from_address="followup@example.org")
        == "followup+12.abc@example.org"
    )
    with pytest.raises(ValueError, match="token"):
        reply_address("replies@example.org", "12.abc")
    with pytest.raises(ValueError, match="pattern or a From"):
        reply_address(None, "12.abc")
    with pytest.raises(UnsafeHeaderError):
        reply_address("replies+{token}@example.org", "12\r\nBcc: x@y")
