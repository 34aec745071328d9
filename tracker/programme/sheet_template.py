"""The participants spreadsheet template offered to coordinators (`examples/participants.*`).

Built from the reader's own column list, so the template and the reader
cannot drift apart; a test reads the shipped files back. Regenerate them with
`python -m tracker.programme.sheet_template examples/`.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

from tracker.programme.sheet import COLUMNS

HEADERS = tuple(aliases[0] for aliases in COLUMNS.values())

EXAMPLE_ROWS: tuple[tuple[str | date, ...], ...] = (
    (
        "wang.xiaoming@example.cn",
        "王晓明",
        "北京市西城区生态环境局",
        "zh-CN",
        "Asia/Shanghai",
        "CN",
        "1",
        "发布西城区清洁空气行动计划",
        date(2019, 9, 30),
    ),
    (
        "wang.xiaoming@example.cn",
        "",
        "",
        "",
        "",
        "",
        "2",
        "试点低排放物流配送区",
        date(2020, 3, 31),
    ),
    (
        "anna.keller@example.org",
        "Anna Keller",
        "City Network Secretariat",
        "en",
        "Europe/Berlin",
        "DE",
        "1",
        "Pair each city with a peer city",
        date(2019, 9, 30),
    ),
)


def template_csv() -> bytes:
    """The template as CSV UTF-8 with a byte-order mark (what Excel opens correctly)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in EXAMPLE_ROWS:
        writer.writerow([v.isoformat() if isinstance(v, date) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The template as a workbook: bold headers, refs as text, due dates as dates."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "participants"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    ref_column = HEADERS.index("ref") + 1
    for row in EXAMPLE_ROWS:
        sheet.append(list(row))
        last = sheet.max_row
        # Text, so that "1.10" stays "1.10" rather than becoming the number 1.1.
        sheet.cell(row=last, column=ref_column).number_format = "@"
        sheet.cell(row=last, column=len(HEADERS)).number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFGHI", (28, 14, 28, 10, 16, 9, 6, 36, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def main(folder: str) -> None:
    target = Path(folder)
    (target / "participants.csv").write_bytes(template_csv())
    (target / "participants.xlsx").write_bytes(template_xlsx())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples")
