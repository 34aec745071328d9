"""Reading programme files: every problem at once, each with its line."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest

from tracker.core.model import RuleKind
from tracker.errors import ProgrammeFileError
from tracker.programme.limits import ReadingLimits
from tracker.programme.reading import read_programme_file
from tracker.programme.spec import (
    ActionSpec,
    CoordinatorSpec,
    ParticipantSpec,
    ProgrammeSpec,
    RuleSpec,
)

ROOT = Path(__file__).resolve().parents[2]
SMALL = (ROOT / "tests/data/programmes/small.yaml").read_text(encoding="utf-8")
LANGUAGES = ("en", "zh-CN")


def read(text: str) -> ProgrammeSpec:
    spec = read_programme_file(text, path="p.yaml", languages=LANGUAGES)
    return replace(spec, participants=tuple(spec.participants))


def problems_of(text: str) -> list[str]:
    with pytest.raises(ProgrammeFileError) as raised:
        read(text)
    return raised.value.problems


def test_the_example_programme_reads() -> None:
    spec = read((ROOT / "examples/programme.yaml").read_text(encoding="utf-8"))
    assert spec.slug == "shrdc-2019-china"
    assert (spec.starts_on, spec.ends_on) == (date(2019, 5, 19), date(2019, 5, 23))
    assert len(spec.participants) == 12
    organisations = " ".join(p.organisation or "" for p in spec.participants)
    for government in (
        "西城区",
        "石景山区",
        "昌平区",
        "延庆区",
        "通州区",
        "北京市人民政府外事办公室",
    ):
        assert government in organisations
    for government in ("成都市", "湖南省", "云南省", "Seoul"):
        assert government in organisations
    assert [p.language for p in spec.participants].count("en") == 1
    assert [r.kind for r in spec.rules] == list(RuleKind)
    assert spec.warnings == ()


# Every key a programme file may hold, each set to something other than its default.
FULL = """\
programme:
  slug: full-programme
  name: Full test programme
  starts_on: 2019-05-19
  ends_on: 2019-05-23
  timezone: Asia/Seoul
  language: en
  country: KR
  working_days_only: false
  acknowledge_replies: no
  weekly_digest: off
  coordinators:
    - {name: First Officer, email: First@Example.org}
    - {name: Second Officer, email: second@example.org}
follow_up:
  - {kind: check_in, every: 2 weeks, first: 2019-06-03, count: 5, at: "08:15"}
  - {kind: before_due, days: 3, at: "10:00"}
  - {kind: overdue, every_days: 14, max: 2, at: "16:45"}
  - {kind: escalate, after_unanswered: 3}
participants:
  - name: 王晓明
    email: Wang.Xiaoming@Example.CN
    organisation: 北京市西城区生态环境局
    language: zh-CN
    timezone: Asia/Shanghai
    country: CN
    previous_emails: [wang@old.example.cn, XM.Wang@Example.org]
    actions:
      - {ref: "1", title: 发布西城区清洁空气行动计划, due: 2019-09-30}
      - {ref: "2.1", title: 试点低排放物流配送区, due: 2020-03-31}
  - name: Grace Kim
    email: grace@example.org
    actions: []
