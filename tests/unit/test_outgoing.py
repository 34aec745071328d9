"""Building outgoing messages: structure, encodings, and no header injection.

Every test reads the message as a receiving mail program would: the bytes
SMTP sends, parsed back with the standard library's parser.
"""

from __future__ import annotations

import dataclasses
import email
import re
from datetime import UTC, date, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.model import ActionStatus, ReminderKind
from tracker.core.tokens import make_reply_token
from tracker.mail.contexts import ActionLine, DigestContext, MailContext, ReminderContext
from tracker.mail.headers import header_text, safe_message_id
from tracker.mail.outgoing import (
    Mailbox,
    OutgoingMail,
    UnsafeHeaderError,
    build_message,
    make_message_id,
    reply_address,
    unsubscribe_mailto,
)
from tracker.mail.render import RenderedMail, create_mail_environment, render_mail

TOKEN = make_reply_token(12, "test-secret", nonce="abcdefghijkl")
RENDERED = RenderedMail(
    subject="【城市气候变化政策能力建设】行动计划落实情况了解",
    text="尊敬的王伟：\n\n您好！\n\n    1：已完成\n",
    html='<!DOCTYPE html><html lang="zh-CN"><body><p>尊敬的王伟：</p></body></html>\n',
    language="zh-CN",
)
ENV = create_mail_environment()
REPLY_TO = reply_address("followup+{token}@example.org", TOKEN)
MESSAGE_ID = make_message_id(TOKEN, "example.org")
HEADERS = [
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
]

# The attacks of the security report, and variants: other charsets, B encoding,
# lower case, folded, nested in text, several in a row.
ENCODED_WORD_ATTACKS = [
    "=?utf-8?q?Eve=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AInjected_body?=",
    "=?UTF-8?Q?Eve=0D=0ABcc:_victim@example.org?=",
    "=?utf-8?b?RXZlDQpCY2M6IHZpY3RpbUBleGFtcGxlLm9yZw0KDQpib2R5?=",
    "=?iso-8859-1?q?Eve=0ABcc:_victim@example.org?=",
    "Dr =?utf-8?q?=0D=0A?= Eve =?utf-8?q?=0D=0ABcc:_x@evil.example?=",
    "=?utf-8?q?=0D=0A?==?utf-8?q?Bcc:_x@evil.example?=",
    "Eve=?utf-8?q?=E2=80=A8Bcc:_x@evil.example?=",
    "=?utf-8?q?=22Eve=22_=3Cx@evil.example=3E,_y@evil.example?=",
]


def build(**changes: object) -> OutgoingMail:
    arguments: dict[str, object] = {
        "rendered": RENDERED,
        "from_header": "项目组 <followup@example.org>",
        "to": [Mailbox(name="王伟", address="wang.wei@example.cn")],
        "reply_to": REPLY_TO,
        "message_id": MESSAGE_ID,
        "list_unsubscribe_uris": [unsubscribe_mailto(REPLY_TO)],
        "date": datetime(2019, 6, 23, 1, 30, tzinfo=UTC),
    }
    arguments.update(changes)
    return build_message(**arguments)  # type: ignore[arg-type]


def wire(message: OutgoingMail) -> bytes:
    """The bytes smtplib sends."""
    return message.raw


def round_trip(message: OutgoingMail) -> EmailMessage:
    raw = wire(message)
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # nothing but ASCII in the headers
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def mailboxes(message: Message, name: str) -> list[tuple[str, str]]:
    """A header's (display name, address) pairs as RFC 2047 mail programs decode them.

    (The `email` package's own phrase parser keeps the space between two
    adjacent encoded-words, which RFC 2047 says to drop.)
    """
    raw = [re.sub(r"\r\n(?=[ \t])", "", str(v)) for v in message.get_all(name, [])]  # unfold
    return [(str(make_header(decode_header(n))), a) for n, a in getaddresses(raw)]


