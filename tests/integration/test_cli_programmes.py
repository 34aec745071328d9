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
    assert "31 new" in first.stdout
    second = run_tracker("import", str(EXAMPLE), env=tracker_env)
    assert second.stdout.strip() == "clean-air-2019-china: up to date, nothing changed"
    status = run_tracker("status", "--json", env=tracker_env)
    assert status.code == 0
    assert status.stderr == ""
    participants = status.json()["programmes"][0]["participants"]
    assert len(participants) == 9
    assert sum(len(p["actions"]) for p in participants) == 19
    table = run_tracker("status", env=tracker_env)
    assert "发布西城区清洁空气行动计划" in table.stdout
    assert "not started" in table.stdout


def test_dry_run_reports_and_writes_nothing(tracker_env: dict[str, str]) -> None:
    result = run_tracker("import", str(SMALL), "--dry-run", "--json", env=tracker_env)
    assert result.code == 0, result.stderr
    assert result.json()["dry_run"] is True
    assert "participant anna@example.org: new" in result.json()["changes"]
    assert run_tracker("status", "--json", env=tracker_env).json() == {"programmes": []}


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
    for command in ("db", "import", "status"):
        assert command in top.stdout
        assert run_tracker(command, "--help").code == 0
