"""The reader's fast paths read exactly what the slower, obvious ways read.

Each test holds the obvious way (or calls the strict path the fast one
skips) and compares both on generated input.
"""

from __future__ import annotations

import base64
import email.feedparser
import email.parser
import email.policy
import email.utils
import re
from email.message import Message

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.inbound.mime import (
    FEED_HEADER_LINE,
    FEED_LINE_BREAK,
    addresses_in,
    decode_header_value,
    header_text,
    header_values,
    raw_header_values,
    read_message,
    unfold_raw_value,
)
from tracker.inbound.quote_patterns import BANNER, QUOTED_LINE
from tracker.inbound.quotes import (
    _attribution_length,
    _drop_signature_and_trailers,
    _is_device_trailer,
    _is_header_block,
    normalise_text,
    strip_quoted_text,
)
from tracker.inbound.refs import RefMatcher
from tracker.inbound.senders import SenderReading, plain_address, strict_mailbox

# Text made of the characters that matter to the steps under test, or any text.
_SPECIAL_CHARACTERS = "\r\n\xa0\u200b\u200c\u200d\u2060\ufeff\x00 \t>＞：王a1"
texts = st.one_of(st.text(alphabet=_SPECIAL_CHARACTERS, max_size=200), st.text(max_size=200))


def normalise_text_by_translation(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    return text.translate(dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x00")))


@given(texts)
@settings(max_examples=300)
def test_normalising_text_removes_what_translation_removed(text: str) -> None:
    assert normalise_text(text) == normalise_text_by_translation(text)


_ATEXT = "abzXZ0189!#$%&'*+/=^_`{|}~-"
_dot_atoms = st.lists(st.text(_ATEXT, min_size=1, max_size=6), min_size=1, max_size=3)
_labels = st.lists(st.text("abz09-", min_size=1, max_size=6), min_size=1, max_size=3)
addresses = st.builds(
    lambda local, domain: f"{'.'.join(local)}@{'.'.join(domain)}", _dot_atoms, _labels
)
# Octets that decode to an "@" in one charset or another, or to an address.
_OCTETS = st.lists(
    st.one_of(
        st.sampled_from([b"@", b"a@b.org", b"+AEA-", b"a+AEA-b.org", b"\x00@\x00", b"\x8b", b"x"]),
        st.binary(max_size=3),
    ),
    max_size=4,
).map(b"".join)
_CHARSETS = [
    "utf-8", "UTF-8", "us-ascii", "gbk", "gb2312", "GB18030", "big5", "shift_jis", "euc-kr",
    "iso-8859-1", "windows-1252", "koi8-r", "utf-7", "utf-16", "utf-16-be", "cp037", "x-unknown",
]  # fmt: skip


def q_encoded(data: bytes, literal: bytes) -> str:
    """Q encoding, writing the octets in `literal` as themselves."""
    return "".join(
        "_" if byte == 0x20 else chr(byte) if bytes([byte]) in literal else f"={byte:02X}"
        for byte in data
    )


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(_CHARSETS))
    data = draw(_OCTETS)
    if draw(st.booleans()):
        text = base64.b64encode(data).decode()
        if draw(st.booleans()):
            text = text.rstrip("=")
        return f"=?{charset}?{draw(st.sampled_from('bB'))}?{text}?="
    literal = draw(st.sampled_from([b"", b"abx", b"abx@.+-"]))
    return f"=?{charset}?{draw(st.sampled_from('qQ'))}?{q_encoded(data, literal)}?="


_name_words = st.one_of(
    encoded_words(),
    st.text(
        st.one_of(st.sampled_from('王晓明 Wang.@<>"(),:;=?\\\u3000'), st.characters()),
        min_size=1,
        max_size=6,
    ),
)
_spaces = st.sampled_from(["", " ", "  ", "\t", " \t"])


@st.composite
def from_fields(draw: st.DrawFn) -> str:
    address = draw(addresses)
    if draw(st.booleans()):
        return f"{draw(_spaces)}{address}{draw(_spaces)}"
    words = draw(st.lists(_name_words, max_size=3))
    name = "".join(f"{draw(_spaces)}{word}" for word in words)
    return f"{name}{draw(_spaces)}<{address}>{draw(_spaces)}"


@given(from_fields())
@settings(max_examples=2000)
def test_a_plain_from_field_reads_as_the_parser_reads_it(field: str) -> None:
    plain = plain_address(field)
    if plain is not None:
        assert strict_mailbox("From", field) == SenderReading(address=plain.lower(), problem=None)


@pytest.mark.parametrize(
    "field",
    [
        "wang@example.cn", " <wang@example.cn>", "Wang Xiaoming <Wang.XM@example.cn>",
        "王晓明 <wang@example.cn>", "=?utf-8?b?546L5pmT5piO?= <wang@example.cn>",
        "=?GB2312?B?zfXP/sP3?= <wang@example.cn>", "=?utf-8?Q?Zhang_Wei?= <zw@example.org>",
    ],
)  # fmt: skip
def test_ordinary_from_fields_take_the_plain_path(field: str) -> None:
    plain = plain_address(field)
    assert plain is not None
    assert strict_mailbox("From", field) == SenderReading(address=plain.lower(), problem=None)


def find_quote_start_line_by_line(lines: list[str]) -> tuple[int, str | None]:
    last_written = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for index, line in enumerate(lines):
        if len(line) > 1000 or QUOTED_LINE.match(line):
            continue
        if BANNER.match(line):
            return index, "banner"
        if _is_header_block(lines, index):
            return index, "headers"
        if _attribution_length(lines, index):
            return index, "attribution"
        if index < last_written and _is_device_trailer(line):
            return index, "trailer"
    return len(lines), None


def inline_answers_line_by_line(rest: list[str]) -> list[str]:
    end, _ = find_quote_start_line_by_line(rest)
    rest = rest[:end]
    seen_quote = False
    kept: list[str] = []
    previous = ""
    for line in rest:
        quoted = bool(QUOTED_LINE.match(line))
        wrapped_tail = QUOTED_LINE.match(previous) and len(previous) >= 60
        if not quoted and not (wrapped_tail and line.strip()):
            kept.append(line)
        seen_quote = seen_quote or quoted
        previous = line
    has_answers = seen_quote and any(line.strip() for line in kept)
    return kept if has_answers else []


def strip_quoted_text_line_by_line(text: str) -> str:
    """`strip_quoted_text` testing each line with the patterns, as many times as it is read."""
    text = re.sub(r"\n(?:[ \t]*\n){6,}", "\n" * 6, normalise_text(text))
    lines = text.split("\n")
    start, kind = find_quote_start_line_by_line(lines)
    kept = lines[:start]
    if kind == "attribution":
        kept += inline_answers_line_by_line(lines[start + _attribution_length(lines, start) :])
    kept = [line for line in kept if not QUOTED_LINE.match(line)]
    kept = _drop_signature_and_trailers([line.rstrip() for line in kept])
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept).strip("\n")).strip()