def test_message_decodes_back_to_what_was_rendered() -> None:
    parsed = round_trip(build())
    assert list(parsed.keys()) == HEADERS
    assert parsed["Subject"] == RENDERED.subject
    assert parsed["From"].addresses[0].display_name == "项目组"
    assert parsed["From"].addresses[0].addr_spec == "followup@example.org"
    assert parsed["To"].addresses[0].display_name == "王伟"
    assert parsed["To"].addresses[0].addr_spec == "wang.wei@example.cn"
    assert parsed["Reply-To"].addresses[0].addr_spec == f"followup+{TOKEN}@example.org"
    assert parsed["Message-ID"] == f"<tracker.{TOKEN}@example.org>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["List-Unsubscribe"] == f"<mailto:{REPLY_TO}?subject=unsubscribe>"
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
    head = wire(build()).split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")
    assert b"\r\nSubject: =?utf-8?" in head


def test_whole_message_is_ascii_so_it_needs_no_8bitmime() -> None:
    wire(build()).decode("ascii")


def test_date_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    parsed = round_trip(build(date=None))
    assert parsed["Date"].datetime >= before


# -- structured headers: plain ASCII, folded only at whitespace --------------------------

LONG_DOMAIN = "mail.a-programme-with-a-really-quite-long-domain-name.example.org"