"""


def test_values_are_read_as_written() -> None:
    assert read(FULL) == ProgrammeSpec(
        slug="full-programme",
        name="Full test programme",
        starts_on=date(2019, 5, 19),
        ends_on=date(2019, 5, 23),
        timezone="Asia/Seoul",
        language="en",
        country="KR",
        working_days_only=False,
        acknowledge_replies=False,
        weekly_digest=False,
        coordinators=(
            CoordinatorSpec(name="First Officer", email="first@example.org"),
            CoordinatorSpec(name="Second Officer", email="second@example.org"),
        ),
        rules=(
            RuleSpec(
                kind=RuleKind.CHECK_IN,
                at=time(8, 15),
                every_count=2,
                every_unit="week",
                first=date(2019, 6, 3),
                count=5,
            ),
            RuleSpec(kind=RuleKind.BEFORE_DUE, at=time(10, 0), days=3),
            RuleSpec(kind=RuleKind.OVERDUE, at=time(16, 45), every_days=14, max_count=2),
            RuleSpec(kind=RuleKind.ESCALATE, after_unanswered=3),
        ),
        participants=(
            ParticipantSpec(
                name="王晓明",
                email="wang.xiaoming@example.cn",  # stored lower-case: matched case-insensitively
                organisation="北京市西城区生态环境局",
                language="zh-CN",
                timezone="Asia/Shanghai",
                country="CN",
                actions=(
                    ActionSpec(ref="1", title="发布西城区清洁空气行动计划", due=date(2019, 9, 30)),
                    ActionSpec(ref="2.1", title="试点低排放物流配送区", due=date(2020, 3, 31)),
                ),
                previous_emails=("wang@old.example.cn", "xm.wang@example.org"),
            ),
            ParticipantSpec(
                name="Grace Kim",
                email="grace@example.org",
                organisation=None,
                language=None,
                timezone=None,
                country=None,
                actions=(),
            ),
        ),
    )


def test_optional_values_take_their_defaults() -> None:
    spec = read(SMALL)
    assert (spec.working_days_only, spec.acknowledge_replies, spec.weekly_digest) == (
        True,
        True,
        True,
    )
    assert spec.name == "Small test programme"  # the programme's, not a coordinator's
    assert [(c.name, c.email) for c in spec.coordinators] == [
        ("Officer", "officer@example.org"),
        ("Second Officer", "second@example.org"),
    ]
    assert [r.at for r in spec.rules] == [time(9, 30)] * 3 + [None]


def test_yaml_guessing_never_changes_a_value() -> None:
    text = SMALL.replace("country: CN", "country: NO").replace('ref: "2"', "ref: 1.10")
    spec = read(text)
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


# -- one mistake, one problem; every problem at once ------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # A broken action still holds its ref: the duplicate on the next one is reported.
        (
            '{ref: "1", title: 发布西城区清洁空气行动计划, due: 2019-09-30}\n      - {ref: "2"',
            '{ref: "1", title: 发布西城区清洁空气行动计划, due: 2019-09-31}\n      - {ref: "1"',
            [
                "line 21: action due: '2019-09-31' is not a date (YYYY-MM-DD)",
                "line 22: action ref '1' appears twice for wang.xiaoming@example.org",
            ],
        ),
        # A broken ref and a broken title on one action are two problems, each once.
        (
            '{ref: "2", title: 试点低排放物流配送区',
            '{ref: "2 2", title: ""',
            [
                "line 22: action ref: '2 2' is not a ref",
                "line 22: action title: must not be empty",
            ],
        ),
        # A participant whose name is broken still holds their address.
        (
            "  - name: Anna Keller\n    email: anna@example.org",
            "  - name: ''\n    email: wang.xiaoming@EXAMPLE.org",
            [
                "line 23: participant name: must not be empty",
                "line 23: participant wang.xiaoming@example.org is listed twice (first on line 17)",
            ],
        ),
        # A coordinator with a bad address is still a coordinator: no "needs at least one".
        (
            "[{name: Officer, email: officer@example.org}, "
            "{name: Second Officer, email: second@example.org}]",
            "[{name: Officer, email: officer.example.org}]",
            ["line 10: coordinator email: 'officer.example.org' is not an email address"],
        ),
        # A rule of an unknown kind still has its values checked.
        (
            "{kind: escalate, after_unanswered: 2}",
            '{kind: nudge, after_unanswered: many, at: "25:00"}',
            [
                "line 15: follow_up rule after_unanswered: 'many' is not a whole number",
                "line 15: follow_up rule at: '25:00' is not a time of day",
                "line 15: follow_up rule kind: unknown kind 'nudge'",
            ],
        ),
        # A broken slug does not hide an action due before the programme starts.
        (
            "  slug: small-programme\n",
            "  slug: Small Programme\n",
            ["line 2: programme slug: 'Small Programme' is not a slug"],
        ),
    ],
)
def test_overlapping_problems_are_each_reported_once(
    old: str, new: str, expected: list[str]
) -> None:
    assert old in SMALL
    problems = sorted(problems_of(SMALL.replace(old, new, 1)))
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, sorted(expected), strict=True):
        assert problem.startswith(start), problems


def test_a_broken_programme_does_not_hide_problems_further_down() -> None:
    text = SMALL.replace("slug: small-programme", "slug: Small").replace(
        'due: 2019-09-30}\n      - {ref: "2"', 'due: 2019-01-31}\n      - {ref: "2"'
    )
    problems = problems_of(text)
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 21"]
    assert "action 1 is due 2019-01-31, before the programme starts" in problems[1]


def test_no_coordinators_at_all_is_one_problem() -> None:
    for empty in ("[]", "", "~"):
        text = SMALL.replace(
            "\n    [{name: Officer, email: officer@example.org}, "
            "{name: Second Officer, email: second@example.org}]",
            f" {empty}",
        )
        assert problems_of(text) == ["line 9: programme needs at least one coordinator"]


def test_an_unknown_key_suggests_the_near_one() -> None:
    problems = problems_of(SMALL.replace("    email: anna@", "    emial: anna@"))
    assert len(problems) == 2
    assert any("unknown key 'emial' (did you mean 'email'?" in p for p in problems)
    assert any("missing key 'email'" in p for p in problems)


# -- unsupported values: errors, or warnings that name the line -------------------------


@pytest.mark.parametrize("where", ["programme", "participant"])
def test_a_language_without_templates_is_an_error_naming_those_there_are(where: str) -> None:
    text = (
        SMALL.replace("language: zh-CN", "language: fr")
        if where == "programme"
        else SMALL.replace("language: en", "language: fr")
    )
    (problem,) = problems_of(text)
    line = 7 if where == "programme" else 25
    assert problem == (
        f"line {line}: {where} language: no email templates in 'fr' (there are: en, zh-CN)"
    )


@pytest.mark.parametrize(
    ("language", "read_as", "warned"),
    [
        ("en", "en", False),
        ("EN", "en", False),
        ("zh-cn", "zh-CN", False),
        ("en-GB", "en-GB", False),  # "en" covers every English reader
        ("zh-TW", "zh-TW", True),  # would get Simplified Chinese: say so
        ("zh", "zh", True),
    ],
)
def test_a_language_of_a_shipped_family(language: str, read_as: str, warned: bool) -> None:
    spec = read(SMALL.replace("language: en", f"language: {language}"))
    assert spec.participants[1].language == read_as
    if warned:
        assert spec.warnings == (
            f"line 25: participant language: no templates in {language}; it will get zh-CN",
        )
    else:
        assert spec.warnings == ()


@pytest.mark.parametrize("zone", ["EST", "Etc/GMT+5", "UTC", "EST5EDT", "PRC"])
def test_a_legacy_or_fixed_offset_zone_is_read_with_a_warning_naming_its_line(zone: str) -> None:
    spec = read(SMALL.replace("timezone: Europe/Berlin", f"timezone: {zone}"))
    assert spec.participants[1].timezone == zone
    (warning,) = spec.warnings
    assert warning.startswith(f"line 26: participant timezone: {zone!r} is a fixed offset")
    assert "America/New_York" in warning


@pytest.mark.parametrize("zone", ["US/Eastern", "Asia/Calcutta", "America/New_York"])
def test_a_link_to_a_places_zone_is_read_silently(zone: str) -> None:
    spec = read(SMALL.replace("timezone: Asia/Shanghai", f"timezone: {zone}"))
    assert spec.timezone == zone
    assert spec.warnings == ()


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("2019-05-18", "line 12: check_in rule first: 2019-05-18 is before the programme starts"),
        ("2019-01-01", "line 12: check_in rule first: 2019-01-01 is before the programme starts"),
    ],
)
def test_a_check_in_before_the_programme_starts_is_an_error(first: str, expected: str) -> None:
    (problem,) = problems_of(SMALL.replace("first: 2019-06-23", f"first: {first}"))
    assert problem.startswith(expected)


def test_a_check_in_on_the_first_day_is_fine() -> None:
    assert read(SMALL.replace("first: 2019-06-23", "first: 2019-05-19")).rules[0].first == date(
        2019, 5, 19
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("count: 6", "count: 10001", "line 12: check_in rule count: '10001' is not a whole number"),
        ("max: 3", "max: " + "9" * 5000, "line 14: overdue rule max: '9999"),
        ("every: 1 month", "every: 99999 months", "line 12: check_in rule every: '99999 months'"),
        (
            "every: 1 month, first: 2019-06-23, count: 6",
            "every: 9999 months, first: 2019-06-23, count: 9999",
            "line 12: check_in rule: 9999 check-ins every 9999 month(s) would run past the year",
        ),
    ],
)
def test_numbers_are_bounded(old: str, new: str, expected: str) -> None:
    (problem,) = problems_of(SMALL.replace(old, new))
    assert problem.startswith(expected)
    assert len(problem) < 400


# -- addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("Anna@Example.ORG", "anna@example.org"),
        ("anna@例子.中国", "anna@xn--fsqu00a.xn--fiqs8s"),
        ("anna@München.de", "anna@xn--mnchen-3ya.de"),
        ('"anna keller"@example.org', '"anna keller"@example.org'),
        ('"anna"@example.org', "anna@example.org"),
        ("anna+training@example.org", "anna+training@example.org"),
    ],
)
def test_addresses_are_checked_and_stored_in_one_spelling(written: str, stored: str) -> None:
    spec = read(SMALL.replace("email: anna@example.org", f"email: '{written}'"))
    assert spec.participants[1].email == stored


@pytest.mark.parametrize(
    "written",
    ["anna@example", "anna..keller@example.org", "用户@example.cn", "anna@localhost", "a b@c.org"],
)
def test_addresses_that_are_not_are_problems(written: str) -> None:
    (problem,) = problems_of(SMALL.replace("email: anna@example.org", f"email: '{written}'"))
    assert problem.startswith(f"line 24: participant email: {written!r} is not an email address (")


# -- previous addresses ----------------------------------------------------------------


def test_previous_emails_are_read_in_the_stored_spelling() -> None:
    text = SMALL.replace(
        "    email: anna@example.org\n",
        "    email: anna@example.org\n    previous_emails: [Anna.Keller@Old.Example.org]\n",
    )
    assert read(text).participants[1].previous_emails == ("anna.keller@old.example.org",)


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        ("[anna@example.org]", "participant anna@example.org: anna@example.org is their own email"),
        (
            "[WANG.xiaoming@example.org]",
            "participant anna@example.org: previous email wang.xiaoming@example.org is the "
            "email of the participant on line 17",
        ),
        ("[old@example.org, OLD@example.org]", "participant previous_emails: old@example.org is"),
        ("[not-an-address]", "participant previous_emails: 'not-an-address' is not an email"),
        ("old@example.org", "participant previous_emails must be a list"),
    ],
)
def test_previous_emails_must_name_nobody_else(previous: str, expected: str) -> None:
    text = SMALL.replace(
        "    email: anna@example.org\n",
        f"    email: anna@example.org\n    previous_emails: {previous}\n",
    )
    (problem,) = problems_of(text)
    assert expected in problem


def test_a_previous_email_claimed_by_two_people_is_a_problem() -> None:
    text = SMALL.replace(
        "    email: anna@example.org\n",
        "    email: anna@example.org\n    previous_emails: [shared@example.org]\n",
    ).replace(
        "    organisation: 北京市西城区生态环境局\n",
        "    organisation: 北京市西城区生态环境局\n    previous_emails: [shared@example.org]\n",
    )
    (problem,) = problems_of(text)
    assert "previous email shared@example.org is also listed for wang.xiaoming@example.org" in (
        problem
    )


# -- hostile and huge files: bounded, one line ------------------------------------------


def test_a_deeply_nested_file_is_one_line() -> None:
    depth = 10_000
    (problem,) = problems_of("programme: " + "[" * depth + "]" * depth + "\n")
    assert problem == "line 1: nested more than 24 levels deep (a programme file needs 6)"
    (problem,) = problems_of("x:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)))
    assert "nested more than 24 levels deep" in problem
    # Deeper than a programme needs, well within what the parser itself allows.
    (problem,) = problems_of("programme:\n" + "".join("  " * i + "- \n" for i in range(1, 30)))
    assert problem == "line 25: nested more than 24 levels deep (a programme file needs 6)"


def test_an_alias_bomb_is_refused_before_it_is_walked() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines.append("participants: [*a8]")
    (problem,) = problems_of("\n".join(lines) + "\n")
    assert re.fullmatch(
        r"line \d: the file holds more than 5,000,000 values \(counting what its aliases "
        r"repeat\); raise TRACKER_MAX_PROGRAMME_MB to read a larger programme",
        problem,
    )


def test_a_file_over_the_size_limit_is_refused_with_the_setting_to_raise() -> None:
    text = SMALL + "#" * (1024 * 1024)
    with pytest.raises(ProgrammeFileError) as raised:
        read_programme_file(text, languages=LANGUAGES, limits=ReadingLimits(megabytes=1))
    assert raised.value.problems == [
        "the file is larger than 1 MB (raise TRACKER_MAX_PROGRAMME_MB to read a larger programme)"
    ]
    assert read_programme_file(text, languages=LANGUAGES, limits=ReadingLimits(megabytes=2))


def test_too_many_values_is_one_line() -> None:
    many = "participants: [" + ", ".join(["x"] * 300_000) + "]\n"
    assert len(many) < 1024 * 1024
    with pytest.raises(ProgrammeFileError) as raised:
        read_programme_file(many, languages=LANGUAGES, limits=ReadingLimits(megabytes=1))
    assert raised.value.problems[0].startswith("line 1: the file holds more than 250,000 values")


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system x",
        "!!binary aGVsbG8=",
        "!custom thing",
    ],
)
def test_object_constructing_tags_are_refused(tagged: str) -> None:
    (problem,) = problems_of(SMALL.replace("name: Small test programme", f"name: {tagged}"))
    assert problem.startswith("line 3: the tag ")
    assert "is not allowed in a programme file" in problem


def test_participants_before_the_programme_are_checked_against_its_start() -> None:
    head, people = SMALL.split("participants:")
    early = "participants:" + people.replace("due: 2019-09-30", "due: 2019-05-01", 1) + head
    line = early.splitlines().index(next(s for s in early.splitlines() if "2019-05-01" in s)) + 1
    assert problems_of(early) == [
        f"line {line}: action 1 is due 2019-05-01, before the programme starts"
    ]


def test_participants_may_repeat_what_an_earlier_one_anchored() -> None:
    text = SMALL.split("participants:")[0] + (
        "participants:\n"
        "  - {name: A, email: a@example.org,\n"
        "     actions: &standard [{ref: '1', title: Plan, due: 2019-09-30}]}\n"
        "  - {name: B, email: b@example.org, actions: *standard}\n"
    )
    first, second = read(text).participants
    assert (
        first.actions
        == second.actions
        == (ActionSpec(ref="1", title="Plan", due=date(2019, 9, 30)),)
    )
