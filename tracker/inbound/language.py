"""A best guess of the language a reply is written in, as a BCP 47 primary tag."""

from __future__ import annotations

import re

# A few very frequent words per Latin-script language; enough to tell the
# languages of our participants apart in a short reply.
_STOPWORD_LISTS = {
    "en": "the and is are to of in it for we you this that with have on be not",
    "de": "der die das und ist nicht ich wir sie mit auf für ein eine zu den",
    "fr": "le la les et est pas je nous vous avec pour un une des du que",
    "es": "el la los las y es no yo nosotros con para un una del que por",
    "pt": "o a os as e é não eu nós com para um uma do da que por",
    "it": "il la le e è non io noi con per un una del che di",
    "nl": "de het een en is niet ik wij met voor van dat op te",
}
_STOPWORDS = {lang: frozenset(words.split()) for lang, words in _STOPWORD_LISTS.items()}
_WORD = re.compile(r"[^\W\d_]+")
# A few thousand characters decide the language; reading megabytes would only be slow.
_SAMPLE = 20_000
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[^\W\d_\u0250-\U0010ffff]")


def detect_language(text: str) -> str:
    """ "zh", "ja", "ko", "ru", "uk", a Latin-script language, or "und" for no letters.

    1. Count letters per script: kana means Japanese even among Han
       characters; Han alone means Chinese; Hangul Korean; Cyrillic Russian
       (Ukrainian when its own letters appear).
    2. For Latin script, the language whose frequent words occur most
       (English on a tie, as the common second language of our participants).
    """
    text = text[:_SAMPLE]
    han, kana, hangul, cyrillic, latin = (
        len(script.findall(text)) for script in (_HAN, _KANA, _HANGUL, _CYRILLIC, _LATIN)
    )
    if kana and kana * 10 >= han + kana:  # Japanese mixes kana into its Han
        return "ja"
    # A CJK character carries about as much as a Latin word, so weigh them up.
    scripts = {"zh": han * 3, "ko": hangul * 3, "ru": cyrillic, "latin": latin}
    best = max(scripts, key=lambda name: scripts[name])
    if scripts[best] == 0:
        return "und"
    if best == "ru":
        return "uk" if re.search(r"[іїєґІЇЄҐ]", text) else "ru"
    if best != "latin":
        return best
    words = [word.casefold() for word in _WORD.findall(text)]
    scores = {lang: sum(word in vocab for word in words) for lang, vocab in _STOPWORDS.items()}
    top = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return top if scores[top] else "en"