_MAIL_LINES = [
    "", " ", "1：已完成", "2: in progress 60%", "Thanks,", "王晓明", "-- ", "Sent from my iPhone",
    "发自我的iPhone", "> 1. 发布行动计划", ">", " > quoted after a space", "＞ 全角引用",
    "> " + "a long quoted line that the client wrapped before sending it on" * 2,
    "its wrapped tail", "done", "On Sun, Jun 23, 2019 at 9:30 AM Officer <o@example.org> wrote:",
    "在 2019年6月24日 10:00，Follow-up <followup@example.org> 写道：", "On Sun, Jun 23, 2019,",
    "Officer <o@example.org> wrote:", "-----Original Message-----", "From: Officer <o@example.org>",
    "Sent: Sunday, June 23, 2019 9:30 AM", "发件人: Follow-up <f@example.org>", "________",
    "Date: 2019-06-23", "in 2 weeks we will know", "x" * 1001,
]  # fmt: skip
mail_texts = st.lists(
    st.one_of(st.sampled_from(_MAIL_LINES), st.text(max_size=20)), max_size=30
).map("\n".join)


@given(mail_texts)
@settings(max_examples=1000)
def test_stripping_quoted_text_reads_as_line_by_line_reading(text: str) -> None:
    assert strip_quoted_text(text) == strip_quoted_text_line_by_line(text)


_FIELD_NAMES = ["From", "FROM", "to", "Cc", "Subject", "subject", "References", "X-Autoreply"]
_field_values = st.one_of(
    st.sampled_from(["=?utf-8?b?546L5pmT5piO?= <w@example.cn>", "a@b.org,\r\n c@d.org", ""]),
    st.text(st.characters(exclude_characters="\r\n"), max_size=30),
)


@given(st.lists(st.tuples(st.sampled_from(_FIELD_NAMES), _field_values), max_size=12))
@settings(max_examples=300)
def test_indexed_header_fields_read_as_a_scan_of_every_field(
    fields: list[tuple[str, str]],
) -> None:
    raw = "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\nbody\r\n"
    message = read_message(raw.encode("utf-8", "surrogateescape"))
    for name in _FIELD_NAMES:
        scanned = [
            value
            for key, value in message.raw_items()
            if key.lower() == name.lower() and isinstance(value, str)
        ]
        decoded = [decode_header_value(value) for value in scanned]
        assert header_values(message, name) == decoded
        assert header_text(message, name) == (decoded[0] if decoded else None)
        assert raw_header_values(message, name) == [unfold_raw_value(v) for v in scanned]


