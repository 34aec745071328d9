"""Deciding what an inbound message is: a person's reply, an auto-reply, a bounce, or other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from tracker.core.model import MessageKind
from tracker.inbound.mime import addresses_in, body_text, header_text, header_values, part_text

_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:\[?(?:automatic\s+reply|auto(?:matic)?[\s-]*reply|autoreply|auto[\s-]*response|"
    r"out\s+of\s+(?:the\s+)?office|ooo|away\s+from\s+the\s+office|vacation\s+reply|"
    r"abwesenheitsnotiz|automatische\s+antwort|réponse\s+automatique|respuesta\s+automática|"
    r"risposta\s+automatica|自动回复|自動回覆|自动答复|自動回復|自动应答|自動応答|"
    r"不在办公室|不在辦公室)(?![a-z]))",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon|mdaemon|mail\.delivery)@", re.I
)
_BOUNCE_SENDER_NAME = re.compile(r"mail\s+delivery\s+(?:subsystem|system)|mailer-daemon", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery\s+(?:status\s+notification|failure|has\s+failed|failed)|"
    r"returned\s+mail|mail\s+delivery\s+failed|failure\s+notice|could\s+not\s+be\s+delivered|"
    r"delivery\s+problems?|nondeliverable|non-delivery|rejected|退信|退回|投递失败|投遞失敗|"
    r"无法投递|未能送达|发送失败|系统退信|undeliverable|delivery\s+warning|user\s+unknown|"
    r"non\s+remis|unzustellbar",
    re.IGNORECASE,
)
_TEMPORARY_WORDS = re.compile(r"delay|warning|will\s+be\s+retried|still\s+trying|延迟", re.I)
_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Where an MTA notice stops talking and starts copying the returned message.
_COPY_MARKER = re.compile(
    r"^\s*(?:-{2,}.*(?:original|returned|copy|headers|below\s+this\s+line)|"
    r"original\s+message|received:|return-path:|content-type:\s*message/)",
    re.IGNORECASE,
)
_SERVICE_LOCAL_PARTS = ("mailer-daemon", "postmaster", "mail-daemon", "root", "noreply")


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    kind: MessageKind
    reason: str
    bounced_recipients: tuple[str, ...] = ()
    temporary: bool = False


def _delivery_status_parts(message: Message) -> list[Message]:
    return [p for p in message.walk() if p.get_content_type() == "message/delivery-status"]


def _dsn_recipients(status_part: Message) -> tuple[list[str], bool]:
    """Failed recipients in a delivery-status part, and whether every one is only delayed.

    The part's payload is a list of header blocks: the first for the
    message, then one per recipient (Final-Recipient, Original-Recipient, Action).
    """
    text = ""
    payload = status_part.get_payload()
    if isinstance(payload, list):
        text = "\n\n".join(str(block) for block in payload if isinstance(block, Message))
    elif isinstance(payload, str):
        text = payload
    recipients: list[str] = []
    actions: list[str] = []
    for line in text.splitlines():
        name, _, value = line.partition(":")
        field = name.strip().lower()
        if field in ("final-recipient", "original-recipient"):
            address = value.split(";", 1)[-1].strip().strip("<>").lower()
            if "@" in address and address not in recipients:
                recipients.append(address)
        elif field == "action":
            actions.append(value.strip().lower())
    temporary = bool(actions) and all(a in ("delayed", "relayed", "expanded") for a in actions)
    return recipients, temporary


def _notice_recipients(message: Message, ignore: set[str]) -> list[str]:
    """Addresses an MTA notice reports as failed, read from its text before the returned copy."""
    found: list[str] = []
    for part in message.walk():
        if part.get_content_maintype() == "message":
            break  # the returned message: its addresses are not the failed ones
        if part.get_content_maintype() != "text":
            continue
        text = part_text(part)
        if part.get_content_subtype() == "html":
            text = re.sub(r"<[^>]+>", "\n", text)
        for line in text.splitlines():
            if _COPY_MARKER.match(line):
                break
            for address in _ADDRESS.findall(line):
                address = address.strip(".").lower()
                local = address.split("@", 1)[0]
                if address in ignore or local in _SERVICE_LOCAL_PARTS or address in found:
                    continue
                found.append(address)
        if found:
            break
    return found


def _auto_reply_reason(message: Message, subject: str) -> str | None:
    auto_submitted = (header_text(message, "Auto-Submitted") or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        value = header_text(message, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return f"{name}: {value.strip()}"
    precedence = (header_text(message, "Precedence") or "").strip().lower()
    if precedence in ("auto_reply", "bulk", "junk"):
        return f"Precedence: {precedence}"
    if _AUTO_REPLY_SUBJECT.match(subject):
        return f"subject: {subject[:60]}"
    return None


def classify_message(message: Message, *, has_reply_markers: bool) -> Classification:
    """The kind of `message`, with the header or sign that decided it.

    1. Bounce: a delivery-status report (recipients from Final-/Original-Recipient),
       or a notice from MAILER-DAEMON/postmaster or with a failure subject
       (recipients read from the notice text).
    2. Auto-reply: RFC 3834 Auto-Submitted other than "no", X-Autoreply and
       kin, Precedence auto_reply/bulk/junk, or an out-of-office subject.
    3. Reply: a person's message answering ours (In-Reply-To, References,
       a reply subject or a reply token); anything else is other.
    """
    subject = header_text(message, "Subject") or ""
    senders = addresses_in(header_values(message, "From"))
    sender = senders[0][1] if senders else ""
    sender_name = senders[0][0] if senders else ""
    status_parts = _delivery_status_parts(message)
    if status_parts:
        recipients: list[str] = []
        temporary = True
        for part in status_parts:
            found, delayed = _dsn_recipients(part)
            recipients += [r for r in found if r not in recipients]
            temporary = temporary and delayed
        action = "delayed" if temporary else "failed"
        return Classification(
            kind=MessageKind.BOUNCE,
            reason=f"delivery-status report ({action})",
            bounced_recipients=tuple(recipients),
            temporary=temporary,
        )
    from_daemon = bool(_BOUNCE_SENDER.match(sender) or _BOUNCE_SENDER_NAME.search(sender_name))
    if from_daemon or (_BOUNCE_SUBJECT.search(subject) and not has_reply_markers):
        ignore = {address for _, address in addresses_in(header_values(message, "To"))}
        ignore.add(sender)
        recipients = _notice_recipients(message, ignore)
        notice, _ = body_text(message)
        temporary = bool(_TEMPORARY_WORDS.search(subject)) or (
            "permanent" not in notice.lower() and bool(_TEMPORARY_WORDS.search(notice[:2000]))
        )
        returns_a_message = any(p.get_content_type() == "message/rfc822" for p in message.walk())
        if from_daemon or recipients or returns_a_message:
            who = "MAILER-DAEMON" if from_daemon else "failure subject"
            return Classification(
                kind=MessageKind.BOUNCE,
                reason=f"delivery failure notice ({who})",
                bounced_recipients=tuple(recipients),
                temporary=temporary,
            )
    reason = _auto_reply_reason(message, subject)
    if reason is not None:
        return Classification(kind=MessageKind.AUTO_REPLY, reason=reason)
    if has_reply_markers:
        return Classification(kind=MessageKind.REPLY, reason="answers an earlier message")
    return Classification(kind=MessageKind.OTHER, reason="no sign that it answers our mail")
