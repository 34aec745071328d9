"""Languages of the dashboard: English and Simplified Chinese, each coordinator's choice.

The language is the signed-in coordinator's saved choice, else the one chosen
on this browser before signing in, else the browser's preference. Dates and
numbers are formatted by Babel in that language and in the time zone the page
names (a programme's), never the server's.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_decimal, format_percent
from flask import Flask, g, request, session
from flask_babel import Babel, get_locale, refresh

# Babel reads "zh_CN" as zh_Hans_CN and looks the catalogue up under that name.
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DEFAULT_LANGUAGE = "en"
# The dashboard's languages, each named in itself (for the switch).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
# Day-first English dates ("1 Oct 2019") read best to an international audience.
_FORMAT_LOCALE = {"en": "en_GB"}


def setup_babel(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    Babel(app, locale_selector=select_language)
    app.jinja_env.filters.update(
        when=format_moment,
        day=format_day,
        month=format_month,
        number=format_number,
        share=format_share,
        file_size=format_file_size,
        language_name=language_name,
    )
    app.jinja_env.globals.update(
        languages=LANGUAGES, html_lang=html_lang, page_language=page_language
    )


def select_language() -> str:
    page_for = g.get("page_language")  # a participant's own page speaks their language
    if page_for in LANGUAGES:
        return str(page_for)
    coordinator = g.get("coordinator")
    saved = getattr(coordinator, "language", None)
    if saved in LANGUAGES:
        return str(saved)
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(["en", "zh-CN", "zh"], default=DEFAULT_LANGUAGE)
    return "zh_CN" if best.lower().startswith("zh") else DEFAULT_LANGUAGE


def speak_language(tag: str) -> None:
    """This request's pages in the language `tag` ("zh-CN", "en"), whoever is signed in."""
    g.page_language = "zh_CN" if tag.lower().startswith("zh") else DEFAULT_LANGUAGE
    refresh()


def page_language() -> str:
    """The page's language as one of `LANGUAGES` ("en", "zh_CN")."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else DEFAULT_LANGUAGE


def html_lang() -> str:
    """The page's `lang` attribute: a BCP 47 tag (zh-CN), not a locale name."""
    return page_language().replace("_", "-")


def _locale() -> Locale:
    language = page_language()
    return Locale.parse(_FORMAT_LOCALE.get(language, language))


def format_moment(moment: datetime | None, timezone: str, style: str = "medium") -> str:
    """A UTC moment as a date and time (to the minute) in `timezone`, in the page's language."""
    if moment is None:
        return ""
    locale = _locale()
    local = moment.astimezone(ZoneInfo(timezone))
    if style == "long":
        return format_date(local.date(), format="long", locale=locale)
    pattern = str(locale.datetime_formats["medium"])
    return pattern.format(
        format_time(local, format="short", locale=locale),
        format_date(local.date(), format="medium", locale=locale),
    )


def language_name(tag: str) -> str:
    """A language tag ("zh-CN") by its name in the page's language ("Chinese (China)")."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(_locale())
    except (ValueError, TypeError):
        return tag
    return name or tag


def format_day(day: date | None, style: str = "medium") -> str:
    if day is None:
        return ""
    return format_date(day, format=style, locale=_locale())


def format_month(day: date | None, skeleton: str = "yMMMM") -> str:
    """The month of `day` as the page's language writes it: "June 2019", "2019年6月"
    (a Babel skeleton, so the order of year and month is the language's own)."""
    if day is None:
        return ""
    return format_skeleton(skeleton, day, locale=_locale())


def format_number(value: float) -> str:
    return format_decimal(value, locale=_locale())


def format_share(value: float | None) -> str:
    """A fraction (0.42) as a percentage ("42%"); empty when there is nothing to divide."""
    if value is None:
        return "–"
    return format_percent(value, locale=_locale())


def format_file_size(size: int) -> str:
    """A number of bytes as people read it: "820 B", "14.2 KB", "3.1 MB"."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{format_decimal(round(size / scale, 1), locale=_locale())} {unit}"
    return f"{format_decimal(size, locale=_locale())} B"
