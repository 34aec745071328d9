"""Outgoing messages are written directly, byte for byte as the `email` package wrote them.

The oracle is the builder we had before (`EmailMessage` with a policy that
writes our headers verbatim, `set_content`, `add_alternative`, flattened as
smtplib's `send_message` flattens it). For every input both builders must
give the same bytes, but for the random MIME boundary, and the same envelope,
or both refuse it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, getaddresses
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.unit.test_outgoing import ENCODED_WORD_ATTACKS, HOSTILE_TEXT, MESSAGE_ID, REPLY_TO
from tracker.mail import message_bytes
from tracker.mail.headers import (
    MeantHeaders,
    UnsafeHeaderError,
    check_structured,
    fold_at_whitespace,
    format_mailboxes,
    format_text,
    header_text,
    list_unsubscribe,
    require_ascii_address,
    require_message_id,
    safe_message_id,
    verify_headers,
)
from tracker.mail.outgoing import (
    Mailbox,
    OutgoingMail,
    _parse_single_address,
    build_message,
    unsubscribe_mailto,
)
from tracker.mail.render import RenderedMail

# -- the oracle: the builder on the email package ----------------------------------------


def _is_ours(name: str) -> bool:
    lowered = name.lower()
    return lowered != "mime-version" and not lowered.startswith("content-")


class _VerbatimPolicy(EmailPolicy):
    """`policy.SMTP` that writes our headers verbatim, folded only at whitespace."""

    def header_max_count(self, name: str) -> int | None:
        return None if _is_ours(name) else super().header_max_count(name)

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if _is_ours(name):
            fold_at_whitespace(name, str(value))  # refuses what is not one ASCII line
            return (name, str(value))
        return super().header_store_parse(name, value)

    def fold(self, name: str, value: Any) -> str:
        if _is_ours(name) and not hasattr(value, "name"):
            return fold_at_whitespace(name, value)
        folded: str = super().fold(name, value)
        return folded

    def fold_binary(self, name: str, value: Any) -> bytes:
        if _is_ours(name) and not hasattr(value, "name"):
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


_RESERVED = {"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id"}
_RESERVED |= {"in-reply-to", "references", "list-unsubscribe", "list-unsubscribe-post"}
_RESERVED |= {"auto-submitted", "mime-version"}


def email_package_message(
    *,
    rendered: RenderedMail,
    from_header: str,
    to: Sequence[Mailbox],
    reply_to: str,
    message_id: str,
    list_unsubscribe_uris: Sequence[str],
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    date: datetime,
    extra_headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage(policy=_VerbatimPolicy(linesep="\r\n"))
    if not to:
        raise UnsafeHeaderError("a message needs at least one recipient")
    sender = _parse_single_address("From", from_header)
    senders = ((sender.display_name, sender.addr_spec),)
    recipients = tuple((header_text(r.name), require_ascii_address(r.address)) for r in to)
    subject = header_text(rendered.subject)
    message["From"] = format_mailboxes(senders)
    message["To"] = format_mailboxes(recipients)
    message["Reply-To"] = require_ascii_address(reply_to)
    message["Subject"] = format_text(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = require_message_id(message_id)
    thread = [i for i in (safe_message_id(m) for m in references) if i is not None]
    parent = safe_message_id(in_reply_to)
    if parent is not None:
        message["In-Reply-To"] = parent
    if thread:
        message["References"] = " ".join(dict.fromkeys(thread))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    unsubscribe, one_click = list_unsubscribe(list_unsubscribe_uris)
    message["List-Unsubscribe"] = unsubscribe
    if one_click is not None:
        message["List-Unsubscribe-Post"] = one_click
    for name, value in (extra_headers or {}).items():
        if name.lower() in _RESERVED or name.lower().startswith("content-"):
            raise UnsafeHeaderError(f"{name} is set by build_message, not by extra_headers")
        message[name] = check_structured(name, value)
    message.set_content(
        rendered.text,
        subtype="plain",
        charset="utf-8",
        cte=None if rendered.text.isascii() else "base64",
    )
    message.add_alternative(
        rendered.html,
        subtype="html",
        charset="utf-8",
        cte=None if rendered.html.isascii() else "base64",
    )
    head = b"".join(message.policy.fold_binary(n, v) for n, v in message.raw_items())
    verify_headers(
        head,
        MeantHeaders(
            names=tuple(message.keys()),
            addresses={"From": senders, "To": recipients},
            texts={
                "Subject": subject,
                "Message-ID": message_id,
                "Reply-To": reply_to,
                "List-Unsubscribe": unsubscribe,
                **({"In-Reply-To": parent} if parent is not None else {}),
                **({"References": str(message["References"])} if thread else {}),
            },
        ),
    )
    return message


def smtplib_bytes(message: EmailMessage) -> bytes:
    """What `smtplib.SMTP.send_message` sends for `message`."""
    out = io.BytesIO()
    BytesGenerator(out, policy=message.policy.clone(linesep="\r\n")).flatten(
        message, linesep="\r\n"
    )
    return out.getvalue()


def smtplib_envelope(message: EmailMessage) -> tuple[str, tuple[str, ...]]:
    """The envelope `send_message` derives from the headers."""
    sender = getaddresses([str(message["From"])])[0][1]
    return sender, tuple(address for _, address in getaddresses([str(message["To"])]))


# -- comparing the two ------------------------------------------------------------------

_BOUNDARY = re.compile(rb'boundary="(=+\d+==)"')


def both_ways(**arguments: Any) -> tuple[OutgoingMail, bytes] | None:
    """Our message and the oracle's bytes (with our boundary), or None when both refuse."""
    arguments = {"date": datetime(2019, 6, 23, 1, 30, tzinfo=UTC), **arguments}
    try:
        expected = email_package_message(**arguments)
    except UnsafeHeaderError:
        with pytest.raises(UnsafeHeaderError):
            build_message(**arguments)
        return None
    ours = build_message(**arguments)
    assert (ours.sender, ours.recipients) == smtplib_envelope(expected)
    assert ours.message_id == str(expected["Message-ID"])
    theirs = smtplib_bytes(expected)
    (their_boundary,) = set(_BOUNDARY.findall(theirs))
    (our_boundary,) = set(_BOUNDARY.findall(ours.raw))
    return ours, theirs.replace(their_boundary, our_boundary)


