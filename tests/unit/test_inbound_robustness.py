"""Hostile input: parse_message never raises, and "never raises" can fail.

Every message is either read or refused with a reason that names a defect of
the input; `READER_FAILED` (a fault of the reader) fails these tests, and a
message that is well-formed enough must be read, word for word.
"""

from __future__ import annotations

import base64
import json
import quopri
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tracker.core.model import ActionStatus, MessageKind
from tracker.inbound.grammar import read_updates
from tracker.inbound.parse import READER_FAILED, ParsedMessage, parse_message, to_contract_json
from tracker.inbound.quotes import strip_quoted_text

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "replies"
SAMPLES = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
HEADER_LINES = st.sampled_from(
    [
        b"From: a@b.c\r\n", b"Subject: =?gb2312?B?u9i4tA==?=\r\n", b"Subject: =?x?Q?=ZZ?=\r\n",
        b"Content-Type: multipart/mixed; boundary=\"b\"\r\n", b"Content-Type: text/html\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Type: text/plain; charset=\"no-such-charset\"\r\n", b"Date: Feb 30 99999\r\n",
        b"From: \xb6\xd4 <\xff@\xfe>\r\n", b"References: <<<>>>\r\n", b"\r\n", b"--b\r\n",
        b"Content-Type: message/delivery-status\r\n", b"Content-Type: message/rfc822\r\n",
    ]
)  # fmt: skip


# The defects for which the reader refuses a message; nothing else may refuse one.
DEFECTS = (
    "not bytes", "the message is empty", "no header fields: not an email", "over ",
    "more than ", "MIME nesting deeper than", "HTML nesting deeper than", "comments nested deeper",
    "a ",  # "a Cc header longer than …"
)  # fmt: skip


def _assert_well_formed(parsed: ParsedMessage) -> None:
    assert parsed.kind_reason != READER_FAILED
    if parsed.problem is not None:
        assert parsed.problem in ("too_large", "unreadable", "too_complex")
        assert parsed.kind_reason.startswith(DEFECTS), parsed.kind_reason
        assert parsed.sender is None
        assert parsed.sender_problem
    else:
        assert (parsed.sender is None) == (parsed.sender_problem is not None)
    assert isinstance(parsed.kind, MessageKind)
    json.dumps(to_contract_json(parsed))
    assert parsed.date is None or parsed.date.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    _assert_well_formed(parse_message(raw))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(HEADER_LINES, st.binary(max_size=200)), max_size=40))
def test_mime_shaped_garbage_never_raises(parts: list[bytes]) -> None:
    _assert_well_formed(parse_message(b"".join(parts)))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SAMPLES), st.floats(min_value=0, max_value=1), st.binary(max_size=50))
def test_truncated_and_corrupted_fixtures_never_raise(raw: bytes, cut: float, junk: bytes) -> None:
    where = int(len(raw) * cut)
    _assert_well_formed(parse_message(raw[:where]))
    _assert_well_formed(parse_message(raw[:where] + junk + raw[where:]))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_is_safe_for_quotes_and_grammar(text: str) -> None:
    reply = strip_quoted_text(text)
    assert reply == reply.strip()
    updates, _ = read_updates(reply)
    for update in updates:
        assert update.percent is None or 0 <= update.percent <= 100


def test_too_large_is_refused_before_parsing() -> None:
    parsed = parse_message(b"x" * 2_000, max_bytes=1_000)
    assert (parsed.kind, parsed.problem) == (MessageKind.OTHER, "too_large")


def test_huge_message_within_the_limit_is_parsed() -> None:
    body = b"1 done\r\n" + b"> quoted line of the earlier message\r\n" * 200_000
    raw = b"From: a@example.cn\r\nSubject: Re: x\r\n\r\n" + body
    parsed = parse_message(raw)
    assert parsed.reply_text == "1 done"


def test_deeply_nested_multipart_is_too_complex() -> None:
    depth = 3000
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    parsed = parse_message(b"From: a@b.c\r\n" + head + b"Content-Type: text/plain\r\n\r\nhi\r\n")
    _assert_well_formed(parsed)
    assert (parsed.problem, parsed.kind_reason) == (
        "too_complex",
        "more than 200 multipart or message parts",
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("text, not bytes", "not bytes"),
        (b"", "the message is empty"),
        (b" \r\n\t\r\n", "the message is empty"),
        (b"just some words\r\nand more\r\n", "no header fields: not an email"),
        (b"\xff\xfe garbage", "no header fields: not an email"),
    ],
)
def test_input_that_is_no_message_is_unreadable_with_the_reason(raw: bytes, reason: str) -> None:
    parsed = parse_message(raw)
    assert (parsed.problem, parsed.kind_reason) == ("unreadable", reason)


