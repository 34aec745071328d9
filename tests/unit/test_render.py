"""Rendering mail templates: every kind in every language, escaping, locale formatting."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, TemplateNotFound

from tracker.core.model import ActionStatus, ParticipantState, ReminderKind
from tracker.errors import ConfigError
from tracker.mail.contexts import (
    AcknowledgementContext,
    ActionLine,
    DigestContext,
    DigestParticipant,
    EscalationContext,
    MailContext,
    RecordedUpdate,
    ReminderContext,
    UndeliveredMessage,
)
from tracker.mail.render import (
    create_mail_environment,
    find_templates_dir,
    render_mail,
    render_reminder,
    resolve_language,
    template_languages,
)

SHIPPED_LANGUAGES = ("en", "zh-CN")
HOSTILE = '<script>alert("x")</script>'
AS_OF = date(2019, 9, 23)


@pytest.fixture(scope="module")
def env() -> Environment:
    return create_mail_environment()


def action_lines(title_suffix: str = "") -> tuple[ActionLine, ...]:
    return (
        ActionLine(
            ref="1",
            title="Publish the district clean-air action plan" + title_suffix,
            due=date(2019, 9, 30),
            status=ActionStatus.IN_PROGRESS,
            percent=60,
            note="waiting for budget approval" + title_suffix,
            updated_on=date(2019, 8, 12),
        ),
        ActionLine(
            ref="2",
            title="Pilot low-emission logistics zone" + title_suffix,
            due=date(2019, 9, 1),
            status=ActionStatus.NOT_STARTED,
        ),
        ActionLine(ref="3", title="Train street officers", due=None, status=ActionStatus.BLOCKED),
    )


def updates(suffix: str = "") -> tuple[RecordedUpdate, ...]:
    return (
        RecordedUpdate(
            ref="1", title="Publish the plan" + suffix, status=ActionStatus.DONE, percent=100
        ),
        RecordedUpdate(
            ref="2",
            title="Pilot zone",
            status=ActionStatus.IN_PROGRESS,
            percent=60,
            note="等待预算批复" + suffix,
        ),
        RecordedUpdate(ref="3", title="Train officers", status=None, percent=None, note=""),
        RecordedUpdate(ref=None, title="", status=None, percent=None, note="general" + suffix),
    )


def contexts(language: str, suffix: str = "") -> list[MailContext]:
    """One or more contexts of every kind, covering the templates' branches."""
    actions = action_lines(suffix)
    name, programme = "王伟" + suffix, "Cities Programme" + suffix
    result: list[MailContext] = []
    for kind in (ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE):
        for focus, acts, organisation, opt_out in (
            (("1",), actions, "西城区" + suffix, "followup@example.org"),
            (("1", "2"), actions, None, "https://t.example.org/opt-out/x" + suffix),
            ((), actions[:1], None, "followup@example.org"),
            ((), (), None, "followup@example.org"),
        ):
            result.append(
                ReminderContext(
                    kind=kind,
                    language=language,
                    as_of=AS_OF,
                    participant_name=name,
                    programme_name=programme,
                    organisation=organisation,
                    actions=acts,
                    coordinator_names=("Anna Smith" + suffix, "李明") if focus else (),
                    opt_out_url_or_address=opt_out,
                    focus_refs=focus,
                )
            )
    for last_reply, organisation, dashboard in (
        (date(2019, 6, 30), "西城区" + suffix, "https://t.example.org/p" + suffix),
        (None, None, None),
    ):
        result.append(
            EscalationContext(
                language=language,
                as_of=AS_OF,
                programme_name=programme,
                coordinator_names=("Anna Smith" + suffix,) if dashboard else (),
                participant_name=name,
                participant_email="wang@example.cn",
                organisation=organisation,
                unanswered_count=2,
                unanswered_since=date(2019, 8, 1),
                last_reply_on=last_reply,
                actions=actions,
                dashboard_url=dashboard,
            )
        )
    for recorded, unknown in ((updates(suffix), ("7" + suffix,)), ((), ()), (updates()[3:], ())):
        result.append(
            AcknowledgementContext(
                language=language,
                participant_name=name,
                programme_name=programme,
                updates=recorded,
                unknown_refs=unknown,
                coordinator_names=("Anna Smith" + suffix,),
                opt_out_url_or_address="followup@example.org",
            )
        )
    participants = (
        DigestParticipant(
            name=name,
            email="wang@example.cn",
            organisation="西城区" + suffix,
            state=ParticipantState.ACTIVE,
            last_reply_on=date(2019, 9, 18),
            actions=actions,
            updates=updates(suffix),
        ),
        DigestParticipant(
            name="李华" + suffix,
            email="li@example.cn",
            organisation=None,
            state=ParticipantState.ACTIVE,
            last_reply_on=None,
            actions=actions,
        ),
        DigestParticipant(
            name="张强",
            email="zhang@example.cn",
            organisation=None,
            state=ParticipantState.OPTED_OUT,
            last_reply_on=None,
            actions=(),
        ),
    )
    undelivered = (
        UndeliveredMessage(
            participant_name="李华" + suffix,
            participant_email="li@example.cn",
            kind=ReminderKind.CHECK_IN,
            on=date(2019, 9, 17),
            error="SMTP mail.example.org:25: 550 recipient li@example.cn refused" + suffix,
            retrying=False,
        ),
        UndeliveredMessage(
            participant_name=name,
            participant_email="wang@example.cn",
            kind=ReminderKind.ACKNOWLEDGEMENT,
            on=date(2019, 9, 20),
            error="SMTP mail.example.org:25: 451 try again later",
            retrying=True,
        ),
    )
    for people, held, dashboard, failed in (
        (participants, 2, "https://t.example.org/d" + suffix, undelivered),
        ((), 0, None, ()),
    ):
        result.append(
            DigestContext(
                language=language,
                programme_name=programme,
                coordinator_names=("Anna Smith" + suffix, "李明"),
                period_start=date(2019, 9, 16),
                period_end=date(2019, 9, 22),
                participants=people,
                held_for_review=held,
                undelivered=failed,
                dashboard_url=dashboard,
            )
        )
    return result


