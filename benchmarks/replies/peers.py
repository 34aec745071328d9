"""The PyPI reply parsers we measure ourselves against, each behind one `(text, case) -> str`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cases import Case

Peer = Callable[[str, Case], str]


def _email_reply_parser() -> Peer | None:
    try:
        from email_reply_parser import EmailReplyParser
    except ImportError:
        return None
    return lambda text, case: str(EmailReplyParser.parse_reply(text))


def _mail_parser_reply() -> Peer | None:
    try:
        from mailparser_reply import EmailReplyParser
        from mailparser_reply.constants import MAIL_LANGUAGES
    except ImportError:
        return None
    # Give it every language it knows (Chinese included), as a user would.
    parser: Any = EmailReplyParser(languages=[lang for lang in MAIL_LANGUAGES if len(lang) == 2])

    def run(text: str, case: Case) -> str:
        replies = parser.read(text).replies
        return str(replies[0].body) if replies else ""

    return run


def _talon() -> Peer | None:
    try:
        from talon import quotations
        from talon.utils import html_to_text
    except ImportError:
        return None
    logging.getLogger("talon").setLevel(logging.ERROR)

    def run(text: str, case: Case) -> str:
        if case.input_kind == "html":
            html = case.path.read_bytes().decode("utf-8", errors="replace")
            return (html_to_text(quotations.extract_from_html(html)) or b"").decode("utf-8")
        return str(quotations.extract_from_plain(text))

    return run


def available_peers() -> dict[str, Peer]:
    found = {
        "email-reply-parser": _email_reply_parser(),
        "mail-parser-reply": _mail_parser_reply(),
        "talon": _talon(),
    }
    return {name: peer for name, peer in found.items() if peer is not None}
