"""Reading programme files: every problem at once, each with its line."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from tracker.core.model import RuleKind
from tracker.errors import ProgrammeFileError
from tracker.programme.reading import read_programme_file

ROOT = Path(__file__).resolve().parents[2]
SMALL = (ROOT / "tests/data/programmes/small.yaml").read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ProgrammeFileError) as raised:
        read_programme_file(text, path="p.yaml")
    return raised.value.problems


def test_the_example_programme_reads() -> None:
    spec = read_programme_file((ROOT / "examples/programme.yaml").read_text(encoding="utf-8"))
    assert spec.slug == "clean-air-2019-china"
    assert len(spec.participants) == 9
    assert {p.organisation for p in spec.participants} >= {
        "成都市生态环境局",
        "河北省发展和改革委员会",
    }
    assert [r.kind for r in spec.rules] == list(RuleKind)


def test_values_are_read_as_written() -> None:
    spec = read_programme_file(SMALL)
    assert spec.name == "Small test programme"
    assert [(c.name, c.email) for c in spec.coordinators] == [
        ("Officer", "officer@example.org"),
        ("Second Officer", "second@example.org"),
    ]
    assert spec.starts_on == date(2019, 5, 19)
    assert spec.working_days_only is True
    assert spec.acknowledge_replies is True
    check_in = spec.rules[0]
    assert (check_in.every_count, check_in.every_unit, check_in.count) == (1, "month", 6)
    assert check_in.at == time(9, 30)
    wang, anna = spec.participants
    assert wang.email == "wang.xiaoming@example.org"  # addresses compare case-insensitively
    assert wang.language is None
    assert wang.timezone is None
    assert (anna.language, anna.timezone, anna.country) == ("en", "Europe/Berlin", "DE")
    assert [a.ref for a in wang.actions] == ["1", "2"]


def test_yaml_guessing_never_changes_a_value() -> None:
    text = SMALL.replace("country: CN", "country: NO").replace('ref: "2"', "ref: 1.10")
    spec = read_programme_file(text)
    assert spec.country == "NO"
    assert spec.participants[0].actions[1].ref == "1.10"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  slug: small-programme\n", "", "line 2: programme: missing key 'slug'"),
        (
            "  country: CN\n",
            "  country: CN\n  colour: red\n",
            "line 9: programme: unknown key 'colour'",
        ),
        (
            "starts_on: 2019-05-19",
            "starts_on: 2019-02-30",
            "line 4: programme starts_on: '2019-02-30' is not a date",
        ),
        (
            "timezone: Asia/Shanghai",
            "timezone: China/Beijing",
            "line 6: programme timezone: unknown time zone",
        ),
        (
            "email: anna@example.org",
            "email: anna(at)example.org",
            "line 24: participant email: 'anna(at)example.org' is not an email address",
        ),
        (
            '{ref: "2"',
            '{ref: "1"',
            "line 22: action ref '1' appears twice for wang.xiaoming@example.org",
        ),
        (
            "email: anna@example.org",
            "email: WANG.xiaoming@example.org",
            "line 23: participant wang.xiaoming@example.org is listed twice (first on line 17)",
        ),
        (
            'due: 2019-09-30}\n      - {ref: "2"',
            'due: 2019-01-31}\n      - {ref: "2"',
            "line 21: action 1 is due 2019-01-31, before the programme starts",
        ),
        (
            "{kind: escalate, after_unanswered: 2}",
            "{kind: escalate, after_unanswered: 2, days: 3}",
            "line 15: escalate rule: key 'days' does not apply to escalate",
        ),
        (
            "{kind: escalate, after_unanswered: 2}",
            "{kind: nag}",
            "line 15: follow_up rule kind: unknown kind 'nag'",
        ),
        (
            "every: 1 month",
            "every: monthly",
            "line 12: check_in rule every: 'monthly' is not a period",
        ),
        (
            'at: "09:30"}\n  - {kind: before_due',
            'at: "9.30"}\n  - {kind: before_due',
            "line 12: check_in rule at: '9.30' is not a time of day",
        ),
        (
            "ends_on: 2019-05-23",
            "ends_on: 2019-05-01",
            "line 5: programme ends_on is before starts_on",
        ),
    ],
)
def test_each_kind_of_problem_names_its_line(old: str, new: str, expected: str) -> None:
    assert old in SMALL
    problems = problems_of(SMALL.replace(old, new, 1))
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = (
        SMALL.replace("slug: small-programme", "slug: Small Programme")
        .replace("timezone: Asia/Shanghai", "timezone: Nowhere")
        .replace("email: anna@example.org", "email: nobody")
    )
    problems = problems_of(text)
    assert len(problems) == 3
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 6", "line 24"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("programme: [\n", "line 2: not valid YAML"),
        ("- just\n- a list\n", "line 1: the file must be a mapping"),
    ],
)
def test_files_that_are_not_programmes(text: str, expected: str) -> None:
    assert problems_of(text)[0].startswith(expected)
