"""The sender is trusted only when exactly one From mailbox names it, strictly parsed."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.inbound.parse import parse_message

ALICE = "alice@example.org"


def message(*headers: str) -> bytes:
    head = "".join(f"{header}\r\n" for header in headers)
    return (
        f"{head}To: followup@example.org\r\nSubject: Re: progress\r\n"
        "In-Reply-To: <tracker.1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "\r\n1: done\r\n"
    ).encode("utf-8", "surrogateescape")


def b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


@pytest.mark.parametrize(
    ("from_header", "problem"),
    [
        ("From: =?utf-8?q?alice=40example.org?= <stranger@evil.example>",
         "the From display name is another address (alice@example.org)"),
        (f"From: {b_word(ALICE)} <stranger@evil.example>",
         "the From display name is another address (alice@example.org)"),
        (f'From: "{b_word(ALICE)}" <stranger@evil.example>',
         "the From display name is another address (alice@example.org)"),
        ("From: alice@example.org <stranger@evil.example>",
         "the From display name is another address (alice@example.org)"),
        ('From: "alice@example.org" <stranger@evil.example>',
         "the From display name is another address (alice@example.org)"),
        ('From: "Alice (alice@example.org)" <stranger@evil.example>',
         "the From display name is another address (alice@example.org)"),
        ("From: <alice@example.org>@evil.example", "the From address is malformed"),
        ("From: =?utf-8?q?alice?=@example.org", "an encoded-word inside the address"),
        ("From: Alice <=?utf-8?q?alice=40example.org?=>", "an encoded-word inside the address"),
        ("From: <alice=?utf-8?q?=40?=example.org>", "an encoded-word inside the address"),
        ("From: Alice <alice@example.org>, Eve <eve@evil.example>", "several From addresses"),
        ("From: alice@example.org, eve@evil.example", "several From addresses"),
        ("From: Alice <alice@example.org> <eve@evil.example>", "the From address is malformed"),
        ("From: friends: alice@example.org;", "a group instead of a mailbox in From"),
        ("From: <@relay.evil.example:alice@example.org>", "an obsolete route in the From address"),
        ("From: Alice <alice@example.org", "the From address is malformed"),
        ("From: Alice <>", "the From address is malformed"),
        ("From: alice@", "the From address is malformed"),  # the stdlib parser raises here
        ("From: bob@example.org, alice@", "the From address is malformed"),
        ("From: Alice", "the From address is malformed"),
        ("From: ", "no From address"),
        (f"From: A <{'a' * 3000}@example.org>", "the From header is longer than 2000 characters"),
    ],
)  # fmt: skip
def test_a_forged_or_ambiguous_from_is_not_a_sender(from_header: str, problem: str) -> None:
    parsed = parse_message(message(from_header))
    assert parsed.sender is None
    assert parsed.sender_problem is not None
    assert parsed.sender_problem.startswith(problem)
    # The rest of the message is still read, for review.
    assert [u.ref for u in parsed.updates] == ["1"]


def test_no_from_header_at_all() -> None:
    parsed = parse_message(message())
    assert (parsed.sender, parsed.sender_problem) == (None, "no From address")


def test_two_from_headers() -> None:
    parsed = parse_message(message(f"From: {ALICE}", f"From: {ALICE}"))
    assert (parsed.sender, parsed.sender_problem) == (None, "two From headers")


@pytest.mark.parametrize(
    "from_header",
    [
        f"From: {ALICE}",
        f"From: <{ALICE}>",
        f"From: Alice Smith <{ALICE}>",
        f"From: Alice <{ALICE.upper()}>",
        f'From: "Smith, Alice" <{ALICE}>',
        f'From: "{ALICE}" <{ALICE}>',
        f"From: {ALICE} <{ALICE}>",
        f"From: {ALICE} (Alice Smith)",
        f"From: Alice (work) <{ALICE}>",
        f"From: =?utf-8?q?Alice_Smith?= <{ALICE}>",
        f'From: "=?gb2312?B?1cXOsA==?=" <{ALICE}>',
        f"From: =?gb2312?B?1cXOsA==?=<{ALICE}>",
        f"From: =?GB2312?B?zfWsQg==?= <{ALICE}>",  # GBK bytes labelled GB2312
        f"From: 张伟 <{ALICE}>",
        f"From: Alice\r\n <{ALICE}>",  # folded
    ],
)
def test_ordinary_from_headers_name_the_sender(from_header: str) -> None:
    parsed = parse_message(message(from_header))
    assert (parsed.sender, parsed.sender_problem) == (ALICE, None)


def test_gbk_display_name_in_raw_8bit_names_the_sender() -> None:
    raw = message("From: X <alice@example.org>").replace(b"From: X", "From: 张伟".encode("gbk"))
    assert parse_message(raw).sender == ALICE


@pytest.mark.parametrize(
    ("sender_header", "expected", "problem"),
    [
        (f"Sender: {ALICE}", ALICE, None),
        (f"Sender: Alice <{ALICE.upper()}>", ALICE, None),
        ("Sender: assistant@example.org", None,
         "Sender (assistant@example.org) differs from From (alice@example.org)"),
        ("Sender: =?utf-8?q?alice=40example.org?= <eve@evil.example>", None,
         "the Sender display name is another address (alice@example.org)"),
        ("Sender: friends: alice@example.org;", None, "a group instead of a mailbox in Sender"),
    ],
)  # fmt: skip
def test_a_sender_header_must_agree_with_from(
    sender_header: str, expected: str | None, problem: str | None
) -> None:
    parsed = parse_message(message(f"From: Alice <{ALICE}>", sender_header))
    assert (parsed.sender, parsed.sender_problem) == (expected, problem)


def test_lenient_from_address_stays_for_listing() -> None:
    parsed = parse_message(message("From: alice@example.org <stranger@evil.example>"))
    assert parsed.sender is None
    assert parsed.from_address is not None


NAMES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=40)
WRAPPINGS = st.sampled_from(["{}", '"{}"', "=?utf-8?q?{}?=", "B", "({})"])


@settings(max_examples=300, deadline=None)
@given(name=NAMES, wrapping=WRAPPINGS)
def test_no_display_name_makes_someone_else_the_sender(name: str, wrapping: str) -> None:
    """Whatever the display name, the sender is the real address or nobody."""
    shown = b_word(name) if wrapping == "B" else wrapping.format(name)
    parsed = parse_message(message(f"From: {shown} <stranger@evil.example>"))
    assert parsed.sender in (None, "stranger@evil.example")
    assert (parsed.sender is None) == (parsed.sender_problem is not None)


@settings(max_examples=200, deadline=None)
@given(
    local=st.from_regex(r"[a-z][a-z0-9.]{0,10}[a-z0-9]", fullmatch=True),
    wrapping=st.sampled_from(
        [
            "{a} <stranger@evil.example>",
            '"{a}" <stranger@evil.example>',
            "=?utf-8?q?{q}?= <stranger@evil.example>",
            "{b} <stranger@evil.example>",
            "<{a}>@evil.example",
            "{a} <stranger@evil.example>, {a}",
            "=?utf-8?q?{q}?=",
            "<=?utf-8?q?{q}?=>",
        ]
    ),
)
def test_an_address_disguised_as_another_is_never_trusted(local: str, wrapping: str) -> None:
    address = f"{local}@example.org"
    q_word = address.replace("@", "=40").replace(".", "=2E")
    shown = wrapping.format(a=address, q=q_word, b=b_word(address))
    assert parse_message(message(f"From: {shown}")).sender != address