def kind_of(ctx: MailContext) -> ReminderKind:
    if isinstance(ctx, ReminderContext):
        return ctx.kind
    return {
        EscalationContext: ReminderKind.ESCALATION,
        AcknowledgementContext: ReminderKind.ACKNOWLEDGEMENT,
        DigestContext: ReminderKind.DIGEST,
    }[type(ctx)]


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
@pytest.mark.parametrize("kind", list(ReminderKind))
def test_every_kind_has_all_three_templates_in_every_language(
    env: Environment, language: str, kind: ReminderKind
) -> None:
    for part in ("subject", "txt", "html"):
        env.get_template(f"email/{language}/{kind}.{part}.j2")  # raises TemplateNotFound
    assert resolve_language(env, language, kind) == language


def test_the_shipped_languages_are_english_and_simplified_chinese(env: Environment) -> None:
    assert template_languages(env) == SHIPPED_LANGUAGES


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_context_renders_strictly_in_every_language(env: Environment, language: str) -> None:
    rendered_kinds = set()
    for ctx in contexts(language):
        mail = render_mail(env, ctx)
        rendered_kinds.add(kind_of(ctx))
        assert mail.language == language
        assert mail.subject
        assert "\n" not in mail.subject
        assert "\r" not in mail.subject
        for body in (mail.subject, mail.text, mail.html):
            # A None or a stray template marker leaking into a message is a template bug.
            assert "None" not in body
            assert "{{" not in body
            assert "{%" not in body
        assert mail.html.lstrip().startswith("<!DOCTYPE html>")
        assert f'<html lang="{language}">' in mail.html
    assert rendered_kinds == set(ReminderKind)


HTML_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "div", "p", "br", "a", "span"),
    *("h3", "ul", "li", "strong", "pre", "table", "tr", "td"),
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_html_holds_only_the_tags_the_templates_write(env: Environment, language: str) -> None:
    """Data in angle brackets (an address shown as <x@y>) must be escaped, not a tag."""
    for ctx in contexts(language):
        parser = _Tags()
        parser.feed(render_mail(env, ctx).html)
        assert parser.seen <= HTML_TAGS, (type(ctx).__name__, parser.seen - HTML_TAGS)


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_hostile_data_is_escaped_in_html_and_verbatim_in_text(
    env: Environment, language: str
) -> None:
    for ctx in contexts(language, suffix=HOSTILE):
        mail = render_mail(env, ctx)
        assert "<script" not in mail.html, type(ctx).__name__
        assert "&lt;script&gt;" in mail.html
        assert HOSTILE in mail.text
        assert "&lt;" not in mail.text
        assert "&lt;" not in mail.subject


