"""The dashboard's Chinese catalogue: complete, and the committed .mo is the compiled .po."""

from __future__ import annotations

import itertools
import shlex
import shutil
import subprocess
import sys
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


def test_make_translations_runs_and_leaves_a_complete_catalogue(tmp_path: Path) -> None:
    """The Makefile's recipe, run on a copy of the catalogue: every command is valid
    for the installed pybabel, and a catalogue that is up to date stays complete."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntranslations:", 1)[1].splitlines()[1:]
    commands = [line.strip() for line in itertools.takewhile(lambda x: x[:1] == "\t", recipe)]
    assert [c.split()[1] for c in commands if "pybabel" in c] == ["extract", "update", "compile"]
    shutil.copytree(ROOT / "tracker/web/translations", tmp_path / "translations")
    bin_dir = str(Path(sys.executable).parent)
    for command in commands:
        line = (
            command.replace("$(BIN)", bin_dir)
            .replace("build/", f"{tmp_path}/")
            .replace("tracker/web/translations", str(tmp_path / "translations"))
        )
        if line.startswith("mkdir"):
            continue
        done = subprocess.run(shlex.split(line), cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    assert "(100%) translated" in done.stderr
    with (tmp_path / "translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as po:
        assert not [m.id for m in read_po(po) if m.id and (m.fuzzy or not all(m.string))]
