"""The bytes of an outgoing message: its MIME structure, written directly.

Every message we send is multipart/alternative: a text part, then an HTML
part, both UTF-8. The `email` package's `EmailMessage` (header registry,
`set_content`, `add_alternative`, then a generator to flatten it) cost more
than everything else in composing a message, so the parts are written here as
text. The bytes are the ones the `email` package writes for the same message,
quirks included (the HTML part repeats MIME-Version, and the encodings follow
its heuristic); tests/unit/test_message_bytes.py builds messages both ways
and compares them byte for byte. Only the random boundary differs.
"""

from __future__ import annotations

import binascii
import email
import re
import secrets
import sys
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.quoprimime import body_encode

LINESEP = "\r\n"
# The `email` package's default line length: it decides between 7bit,
# quoted-printable and base64 and where base64 lines end.
MAX_LINE_LENGTH = 78
_BASE64_BYTES_PER_LINE = MAX_LINE_LENGTH // 4 * 3
_SNIFFED_LINES = 10  # how many lines the email package compares encodings on
_NEWLINE = re.compile(r"\r\n|\r|\n")
MIME_HEADERS = ("MIME-Version", "Content-Type")  # what `alternative` adds to a message's headers


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A built message: the bytes SMTP sends, and its envelope."""

    raw: bytes
    sender: str  # the envelope sender: the address of From
    recipients: tuple[str, ...]  # the envelope recipients: the addresses of To
    message_id: str

    def parsed(self) -> EmailMessage:
        """The message as a mail program reads it (previews, the demo's files, tests)."""
        message = email.message_from_bytes(self.raw, policy=policy.SMTP)
        assert isinstance(message, EmailMessage)
        return message


def alternative(text: str, html: str) -> tuple[str, str]:
    """The MIME headers (`MIME_HEADERS`) and the body of a multipart/alternative of
    `text` and `html`, CRLF line ends; the message's headers go before them, then
    an empty line, then the body."""
    parts = [_text_part("plain", text), _text_part("html", html, mime_version=True)]
    boundary = _boundary(parts)
    delimiter = f"--{boundary}{LINESEP}"
    headers = (
        f"MIME-Version: 1.0{LINESEP}"
        f'Content-Type: multipart/alternative;{LINESEP} boundary="{boundary}"{LINESEP}'
    )
    body = delimiter + f"{LINESEP}{delimiter}".join(parts) + f"{LINESEP}--{boundary}--{LINESEP}"
    return headers, body


def _text_part(subtype: str, body: str, *, mime_version: bool = False) -> str:
    # `add_alternative` makes the HTML part a whole EmailMessage, which adds
    # MIME-Version to it: kept, so that the bytes stay those of the email package.
    cte, payload = encode_text(body)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{LINESEP}'
        f"Content-Transfer-Encoding: {cte}{LINESEP}"
        + (f"MIME-Version: 1.0{LINESEP}" if mime_version else "")
        + LINESEP
        + payload
    )


def encode_text(body: str) -> tuple[str, str]:
    """The transfer encoding of a UTF-8 `body` and the encoded body, CRLF line ends.

    Non-ASCII goes base64 (compact for Chinese, and safe through a server
    without 8BITMIME). ASCII is 7bit when every line fits, else whichever of
    quoted-printable and base64 is shorter on the first ten lines: the `email`
    package's choice for ``set_content(body, charset="utf-8")``.
    """
    lines = body.encode("utf-8").splitlines()
    if not body.isascii():
        return "base64", _base64(lines)
    if max((len(line) for line in lines), default=0) <= MAX_LINE_LENGTH:
        return "7bit", LINESEP.join(line.decode("ascii") for line in lines) + LINESEP
    sniffed = b"\r\n".join(lines[:_SNIFFED_LINES]) + b"\r\n"
    sniffed_qp = body_encode(sniffed.decode("latin-1"), MAX_LINE_LENGTH)
    if len(sniffed_qp) > len(binascii.b2a_base64(sniffed)):
        return "base64", _base64(lines)
    normal = (b"\n".join(lines) + b"\n").decode("latin-1")
    return "quoted-printable", _NEWLINE.sub(LINESEP, body_encode(normal, MAX_LINE_LENGTH))


def _base64(lines: list[bytes]) -> str:
    data = b"\r\n".join(lines) + b"\r\n"
    return "".join(
        binascii.b2a_base64(data[start : start + _BASE64_BYTES_PER_LINE]).decode("ascii")[:-1]
        + LINESEP
        for start in range(0, len(data), _BASE64_BYTES_PER_LINE)
    )


def _boundary(parts: list[str]) -> str:
    """A boundary in the email package's form that no part contains."""
    while True:
        boundary = f"{'=' * 15}{secrets.randbelow(sys.maxsize):019d}=="
        if not any(boundary in part for part in parts):
            return boundary
