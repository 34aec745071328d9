"""The IMAP intake against a real Dovecot (tests/dovecot.py starts a private one)."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from typing import Any

import pytest

from tests.dovecot import DovecotServer, start_dovecot
from tracker.mail import imap
from tracker.mail.imap import (
    STORED_KEYWORD,
    FetchReport,
    ImapClient,
    ImapConnectionError,
    ImapSettings,
    fetch_new_messages,
)


@pytest.fixture
def tls_dovecot() -> Iterator[DovecotServer]:
    """A fresh Dovecot offering STARTTLS and implicit TLS with a self-signed certificate."""
    with start_dovecot(tls=True) as server:
        yield server


@pytest.fixture
def settings(dovecot: DovecotServer) -> ImapSettings:
    return ImapSettings.from_url(dovecot.url)


class DedupStore:
    """Stands in for the database: keeps one copy per Message-ID, counts every call."""

    def __init__(self) -> None:
        self.by_message_id: dict[str, bytes] = {}
        self.calls = 0

    def __call__(self, raw: bytes) -> None:
        self.calls += 1
        message_id = BytesHeaderParser().parsebytes(raw)["Message-ID"]
        self.by_message_id.setdefault(str(message_id), raw)


def message(n: int, body: bytes = b"1: done\r\n", extra_headers: bytes = b"") -> bytes:
    return (
        b"From: Participant <p@example.cn>\r\n"
        b"To: followup+tok@example.org\r\n"
        b"Subject: Re: your actions " + str(n).encode() + b"\r\n"
        b"Message-ID: <reply-" + str(n).encode() + b"@example.cn>\r\n"
        b"Date: Mon, 23 Sep 2019 09:30:00 +0800\r\n"
        b"MIME-Version: 1.0\r\n" + extra_headers + b"\r\n" + body
    )


class _Delegating:
    """Wraps a real client; subclasses change one step to simulate trouble."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class DiesBeforeFlagging(_Delegating):
    """The connection dies right after the store committed, before the flag is set."""

    def add_flags(self, messages: Any, flags: Any, silent: bool = False) -> Any:
        self.inner.shutdown()
        return self.inner.add_flags(messages, flags, silent=silent)


class RefusesKeywords(_Delegating):
    """A server whose PERMANENTFLAGS has no \\* (no new keywords allowed)."""

    def select_folder(self, folder: str, readonly: bool = False) -> dict[bytes, Any]:
        info: dict[bytes, Any] = dict(self.inner.select_folder(folder, readonly=readonly))
        info[b"PERMANENTFLAGS"] = tuple(f for f in info[b"PERMANENTFLAGS"] if f != b"\\*")
        return info


def wrapping(wrapper: type[_Delegating]) -> Any:
    def factory(s: ImapSettings) -> ImapClient:
        client: ImapClient = wrapper(imap.connect(s, timeout=30))
        return client

    return factory


