"""`storable_text` replaces NUL and lone surrogates by U+FFFD, and nothing else;
its shortcut for ASCII text gives what the full replacement gives."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tracker.db.types import REPLACEMENT, storable_text

# Any character, NUL and lone surrogates (category Cs) included, often ASCII.
characters = st.characters(codec=None) | st.sampled_from(["\x00", "\ud800", "\udfff", "a", ":"])


@given(st.text(alphabet=characters) | st.text(alphabet=st.characters(max_codepoint=127)))
def test_storable_text_is_the_full_replacement(value: str) -> None:
    assert storable_text(value) == re.sub("[\x00\ud800-\udfff]", REPLACEMENT, value)


def test_nul_in_ascii_text_is_replaced() -> None:
    assert storable_text("msg:\x00key") == f"msg:{REPLACEMENT}key"
