"""Hostile input: parse_message never raises, whatever the bytes."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.core.model import MessageKind
from tracker.inbound.grammar import read_updates
from tracker.inbound.parse import ParsedMessage, parse_message, to_contract_json
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


def _assert_well_formed(parsed: ParsedMessage) -> None:
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


def test_deeply_nested_multipart_is_unreadable_or_parsed_never_raises() -> None:
    depth = 3000
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    parsed = parse_message(b"From: a@b.c\r\n" + head + b"Content-Type: text/plain\r\n\r\nhi\r\n")
    _assert_well_formed(parsed)


def test_non_bytes_input_is_unreadable() -> None:
    parsed = parse_message("text, not bytes")  # type: ignore[arg-type]
    assert parsed.problem == "unreadable"
