"""`tracker import` of a participants spreadsheet into an existing programme, both engines."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from tests.cli import run_tracker

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"
SLUG = "small-programme"
NOW = "2019-06-01T00:00:00Z"


def sheet(tmp_path: Path, rows: list[list[object]], name: str = "participants.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    active = workbook.active
    assert active is not None
    for row in rows:
        active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return path


HEADER = ["email", "name", "organisation", "ref", "action", "due"]
SAME = [
    [
        "wang.xiaoming@example.org",
        "王晓明",
        "北京市西城区生态环境局",
        "1",
        "发布西城区清洁空气行动计划",
        "2019-09-30",
    ],
    ["wang.xiaoming@example.org", "", "", "2", "试点低排放物流配送区", "2020-03-31"],
    ["anna@example.org", "Anna Keller", "", "1", "Pair each city with a peer city", "2019-09-30"],
]


def test_a_spreadsheet_updates_participants_and_actions_and_keeps_the_rules(
    tracker_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_tracker("db", "upgrade", env=tracker_env).code == 0
    assert run_tracker("import", str(SMALL), "--now", NOW, env=tracker_env).code == 0
    rules_before = run_tracker("schedule", "show", SLUG, "--json", env=tracker_env).json()
    unchanged = sheet(tmp_path, [HEADER, *SAME])
    result = run_tracker("import", str(unchanged), "--programme", SLUG, env=tracker_env)
    assert (result.code, result.stdout.strip()) == (0, f"{SLUG}: up to date, nothing changed"), (
        result.stderr
    )

    changed = sheet(
        tmp_path,
        [
            HEADER,
            SAME[0],
            ["wang.xiaoming@example.org", "", "", "2", "试点低排放物流配送区", "2020-06-30"],
            [
                "li.na@example.cn",
                "李娜",
                "成都市生态环境局",
                "1",
                "建立空气质量监测网络",
                "2019-12-31",
            ],
        ],
        name="changed.xlsx",
    )
    dry = run_tracker(
        "import", str(changed), "--programme", SLUG, "--dry-run", "--now", NOW, env=tracker_env
    )
    assert dry.code == 0, dry.stderr
    assert "action 2 of wang.xiaoming@example.org: due" in dry.stdout
    assert "participant li.na@example.cn: new" in dry.stdout
    assert "participant anna@example.org: archived (not in the file)" in dry.stdout
    assert "(dry run: nothing written)" in dry.stdout
    status = run_tracker("status", "--json", env=tracker_env).json()["programmes"][0]
    assert len(status["participants"]) == 2
    assert status["participants"][0]["actions"][1]["due"] == "2020-03-31"

    applied = run_tracker(
        "import", str(changed), "--programme", SLUG, "--now", NOW, env=tracker_env
    )
    assert applied.code == 0, applied.stderr
    status = run_tracker("status", "--json", env=tracker_env).json()["programmes"][0]
    assert [p["email"] for p in status["participants"]] == [
        "wang.xiaoming@example.org",
        "li.na@example.cn",
    ]
    assert status["participants"][0]["actions"][1]["due"] == "2020-06-30"
    assert status["name"] == "Small test programme"
    assert run_tracker("schedule", "show", SLUG, "--json", env=tracker_env).json() == rules_before


def test_a_spreadsheet_with_problems_changes_nothing_and_names_each_cell(
    tracker_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_tracker("db", "upgrade", env=tracker_env).code == 0
    assert run_tracker("import", str(SMALL), "--now", NOW, env=tracker_env).code == 0
    before = run_tracker("status", "--json", env=tracker_env).json()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,name,ref,action,due,phone\n"
        "wang.xiaoming@example.org,王晓明,1,发布,2019-02-30,123\n"
        "anna@example.org,Anna,1,Pair,2019-01-01,\n",
        encoding="utf-8",
    )
    result = run_tracker("import", str(bad), "--programme", SLUG, env=tracker_env)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"error: {bad}: 2 problems, nothing imported",
        f"  {bad}: row 2, column E (due): '2019-02-30' is not a date (YYYY-MM-DD)",
        f"  {bad}: row 3, column E (due): 2019-01-01 is before the programme starts (2019-05-19)",
    ]
    assert run_tracker("status", "--json", env=tracker_env).json() == before


def test_a_spreadsheet_needs_its_programme_and_a_yaml_file_must_match_it(
    tracker_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_tracker("db", "upgrade", env=tracker_env).code == 0
    no_slug = run_tracker("import", str(ROOT / "examples/participants.csv"), env=tracker_env)
    assert no_slug.code == 1
    assert "name it with --programme SLUG" in no_slug.stderr
    unknown = run_tracker(
        "import", str(ROOT / "examples/participants.csv"), "--programme", "nope", env=tracker_env
    )
    assert (unknown.code, unknown.stderr.strip()) == (1, "error: no programme with slug 'nope'")
    other = run_tracker("import", str(SMALL), "--programme", "other", env=tracker_env)
    assert (other.code, other.stderr.strip()) == (
        1,
        f"error: {SMALL} is the programme file of {SLUG}, not other",
    )
    warned = sheet(tmp_path, [[*HEADER, "phone"], [*SAME[0], "123"]])
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    result = run_tracker("import", str(warned), "--programme", SLUG, "--dry-run", env=tracker_env)
    assert result.code == 0
    assert f"warning: {warned}: column G (phone) is not read by the tracker" in result.stderr