def assert_same_bytes(**arguments: Any) -> None:
    built = both_ways(**arguments)
    assert built is not None, "both builders refused a message meant to be built"
    ours, theirs = built
    assert ours.raw == theirs


TOKEN_REPLY_TO = REPLY_TO
BASE: dict[str, Any] = {
    "from_header": "项目组 <followup@example.org>",
    "to": [Mailbox(name="王伟", address="wang.wei@example.cn")],
    "reply_to": TOKEN_REPLY_TO,
    "message_id": MESSAGE_ID,
    "list_unsubscribe_uris": [unsubscribe_mailto(TOKEN_REPLY_TO)],
}
LONG_ASCII = "word " * 40
BODIES = [
    "",
    "\n",
    "plain ascii\nline two\n",
    "no final newline",
    "尊敬的王伟：\n\n您好！\n\n    1：已完成\n",
    "mixed 中文 and ASCII " * 30,
    LONG_ASCII + "\n" + LONG_ASCII,
    "x" * 200,
    "trailing space \ntrailing tab\t\n" + "y" * 76 + " \n" + "z" * 77 + "\t\n",
    '<a href="https://example.org/?a=1&b=2" class="x">=</a>' * 5,  # = costs qp: base64
    "\n".join(f"line {n} " + "=" * (n * 9) for n in range(14)),  # qp over more than 10 lines
    "\n".join("short" for _ in range(12)) + "\n" + "long " * 30,  # long line after the tenth
    "\n".join(["a" * 79] * 9 + ["=" * 200, "b"]),  # the tenth line tips it to base64
    "a" * 79 + "=" * 17,  # as long in quoted-printable as in base64: quoted-printable
    "crlf\r\nand cr\rand lf\n",
    "form\x0cfeed and vertical\x0btab " * 6,
    "--===============0000000000000000000==\nlooks like a boundary\n",
    "From the start of a line\n.dot first\n",
]


