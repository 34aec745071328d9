"""Render outgoing mail from templates: subject, plain text and HTML for each kind.

Templates live in ``templates/email/<language>/<kind>.{subject,txt,html}.j2``.
Each render takes a typed context record (plain frozen data, no ORM objects),
picks the best language the templates exist in, and formats dates and lists in
that language's locale with Babel, so one message never mixes two languages.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from babel import Locale
from babel.dates import format_date, format_interval
from babel.lists import format_list
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
)

from tracker.core.model import ActionStatus, ParticipantState, ReminderKind
from tracker.errors import ConfigError
from tracker.mail.contexts import (
    AcknowledgementContext,
    DigestContext,
    EscalationContext,
    MailContext,
    ReminderContext,
)
from tracker.resources import bundled

DEFAULT_LANGUAGE = "en"
ESCAPED_PREFIX = "escaped"  # "escaped/email/en/_macros.j2": that file compiled for HTML
PARTICIPANT_REMINDER_KINDS = frozenset(
    {ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE}
)

# English dates for an international audience read best day-first ("30 September
# 2019"); Babel's bare "en" would give the US month-first form.
_BABEL_LOCALE_FOR_LANGUAGE = {"en": "en_GB"}

# Finished work first: the order a coordinator reads the digest's figures in.
_DIGEST_STATUS_ORDER = (
    ActionStatus.DONE,
    ActionStatus.IN_PROGRESS,
    ActionStatus.BLOCKED,
    ActionStatus.NOT_STARTED,
    ActionStatus.DROPPED,
)

# The locale of the message being rendered, for the date and list filters. Macros
# are imported without the caller's context (so that a text macro used in HTML
# stays escaped), so the filters cannot read the locale from the template
# context; a context variable set around each render reaches them instead.
_RENDER_LOCALE: ContextVar[Locale] = ContextVar("_RENDER_LOCALE")


# -- context records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """A rendered message: single-line subject, text and HTML bodies."""

    subject: str
    text: str
    html: str
    language: str  # the template language actually used


# -- environment -----------------------------------------------------------------------


def find_templates_dir(override: Path | None = None) -> Path:
    """The directory holding ``email/`` templates.

    An explicit `override` wins. Otherwise the bundled ``templates`` folder:
    inside the package in an installed wheel, beside it in the source tree.
    """
    candidate = override if override is not None else bundled("templates")
    if (candidate / "email").is_dir():
        return candidate
    raise ConfigError(f"email templates not found (looked for email/ in {candidate})")


def create_mail_environment(templates_dir: Path | None = None) -> Environment:
    """A Jinja2 environment for mail templates; build one per entry point."""
    root = find_templates_dir(templates_dir)
    env = Environment(
        # Phrase macros are written once and compiled twice: as plain text under
        # their own name, and escaped under ESCAPED_PREFIX for HTML templates to
        # import. (Jinja marks a macro's result safe when an HTML template calls
        # it, so a macro compiled without escaping would pass data through raw.)
        loader=_MailTemplateLoader(root),
        undefined=StrictUndefined,
        # Only HTML is escaped: escaping the text part or the subject would show
        # "&lt;" to the reader.
        autoescape=_is_html_template,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["date"] = _format_date_filter
    env.filters["date_range"] = _format_date_range_filter
    env.filters["names"] = _format_names_filter
    env.filters["days_from"] = _days_from
    return env


class _MailTemplateLoader(FileSystemLoader):
    """A FileSystemLoader that also serves every file under ``escaped/<name>``.

    Jinja decides escaping from the name a template is loaded under, so the
    alias gives the same source a second, escaping compilation.
    """

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        return super().get_source(environment, template.removeprefix(ESCAPED_PREFIX + "/"))


def _is_html_template(name: str | None) -> bool:
    return name is not None and (name.endswith(".html.j2") or name.startswith(ESCAPED_PREFIX + "/"))


def template_languages(env: Environment) -> tuple[str, ...]:
    """Every language that has at least one mail template, sorted."""
    names = env.list_templates(filter_func=lambda name: name.startswith("email/"))
    languages = {name.split("/")[1] for name in names if name.count("/") == 2}
    return tuple(sorted(languages))


def resolve_language(env: Environment, language: str, kind: ReminderKind) -> str:
    """The template language to use for `language`: exact, then its family, then English.

    "zh-TW" tries zh-TW, then zh, then any shipped zh-* (so a Chinese reader
    gets Chinese rather than English), then en.
    """
    resolved = _RESOLVED.setdefault(env, {})
    key = (language, str(kind))
    if key not in resolved:
        resolved[key] = _resolve_language(env, language, kind)
    return resolved[key]


# Each environment's answers: listing the templates folder costs more than
# rendering a message (an environment never reloads templates: auto_reload=False).
_RESOLVED: WeakKeyDictionary[Environment, dict[tuple[str, str], str]] = WeakKeyDictionary()


def _resolve_language(env: Environment, language: str, kind: ReminderKind) -> str:
    shipped = {lang.lower(): lang for lang in template_languages(env)}
    tag = language.strip().replace("_", "-")
    primary = tag.split("-")[0].lower()
    candidates = [tag.lower(), primary]
    candidates += sorted(key for key in shipped if key.split("-")[0] == primary)
    candidates.append(DEFAULT_LANGUAGE)
    for candidate in candidates:
        actual = shipped.get(candidate)
        if actual is not None and _template_exists(env, f"email/{actual}/{kind}.txt.j2"):
            return actual
    raise TemplateNotFound(f"email/{DEFAULT_LANGUAGE}/{kind}.txt.j2")


def babel_locale(language: str) -> Locale:
    """The Babel locale that formats dates and lists for a template language."""
    mapped = _BABEL_LOCALE_FOR_LANGUAGE.get(language, language.replace("-", "_"))
    return Locale.parse(mapped)


# -- rendering -------------------------------------------------------------------------


def render_reminder(env: Environment, ctx: ReminderContext) -> RenderedMail:
    """A participant reminder (check-in, before due or overdue)."""
    if ctx.kind not in PARTICIPANT_REMINDER_KINDS:
        raise ValueError(f"{ctx.kind} is not a participant reminder")
    focus = tuple(a for a in ctx.actions if a.ref in ctx.focus_refs) or ctx.actions
    # The reply examples use the participant's own refs: one or two of them.
    example_refs = tuple(a.ref for a in ctx.actions[:2]) or ("1",)
    extra = {"focus": focus, "example_refs": example_refs}
    return _render_kind(env, ctx.kind, ctx.language, _fields(ctx) | extra)


def render_escalation(env: Environment, ctx: EscalationContext) -> RenderedMail:
    """The coordinators' note about a silent participant."""
    return _render_kind(env, ReminderKind.ESCALATION, ctx.language, _fields(ctx))


