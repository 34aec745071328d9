"""Plain-text tables that line up with Chinese text (wide characters take two columns)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def truncate(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    result, used = "", 0
    for ch in text:
        step = display_width(ch)
        if used + step > width - 1:
            break
        result, used = result + ch, used + step
    return result + "…"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = "") -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [
        max([display_width(headers[i])] + [display_width(row[i]) for row in rows])
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell + " " * (widths[i] - display_width(cell)) if i < len(cells) - 1 else cell
            for i, cell in enumerate(cells)
        ]
        return (indent + "  ".join(padded)).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def update_text(update: Mapping[str, Any]) -> str:
    """One recorded update as people read it: "2: in_progress 60% waiting for budget"."""
    parts = [
        (update["status"] or "").replace("_", " "),
        f"{update['percent']}%" if update["percent"] is not None else "",
        update["note"],
    ]
    return f"{update['ref'] or 'general'}: " + " ".join(part for part in parts if part)
