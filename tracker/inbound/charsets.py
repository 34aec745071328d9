"""Turning bytes into text whatever charset a mail client claimed (or forgot to claim).

Mail in the wild lies about its charset: Chinese clients label GBK or GB18030
text as GB2312, some label UTF-8 as Big5, some send 8-bit text with no label at
all. `decode_text` trusts the bytes more than the label.
"""

from __future__ import annotations

import codecs

# Labels that clients use for a subset of what they really send: decode with the
# superset, which reads the subset identically.
_SUPERSET_CODEC = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc-cn": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}

# What to try, in order, when the label is missing or wrong. GB18030 comes
# first among the CJK codecs because most of our participants write Chinese.
_GUESSES = ("gb18030", "big5hkscs", "cp932", "euc-jp", "cp949", "cp1252")

# Scoring reads a sample: a few thousand characters decide, and megabytes would be slow.
_PLAUSIBILITY_SAMPLE = 20_000

# Single-byte codecs decode any byte string, so a label naming one is honoured
# (after UTF-8 is ruled out) instead of being second-guessed.
_SINGLE_BYTE_FAMILIES = ("iso-8859", "iso8859", "windows-125", "cp125", "koi8", "latin", "mac")


def codec_for_label(label: str | None) -> str | None:
    """The Python codec that best reads text labelled `label`, or None if unknown."""
    if not label:
        return None
    cleaned = label.strip().strip("\"'").lower()
    cleaned = _SUPERSET_CODEC.get(cleaned, cleaned)
    try:
        return codecs.lookup(cleaned).name
    except (LookupError, ValueError):
        return None


def _is_single_byte(codec: str) -> bool:
    return codec.startswith(_SINGLE_BYTE_FAMILIES)


def _plausibility(text: str) -> float:
    """How much `text` looks like human writing: 1.0 is all ordinary characters.

    Wrong CJK decodings still succeed but land on rare code points (GBK's
    extension rows, kana rows of GB2312 for Big5 bytes, C1 controls for
    Latin-1), so the share of *common* characters separates right from wrong.
    """
    if not text:
        return 1.0
    text = text[:_PLAUSIBILITY_SAMPLE]
    score = 0.0
    counted = 0
    for char in text:
        code = ord(char)
        if code < 0x80:
            continue  # ASCII reads the same in every candidate
        counted += 1
        if 0x4E00 <= code <= 0x9FFF:
            score += _common_han_weight(char)
        elif (
            0x3040 <= code <= 0x30FF
            or 0xAC00 <= code <= 0xD7A3
            or 0x3000 <= code <= 0x303F
            or 0xFF01 <= code <= 0xFF5E
            or 0x2010 <= code <= 0x2027
        ):
            score += 0.9
        elif 0xC0 <= code <= 0x17F or 0x400 <= code <= 0x45F:
            score += 0.7
        elif 0xA0 <= code <= 0xBF:
            score += 0.3
    return score / counted if counted else 1.0


def _common_han_weight(char: str) -> float:
    """1.0 for the frequent ideographs of GB2312 level 1 or Big5 level 1, less for rarer ones."""
    try:
        gb = char.encode("gb2312")
        if 0xB0 <= gb[0] <= 0xD7:
            return 1.0
        return 0.8
    except UnicodeEncodeError:
        pass
    try:
        big5 = char.encode("big5")
        return 0.95 if big5[0] <= 0xC6 else 0.6
    except UnicodeEncodeError:
        return 0.2


def decode_text(data: bytes, label: str | None = None) -> str:
    """Decode `data` to text, trusting valid UTF-8 first, then the label, then a guess.

    1. Pure ASCII is ASCII.
    2. Valid UTF-8 with 8-bit bytes is UTF-8 whatever the label says: other
       encodings almost never form valid UTF-8 by chance, and clients do
       mislabel UTF-8 (a Big5 label on UTF-8 data).
    3. A known label is tried next, widened to its superset (GB2312 → GB18030);
       a multi-byte label must also read plausibly, else we guess.
    4. Otherwise every candidate codec that decodes strictly is scored by the
       share of ordinary characters it yields; the best wins.
    5. If nothing decodes strictly, UTF-8 with replacement characters.
    """
    if data.isascii():
        if b"\x1b" in data:
            # 7-bit ISO-2022 text (Japanese mail) is ASCII only to the eye.
            for codec in (codec_for_label(label), "iso2022_jp_ext", "iso2022_jp_2"):
                if codec is not None and codec.startswith("iso2022"):
                    try:
                        return data.decode(codec)
                    except UnicodeDecodeError:
                        continue
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = codec_for_label(label)
    best_text: str | None = None
    best_score = -1.0
    if declared is not None and declared != "utf-8":
        try:
            text = data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            text = None
        if text is not None:
            if _is_single_byte(declared):
                return text
            best_text, best_score = text, _plausibility(text)
            if best_score >= 0.85:
                return text
    for codec in _GUESSES:
        if codec == declared:
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        # A small bonus keeps the label when a guess is only marginally better.
        score = _plausibility(text) - 0.05
        if score > best_score:
            best_text, best_score = text, score
    if best_text is not None:
        return best_text
    return data.decode("utf-8", errors="replace")
