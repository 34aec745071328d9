"""The reader's fast paths read exactly what the slower, obvious ways read.

Each test holds the obvious way (or calls the strict path the fast one
skips) and compares both on generated input.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.inbound.quotes import normalise_text

# Text made of the characters that matter to the steps under test, or any text.
_SPECIAL_CHARACTERS = "\r\n\xa0\u200b\u200c\u200d\u2060\ufeff\x00 \t>＞：王a1"
texts = st.one_of(st.text(alphabet=_SPECIAL_CHARACTERS, max_size=200), st.text(max_size=200))


def normalise_text_by_translation(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    return text.translate(dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x00")))


@given(texts)
@settings(max_examples=300)
def test_normalising_text_removes_what_translation_removed(text: str) -> None:
    assert normalise_text(text) == normalise_text_by_translation(text)
