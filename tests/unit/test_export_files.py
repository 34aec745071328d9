"""Exported cells never become formulas; the writers stream."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime

import openpyxl
import pytest

from tracker.services.export_files import csv_chunks, neutralised, write_csv, write_xlsx

HOSTILE = [
    "=1+1",
    '=HYPERLINK("http://evil.example","click")',
    "+41 22 555 0100",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\u3000=1+1",  # an ideographic space first
    "＝1+1",  # full-width
    "=cmd|' /C calc'!A0",
]
HARMLESS = ["done", "进行中 60%", "1: done", "a = b", "email@example.org", ""]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_that_would_be_a_formula_starts_with_an_apostrophe(text: str) -> None:
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    assert neutralised(text) == text


def test_csv_cells_are_neutralised_and_numbers_and_dates_stay_themselves() -> None:
    rows = [(text, 60, date(2019, 9, 30), None) for text in HOSTILE]
    data = "".join(csv_chunks(("note", "percent", "due", "empty"), rows))
    assert data.startswith("\ufeffnote,percent,due,empty\r\n")
    read = list(csv.reader(io.StringIO(data.removeprefix("\ufeff"), newline="")))
    assert [row[0] for row in read[1:]] == ["'" + text for text in HOSTILE]
    assert read[1][1:] == ["60", "2019-09-30", ""]


def test_xlsx_cells_are_text_never_formulas() -> None:
    out = io.BytesIO()
    rows = [
        (text, -5, date(2019, 9, 30), datetime(2019, 6, 24, 1, 30, tzinfo=UTC)) for text in HOSTILE
    ]
    rows.append(("bell\x07 and nul\x00 removed", 1, None, None))
    assert write_xlsx(("note", "n", "due", "at"), rows, out, title="updates") == len(rows)
    sheet_xml = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml  # no formula anywhere
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    sheet = book["updates"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    # (XML reads a carriage return back as a line feed.)
    assert [v[0] for v in values[:-1]] == ["'" + text.replace("\r", "\n") for text in HOSTILE]
    assert all(sheet.cell(row=n, column=1).data_type == "s" for n in range(2, len(rows) + 2))
    assert values[0][1:] == [-5, datetime(2019, 9, 30), "2019-06-24T01:30:00+00:00"]  # noqa: DTZ001
    assert values[-1][0] == "bell and nul removed"


def test_the_csv_writer_streams_rather_than_reading_every_row_first() -> None:
    def endless() -> Iterator[tuple[str]]:
        for n in itertools.count():
            yield (f"row {n}",)

    first = next(csv_chunks(("n",), endless()))
    assert first.count("\r\n") == 501  # the header and one chunk of rows


def test_write_csv_counts_rows() -> None:
    out = io.BytesIO()
    assert write_csv(("a",), [("x",), ("=y",)], out) == 2
    assert out.getvalue().decode("utf-8-sig") == "a\r\nx\r\n'=y\r\n"
