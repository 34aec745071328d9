"""Plain-text tables that line up with Chinese text (wide characters take two columns)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


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