def addresses_by_the_standard_parser(values: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name, address in email.utils.getaddresses(values):
        address = address.strip().strip("<>").lower()
        if "@" in address:
            found.append((name.strip(), address))
    return found


# Words of a name: plain ones, one special character, or anything.
_address_names = st.lists(
    st.one_of(
        st.text("王晓明Wangé", min_size=1, max_size=4),
        st.sampled_from([*'."(),:;<>@[]\\\t\u3000', "A.", "B,C"]),
        st.text(max_size=4),
    ),
    max_size=3,
).map(" ".join)


@st.composite
def address_fields(draw: st.DrawFn) -> str:
    address = draw(st.one_of(addresses, st.sampled_from(["a@", "@b.org", "a@b@c", "A.@B..C"])))
    if draw(st.booleans()):
        return f"{draw(_spaces)}{address}{draw(_spaces)}"
    return f"{draw(_address_names)}{draw(_spaces)}<{address}>{draw(_spaces)}"


@given(st.lists(address_fields(), max_size=3))
@settings(max_examples=1000)
def test_plain_address_fields_read_as_the_standard_parser_reads_them(values: list[str]) -> None:
    assert addresses_in(values) == addresses_by_the_standard_parser(values)


_REF_LINE_PIECES = [
    "1", "12", "١", "３", "第", "三", "项", "(", ")", "[", "#", ".", ":", "：", "、", "-", " ",
    "done", "已完成", "60%", "百分之六十", "Correction: ", "更正：", "- ", "• ", "a", "第三项：",
    "١. ", "١ done",
]  # fmt: skip
ref_lines = st.lists(
    st.one_of(st.sampled_from(_REF_LINE_PIECES), st.text(max_size=3)), max_size=8
).map("".join)


@given(ref_lines)
@settings(max_examples=1000)
def test_lines_without_a_digit_or_di_skip_the_numeric_ref_forms_to_the_same_end(
    line: str,
) -> None:
    matcher = RefMatcher(None)
    assert matcher.match(line) == matcher._match_forms(line)


def read_by_the_feed_parser(raw: bytes) -> Message:
    raw = raw.lstrip(b"\r\n\t ")
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)


def _tree(message: Message) -> object:
    """Everything the reader can see of a parsed message, defects by their kind."""
    payload = message._payload  # as parsed: get_payload() may decode it, and fail

    return (
        message.items(),
        message.get_unixfrom(),
        message.get_default_type(),
        [type(defect) for defect in message.defects],
        message.preamble,
        message.epilogue,
        [_tree(part) for part in payload] if isinstance(payload, list) else payload,
    )


_HEAD_LINES = [
    "From: Wang <w@example.cn>", "Subject: =?utf-8?b?5Zue5aSN?=", "To: a@b.org,", " c@d.org",
    "\tfolded", "Content-Type: text/plain; charset=utf-8", "Content-Type: text/html",
    'Content-Type: multipart/alternative; boundary="b"', "Content-Type: message/rfc822",
    "Content-Type: message/delivery-status", "Content-Type: multipart/mixed",
    "Content-Transfer-Encoding: base64", "From someone@example.org Mon Jun 24", "X-Empty:",
    "not a header line", ": no name", "Content-Type: TEXT/plain",
]  # fmt: skip
_BODY_LINES = ["--b", "Content-Type: text/plain", "", "1: done", "--b--", "> quoted", "王晓明"]
_LINE_ENDS = ["\n", "\r\n", "\r", ""]


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    def lines(pool: list[str]) -> str:
        # Mostly lines of the pool, some anything.
        line = st.one_of(st.sampled_from(pool), st.sampled_from(pool), st.text(max_size=8))
        chosen = draw(st.lists(line, max_size=8))
        return "".join(line + draw(st.sampled_from(_LINE_ENDS)) for line in chosen)

    separator = draw(st.sampled_from(["\n", "\r\n", "\r", " \n", ""]))
    text = lines(_HEAD_LINES) + separator + lines(_BODY_LINES)
    return text.encode("utf-8", "surrogateescape")


def test_the_feed_parsers_patterns_are_the_ones_copied() -> None:
    assert FEED_HEADER_LINE.pattern == email.feedparser.headerRE.pattern  # type: ignore[attr-defined]
    assert FEED_LINE_BREAK.pattern == email.feedparser.NLCRE.pattern  # type: ignore[attr-defined]


@given(raw_messages())
@example(b"From w@example.cn Mon Jun 24\n\tcontinues nothing\nSubject: s\n\n1: done\n")
@example(b"Subject: s\nFrom w@example.cn Mon Jun 24\n\n1: done\n")
@settings(max_examples=1500)
def test_reading_the_header_section_alone_reads_as_the_feed_parser(raw: bytes) -> None:
    assert _tree(read_message(raw)) == _tree(read_by_the_feed_parser(raw))
