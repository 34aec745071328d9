"""`tracker schedule show|preview`: a programme's follow-up rules and what they will send."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.runtime import Runtime, parse_now, print_json
from tracker.core.model import ReminderKind
from tracker.programme.rules import rule_line
from tracker.services.schedule import (
    MAX_PREVIEW_DAYS,
    PREVIEW_DAYS,
    SchedulePreview,
    current_rules,
    find_programme,
    preview_schedule,
)

KIND_WORDS = {
    ReminderKind.CHECK_IN: "check-in",
    ReminderKind.BEFORE_DUE: "before due",
    ReminderKind.OVERDUE: "overdue",
    ReminderKind.ESCALATION: "escalation to the coordinators",
}


@click.group("schedule")
def schedule_group() -> None:
    """Show a programme's follow-up rules and preview what they will send."""


@schedule_group.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the rules as one JSON document.")
def show_command(slug: str, as_json: bool) -> None:
    """The follow-up rules of programme SLUG, as the programme file writes them."""
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        programme = find_programme(slug, session=session)
        rules = current_rules(programme)
        name, timezone = programme.name, programme.timezone
    if as_json:
        print_json({"programme": slug, "rules": [rule_line(rule) for rule in rules]})
        return
    click.echo(f"{slug}  {name}  (times are each participant's local time; default {timezone})")
    if not rules:
        click.echo("  no follow-up rules: nobody is reminded of anything")
    for rule in rules:
        click.echo(f"  - {rule_line(rule)}")


@schedule_group.command("preview")
@click.argument("slug")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_PREVIEW_DAYS),
    default=PREVIEW_DAYS,
    show_default=True,
    help="How many days ahead.",
)
@click.option("--now", "now_text", metavar="ISO8601", help="Preview from this moment.")
@click.option("--json", "as_json", is_flag=True, help="Print the preview as one JSON document.")
def preview_command(slug: str, days: int, now_text: str | None, as_json: bool) -> None:
    """Every message the rules of SLUG would send in the coming days, if nobody replied.

    Per participant, in their local time, with the public holidays of their
    country; escalations appear where silence would cause them. Messages
    already waiting in the outbox are marked "queued".
    """
    runtime = Runtime.from_environment()
    now = parse_now(now_text)
    with runtime.unit_of_work() as session:
        programme = find_programme(slug, session=session)
        preview = preview_schedule(
            programme, current_rules(programme), session=session, now=now, days=days
        )
    if as_json:
        print_json(preview_json(preview))
        return
    click.echo(preview_text(preview))


def preview_json(preview: SchedulePreview) -> dict[str, Any]:
    return {
        "programme": preview.slug,
        "from": preview.start.isoformat(),
        "to": preview.end.isoformat(),
        "rules": [rule_line(rule) for rule in preview.rules],
        "participants": [
            {
                "email": p.email,
                "name": p.name,
                "timezone": p.timezone,
                "state": p.state,
                "messages": [
                    {
                        "date": e.local_date.isoformat(),
                        "time": e.local_time.strftime("%H:%M"),
                        "at": e.sends_at.isoformat(),
                        "kind": e.kind.value,
                        "to": e.audience,
                        "refs": list(e.refs),
                        "queued": e.queued,
                    }
                    for e in p.entries
                ],
                "holidays": [{"date": d.isoformat(), "name": n} for d, n in p.holidays],
            }
            for p in preview.participants
        ],
    }


def preview_text(preview: SchedulePreview) -> str:
    first = preview.start.date().isoformat()
    last = preview.end.date().isoformat()
    summary = ", ".join(
        f"{word} {preview.count(kind)}" for kind, word in KIND_WORDS.items() if preview.count(kind)
    )
    lines = [
        f"{preview.slug}: {preview.messages} message(s) from {first} to {last}"
        + (f" ({summary})" if summary else ""),
        "if nobody replies; times are each participant's local time",
    ]
    for person in preview.participants:
        lines.append("")
        lines.append(f"  {person.name} <{person.email}>  {person.timezone}")
        if person.state != "active":
            lines.append(f"    {person.state.replace('_', ' ')}: receives nothing")
        elif not person.entries:
            lines.append("    nothing in this window")
        for entry in person.entries:
            what = KIND_WORDS.get(entry.kind, entry.kind.value)
            about = f"  {', '.join(entry.refs)}" if entry.refs else ""
            queued = "  (queued)" if entry.queued else ""
            lines.append(
                f"    {entry.local_date.isoformat()} {entry.local_date.strftime('%a')} "
                f"{entry.local_time.strftime('%H:%M')}  {what}{about}{queued}"
            )
        if person.holidays:
            days = "; ".join(f"{day.isoformat()} {name}" for day, name in person.holidays)
            lines.append(f"    public holidays: {days}")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    group.add_command(schedule_group)
