"""The files attached to a reply: found in the raw message, named safely, never opened.

A part is a file when it says so (``Content-Disposition: attachment``), or
when it is inline but named and not text or an image (a PDF a client put
inline). Inline images are left out: they are logos and signatures far more
often than evidence, and mail HTML is never rendered. An attached message
(``message/rfc822``) is kept whole, as a ``.eml`` file.

Names are made safe to show and to offer for download: no folders, no
control characters, at most 200 characters; a part with no name gets
``attachment-<n>``. Types are kept only when they are a well-formed
``type/subtype``, else ``application/octet-stream``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.message import Message

from tracker.inbound.mime import decode_header_value, read_message

MAX_NAME_LENGTH = 200
MAX_FILES = 50  # a message with more parts than this is not a reply with evidence
_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_FALLBACK_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachedFile:
    """One file: its safe name, its declared type, its bytes."""

    filename: str
    content_type: str
    data: bytes


def safe_filename(name: str | None, *, fallback: str) -> str:
    """`name` without folders or control characters, shortened; `fallback` when nothing is left."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = text.strip().strip(".").strip()
    if len(text) > MAX_NAME_LENGTH:
        _stem, dot, ext = text.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        text = text[: MAX_NAME_LENGTH - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return text or fallback


def safe_content_type(declared: str | None) -> str:
    value = (declared or "").split(";", 1)[0].strip().lower()
    return value if _TYPE.fullmatch(value) else _FALLBACK_TYPE


def attached_files(raw: bytes) -> list[AttachedFile]:
    """The files attached to the message `raw`, in the order they appear."""
    files: list[AttachedFile] = []
    for part in _file_parts(read_message(raw)):
        if len(files) >= MAX_FILES:
            break
        fallback = f"attachment-{len(files) + 1}"
        is_message = part.get_content_maintype() == "message"
        if is_message:
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            data = first.as_bytes() if isinstance(first, Message) else b""
            name: str | None = _name(part) or fallback + ".eml"
            content_type = "message/rfc822"
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            name = _name(part)
            content_type = safe_content_type(part.get_content_type())
        files.append(
            AttachedFile(
                filename=safe_filename(name, fallback=fallback),
                content_type=content_type,
                data=data,
            )
        )
    return files


def _name(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (LookupError, ValueError, TypeError):  # a broken RFC 2231 parameter
        return None
    return decode_header_value(name) if name else None


def _disposition(part: Message) -> str:
    return str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()


def _file_parts(message: Message) -> list[Message]:
    """Parts that are files, depth first; attached messages are files, not descended into."""
    found: list[Message] = []
    stack = [message]
    while stack:
        part = stack.pop()
        maintype = part.get_content_maintype()
        attached = _disposition(part) == "attachment"
        if maintype == "multipart":
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(reversed([c for c in children if isinstance(c, Message)]))
            continue
        if part is message:
            continue  # a single-part message is its body, not a file
        if maintype == "message":
            if attached and part.get_content_type() == "message/rfc822":
                found.append(part)
            continue
        if attached or (_name(part) and maintype not in ("text", "image")):
            found.append(part)
    return found
