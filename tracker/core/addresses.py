"""Email addresses as the tracker stores and compares them.

Every address a person types (in a programme file, on the command line, in a
form) goes through `normalise_email`, so that one person has one spelling:

- the syntax is checked by email-validator (RFC 5321/5322, internationalised
  domains, quoted local parts), with no network look-up;
- an internationalised domain is kept in its ASCII (IDNA) form, which every
  mail server accepts, so `user@例子.中国` is stored as `user@xn--fsqu00a.xn--fiqs8s`;
- the whole address is lower-cased, local part included: providers treat the
  local part case-insensitively in practice, and matching replies to people
  has always been case-insensitive here;
- a local part with non-ASCII characters (`用户@example.cn`) is refused: reaching
  it needs SMTPUTF8 end to end, which the tracker does not promise.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 320


def normalise_email(raw: str) -> str:
    """The stored form of `raw`; raises ValueError saying what is wrong with it."""
    text = raw.strip()
    if len(text) > MAX_LENGTH:
        raise ValueError(f"is longer than {MAX_LENGTH} characters")
    try:
        checked = validate_email(
            text,
            check_deliverability=False,  # syntax only: no DNS from an import or a command
            allow_quoted_local=True,
            allow_smtputf8=False,
            allow_display_name=False,
        )
    except EmailNotValidError as error:
        raise ValueError(f"{text!r} is not an email address ({_sentence(str(error))})") from None
    return checked.ascii_email.lower() if checked.ascii_email else checked.normalized.lower()


def _sentence(message: str) -> str:
    return message.rstrip(".").replace("\n", " ")