def test_new_messages_are_stored_once_and_marked_but_not_seen(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    sent = [message(n) for n in range(3)]
    uids = [dovecot.deliver(raw) for raw in sent]
    store = DedupStore()

    report = fetch_new_messages(settings, store)

    assert report == FetchReport(fetched=3, stored=3, failed=0, errors=())
    assert sorted(store.by_message_id.values()) == sorted(sent)
    flags = dovecot.flags()
    for uid in uids:
        assert STORED_KEYWORD.encode() in flags[uid]
        # BODY.PEEK[]: a coordinator's mail client still shows the reply as unread.
        assert b"\\Seen" not in flags[uid]


def test_second_pass_fetches_nothing(dovecot: DovecotServer, settings: ImapSettings) -> None:
    dovecot.deliver(message(1))
    store = DedupStore()
    fetch_new_messages(settings, store)

    again = fetch_new_messages(settings, store)

    assert again == FetchReport()
    assert store.calls == 1


def test_message_arriving_between_passes_is_fetched_alone(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    dovecot.deliver(message(1))
    store = DedupStore()
    fetch_new_messages(settings, store)
    dovecot.deliver(message(2))

    report = fetch_new_messages(settings, store)

    assert (report.fetched, report.stored) == (1, 1)
    assert set(store.by_message_id) == {"<reply-1@example.cn>", "<reply-2@example.cn>"}


def test_message_a_person_already_read_is_still_fetched(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    uid = dovecot.deliver(message(1))
    with dovecot.client() as client:
        client.select_folder("INBOX")
        client.add_flags([uid], [b"\\Seen"])
    store = DedupStore()

    report = fetch_new_messages(settings, store)

    assert report.stored == 1


def test_store_that_raises_leaves_the_message_for_the_next_pass(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    for n in range(3):
        dovecot.deliver(message(n))
    good = DedupStore()

    def flaky(raw: bytes) -> None:
        if b"<reply-1@" in raw:
            raise RuntimeError("database is locked")
        good(raw)

    first = fetch_new_messages(settings, flaky)

    assert (first.fetched, first.stored, first.failed) == (3, 2, 1)
    assert len(first.errors) == 1
    assert "database is locked" in first.errors[0]
    assert set(good.by_message_id) == {"<reply-0@example.cn>", "<reply-2@example.cn>"}
    second = fetch_new_messages(settings, good)
    assert (second.fetched, second.stored, second.failed) == (1, 1, 0)
    assert "<reply-1@example.cn>" in good.by_message_id


def test_crash_between_store_and_flag_refetches_and_records_once(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    dovecot.deliver(message(1))
    dovecot.deliver(message(2))
    store = DedupStore()

    crashed = fetch_new_messages(settings, store, client_factory=wrapping(DiesBeforeFlagging))

    assert crashed.stored == 1
    assert len(crashed.errors) == 1
    assert "lost during the pass" in crashed.errors[0]
    assert "Traceback" not in crashed.errors[0]
    assert not any(STORED_KEYWORD.encode() in f for f in dovecot.flags().values())

    recovered = fetch_new_messages(settings, store)

    assert (recovered.fetched, recovered.stored, recovered.errors) == (2, 2, ())
    assert store.calls == 3  # reply-1 twice: once before the crash, once after
    assert set(store.by_message_id) == {"<reply-1@example.cn>", "<reply-2@example.cn>"}
    assert fetch_new_messages(settings, store) == FetchReport()


def test_big_message_arrives_byte_exact(dovecot: DovecotServer, settings: ImapSettings) -> None:
    # About 5 MB of base64 attachment, in 76-character CRLF lines as mailers write it.
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"
    attachment = line * (5 * 1024 * 1024 // len(line))
    raw = message(
        1,
        extra_headers=b'Content-Type: multipart/mixed; boundary="b1"\r\n',
        body=(
            b"--b1\r\nContent-Type: text/plain\r\n\r\n1: done\r\n"
            b"--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + attachment
            + b"--b1--\r\n"
        ),
    )
    assert len(raw) > 5_000_000
    dovecot.deliver(raw)
    store = DedupStore()

    report = fetch_new_messages(settings, store)

    assert report.stored == 1
    assert store.by_message_id["<reply-1@example.cn>"] == raw


def test_eight_bit_non_utf8_message_arrives_byte_exact(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    # GB2312 sent as raw 8-bit, undeclared in the Subject: bytes that are not UTF-8.
    body = "1：已完成\r\n2：进行中 60%，等待预算批复\r\n".encode("gb18030")
    raw = message(
        1,
        body=body,
        extra_headers=b"Content-Type: text/plain; charset=gb2312\r\n"
        b"Content-Transfer-Encoding: 8bit\r\nX-Note: " + "进展".encode("gb2312") + b"\r\n",
    )
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    dovecot.deliver(raw)
    store = DedupStore()

    fetch_new_messages(settings, store)

    assert store.by_message_id["<reply-1@example.cn>"] == raw


def test_many_messages_in_small_batches_and_small_fetch_groups(
    dovecot: DovecotServer, settings: ImapSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = {message(n) for n in range(7)}
    for raw in sent:
        dovecot.deliver(raw)
    # Force one body per FETCH so the grouping by size is exercised too.
    monkeypatch.setattr(imap, "FETCH_BYTES_BUDGET", 1)
    store = DedupStore()

    report = fetch_new_messages(settings, store, batch_size=3)

    assert (report.fetched, report.stored) == (7, 7)
    assert set(store.by_message_id.values()) == sent


def test_server_without_keywords_falls_back_to_seen(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    uid = dovecot.deliver(message(1))
    store = DedupStore()

    first = fetch_new_messages(settings, store, client_factory=wrapping(RefusesKeywords))
    second = fetch_new_messages(settings, store, client_factory=wrapping(RefusesKeywords))

    assert (first.stored, second.fetched) == (1, 0)
    flags = dovecot.flags()[uid]
    assert b"\\Seen" in flags
    assert STORED_KEYWORD.encode() not in flags


def test_wrong_password_raises_connection_error_without_the_password(
    dovecot: DovecotServer,
) -> None:
    wrong = ImapSettings.from_url(dovecot.url.replace("s3cret-Pa55", "Wr0ng-pa55word"))

    with pytest.raises(ImapConnectionError) as caught:
        fetch_new_messages(wrong, DedupStore())

    text = str(caught.value)
    assert f"127.0.0.1:{dovecot.port}" in text
    assert "Wr0ng-pa55word" not in text
    assert "s3cret-Pa55" not in text
    assert re.search(r"login .* failed", text)


def test_stopped_server_raises_a_clear_connection_error(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    dovecot.stop()

    with pytest.raises(ImapConnectionError) as caught:
        fetch_new_messages(settings, DedupStore(), timeout=5)

    text = str(caught.value)
    assert text.startswith(f"cannot connect to IMAP server 127.0.0.1:{dovecot.port}")
    assert "s3cret-Pa55" not in text


def test_server_going_away_mid_pass_is_reported_and_the_next_pass_recovers(
    dovecot: DovecotServer, settings: ImapSettings
) -> None:
    for n in range(3):
        dovecot.deliver(message(n))
    store = DedupStore()

    def store_then_server_dies(raw: bytes) -> None:
        store(raw)
        dovecot.stop()

    cut = fetch_new_messages(settings, store_then_server_dies, timeout=10)

    assert cut.stored == 1
    assert len(cut.errors) == 1
    assert cut.errors[0].startswith(f"IMAP connection to 127.0.0.1:{dovecot.port} lost")
    dovecot.start()
    recovered = fetch_new_messages(settings, store)
    assert recovered.errors == ()
    assert len(store.by_message_id) == 3


def test_missing_folder_raises_connection_error_naming_the_folder(
    dovecot: DovecotServer,
) -> None:
    settings = ImapSettings.from_url(dovecot.url.replace("/INBOX", "/Replies"))

    with pytest.raises(ImapConnectionError, match="folder 'Replies'"):
        fetch_new_messages(settings, DedupStore())


def test_other_folder_named_in_the_url_is_read(dovecot: DovecotServer) -> None:
    with dovecot.client() as client:
        client.create_folder("Replies")
    dovecot.deliver(message(1), folder="Replies")
    dovecot.deliver(message(2))
    store = DedupStore()

    fetch_new_messages(ImapSettings.from_url(dovecot.url.replace("/INBOX", "/Replies")), store)

    assert set(store.by_message_id) == {"<reply-1@example.cn>"}


def test_imaps_url_reads_over_implicit_tls(
    tls_dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot.cert_path))
    tls_dovecot.deliver(message(1))
    store = DedupStore()

    report = fetch_new_messages(ImapSettings.from_url(tls_dovecot.imaps_url), store)

    assert report.stored == 1


class Watched(_Delegating):
    """Records whether the connection was encrypted when the password went over it."""

    logins: list[bool]

    def login(self, username: str, password: str) -> Any:
        Watched.logins.append(isinstance(self.inner.socket(), ssl.SSLSocket))
        return self.inner.login(username, password)


@pytest.fixture
def watched() -> list[bool]:
    Watched.logins = []
    return Watched.logins


def test_the_tls_test_server_refuses_a_login_in_clear(
    tls_dovecot: DovecotServer, watched: list[bool]
) -> None:
    # Without this, the STARTTLS test below could pass with STARTTLS left out.
    with pytest.raises(ImapConnectionError, match=r"PRIVACYREQUIRED|LOGINDISABLED|disallowed"):
        fetch_new_messages(
            ImapSettings.from_url(tls_dovecot.url), DedupStore(), client_factory=wrapping(Watched)
        )
    assert watched == [False]


def test_starttls_url_reads_after_upgrading_the_connection(
    tls_dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch, watched: list[bool]
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot.cert_path))
    tls_dovecot.deliver(message(1))
    store = DedupStore()

    report = fetch_new_messages(
        ImapSettings.from_url(tls_dovecot.url + "?starttls=true"),
        store,
        client_factory=wrapping(Watched),
    )

    assert report.stored == 1
    assert watched == [True]  # the password went over TLS
    assert re.search(r"imap-login: Info: Login: user=<tracker>, .*\bTLS\b", tls_dovecot.logs())


def test_starttls_against_a_server_without_it_refuses_to_log_in(
    dovecot: DovecotServer, watched: list[bool]
) -> None:
    settings = ImapSettings.from_url(dovecot.url + "?starttls=true")

    with pytest.raises(ImapConnectionError) as caught:
        fetch_new_messages(settings, DedupStore(), client_factory=wrapping(Watched))

    assert str(caught.value) == (
        f"IMAP server 127.0.0.1:{dovecot.port} does not offer STARTTLS (asked for by "
        "?starttls=true): not logging in over a connection in clear; use imaps:// or fix the "
        "server"
    )
    assert watched == []  # the password was never sent
    assert "s3cret-Pa55" not in str(caught.value)


def test_untrusted_certificate_is_a_connection_error(tls_dovecot: DovecotServer) -> None:
    settings = ImapSettings.from_url(tls_dovecot.imaps_url)

    with pytest.raises(ImapConnectionError, match="certificate verify failed") as caught:
        fetch_new_messages(settings, DedupStore())

    assert f"{tls_dovecot.host}:{tls_dovecot.tls_port}" in str(caught.value)