def reminder(language: str, **changes: object) -> ReminderContext:
    fields: dict[str, object] = {
        "kind": ReminderKind.CHECK_IN,
        "language": language,
        "as_of": AS_OF,
        "participant_name": "王伟",
        "programme_name": "Capacity Building for Chinese Cities",
        "organisation": "北京市西城区",
        "actions": action_lines(),
        "coordinator_names": ("李明",),
        "opt_out_url_or_address": "followup@example.org",
    }
    fields.update(changes)
    return ReminderContext(**fields)  # type: ignore[arg-type]


def test_chinese_reminder_formats_dates_and_statuses_in_chinese(env: Environment) -> None:
    mail = render_reminder(env, reminder("zh-CN"))
    assert "2019年9月30日" in mail.text
    assert "2019年9月30日" in mail.html
    assert "进行中 60%" in mail.text
    assert "最近反馈：进行中 60%，waiting for budget approval（2019年8月12日）" in mail.text
    # An action never reported shows "暂无" rather than a status.
    assert "截止日期：2019年9月1日（已到期）；最近反馈：暂无" in mail.text
    assert "尊敬的王伟：" in mail.text


def test_english_reminder_formats_dates_day_first(env: Environment) -> None:
    mail = render_reminder(env, reminder("en"))
    assert "30 September 2019" in mail.text
    assert "Due 30 September 2019 (in 7 days)" in mail.text
    assert "Was due 1 September 2019" in mail.text
    assert "last reported: in progress 60%" in mail.text


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        ("en", ("1: done", "2: in progress 60%, waiting for budget approval")),
        ("zh-CN", ("1：已完成", "2：进行中 60%，等待预算批复")),
    ],
)
def test_reminder_shows_the_reply_grammar_with_the_participants_refs(
    env: Environment, language: str, lines: tuple[str, str]
) -> None:
    mail = render_reminder(env, reminder(language))
    for line in lines:
        assert f"    {line}\n" in mail.text
        assert line in mail.html


def test_reply_examples_use_the_actual_refs(env: Environment) -> None:
    actions = (
        ActionLine(ref="A7", title="Only action", due=None, status=ActionStatus.NOT_STARTED),
    )
    mail = render_reminder(env, reminder("zh-CN", actions=actions))
    assert "A7：已完成" in mail.text
    assert "A7：进行中 60%，等待预算批复" in mail.text
    assert "任选其一" in mail.text


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_reminder_lists_each_open_action_and_an_opt_out(
    env: Environment, language: str
) -> None:
    for kind in (ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE):
        mail = render_reminder(env, reminder(language, kind=kind))
        for action in action_lines():
            assert f"[{action.ref}] {action.title}" in mail.text
            assert action.title in mail.html
        assert "followup@example.org" in mail.text
        assert "unsubscribe" in mail.text
        assert "unsubscribe" in mail.html


def test_before_due_subject_names_the_focus_action(env: Environment) -> None:
    mail = render_reminder(env, reminder("zh-CN", kind=ReminderKind.BEFORE_DUE, focus_refs=("1",)))
    assert mail.subject == (
        "【Capacity Building for Chinese Cities】提醒："
        "“Publish the district clean-air action plan”将于2019年9月30日到期"
    )
    assert "还有7天" in mail.text


def test_acknowledgement_echoes_what_was_recorded(env: Environment) -> None:
    ctx = AcknowledgementContext(
        language="en",
        participant_name="Wang Wei",
        programme_name="Cities Programme",
        updates=updates()[:2],
        coordinator_names=("Anna Smith",),
        opt_out_url_or_address="followup@example.org",
    )
    mail = render_mail(env, ctx)
    assert "We recorded:" in mail.text
    assert "[1] Publish the plan: done" in mail.text
    assert "[2] Pilot zone: in progress 60% – 等待预算批复" in mail.text
    zh = render_mail(env, dataclasses.replace(ctx, language="zh-CN"))
    assert "我们已记录以下进展" in zh.text
    assert "[1] Publish the plan：已完成" in zh.text
    assert "[2] Pilot zone：进行中 60%，等待预算批复" in zh.text


