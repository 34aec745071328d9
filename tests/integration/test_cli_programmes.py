"""`tracker db upgrade`, `import` and `status`, run as real processes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.cli import run_tracker

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/programme.yaml"
SMALL = ROOT / "tests/data/programmes/small.yaml"


def test_upgrade_import_status_round_trip(tracker_env: dict[str, str], tmp_path: Path) -> None:
    assert run_tracker("db", "upgrade", env=tracker_env).code == 0
    first = run_tracker("import", str(EXAMPLE), env=tracker_env)
    assert first.code == 0, first.stderr
    assert first.stderr == ""  # no warnings about the example
    assert first.stdout.splitlines()[-1] == (
        "shrdc-2019-china: changed: 40 new, 0 updated, 0 archived"
    )
    second = run_tracker("import", str(EXAMPLE), env=tracker_env)
    assert second.stdout.strip() == "shrdc-2019-china: up to date, nothing changed"
    status = run_tracker("status", "--json", env=tracker_env)
    assert status.code == 0
    assert status.stderr == ""
    participants = status.json()["programmes"][0]["participants"]
    assert len(participants) == 12
    assert sum(len(p["actions"]) for p in participants) == 25


def test_the_status_table_reads_right(tracker_env: dict[str, str]) -> None:
    """Headed by the programme's name (it has two coordinators), aligned in Chinese."""
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    table = run_tracker("status", env=tracker_env)
    assert table.code == 0
    assert table.stdout.splitlines() == [
        "small-programme  Small test programme",
        "",
        "  王晓明 <wang.xiaoming@example.org>  active, last reply: never",
        "    ref  action                      due         status       %  last update",
        "    1    发布西城区清洁空气行动计划  2019-09-30  not started",
        "    2    试点低排放物流配送区        2020-03-31  not started",
        "",
        "  Anna Keller <anna@example.org>  active, last reply: never",
        "    ref  action                           due         status       %  last update",
        "    1    Pair each city with a peer city  2019-09-30  not started",
    ]
    assert "Officer" not in table.stdout


def test_dry_run_reports_and_writes_nothing(tracker_env: dict[str, str]) -> None:
    result = run_tracker("import", str(SMALL), "--dry-run", "--json", env=tracker_env)
    assert result.code == 0, result.stderr
    assert result.json()["dry_run"] is True
    assert {
        "entity": "participant",
        "subject": "participant anna@example.org",
        "change": "new",
        "field": None,
        "old": None,
        "new": None,
        "text": "participant anna@example.org: new",
    } in result.json()["changes"]
    assert run_tracker("status", "--json", env=tracker_env).json() == {"programmes": []}


def test_a_dry_run_says_old_and_new_as_text(tracker_env: dict[str, str], tmp_path: Path) -> None:
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        SMALL.read_text(encoding="utf-8")
        .replace("every: 1 month", "every: 2 weeks")
        .replace('due: 2019-09-30}\n      - {ref: "2"', 'due: 2019-10-31}\n      - {ref: "2"'),
        encoding="utf-8",
    )
    result = run_tracker("import", str(changed), "--dry-run", env=tracker_env)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "  check_in rule: every 1 month → every 2 weeks",
        "  action 1 of wang.xiaoming@example.org: due 2019-09-30 → 2019-10-31",
        "small-programme: would change: 0 new, 2 updated, 0 archived (dry run: nothing written)",
    ]
    again = run_tracker("import", str(changed), "--dry-run", env=tracker_env)
    assert again.stdout == result.stdout  # nothing was written


def test_a_large_import_prints_a_summary_not_a_line_per_row(
    tracker_env: dict[str, str], tmp_path: Path
) -> None:
    people = "".join(
        f"  - name: Person {n}\n    email: p{n}@example.org\n    actions:\n"
        f'      - {{ref: "1", title: Action {n}, due: 2019-09-30}}\n'
        for n in range(30)
    )
    big = tmp_path / "big.yaml"
    big.write_text(
        SMALL.read_text(encoding="utf-8").split("participants:")[0] + "participants:\n" + people,
        encoding="utf-8",
    )
    listed = run_tracker("import", str(big), "--changes", "--dry-run", env=tracker_env)
    assert listed.code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 67 + 1
    assert "  participant p29@example.org: new" in lines
    assert "  check_in rule: added (every 1 month, first 2019-06-23, count 6, at 09:30)" in lines
    result = run_tracker("import", str(big), env=tracker_env)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "  67 changes: 30 actions new, 2 coordinators new, 30 participants new, "
        "1 programme new, 4 rules added (list them with --changes)",
        "small-programme: changed: 63 new, 0 updated, 0 archived",
    ]
    assert result.stderr == ""  # no progress bar when nobody watches