@pytest.mark.parametrize("text", BODIES)
@pytest.mark.parametrize("html", ["<p>x</p>\n", BODIES[9], BODIES[5]])
def test_bodies_are_encoded_as_the_email_package_encodes_them(text: str, html: str) -> None:
    rendered = RenderedMail(subject="Check-in", text=text, html=html, language="en")
    assert_same_bytes(rendered=rendered, **BASE)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"from_header": '"Follow-up, Office" <followup@example.org>'},
        {"from_header": "followup@example.org"},
        {"to": [Mailbox(name="", address="a@example.org"), Mailbox(name="B C", address="b@x.cn")]},
        {"to": [Mailbox(name='Dr "Who", Esq.', address="who@example.org")]},
        {"to": [Mailbox(name="李" * 40, address="long.name@example.cn")]},
        {"in_reply_to": "<CAJ7pq=2Z+x_y@mail.gmail.com>", "references": [MESSAGE_ID, "<a@b.c>"]},
        {"in_reply_to": "not an id", "references": ["<a@b.c>", "<a@b.c>", "bad"]},
        {
            "list_unsubscribe_uris": [
                "https://tracker.example.org/unsubscribe/1.2.abc",
                "mailto:x@y.z",
            ]
        },
        {"extra_headers": {"X-Tracker-Kind": "check_in"}},
        {"message_id": f"<tracker.{'1' * 200}@example.org>"},
    ],
)
@pytest.mark.parametrize(
    "subject",
    [
        "Check-in",
        "【城市气候变化政策能力建设】行动计划落实情况了解",
        "A subject long enough to be folded over more than one line of a header, surely",
        "x" * 90,
        *ENCODED_WORD_ATTACKS[:3],
    ],
)
def test_headers_are_written_as_the_email_package_wrote_them(
    changes: dict[str, Any], subject: str
) -> None:
    rendered = RenderedMail(subject=subject, text="t\n", html="<p>h</p>\n", language="en")
    assert_same_bytes(rendered=rendered, **{**BASE, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"to": []},
        {"to": [Mailbox(name="W", address="wang@example.cn\r\nBcc: victim@example.org")]},
        {"reply_to": "=?utf-8?q?a=0D=0AB?=@example.org"},
        {"message_id": "<tracker.1.x@example.org>\r\nBcc: victim@example.org"},
        {"list_unsubscribe_uris": ["mailto:x@example.org>, <mailto:y@example.org"]},
        {"from_header": "a@example.org, b@example.org"},
        {"extra_headers": {"X-Note": "a\r\nBcc: victim@example.org"}},
        {"extra_headers": {"X-Note": "非ASCII"}},
        {"extra_headers": {"Content-Type": "text/html"}},
        {"extra_headers": {"X-Bad:Name": "x"}},
        {"message_id": f"<tracker.{'1' * 1000}@example.org>"},
    ],
)
def test_what_the_email_package_builder_refused_is_refused(changes: dict[str, Any]) -> None:
    rendered = RenderedMail(subject="s", text="t", html="h", language="en")
    assert both_ways(rendered=rendered, **{**BASE, **changes}) is None


_BODY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["\n", "\r\n", "\r", " ", "\t", "=", "x" * 40, "王伟", "\x0c", "."]),
        st.text(max_size=30),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    text=_BODY_TEXT,
    html=_BODY_TEXT,
    subject=HOSTILE_TEXT,
    name=HOSTILE_TEXT,
    extra=st.one_of(st.none(), HOSTILE_TEXT),
    parent=st.one_of(st.none(), HOSTILE_TEXT, st.just("<CAJ7pq@mail.example.com>")),
)
@example(text="a" * 79, html="=" * 79, subject="", name="", extra=None, parent=None)
def test_any_message_is_written_as_the_email_package_wrote_it(
    text: str, html: str, subject: str, name: str, extra: str | None, parent: str | None
) -> None:
    built = both_ways(
        rendered=RenderedMail(subject=subject, text=text, html=html, language="en"),
        **{
            **BASE,
            "to": [Mailbox(name=name, address="wang.wei@example.cn")],
            "in_reply_to": parent,
            "references": [parent] if parent is not None else [],
            "extra_headers": {"X-Note": extra} if extra is not None else None,
        },
    )
    if built is not None:
        ours, theirs = built
        assert ours.raw == theirs


def test_the_boundary_is_drawn_again_when_a_part_holds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([7, 7, 8])
    monkeypatch.setattr(message_bytes.secrets, "randbelow", lambda _n: next(draws))
    taken = f"--{'=' * 15}{7:019d}=="
    headers, body = message_bytes.alternative(f"{taken}\n", "<p>h</p>")
    assert f'boundary="{"=" * 15}{8:019d}=="' in headers
    assert body.count(taken) == 1  # the text's own line, not a delimiter
