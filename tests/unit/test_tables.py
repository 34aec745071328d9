"""Tables as a person reads them in a terminal: aligned in any script, safe from data."""

from __future__ import annotations

import pytest

from tracker.cli.tables import display_width, format_table, truncate, update_text


def test_columns_line_up_with_chinese_text() -> None:
    table = format_table(
        ["ref", "action", "status"],
        [["1", "发布西城区清洁空气行动计划", "done"], ["2.1", "Pilot zone", "in progress"]],
        indent="  ",
    )
    assert table.splitlines() == [
        "  ref  action                      status",
        "  1    发布西城区清洁空气行动计划  done",
        "  2.1  Pilot zone                  in progress",
    ]
    starts = {display_width(line.split("done")[0]) for line in table.splitlines()[1:2]}
    assert starts == {display_width("  ref  action                      ")}


def test_a_table_never_wraps_however_wide() -> None:
    note = "x" * 500
    table = format_table(["ref", "note"], [["1", note]])
    assert table.splitlines()[1] == f"1    {note}"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("[bold]not markup[/bold]", "[bold]not markup[/bold]"),
        ("red \x1b[31malert", "red  [31malert"),
        ("two\nlines", "two lines"),
        ("bell\x07", "bell"),
        ("rtl \u202eevil", "rtl  evil"),
    ],
)
def test_cells_are_shown_as_plain_text(cell: str, shown: str) -> None:
    (_header, row) = format_table(["ref", "note"], [["1", cell]]).splitlines()
    assert row == f"1    {shown}".rstrip()


def test_a_column_can_be_cut_to_a_width() -> None:
    rows = [["1", "a very long action title indeed"]]
    assert format_table(["ref", "action"], rows, max_widths={1: 10}).splitlines()[1] == (
        "1    a very lo…"
    )


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("a longer title", 8, "a longe…"),
        ("发布西城区清洁空气行动计划", 10, "发布西城…"),  # 4 wide characters, 8 columns, and "…"
        ("发布西城区", 10, "发布西城区"),
        ("line\nbreak", 20, "line break"),
    ],
)
def test_truncate_counts_terminal_columns(text: str, width: int, expected: str) -> None:
    assert truncate(text, width) == expected
    assert display_width(truncate(text, width)) <= width


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (
            {"ref": "2", "status": "in_progress", "percent": 60, "note": "等待预算批复"},
            "2: in progress 60% 等待预算批复",
        ),
        ({"ref": "1", "status": "done", "percent": 100, "note": ""}, "1: done 100%"),
        (
            {"ref": None, "status": None, "percent": None, "note": "下周再联系"},
            "general: 下周再联系",
        ),
    ],
)
def test_update_text(update: dict[str, object], expected: str) -> None:
    assert update_text(update) == expected
