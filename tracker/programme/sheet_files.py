"""Spreadsheet files as rows of cells: XLSX (openpyxl) and CSV (any common encoding).

Only the first worksheet of a workbook is read, values rather than formulas
(`data_only`), in openpyxl's streaming read-only mode. With `defusedxml`
installed (a dependency), openpyxl refuses XML entity tricks.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import PurePath

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from tracker.errors import ProgrammeFileError

SHEET_SUFFIXES = (".xlsx", ".csv")
# A programme of this many action rows is far past any training's size; the
# bound keeps a hostile file from holding a worker for minutes.
MAX_ROWS = 100_000
MAX_COLUMNS = 60

Cell = str | int | float | date | datetime | None


def is_sheet(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in SHEET_SUFFIXES


def sheet_rows(data: bytes, *, filename: str) -> list[list[Cell]]:
    """The rows of the file's first sheet, trailing empty cells trimmed."""
    suffix = PurePath(filename).suffix.lower()
    rows = _xlsx_rows(data, filename) if suffix == ".xlsx" else _csv_rows(data, filename)
    found: list[list[Cell]] = []
    for row in rows:
        if len(found) >= MAX_ROWS:
            raise ProgrammeFileError(
                filename, [f"more than {MAX_ROWS} rows: split the programme or use YAML"]
            )
        cells = list(row[:MAX_COLUMNS])
        while cells and (cells[-1] is None or cells[-1] == ""):
            cells.pop()
        found.append(cells)
    return found


def _xlsx_rows(data: bytes, filename: str) -> Iterator[tuple[Cell, ...]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ProgrammeFileError(
            filename, ["not an XLSX workbook (save it from Excel as .xlsx, or as CSV UTF-8)"]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield tuple(_cell(value) for value in row)
    finally:
        workbook.close()


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | date | datetime):
        return value
    return str(value)  # times, booleans, errors like "#REF!": read as written


def _csv_rows(data: bytes, filename: str) -> Iterator[list[str]]:
    text = _decoded(data, filename)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as error:
        raise ProgrammeFileError(filename, [f"not a readable CSV file: {error}"]) from None


def _decoded(data: bytes, filename: str) -> str:
    """The CSV's text: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030.

    Excel writes "CSV UTF-8" with a BOM, "Unicode text" as UTF-16, and plain
    "CSV" in the system's code page, which on Chinese Windows is GBK (a subset
    of GB18030).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ProgrammeFileError(
            filename, ["not text in UTF-8 or GB18030: save it as CSV UTF-8"]
        ) from None
