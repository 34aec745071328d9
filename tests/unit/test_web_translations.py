"""The dashboard's Chinese catalogue: complete, and the committed .mo is the compiled .po."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "tracker/web/translations/zh_Hans_CN/LC_MESSAGES"


def _extracted() -> set[str]:
    """Every message id the dashboard's code and templates ask to translate."""
    method_map = [("tracker/web/**.py", "python"), ("templates/web/**.html", "jinja2")]
    options = {"templates/web/**.html": {"extensions": "jinja2.ext.do"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, options_map=options, keywords=keywords
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_every_dashboard_string_has_a_chinese_translation() -> None:
    with (CATALOGUE / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalogue
        if m.id and all(m.string) and not m.fuzzy
    }
    missing = sorted(_extracted() - translated)
    assert not missing, f"untranslated (run `make translations`): {missing}"


def test_the_committed_mo_is_the_compiled_po() -> None:
    def pairs(messages: object) -> dict[object, object]:
        return {
            tuple(m.id) if isinstance(m.id, list | tuple) else m.id: (
                tuple(m.string) if isinstance(m.string, list | tuple) else m.string
            )
            for m in messages  # type: ignore[attr-defined]
            if m.id
        }

    with (CATALOGUE / "messages.po").open("rb") as po:
        source = pairs(read_po(po))
    compiled = pairs(read_mo(BytesIO((CATALOGUE / "messages.mo").read_bytes())))
    assert compiled == source, "recompile: pybabel compile -d tracker/web/translations"