def test_a_fault_of_the_reader_is_not_called_a_defect_of_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(text: str) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr("tracker.inbound.parse.strip_quoted_text", broken)
    parsed = parse_message(_message(_Shape(body="1: done", final_newline=True)))
    assert (parsed.problem, parsed.kind_reason) == ("unreadable", READER_FAILED)


@dataclass(frozen=True)
class _Shape:
    body: str
    final_newline: bool
    newline: str = "\r\n"
    charset: str = "utf-8"
    encoding: str = "8bit"
    html: bool = False
    folded_subject: bool = False
    mbox_line: bool = False


def _encodes(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _message(shape: _Shape) -> bytes:
    nl = shape.newline
    body = shape.body
    if shape.html:
        body = "<html><body>" + "".join(f"<div>{line}</div>\n" for line in body.split("\n"))
    data = body.encode(shape.charset)
    if shape.encoding == "base64":
        data = base64.encodebytes(data.replace(b"\n", nl.encode()))
    elif shape.encoding == "quoted-printable":
        data = quopri.encodestring(data)
    data = data.replace(b"\r\n", b"\n").replace(b"\n", nl.encode())
    if shape.final_newline and not data.endswith(nl.encode()):
        data += nl.encode()
    elif not shape.final_newline:
        data = data.rstrip(b"\r\n")
    subject = f"Re: progress{nl} report" if shape.folded_subject else "Re: progress"
    head = nl.join(
        [
            "From: Zhang Wei <zhangwei@example.cn>",
            "To: followup+9.abcdefghijklmnop@example.org",
            f"Subject: {subject}",
            "In-Reply-To: <tracker.9@example.org>",
            "MIME-Version: 1.0",
            f"Content-Type: text/{'html' if shape.html else 'plain'}; charset={shape.charset}",
            f"Content-Transfer-Encoding: {shape.encoding}",
        ]
    )
    prefix = f"From zhangwei@example.cn Mon Jun 24 10:00:00 2019{nl}" if shape.mbox_line else ""
    return (prefix + head + nl + nl).encode("ascii") + data


UPDATE_LINES = st.sampled_from(
    [
        ("1：已完成", ("1", ActionStatus.DONE, 100)),
        ("2: in progress 60%, waiting for the budget", ("2", ActionStatus.IN_PROGRESS, 60)),
        ("(3) 受阻", ("3", ActionStatus.BLOCKED, None)),
        ("４．进行中 ３０％", ("4", ActionStatus.IN_PROGRESS, 30)),
        ("5 - not started", ("5", ActionStatus.NOT_STARTED, None)),
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(UPDATE_LINES, min_size=1, max_size=4),
    final_newline=st.booleans(),
    newline=st.sampled_from(["\r\n", "\n"]),
    charset=st.sampled_from(["utf-8", "gb18030", "big5"]),
    encoding=st.sampled_from(["8bit", "base64", "quoted-printable"]),
    html=st.booleans(),
    folded_subject=st.booleans(),
    mbox_line=st.booleans(),
)
def test_a_well_formed_reply_is_read_word_for_word(
    lines: list[tuple[str, tuple[str, ActionStatus, int | None]]],
    final_newline: bool,
    newline: str,
    charset: str,
    encoding: str,
    html: bool,
    folded_subject: bool,
    mbox_line: bool,
) -> None:
    lines = [line for line in lines if _encodes(line[0], charset)]
    assume(lines)
    text = "\n".join(line for line, _ in lines)
    shape = _Shape(text, final_newline, newline, charset, encoding, html, folded_subject, mbox_line)
    parsed = parse_message(_message(shape))
    _assert_well_formed(parsed)
    assert parsed.problem is None
    assert parsed.kind is MessageKind.REPLY
    assert parsed.reply_text == text
    assert [(u.ref, u.status, u.percent) for u in parsed.updates] == [e for _, e in lines]
    assert parsed.sender == "zhangwei@example.cn"
    assert parsed.token == "9.abcdefghijklmnop"
