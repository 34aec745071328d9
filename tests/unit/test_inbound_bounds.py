"""Hostile shapes are read (when what fits is right) or refused with the defect named.

Each size here would take minutes if the step it exercises were quadratic;
the growth itself is measured by `benchmarks/hostile/run.py`, not timed here.
"""

from __future__ import annotations

import pytest

from tracker.core.model import ActionStatus, MessageKind
from tracker.inbound.parse import parse_message

HEAD = (
    b"From: Zhang Wei <zhangwei@example.cn>\r\nTo: followup@example.org\r\n"
    b"Subject: Re: progress\r\nIn-Reply-To: <tracker.1@example.org>\r\n"
)
HTML = HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n"
PLAIN = HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"


def read(raw: bytes, known_refs: list[str] | None = None) -> tuple[str, str, list[tuple[str, str]]]:
    parsed = parse_message(raw, known_refs=known_refs, max_bytes=64 * 1024 * 1024)
    assert parsed.problem is None, parsed.kind_reason
    assert parsed.kind is MessageKind.REPLY
    updates = [(u.ref, u.status.value if u.status else "-") for u in parsed.updates]
    return parsed.reply_text, parsed.general_note, updates


def refused(raw: bytes) -> str:
    parsed = parse_message(raw, max_bytes=64 * 1024 * 1024)
    assert parsed.problem == "too_complex"
    assert parsed.updates == ()
    assert parsed.sender is None
    return parsed.kind_reason


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b" \r\n", b"\t\n"])
def test_millions_of_trailing_newlines_leave_the_reply(newline: bytes) -> None:
    text, _, updates = read(PLAIN + b"1: done" + newline * 2_000_000)
    assert (text, updates) == ("1: done", [("1", "done")])


def test_millions_of_blank_lines_between_paragraphs_keep_one() -> None:
    text, note, updates = read(PLAIN + b"1: done" + b"\n" * 1_000_000 + b"The mayor agreed.\n")
    assert text == "1: done\n\nThe mayor agreed."
    assert (note, updates) == ("The mayor agreed.", [("1", "done")])


def test_many_trailer_lines_are_read_in_one_pass() -> None:
    text, _, updates = read(PLAIN + b"1: done\n" + b"Sent from my iPhone\n" * 99_000)
    assert (text, updates) == ("1: done", [("1", "done")])


def test_a_megabyte_line_is_read() -> None:
    text, _, updates = read(PLAIN + b"1: done, " + b"x" * 1_000_000)
    assert len(text) == 1_000_009
    assert updates == [("1", "done")]


@pytest.mark.parametrize(
    "line",
    [
        "On " + "x" * 200_000 + " wrote:",
        "> " * 200_000,
        "-" * 400_000,
        "From: " + "a" * 200_000,
        "1: " + "9" * 400_000 + "%",
        "1: " + "1." * 200_000 + "%",
        "1: done " + "60" * 200_000,
        "1: done " + "百分之" * 100_000,
    ],
)
def test_regex_bait_lines_are_read_in_linear_time(line: str) -> None:
    parsed = parse_message(PLAIN + b"2: done\n" + line.encode() + b"\n")
    assert parsed.problem is None
    assert parsed.updates[0].ref == "2"


def test_a_thousand_level_multipart_is_too_complex() -> None:
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(1000)
    )
    reason = refused(HEAD + nested + b"Content-Type: text/plain\r\n\r\n1: done\r\n")
    assert reason == "more than 200 multipart or message parts"


@pytest.mark.parametrize(("depth", "too_deep"), [(50, False), (51, True), (120, True)])
def test_mime_nesting_beyond_fifty_levels_is_too_complex(depth: int, too_deep: bool) -> None:
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    raw = HEAD + nested + b"Content-Type: text/plain\r\n\r\n1: done\r\n"
    if too_deep:
        assert refused(raw) == "MIME nesting deeper than 50 levels"
    else:
        assert read(raw)[2] == [("1", "done")]


def test_more_than_a_thousand_parts_is_too_complex() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\n1: done\r\n" for _ in range(1001))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"
    assert refused(raw) == "more than 1000 MIME parts"


@pytest.mark.parametrize("count", [1001, 100_000])
@pytest.mark.parametrize("field", ["Cc", "To", "Delivered-To"])
def test_an_address_field_beyond_a_thousand_addresses_is_too_complex(
    count: int, field: str
) -> None:
    addresses = b", ".join(b"person%d@example.org" % i for i in range(count))
    raw = HEAD + field.encode() + b": " + addresses + b"\r\n\r\n1: done\r\n"
    assert refused(raw) == f"more than 1000 addresses in {field}"


def test_a_thousand_addresses_are_read() -> None:
    addresses = b", ".join(b"person%d@example.org" % i for i in range(999))
    parsed = parse_message(HEAD + b"Cc: " + addresses + b", person1@example.org\r\n\r\n1: done")
    assert parsed.problem is None
    assert len(parsed.recipients) == 1000  # To, then 999 distinct Cc addresses
    assert parsed.recipients[:2] == ("followup@example.org", "person0@example.org")


