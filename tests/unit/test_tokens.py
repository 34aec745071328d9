"""Signed reply tokens: round trip, tampering, other keys, nonces, where mail systems put them."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.core.tokens import (
    NONCE_BYTES,
    ReplyToken,
    find_token,
    make_reply_token,
    nonce_from_bytes,
    read_reply_token,
    verify_reply_token,
)

KEY = "a-secret-key-of-reasonable-length"
NONCE = "abcdefghijkl"
NONCES = st.binary(min_size=NONCE_BYTES, max_size=NONCE_BYTES).map(nonce_from_bytes)


@given(st.integers(min_value=1, max_value=10**15), NONCES)
def test_every_token_reads_back_as_its_reminder_and_nonce(reminder_id: int, nonce: str) -> None:
    token = make_reply_token(reminder_id, KEY, nonce=nonce)
    assert read_reply_token(token, KEY) == ReplyToken(reminder_id=reminder_id, nonce=nonce)
    assert verify_reply_token(token, KEY) == reminder_id
    assert find_token(f"followup+{token}@example.org") == token


@given(st.integers(min_value=1, max_value=10**9), st.text(min_size=1, max_size=40))
def test_a_token_does_not_verify_under_another_key(reminder_id: int, other: str) -> None:
    if other == KEY:
        return
    assert read_reply_token(make_reply_token(reminder_id, KEY, nonce=NONCE), other) is None
    assert read_reply_token(make_reply_token(reminder_id, KEY, nonce=None), other) is None


def test_changing_the_id_the_nonce_or_the_signature_breaks_it() -> None:
    token = make_reply_token(12, KEY, nonce=NONCE)
    number, nonce, signature = token.split(".")
    assert read_reply_token(token, KEY) == ReplyToken(reminder_id=12, nonce=NONCE)
    assert read_reply_token(f"13.{nonce}.{signature}", KEY) is None
    assert read_reply_token(f"{number}.bbcdefghijkl.{signature}", KEY) is None
    flipped = ("a" if signature[0] != "a" else "b") + signature[1:]
    assert read_reply_token(f"{number}.{nonce}.{flipped}", KEY) is None
    assert read_reply_token(f"{number}.{nonce}.{signature[:-1]}", KEY) is None
    # Dropping the nonce does not turn it into an older token of the same reminder.
    assert read_reply_token(f"{number}.{signature}", KEY) is None


def test_the_signature_covers_the_nonce_so_the_same_id_elsewhere_is_another_token() -> None:
    here = make_reply_token(1, KEY, nonce=nonce_from_bytes(secrets.token_bytes(NONCE_BYTES)))
    there = make_reply_token(1, KEY, nonce=nonce_from_bytes(secrets.token_bytes(NONCE_BYTES)))
    assert here != there
    assert here.split(".")[2] != there.split(".")[2]


def test_older_tokens_without_a_nonce_still_read_back() -> None:
    token = make_reply_token(7, KEY, nonce=None)
    assert token.count(".") == 1
    assert read_reply_token(token, KEY) == ReplyToken(reminder_id=7, nonce=None)
    assert find_token(f"<tracker.{token}@example.org>") == token


def test_tokens_are_unguessable_and_survive_case_folding() -> None:
    signatures = {make_reply_token(n, KEY, nonce=NONCE).split(".")[2] for n in range(1, 2001)}
    assert len(signatures) == 2000  # 80-bit signatures: no collisions in practice
    token = make_reply_token(7, KEY, nonce=NONCE)
    assert read_reply_token(token.upper(), KEY) == ReplyToken(reminder_id=7, nonce=NONCE)
    assert find_token(token.upper()) == token


def test_nonces_are_lower_case_base32_of_fixed_length() -> None:
    nonces = {nonce_from_bytes(secrets.token_bytes(NONCE_BYTES)) for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(len(n) == 12 and set(n) <= set("abcdefghijklmnopqrstuvwxyz234567") for n in nonces)
    with pytest.raises(ValueError, match="random bytes"):
        nonce_from_bytes(b"short")
    with pytest.raises(ValueError, match="nonce"):
        make_reply_token(1, KEY, nonce="ABC")


def test_a_token_with_a_big_id_fits_a_64_character_local_part() -> None:
    token = make_reply_token(10**17 - 1, KEY, nonce=NONCE)
    assert len(f"followup+{token}") <= 64


@given(st.text(max_size=60))
def test_random_text_never_verifies(text: str) -> None:
    assert read_reply_token(text, KEY) is None


@pytest.mark.parametrize(
    "header",
    [
        "followup+{t}@example.org",
        '"Programme Office" <followup+{t}@example.org>',
        "FOLLOWUP+{T}@EXAMPLE.ORG",
        "<tracker.{t}@example.org>",
        "other@example.org, followup+{t}@example.org",
    ],
)
def test_a_token_is_found_wherever_clients_put_the_address(header: str) -> None:
    token = make_reply_token(345, KEY, nonce=NONCE)
    text = header.replace("{t}", token).replace("{T}", token.upper())
    found = find_token(text)
    assert found is not None
    assert read_reply_token(found, KEY) == ReplyToken(reminder_id=345, nonce=NONCE)


def test_no_token_in_ordinary_addresses() -> None:
    assert find_token("wang.xiaoming@example.org") is None
    assert find_token("followup@example.org") is None


def test_a_key_is_required_and_ids_are_positive() -> None:
    with pytest.raises(ValueError, match="secret key"):
        make_reply_token(1, "", nonce=NONCE)
    with pytest.raises(ValueError, match="positive"):
        make_reply_token(0, KEY, nonce=NONCE)
    assert read_reply_token(make_reply_token(1, KEY, nonce=NONCE), "") is None
