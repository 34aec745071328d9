"""Signed reply tokens: round trip, tampering, other keys, the shapes mail systems produce."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.core.tokens import find_token, make_reply_token, verify_reply_token

KEY = "a-secret-key-of-reasonable-length"


@given(st.integers(min_value=1, max_value=10**15))
def test_every_token_verifies_to_its_reminder(reminder_id: int) -> None:
    assert verify_reply_token(make_reply_token(reminder_id, KEY), KEY) == reminder_id


@given(st.integers(min_value=1, max_value=10**9), st.text(min_size=1, max_size=40))
def test_a_token_does_not_verify_under_another_key(reminder_id: int, other: str) -> None:
    if other == KEY:
        return
    assert verify_reply_token(make_reply_token(reminder_id, KEY), other) is None


def test_changing_the_id_or_the_signature_breaks_it() -> None:
    token = make_reply_token(12, KEY)
    number, signature = token.split(".")
    assert verify_reply_token(f"13.{signature}", KEY) is None
    flipped = ("a" if signature[0] != "a" else "b") + signature[1:]
    assert verify_reply_token(f"{number}.{flipped}", KEY) is None
    assert verify_reply_token(f"{number}.{signature[:-1]}", KEY) is None


def test_tokens_are_unguessable_and_survive_case_folding() -> None:
    tokens = {make_reply_token(n, KEY).split(".")[1] for n in range(1, 2001)}
    assert len(tokens) == 2000  # 80-bit signatures: no collisions in practice
    token = make_reply_token(7, KEY)
    assert verify_reply_token(token.upper(), KEY) == 7  # some systems fold local parts


@given(st.text(max_size=60))
def test_random_text_never_verifies(text: str) -> None:
    assert verify_reply_token(text, KEY) is None


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
    token = make_reply_token(345, KEY)
    text = header.replace("{t}", token).replace("{T}", token.upper())
    found = find_token(text)
    assert found is not None
    assert verify_reply_token(found, KEY) == 345


def test_no_token_in_ordinary_addresses() -> None:
    assert find_token("wang.xiaoming@example.org") is None
    assert find_token("followup@example.org") is None


def test_a_key_is_required_and_ids_are_positive() -> None:
    with pytest.raises(ValueError, match="secret key"):
        make_reply_token(1, "")
    with pytest.raises(ValueError, match="positive"):
        make_reply_token(0, KEY)
    assert verify_reply_token(make_reply_token(1, KEY), "") is None