def test_warnings_name_the_line_on_stderr(tracker_env: dict[str, str], tmp_path: Path) -> None:
    eastern = tmp_path / "eastern.yaml"
    eastern.write_text(
        SMALL.read_text(encoding="utf-8").replace("timezone: Europe/Berlin", "timezone: EST"),
        encoding="utf-8",
    )
    result = run_tracker("import", str(eastern), "--json", env=tracker_env)
    assert result.code == 0
    assert result.stderr.startswith(
        f"warning: {eastern}: line 26: participant timezone: 'EST' is a fixed offset"
    )
    assert result.json()["warnings"][0].startswith("line 26: participant timezone: 'EST'")


@pytest.mark.parametrize(
    ("content", "env_extra", "message"),
    [
        (
            "programme: " + "[" * 10_000 + "]" * 10_000 + "\n",
            {},
            "line 1: nested more than 24 levels deep",
        ),
        ("x: 1\n" + "#" * (2 * 1024 * 1024), {"TRACKER_MAX_PROGRAMME_MB": "1"}, "larger than 1 MB"),
        ("a: !!python/object/apply:os.system [true]\n", {}, "line 1: the tag"),
        (b"\xff\xfe\x00".decode("latin-1"), {}, "not UTF-8 text"),
    ],
)
def test_hostile_files_are_one_clear_line(
    tracker_env: dict[str, str],
    tmp_path: Path,
    content: str,
    env_extra: dict[str, str],
    message: str,
) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_bytes(content.encode("latin-1" if "\xff" in content else "utf-8"))
    result = run_tracker("import", str(hostile), env={**tracker_env, **env_extra})
    assert result.code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 2


def _sqlite_digest(url: str) -> str:
    path = Path(url.removeprefix("sqlite:///"))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_broken_file_lists_every_problem_and_changes_nothing(
    tracker_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    before = run_tracker("status", "--json", env=tracker_env).stdout
    digest = (
        _sqlite_digest(tracker_env["TRACKER_DATABASE_URL"])
        if "sqlite" in tracker_env["TRACKER_DATABASE_URL"]
        else None
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        SMALL.read_text(encoding="utf-8")
        .replace("title: 发布西城区清洁空气行动计划", "title: 已改名")
        .replace("timezone: Europe/Berlin", "timezone: Europe/Atlantis")
        .replace("due: 2020-03-31", "due: 2020-02-30"),
        encoding="utf-8",
    )
    result = run_tracker("import", str(broken), env=tracker_env)
    assert result.code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {broken}: 2 problems, nothing imported"
    assert "line 22: action due: '2020-02-30' is not a date" in lines[1]
    assert "line 26: participant timezone: unknown time zone 'Europe/Atlantis'" in lines[2]
    assert "Traceback" not in result.stderr
    assert run_tracker("status", "--json", env=tracker_env).stdout == before
    if digest is not None:
        assert _sqlite_digest(tracker_env["TRACKER_DATABASE_URL"]) == digest


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("import", "missing.yaml"), 1, "error: missing.yaml: no such file"),
        (("status", "--programme", "nope"), 1, "error: no programme with slug 'nope'"),
        (("status", "--colour"), 2, "No such option '--colour'"),
        (("frobnicate",), 2, "No such command 'frobnicate'"),
    ],
)
def test_errors_are_one_clear_line(
    tracker_env: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    result = run_tracker(*args, env=tracker_env)
    assert result.code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_stops_the_program_naming_the_key(tracker_env: dict[str, str]) -> None:
    env = {**tracker_env, "TRACKER_SEND_RATE": "lots"}
    result = run_tracker("status", env=env)
    assert result.code == 1
    assert result.stderr.strip() == "error: TRACKER_SEND_RATE: not a whole number: 'lots'"


def test_an_unmigrated_database_says_what_to_do(tmp_path: Path) -> None:
    env = {"TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    result = run_tracker("status", env=env, cwd=tmp_path)
    assert result.code == 1
    assert "run `tracker db upgrade`" in result.stderr


def test_every_command_has_help() -> None:
    top = run_tracker("--help")
    assert top.code == 0
    assert run_tracker("participant", "change-email", "--help").code == 0
    for command in ("db", "import", "status"):
        assert command in top.stdout
        assert run_tracker(command, "--help").code == 0
