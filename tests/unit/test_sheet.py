"""Reading a participants spreadsheet: columns by header, values by the file's converters."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from tracker.errors import ProgrammeFileError
from tracker.programme.sheet import read_participants_sheet
from tracker.programme.sheet_files import sheet_rows
from tracker.programme.sheet_template import EXAMPLE_ROWS, HEADERS, template_csv, template_xlsx
from tracker.programme.spec import ActionSpec

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["email", "name", "organisation", "ref", "action", "due"]


def problems_of(rows: list[list[object]], starts_on: date | None = None) -> list[str]:
    with pytest.raises(ProgrammeFileError) as raised:
        read_participants_sheet(rows, path="sheet.csv", starts_on=starts_on)  # type: ignore[arg-type]
    return raised.value.problems


def test_one_row_per_action_makes_participants_with_their_actions() -> None:
    reading = read_participants_sheet(
        [
            HEADER,
            ["Wang@Example.cn", "王晓明", "西城区", "1", "发布行动计划", date(2019, 9, 30)],
            # openpyxl gives date cells as naive datetimes.
            ["wang@example.cn", "", "", "2", "试点物流区", datetime(2020, 3, 31)],  # noqa: DTZ001
            ["anna@example.org", "Anna Keller", None, None, None, None],
            [],
        ],
        path="sheet.xlsx",
    )
    wang, anna = reading.participants
    assert (wang.email, wang.name, wang.organisation) == ("wang@example.cn", "王晓明", "西城区")
    assert wang.actions == (
        ActionSpec(ref="1", title="发布行动计划", due=date(2019, 9, 30)),
        ActionSpec(ref="2", title="试点物流区", due=date(2020, 3, 31)),
    )
    assert (anna.name, anna.actions, anna.language, anna.timezone) == (
        "Anna Keller",
        (),
        None,
        None,
    )
    assert reading.rows == 3


def test_chinese_headers_any_order_and_extra_columns_are_read() -> None:
    reading = read_participants_sheet(
        [
            ["截止日期", "行动", "编号", "姓名", "邮箱", "时区", "国家", "语言", "备注"],
            [
                "2019年9月30日",
                "发布行动计划",
                1.0,
                "王晓明",
                "wang@example.cn",
                "Asia/Shanghai",
                "cn",
                "zh-CN",
                "电话",
            ],
        ],
        path="sheet.xlsx",
    )
    (wang,) = reading.participants
    assert (wang.timezone, wang.country, wang.language) == ("Asia/Shanghai", "CN", "zh-CN")
    assert wang.actions == (ActionSpec(ref="1", title="发布行动计划", due=date(2019, 9, 30)),)
    assert reading.warnings == ("column I (备注) is not read by the tracker",)


def test_every_problem_names_its_row_and_column_and_none_hides_another() -> None:
    problems = problems_of(
        [
            [],
            HEADER,
            ["x@example.org", "X", "", "1", "Plan", "2019-13-01"],
            ["not-an-address", "Y", "", "1", "Plan", "2019-09-30"],
            ["x@example.org", "Z", "", "1", "Again", "2019-10-01"],
            ["", "No email", "", "", "", ""],
            ["y@example.org", "Y", "", "2", "", "2019-05-01"],
            ["z@example.org", "", "", "", "", ""],
        ],
        starts_on=date(2019, 5, 19),
    )
    assert problems == [
        "row 3, column F (due): '2019-13-01' is not a date (YYYY-MM-DD)",
        "row 4, column A (email): 'not-an-address' is not an email address "
        "(An email address must have an @-sign)",
        "row 5, column B (name): 'Z' differs from 'X' on row 3 for x@example.org",
        # The bad date on row 3 does not hide the ref it repeats.
        "row 5, column D (ref): action '1' of x@example.org is also on row 3",
        "row 6, column A (email): missing: every row needs the participant's email",
        "row 7, column E (action): missing: an action needs its ref, action and due",
        "row 7, column F (due): 2019-05-01 is before the programme starts (2019-05-19)",
        "row 8, column B (name): missing: z@example.org needs a name",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["email", "name", "ref", "action"],
            ["row 1: no due column (its header may be: due, due date, 截止日期, 到期日)"],
        ),
        (
            ["邮箱", "name", "姓名", "ref", "action", "due"],
            ["row 1, column C: a second name column (the first is column B)"],
        ),
        ([], ["the sheet is empty: it needs a header row"]),
    ],
)
def test_a_header_without_the_needed_columns_is_refused(
    header: list[str], expected: list[str]
) -> None:
    assert problems_of([header] if header else []) == expected


def test_csv_in_the_encodings_excel_writes_is_read() -> None:
    text = "email;name;ref;action;due\r\nwang@example.cn;王晓明;1;发布行动计划;2019/9/30\r\n"
    for data in (
        text.encode("utf-8"),
        ("\ufeff" + text).encode("utf-8"),
        text.encode("utf-16"),
        text.encode("gbk"),
    ):
        rows = sheet_rows(data, filename="participants.CSV")
        (wang,) = read_participants_sheet(rows, path="p.csv").participants
        assert (wang.name, wang.actions[0].due) == ("王晓明", date(2019, 9, 30))


def test_a_file_that_is_not_a_workbook_is_one_clear_problem() -> None:
    with pytest.raises(ProgrammeFileError) as raised:
        sheet_rows(b"PK\x03\x04 not really a zip", filename="p.xlsx")
    assert raised.value.problems == [
        "not an XLSX workbook (save it from Excel as .xlsx, or as CSV UTF-8)"
    ]


def test_the_shipped_templates_are_what_the_generator_makes_and_the_reader_reads() -> None:
    assert (ROOT / "examples/participants.csv").read_bytes() == template_csv()
    shipped = openpyxl.load_workbook(ROOT / "examples/participants.xlsx")
    fresh = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
    values = [list(r) for r in shipped.worksheets[0].iter_rows(values_only=True)]
    assert values == [list(r) for r in fresh.worksheets[0].iter_rows(values_only=True)]
    assert values[0] == list(HEADERS)
    for name in ("participants.csv", "participants.xlsx"):
        data = (ROOT / "examples" / name).read_bytes()
        reading = read_participants_sheet(sheet_rows(data, filename=name), path=name)
        assert [p.email for p in reading.participants] == [
            "wang.xiaoming@example.cn",
            "anna.keller@example.org",
        ]
        assert sum(len(p.actions) for p in reading.participants) == len(EXAMPLE_ROWS)
        assert reading.warnings == ()


@pytest.mark.parametrize(
    ("language", "read"),
    [("zh-cn", "zh-CN"), ("EN", "en"), ("en-GB", "en-GB"), ("zh-TW", "zh-TW")],
)
def test_a_language_the_templates_speak_or_its_family_is_read(language: str, read: str) -> None:
    rows = [[*HEADER, "language"], ["a@example.org", "A", "", "1", "Plan", "2019-09-30", language]]
    reading = read_participants_sheet(rows, path="p.csv", languages=("en", "zh-CN"))
    assert reading.participants[0].language == read


def test_a_language_without_templates_is_a_problem() -> None:
    rows = [[*HEADER, "language"], ["a@example.org", "A", "", "1", "Plan", "2019-09-30", "fr"]]
    with pytest.raises(ProgrammeFileError) as raised:
        read_participants_sheet(rows, path="p.csv", languages=("en", "zh-CN"))
    assert raised.value.problems == [
        "row 2, column G (language): no email templates in 'fr' (there are: en, zh-CN)"
    ]