@pytest.mark.parametrize("shape", [b"(" * 50_000, b"(" * 30 + b"a@b.c" + b")" * 30, b"((((" * 99])
def test_deeply_nested_comments_in_an_address_field_are_too_complex(shape: bytes) -> None:
    reason = refused(HEAD + b"Cc: " + shape + b"\r\n\r\n1: done\r\n")
    assert reason == "comments nested deeper than 20 levels in Cc"


def test_a_header_field_over_the_length_bound_is_too_complex() -> None:
    reason = refused(HEAD + b"X-Junk: " + b"x" * 200_000 + b"\r\n\r\n1: done\r\n")
    assert reason == "a X-Junk header longer than 100000 characters"


def test_more_than_a_thousand_header_fields_is_too_complex() -> None:
    reason = refused(HEAD + b"X-A: b\r\n" * 1001 + b"\r\n1: done\r\n")
    assert reason == "more than 1000 header fields"


def test_a_body_of_more_than_a_hundred_thousand_written_lines_is_too_complex() -> None:
    assert read(PLAIN + b"1: done\n" + b"news\n\n" * 99_999)[2] == [("1", "done")]
    assert read(PLAIN + b"1: done\n" + b"> old news\n" * 400_000)[0] == "1: done"
    assert refused(PLAIN + b"1: done\n" + b"news\n" * 100_000) == (
        "a body of more than 100000 lines of text"
    )


def test_more_than_half_a_million_lines_is_too_complex() -> None:
    assert refused(PLAIN + b"x\n" * 500_001) == "more than 500000 lines"


def test_html_of_unclosed_paragraphs_then_stray_closing_divs_is_read() -> None:
    raw = HTML + b"<p>" * 80_000 + b"<div>1: done</div>" + b"</div>" * 80_000
    assert read(raw)[2] == [("1", "done")]


def test_html_tag_with_millions_of_attributes_is_read() -> None:
    raw = HTML + b"<div>1: done</div><p " + b"a=1 " * 2_400_000 + b">2: blocked</p>"
    text, _, updates = read(raw)
    assert (text, updates) == ("1: done\n2: blocked", [("1", "done"), ("2", "blocked")])


def test_a_huge_tag_keeps_the_marks_that_hide_quoted_mail() -> None:
    raw = HTML + b"<p>1: done</p><div " + b"a=1 " * 10_000 + b'class="gmail_quote">old</div>'
    assert read(raw)[0] == "1: done"


@pytest.mark.parametrize(
    ("junk", "text"),
    [
        (b"<" * 9_500_000, "<" * 9_500_000),
        (b"<a" * 2_000_000, "<a" * 2_000_000),
        (b"<!--" * 2_000_000, ""),
        (b"&" * 3_000_000, "&" * 3_000_000),
        (b"<a<br/>" * 99_000, "\n".join(["<a"] * 99_000)),
    ],
)
def test_html_made_of_markup_characters_is_read_as_text(junk: bytes, text: str) -> None:
    reply, _, updates = read(HTML + b"<div>1: done</div>" + junk)
    assert reply == f"1: done\n{text}".strip()
    assert updates[0] == ("1", "done")


def test_html_nesting_beyond_a_thousand_levels_is_too_complex() -> None:
    raw = HTML + b"<div>" * 1001 + b"1: done"
    assert refused(raw) == "HTML nesting deeper than 1000 levels"


def test_html_beyond_two_hundred_thousand_tags_is_too_complex() -> None:
    assert refused(HTML + b"<br>" * 200_001) == "more than 200000 HTML tags"


@pytest.mark.parametrize(
    "line",
    [
        "9" * 4301 + ":",
        "9" * 4301 + ". done",
        "9" * 4301 + ") 60%",
        "#" + "9" * 4301 + " done",
        "(" + "9" * 4301 + ") done",
        "第" + "9" * 4301 + "项 done",
        "A" + "9" * 4301 + ": done",
    ],
)
@pytest.mark.parametrize("known_refs", [None, ["1", "2"], ["1", "2", "A1"]])
def test_a_very_long_number_never_loses_the_reply(line: str, known_refs: list[str] | None) -> None:
    body = f"1: done, published\n2: in progress 60%\n{line}\n"
    parsed = parse_message(PLAIN + body.encode(), known_refs=known_refs)
    assert parsed.problem is None
    assert [(u.ref, u.status, u.percent) for u in parsed.updates] == [
        ("1", ActionStatus.DONE, 100),
        ("2", ActionStatus.IN_PROGRESS, 60),
    ]
    assert parsed.unknown_refs == ()
    assert parsed.general_note == line


@pytest.mark.parametrize(
    "percent",
    ["百分之" + "9" * 5000, "百分之" + "九" * 5000, "9" * 5000 + "%", "1." + "9" * 5000 + "%"],
)
def test_a_very_long_percentage_is_no_percentage(percent: str) -> None:
    parsed = parse_message(PLAIN + f"1: in progress {percent}\n".encode())
    assert parsed.problem is None
    (update,) = parsed.updates
    assert (update.ref, update.status, update.percent) == ("1", ActionStatus.IN_PROGRESS, None)
    assert update.note == percent