def raw_header(raw: bytes, name: str) -> str:
    """A header exactly as on the wire, its folding included."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = head.split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(name.lower() + ":"))
    end = start + 1
    while end < len(lines) and lines[end][:1] in (" ", "\t"):
        end += 1
    return "\r\n".join(lines[start:end])


@pytest.mark.parametrize("domain", ["example.org", LONG_DOMAIN])
@pytest.mark.parametrize("reminder_id", [1, 123456, 10**17])
def test_structured_headers_are_plain_ascii_even_for_long_addresses(
    domain: str, reminder_id: int
) -> None:
    token = make_reply_token(reminder_id, "test-secret", nonce="mnopqrstuvwx")
    reply = reply_address(f"followup+{{token}}@{domain}", token)
    message_id = make_message_id(token, domain)
    parent = f"<CAJ+{'x' * 40}.{reminder_id}@mail.gmail.com>"
    raw = wire(
        build(
            reply_to=reply,
            message_id=message_id,
            list_unsubscribe_uris=[
                f"https://{domain}/unsubscribe/{token}",
                unsubscribe_mailto(reply),
            ],
            in_reply_to=parent,
            references=[message_id, parent],
        )
    )
    unsubscribe = f"<https://{domain}/unsubscribe/{token}>, <mailto:{reply}?subject=unsubscribe>"
    meant = {
        "Reply-To": reply,
        "Message-ID": message_id,
        "In-Reply-To": parent,
        "References": f"{message_id} {parent}",
        "List-Unsubscribe": unsubscribe,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    for name, value in meant.items():
        on_the_wire = raw_header(raw, name)
        assert "=?" not in on_the_wire, on_the_wire
        # Folded only where the value has whitespace: unfolding gives it back.
        assert on_the_wire.replace("\r\n", "") == f"{name}: {value}"
        # A line is longer than 78 characters only when it is one word.
        for line in on_the_wire.removeprefix(f"{name}: ").split("\r\n"):
            assert len(line) <= 78 or " " not in line.strip(), line
    parsed = email.message_from_bytes(raw, policy=policy.default)
    for name, value in meant.items():
        assert str(parsed[name]) == value


def test_one_click_unsubscribe_is_announced_exactly_when_an_https_uri_is_given() -> None:
    mailto = unsubscribe_mailto(REPLY_TO)
    https = f"https://example.org/unsubscribe/{TOKEN}"
    cases = [([mailto], False), ([https], True), ([https, mailto], True), ([mailto, https], True)]
    for uris, one_click in cases:
        parsed = round_trip(build(list_unsubscribe_uris=uris))
        assert parsed["List-Unsubscribe"] == ", ".join(f"<{u}>" for u in uris)
        if one_click:
            assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        else:
            assert "List-Unsubscribe-Post" not in parsed
    # http is a usable RFC 2369 URI, but one-click (RFC 8058) needs https.
    parsed = round_trip(build(list_unsubscribe_uris=["http://example.org/u/1", mailto]))
    assert "List-Unsubscribe-Post" not in parsed


def test_a_mailto_uri_encodes_what_a_uri_may_not_hold() -> None:
    assert unsubscribe_mailto("followup+1.abc@example.org") == (
        "mailto:followup+1.abc@example.org?subject=unsubscribe"
    )
    assert unsubscribe_mailto("a&b%c@example.org") == (
        "mailto:a%26b%25c@example.org?subject=unsubscribe"
    )


# -- header injection --------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "Wang\r\nBcc: victim@example.org",
        "Wang\nBcc: victim@example.org",
        "Wang\rBcc: victim@example.org",
        "Wang\u2028Bcc: victim@example.org",
        "Wang\u0085Bcc: victim@example.org",
        "Wang\x00\x1b",
        '"Wang" <evil@example.org>, other@example.org',
        *ENCODED_WORD_ATTACKS,
    ],
)
def test_hostile_display_names_cannot_add_headers_or_recipients(hostile: str) -> None:
    for to in (
        [Mailbox(name=hostile, address="wang.wei@example.cn")],
        [
            Mailbox(name="Officer", address="officer@example.org"),
            Mailbox(name=hostile, address="second@example.org"),
        ],
    ):
        parsed = round_trip(build(to=to))
        assert list(parsed.keys()) == HEADERS
        assert [a.addr_spec for a in parsed["To"].addresses] == [m.address for m in to]
        assert [a.display_name for a in parsed["To"].addresses] == [header_text(m.name) for m in to]
        assert parsed["Reply-To"].addresses[0].addr_spec == REPLY_TO
        body = parsed.get_body(("plain",))
        assert body is not None
        assert body.get_content().replace("\r\n", "\n") == RENDERED.text


@pytest.mark.parametrize("hostile", ENCODED_WORD_ATTACKS)
def test_an_encoded_word_in_the_configured_from_name_stays_in_the_name(hostile: str) -> None:
    # TRACKER_FROM as the configuration writes it (`Name <addr>`, quoted as needed).
    quoted = hostile.replace("\\", "\\\\").replace('"', '\\"')
    parsed = round_trip(build(from_header=f'"{quoted}" <followup@example.org>'))
    assert list(parsed.keys()) == HEADERS
    (sender,) = parsed["From"].addresses
    assert sender.addr_spec == "followup@example.org"
    assert sender.display_name == header_text(hostile)


@pytest.mark.parametrize(
    "hostile", ["Hello\r\nBcc: victim@example.org\r\n\r\nbody", *ENCODED_WORD_ATTACKS]
)
def test_hostile_subjects_are_shown_as_text_not_obeyed(hostile: str) -> None:
    rendered = RenderedMail(subject=f"【项目】{hostile}", text="t", html="h", language="en")
    parsed = round_trip(build(rendered=rendered))
    assert list(parsed.keys()) == HEADERS
    assert parsed["Subject"] == header_text(f"【项目】{hostile}")
    assert "\n" not in parsed["Subject"]
    assert "\r" not in parsed["Subject"]


def test_encoded_word_syntax_is_broken_and_the_rest_of_the_text_kept() -> None:
    assert header_text(ENCODED_WORD_ATTACKS[0]) == (
        "= ?utf-8?q?Eve=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AInjected_body?="
    )
    assert header_text("王伟 (Wang Wei)\t\r\n x=1?") == "王伟 (Wang Wei) x=1?"
    assert header_text("==??=?") == "== ??= ?"


@pytest.mark.parametrize(
    "hostile",
    [
        "<=?utf-8?q?x=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AInjected?=@example.net>",
        "<=?utf-8?q?x=0D=0AInjected?=@example.net>",
        "<x@example.net>\r\nBcc: victim@example.org",
        "<x@example.net> <y@example.net>",
        "<x y@example.net>",
        "<x@example.net",
        "x@example.net",
        "<x@@example.net>",
        "<x@exa\u00e9mple.net>",
        "<x@example.net>\x00",
        f"<{'x' * 300}@example.net>",
        "",
    ],
)
def test_only_strict_message_ids_are_echoed_in_threading_headers(hostile: str) -> None:
    parent = "<CAJ7pq=2Z+x_y@mail.gmail.com>"
    parsed = round_trip(build(in_reply_to=hostile, references=[MESSAGE_ID, hostile, parent]))
    assert "In-Reply-To" not in parsed
    assert parsed["References"] == f"{MESSAGE_ID} {parent}"
    assert list(parsed.keys()) == [*HEADERS[:6], "References", *HEADERS[6:]]
    assert safe_message_id(hostile) is None


@pytest.mark.parametrize(
    "good",
    [
        "<CAJ7pq=2Z+x_y@mail.gmail.com>",
        "<tracker.12.abcdefghijkl.abcdefghijklmnop@example.org>",
        "<1234.5678@[127.0.0.1]>",
        "<a!#$%&'*+/=^_`{|}~?-b@example.org>",
    ],
)
def test_strict_message_ids_are_echoed_verbatim(good: str) -> None:
    parsed = round_trip(build(in_reply_to=good, references=[good]))
    assert parsed["In-Reply-To"] == good
    assert parsed["References"] == good


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", [Mailbox(name="W", address="wang@example.cn\r\nBcc: victim@example.org")]),
        ("to", [Mailbox(name="W", address="wang@example.cn, victim@example.org")]),
        ("to", [Mailbox(name="W", address="not an address")]),
        ("to", [Mailbox(name="W", address="=?utf-8?q?x=0D=0A?=@example.org")]),
        ("to", []),
        ("reply_to", "followup@example.org\nBcc: victim@example.org"),
        ("reply_to", "=?utf-8?q?a=0D=0AB?=@example.org"),
        ("message_id", "<tracker.1.x@example.org>\r\nBcc: victim@example.org"),
        ("message_id", "tracker.1.x@example.org"),
        ("message_id", "<=?utf-8?q?x=0D=0A?=@example.org>"),
        ("list_unsubscribe_uris", ["mailto:x@example.org\r\nBcc: victim@example.org"]),
        ("list_unsubscribe_uris", ["mailto:x@example.org>, <mailto:y@example.org"]),
        ("list_unsubscribe_uris", ["javascript:alert(1)"]),
        ("list_unsubscribe_uris", []),
        ("from_header", "Follow-up <followup@example.org>\r\nBcc: victim@example.org"),
        ("from_header", "a@example.org, b@example.org"),
    ],
)
def test_our_own_unusable_addresses_and_ids_are_refused(field: str, value: object) -> None:
    with pytest.raises(UnsafeHeaderError):
        build(**{field: value})


def test_extra_headers_are_added_but_cannot_inject_or_override() -> None:
    parsed = round_trip(build(extra_headers={"X-Tracker-Kind": "check_in"}))
    assert parsed["X-Tracker-Kind"] == "check_in"
    for extra in (
        {"X-Note": "a\r\nBcc: victim@example.org"},
        {"X-Note": "=?utf-8?q?a=0D=0ABcc:_victim@example.org?="},
        {"X-Note": "非ASCII"},
        {"Bcc": "victim@example.org"},
        {"References": "<x@example.org>"},
        {"Content-Type": "text/html"},
        {"X-Bad:Name": "x"},
    ):
        with pytest.raises(UnsafeHeaderError):
            build(extra_headers=extra)


# -- properties: no data can change the header set --------------------------------------

_NASTY = st.sampled_from(
    [
        "=?",
        "?=",
        "=?utf-8?q?",
        "=?utf-8?b?",
        "=0D=0A",
        "\r\n",
        "\r",
        "\n",
        "\u2028",
        "\u2029",
        "\u0085",
        "\x00",
        "\x0b",
        "\x0c",
        "\t",
        '"',
        "\\",
        "<",
        ">",
        ",",
        ";",
        ":",
        "@",
        "(",
        ")",
        "Bcc: victim@example.org",
        "王伟",
        " ",
    ]
)
HOSTILE_TEXT = st.lists(st.one_of(_NASTY, st.text(max_size=12)), max_size=12).map("".join)


@given(name=HOSTILE_TEXT, subject=HOSTILE_TEXT, second=HOSTILE_TEXT)
def test_no_name_or_subject_can_change_the_headers(name: str, subject: str, second: str) -> None:
    rendered = RenderedMail(subject=subject, text="t", html="h", language="en")
    to = [
        Mailbox(name=name, address="wang.wei@example.cn"),
        Mailbox(name=second, address="second@example.org"),
    ]
    message = build(rendered=rendered, to=to)
    parsed = round_trip(message)
    assert list(parsed.keys()) == HEADERS
    assert parsed["Subject"] == header_text(subject)
    raw = email.message_from_bytes(wire(message), policy=policy.compat32)
    assert mailboxes(raw, "To") == [
        (header_text(name), "wang.wei@example.cn"),
        (header_text(second), "second@example.org"),
    ]
    assert parsed["Reply-To"].addresses[0].addr_spec == REPLY_TO


_ID_TEXT = st.text(
    alphabet=st.sampled_from("abcXYZ019.+=?_-@<>[]\"' \r\n\t:;,\\\x00é王"), max_size=40
)


@given(ids=st.lists(st.one_of(_ID_TEXT, _ID_TEXT.map(lambda t: f"<{t}@example.net>")), max_size=4))
def test_no_echoed_message_id_can_change_the_headers(ids: list[str]) -> None:
    echoed = [i for i in ids if safe_message_id(i) is not None]
    parsed = round_trip(build(in_reply_to=ids[0] if ids else None, references=ids))
    expected = [*HEADERS]
    if ids and safe_message_id(ids[0]) is not None:
        expected.insert(6, "In-Reply-To")
        assert parsed["In-Reply-To"] == ids[0].strip()
    if echoed:
        expected.insert(expected.index("Auto-Submitted"), "References")
        assert str(parsed["References"]).split() == list(dict.fromkeys(i.strip() for i in echoed))
    assert list(parsed.keys()) == expected


def test_message_id_wraps_the_token() -> None:
    assert make_message_id("12.abcdefghijkl.abcdefghijklmnop", "example.org") == (
        "<tracker.12.abcdefghijkl.abcdefghijklmnop@example.org>"
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


@settings(deadline=None)  # eight renders an example; the first compiles the templates
@given(programme=HOSTILE_TEXT, title=HOSTILE_TEXT, name=HOSTILE_TEXT, coordinator=HOSTILE_TEXT)
def test_no_programme_name_title_or_name_in_any_rendered_kind_can_change_the_headers(
    programme: str, title: str, name: str, coordinator: str
) -> None:
    """Subjects are built by the templates from programme names and action titles."""
    action = ActionLine(ref="1", title=title, due=date(2019, 9, 30), status=ActionStatus.BLOCKED)
    common = {"language": "zh-CN", "programme_name": programme}
    contexts: list[MailContext] = [
        ReminderContext(
            kind=kind,
            as_of=date(2019, 9, 23),
            participant_name=name,
            organisation=None,
            actions=(action,),
            coordinator_names=(coordinator,),
            opt_out_url_or_address=REPLY_TO,
            focus_refs=("1",),
            **common,  # type: ignore[arg-type]
        )
        for kind in (ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE)
    ]
    contexts.append(
        DigestContext(
            coordinator_names=(coordinator,),
            period_start=date(2019, 9, 16),
            period_end=date(2019, 9, 22),
            participants=(),
            **common,  # type: ignore[arg-type]
        )
    )
    for language in ("zh-CN", "en"):
        for ctx in contexts:
            rendered = render_mail(ENV, dataclasses.replace(ctx, language=language))
            to = [Mailbox(name=name, address="wang.wei@example.cn")]
            parsed = round_trip(build(rendered=rendered, to=to))
            assert list(parsed.keys()) == HEADERS
            assert parsed["Subject"] == header_text(rendered.subject)
