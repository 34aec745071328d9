"""Plain-text tables for the terminal, laid out by rich.

rich measures every character's width on screen (a Chinese character takes
two columns), so columns line up in any language. Cells are data from
participants' email: they are shown as text, never as rich markup, and
control characters (a terminal escape, a line break) become spaces, so a
note cannot move the cursor or break the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from io import StringIO
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

# C0 and C1 controls, line and paragraph separators, and the bidirectional
# overrides that can make a line read differently from what it holds.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_WIDE_ENOUGH = 10_000  # never wrap: a table is as wide as its widest row


def display_width(text: str) -> int:
    """How many terminal columns `text` takes."""
    return cell_len(text)


def safe_cell(text: str) -> str:
    """`text` on one line with nothing a terminal would act on."""
    return _UNSAFE.sub(" ", text)


def truncate(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, ending in "…" when it was longer."""
    text = safe_cell(text)
    if cell_len(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += cell_len(char)
        if used > width - 1:  # keep a column for the ellipsis
            break
        kept.append(char)
    return "".join(kept) + "…"


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    indent: str = "",
    max_widths: Mapping[int, int] | None = None,
) -> str:
    """Columns padded to their widest cell, two spaces apart; trailing spaces removed.

    `max_widths` cuts a column (by index) to that many terminal columns, with "…".
    """
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="", show_lines=False)
    limits = max_widths or {}
    for index, header in enumerate(headers):
        table.add_column(
            Text(header), no_wrap=True, overflow="ellipsis", max_width=limits.get(index)
        )
    for row in rows:
        table.add_row(*(Text(safe_cell(cell)) for cell in row))
    console = Console(
        file=StringIO(),
        width=_WIDE_ENOUGH,
        color_system=None,
        force_terminal=False,
        legacy_windows=False,
        emoji=False,
        highlight=False,
    )
    console.print(table)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    return "\n".join((indent + line).rstrip() for line in lines)


def update_text(update: Mapping[str, Any]) -> str:
    """One recorded update as people read it: "2: in progress 60% waiting for budget"."""
    parts = [
        (update["status"] or "").replace("_", " "),
        f"{update['percent']}%" if update["percent"] is not None else "",
        update["note"],
    ]
    return f"{update['ref'] or 'general'}: " + " ".join(part for part in parts if part)
