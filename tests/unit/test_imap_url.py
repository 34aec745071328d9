"""TRACKER_IMAP_URL as ImapSettings: defaults, decoding, and clear refusals."""

from __future__ import annotations

import pytest

from tracker.errors import TrackerError
from tracker.mail.imap import FetchReport, ImapConnectionError, ImapSettings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "imap://tracker:secret@mail.example.org/INBOX",
            ImapSettings(
                host="mail.example.org",
                port=143,
                ssl=False,
                username="tracker",
                password="secret",
                folder="INBOX",
            ),
        ),
        (
            "imaps://tracker:secret@mail.example.org",
            ImapSettings(
                host="mail.example.org",
                port=993,
                ssl=True,
                username="tracker",
                password="secret",
                folder="INBOX",
            ),
        ),
        (
            "imap://tracker:secret@127.0.0.1:1143/",
            ImapSettings(
                host="127.0.0.1",
                port=1143,
                ssl=False,
                username="tracker",
                password="secret",
                folder="INBOX",
            ),
        ),
        (
            "imaps://followup%40example.org:p%40ss%3Aw%2Frd%23@imap.example.org:10993/Replies%20Q3",
            ImapSettings(
                host="imap.example.org",
                port=10993,
                ssl=True,
                username="followup@example.org",
                password="p@ss:w/rd#",
                folder="Replies Q3",
            ),
        ),
        (
            "imap://tracker:secret@[::1]:1143/INBOX/Follow-up",
            ImapSettings(
                host="::1",
                port=1143,
                ssl=False,
                username="tracker",
                password="secret",
                folder="INBOX/Follow-up",
            ),
        ),
        (
            "imap://tracker:secret@mail.example.org/INBOX?starttls=true",
            ImapSettings(
                host="mail.example.org",
                port=143,
                ssl=False,
                username="tracker",
                password="secret",
                folder="INBOX",
                starttls=True,
            ),
        ),
        (
            # An empty password is a password (some test servers accept it).
            "imap://tracker:@localhost",
            ImapSettings(
                host="localhost",
                port=143,
                ssl=False,
                username="tracker",
                password="",
                folder="INBOX",
            ),
        ),
    ],
)
def test_url_is_parsed_into_settings(url: str, expected: ImapSettings) -> None:
    assert ImapSettings.from_url(url) == expected


def test_unescaped_at_in_user_name_is_taken_as_part_of_it() -> None:
    # The last @ ends the user part, so user@domain works without %40.
    settings = ImapSettings.from_url("imap://followup@example.org:secret@mail.example.org")

    assert (settings.username, settings.host) == ("followup@example.org", "mail.example.org")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "must start with imap:// or imaps://"),
        ("mail.example.org", "must start with imap:// or imaps://"),
        ("pop3://u:hunter2@mail.example.org", "must start with imap:// or imaps://"),
        ("imap://u:hunter2@/INBOX", "names no host"),
        ("imap://mail.example.org/INBOX", "needs user:password@"),
        ("imap://u@mail.example.org/INBOX", "needs user:password@"),
        ("imap://u:hunter2@mail.example.org:imap/INBOX", "port must be a number from 1 to 65535"),
        ("imap://u:hunter2@mail.example.org:70000/INBOX", "port must be a number from 1 to 65535"),
        ("imap://u:hunter2@mail.example.org:0/INBOX", "port must be a number from 1 to 65535"),
        ("imap://u:hunter2@mail.example.org/INBOX?tls=yes", "unknown option 'tls'"),
        ("imap://u:hunter2@mail.example.org/INBOX?starttls=maybe", "starttls must be"),
        ("imaps://u:hunter2@mail.example.org/INBOX?starttls=true", "already TLS"),
        ("imap://u:hunter2@mail.example.org/INBOX#x", "fragment"),
    ],
)
def test_bad_url_is_refused_with_a_clear_message_without_the_password(
    url: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        ImapSettings.from_url(url)

    assert "hunter2" not in str(caught.value)


def test_password_stays_out_of_repr() -> None:
    settings = ImapSettings.from_url("imap://tracker:hunter2@mail.example.org/INBOX")

    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert settings.address == "mail.example.org:143"


def test_ipv6_address_is_bracketed_for_messages() -> None:
    assert ImapSettings.from_url("imap://u:p@[::1]:1143").address == "[::1]:1143"


def test_settings_and_report_are_immutable() -> None:
    settings = ImapSettings.from_url("imap://tracker:hunter2@mail.example.org")

    with pytest.raises(AttributeError):
        settings.host = "elsewhere"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        FetchReport().stored = 1  # type: ignore[misc]


def test_connection_error_is_a_user_error_the_cli_prints_on_one_line() -> None:
    assert issubclass(ImapConnectionError, TrackerError)
