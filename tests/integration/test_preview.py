"""`tracker preview`: a reminder rendered for a participant, nothing sent or written."""

from __future__ import annotations

from pathlib import Path

from tests.cli import run_tracker

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests/data/programmes/small.yaml"


def test_preview_renders_in_the_participants_language(tracker_env: dict[str, str]) -> None:
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    chinese = run_tracker(
        "preview",
        "--participant",
        "Wang.Xiaoming@example.org",
        "--now",
        "2019-06-24T02:00:00Z",
        env=tracker_env,
    )
    assert chinese.code == 0, chinese.stderr
    assert "Language: zh-CN" in chinese.stdout
    assert "尊敬的王晓明" in chinese.stdout
    assert "[1] 发布西城区清洁空气行动计划" in chinese.stdout
    english = run_tracker(
        "preview",
        "--participant",
        "anna@example.org",
        "--kind",
        "overdue",
        "--ref",
        "1",
        "--html",
        env=tracker_env,
    )
    assert english.code == 0, english.stderr
    assert "Language: en" in english.stdout
    assert "<html" in english.stdout.lower()
    assert "Pair each city with a peer city" in english.stdout
    assert (
        run_tracker("status", "--json", env=tracker_env).json()["programmes"][0]["participants"][1][
            "last_reply_at"
        ]
        is None
    )


def test_preview_names_what_it_cannot_find(tracker_env: dict[str, str]) -> None:
    assert run_tracker("import", str(SMALL), env=tracker_env).code == 0
    missing = run_tracker("preview", "--participant", "nobody@example.org", env=tracker_env)
    assert (missing.code, missing.stderr.strip()) == (1, "error: no participant nobody@example.org")
    bad_ref = run_tracker(
        "preview", "--participant", "anna@example.org", "--ref", "9", env=tracker_env
    )
    assert (bad_ref.code, bad_ref.stderr.strip()) == (
        1,
        "error: anna@example.org has no action '9'",
    )