def render_acknowledgement(env: Environment, ctx: AcknowledgementContext) -> RenderedMail:
    """The short confirmation of what a participant's reply recorded."""
    action_updates = tuple(u for u in ctx.updates if u.ref is not None)
    general_updates = tuple(u for u in ctx.updates if u.ref is None)
    extra = {"action_updates": action_updates, "general_updates": general_updates}
    return _render_kind(env, ReminderKind.ACKNOWLEDGEMENT, ctx.language, _fields(ctx) | extra)


def render_digest(env: Environment, ctx: DigestContext) -> RenderedMail:
    """The coordinators' weekly digest."""
    return _render_kind(env, ReminderKind.DIGEST, ctx.language, _fields(ctx) | _digest_summary(ctx))


def render_mail(env: Environment, ctx: MailContext) -> RenderedMail:
    """Render any context with the function its type calls for."""
    if isinstance(ctx, ReminderContext):
        return render_reminder(env, ctx)
    if isinstance(ctx, EscalationContext):
        return render_escalation(env, ctx)
    if isinstance(ctx, AcknowledgementContext):
        return render_acknowledgement(env, ctx)
    return render_digest(env, ctx)


def single_line(text: str) -> str:
    """`text` on one line: every run of whitespace (CR, LF, tabs, U+2028…) becomes a space."""
    return " ".join(text.split())


def _render_kind(
    env: Environment, kind: ReminderKind, language: str, variables: dict[str, Any]
) -> RenderedMail:
    actual = resolve_language(env, language, kind)
    variables = variables | {"language": actual}
    base = f"email/{actual}/{kind}"
    locale_token = _RENDER_LOCALE.set(babel_locale(actual))
    try:
        subject = single_line(env.get_template(f"{base}.subject.j2").render(variables))
        variables["subject"] = subject  # the HTML <title>
        text = env.get_template(f"{base}.txt.j2").render(variables)
        html = env.get_template(f"{base}.html.j2").render(variables)
    finally:
        _RENDER_LOCALE.reset(locale_token)
    return RenderedMail(subject=subject, text=text, html=html, language=actual)


def _fields(ctx: MailContext) -> dict[str, Any]:
    # Shallow on purpose: templates see the records themselves, not dict copies.
    return {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)}


def _digest_summary(ctx: DigestContext) -> dict[str, Any]:
    """Figures the digest shows at a glance, computed here to keep templates simple."""
    counts = Counter(a.status for p in ctx.participants for a in p.actions)
    overdue = tuple(
        (p, a)
        for p in ctx.participants
        for a in p.actions
        if a.status.is_open and a.due is not None and a.due < ctx.period_end
    )
    with_updates = tuple(p for p in ctx.participants if p.updates)
    # A participant whose mail did not get through has not been silent: they are
    # listed with the undelivered messages instead.
    unreached = {m.participant_email for m in ctx.undelivered}
    quiet = tuple(
        p
        for p in ctx.participants
        if p.state is ParticipantState.ACTIVE
        and not p.updates
        and p.email not in unreached
        and any(a.status.is_open for a in p.actions)
    )
    not_reminded = tuple(p for p in ctx.participants if p.state is not ParticipantState.ACTIVE)
    return {
        "action_count": sum(counts.values()),
        "status_counts": {status: counts.get(status, 0) for status in _DIGEST_STATUS_ORDER},
        "update_count": sum(len(p.updates) for p in ctx.participants),
        "overdue": overdue,
        "with_updates": with_updates,
        "quiet": quiet,
        "not_reminded": not_reminded,
    }


def _template_exists(env: Environment, name: str) -> bool:
    try:
        env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def _format_date_filter(value: date, style: str = "long") -> str:
    return format_date(value, format=style, locale=_RENDER_LOCALE.get())


def _format_date_range_filter(start: date, end: date) -> str:
    return format_interval(start, end, skeleton="yMMMd", locale=_RENDER_LOCALE.get())


def _format_names_filter(names: tuple[str, ...]) -> str:
    return format_list(list(names), locale=_RENDER_LOCALE.get())


def _days_from(later: date, earlier: date) -> int:
    """Whole days from `earlier` to `later` (negative when `later` is in the past)."""
    return (later - earlier).days
