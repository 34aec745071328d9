"""Rows out as CSV or XLSX, streamed, with cells that cannot become formulas.

A spreadsheet program evaluates a cell that begins with `=`, `+`, `-` or `@`
(and, through some importers, one that begins with a tab or a carriage
return) as a formula: a participant's note `=HYPERLINK("http://evil",…)`
would run in the coordinator's Excel. Every text cell that begins with one of
these, after any leading spaces, or with their full-width forms, gets a
leading apostrophe: the program shows it and never evaluates it. Numbers and
dates are written as themselves.

Both writers take an iterator and never hold the rows: CSV is produced line
by line, XLSX with openpyxl's write-only mode (rows go to a temporary file
as they come).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

ExportCell = str | int | float | date | datetime | None

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_CSV_LINES_PER_CHUNK = 500


def neutralised(text: str) -> str:
    """`text` made safe to open in a spreadsheet program (see the module docstring)."""
    if text.startswith(FORMULA_STARTS) or text.lstrip(" \u3000").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _safe(value: ExportCell) -> ExportCell:
    if isinstance(value, str):
        return neutralised(value)
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: the local time, with its offset, as text.
        return neutralised(value.isoformat(timespec="seconds"))
    return value


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[ExportCell]]) -> Iterator[str]:
    """The CSV text in chunks: UTF-8 with a byte-order mark (so Excel reads Chinese)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if cell is None else _csv_text(_safe(cell)) for cell in row])
        if count % _CSV_LINES_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(header: Sequence[str], rows: Iterable[Sequence[ExportCell]], out: BinaryIO) -> int:
    """Write the CSV to `out`; return the number of rows."""
    count = 0

    def counted() -> Iterator[Sequence[ExportCell]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in csv_chunks(header, counted()):
        out.write(chunk.encode("utf-8"))
    return count


def _csv_text(value: ExportCell) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[ExportCell]],
    out: BinaryIO,
    *,
    title: str,
) -> int:
    """Write one sheet to `out` (write-only mode); return the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    heading = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    count = 0
    for row in rows:
        sheet.append([_xlsx_value(cell) for cell in row])
        count += 1
    workbook.save(out)
    return count


def _xlsx_value(value: ExportCell) -> ExportCell:
    safe = _safe(value)
    if isinstance(safe, str):
        # Control characters are not allowed in the XML of a sheet.
        return ILLEGAL_CHARACTERS_RE.sub("", safe)
    return safe  # a date gets openpyxl's date format (yyyy-mm-dd)