def test_digest_summarises_statuses_in_order(env: Environment) -> None:
    digest = next(c for c in contexts("zh-CN") if isinstance(c, DigestContext))
    mail = render_mail(env, digest)
    assert "行动事项共6项：进行中2项，受阻2项，未开始2项。" in mail.text
    assert "2019年9月16日" in mail.subject
    assert "另有2封来信待您审核" in mail.text
    assert "张强 <zhang@example.cn>：已退订" in mail.text


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        (
            "zh-CN",
            (
                "另有2封发给学员的邮件未能送达（见下文）。",
                "六、未能送达的邮件（以下学员尚未收到）",
                "李华（li@example.cn）：2019年9月17日的进展询问未能送达："
                "SMTP mail.example.org:25: 550 recipient li@example.cn refused",
                "王伟（wang@example.cn）：2019年9月20日的反馈确认正在重试："
                "SMTP mail.example.org:25: 451 try again later",
            ),
        ),
        (
            "en",
            (
                "2 messages to participants did not get through (below).",
                "NOT DELIVERED (these participants have not been reached)",
                "李华 (li@example.cn): the check-in of 17 September 2019 could not be delivered: "
                "SMTP mail.example.org:25: 550 recipient li@example.cn refused",
                "王伟 (wang@example.cn): the acknowledgement of 20 September 2019 is being "
                "retried: SMTP mail.example.org:25: 451 try again later",
            ),
        ),
    ],
)
def test_digest_lists_undelivered_mail_and_never_calls_its_addressee_silent(
    env: Environment, language: str, lines: tuple[str, ...]
) -> None:
    digest = next(c for c in contexts(language) if isinstance(c, DigestContext))
    mail = render_mail(env, digest)
    for line in lines:
        assert line in mail.text
    for line in (lines[0], *lines[2:]):  # the heading differs in case
        assert html.escape(line, quote=False) in mail.html
    # 李华 was never reached: not among those who sent no update.
    quiet = mail.text.split("四、" if language == "zh-CN" else "NO UPDATE RECEIVED")[1]
    quiet = quiet.split("五、" if language == "zh-CN" else "NOT RECEIVING")[0]
    assert "李华" not in quiet
    assert ("无。" if language == "zh-CN" else "(none)") in quiet


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("en", "en"),
        ("en-US", "en"),
        ("fr", "en"),
        ("", "en"),
    ],
)
def test_language_falls_back_to_the_family_then_english(
    env: Environment, asked: str, expected: str
) -> None:
    assert resolve_language(env, asked, ReminderKind.CHECK_IN) == expected
    assert render_reminder(env, reminder(asked)).language == expected


def test_a_language_missing_one_kind_falls_back_to_english_for_that_kind(tmp_path: Path) -> None:
    shipped = find_templates_dir()
    partial = tmp_path / "partial"
    shutil.copytree(shipped, partial)
    (partial / "email" / "fr").mkdir()
    (partial / "email" / "fr" / "digest.txt.j2").write_text("x")
    env = create_mail_environment(partial)
    assert resolve_language(env, "fr", ReminderKind.CHECK_IN) == "en"


def test_subject_is_one_line_even_when_data_has_line_breaks(env: Environment) -> None:
    mail = render_reminder(
        env, reminder("en", programme_name="Cities\r\nBcc: victim@example.org\u2028x")
    )
    assert mail.subject == "Cities Bcc: victim@example.org x: how are your actions going?"


def test_unknown_reminder_kind_is_refused(env: Environment) -> None:
    with pytest.raises(ValueError, match="not a participant reminder"):
        render_reminder(env, reminder("en", kind=ReminderKind.DIGEST))


def test_templates_dir_can_be_overridden_and_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="email templates not found"):
        create_mail_environment(tmp_path)
    (tmp_path / "email" / "en").mkdir(parents=True)
    env = create_mail_environment(tmp_path)
    with pytest.raises(TemplateNotFound):
        resolve_language(env, "en", ReminderKind.CHECK_IN)


def test_undefined_variable_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "email" / "en").mkdir(parents=True)
    for part in ("subject", "txt", "html"):
        (tmp_path / "email" / "en" / f"check_in.{part}.j2").write_text("{{ no_such_variable }}")
    env = create_mail_environment(tmp_path)
    with pytest.raises(Exception, match="no_such_variable"):
        render_reminder(env, reminder("en"))


def test_text_part_has_no_html_entities_and_html_has_no_raw_angle_data(env: Environment) -> None:
    mail = render_reminder(env, reminder("en", participant_name="A & B <c>"))
    assert "Dear A & B <c>," in mail.text
    assert "Dear A &amp; B &lt;c&gt;," in mail.html
    assert not re.search(r"&(amp|lt|gt);", mail.text)
