"""Commands that send: `send-due`, `preview`, `run`."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import timedelta
from typing import Any

import click

from tracker.cli.progress import progress_bar, wants_progress
from tracker.cli.runtime import Runtime, parse_now, print_json
from tracker.clock import SystemClock
from tracker.core.model import ReminderKind
from tracker.errors import TrackerError
from tracker.mail.render import create_mail_environment, render_reminder
from tracker.mail.smtp import SmtpMailer
from tracker.services.claiming import OutboxPolicy
from tracker.services.composing import MailIdentity, reminder_context
from tracker.services.coordinating import find_participant
from tracker.services.sending import SendReport, send_due

log = logging.getLogger(__name__)


def one_send_pass(
    runtime: Runtime,
    now_text: str | None,
    *,
    dry_run: bool,
    stop: threading.Event | None = None,
    show_progress: bool = False,
) -> SendReport:
    settings = runtime.settings
    identity = MailIdentity.from_settings(settings)
    runtime.require_current_schema()
    connections = settings.smtp_connections
    mailers = [
        SmtpMailer(
            settings.smtp,
            rate_per_minute=settings.send_rate / connections,
            timeout=settings.smtp_timeout,
        )
        for _ in range(connections)
    ]
    return send_due(
        session_factory=runtime.session_factory,
        mailer=mailers[0],
        more_mailers=mailers[1:],
        env=create_mail_environment(),
        identity=identity,
        now=parse_now(now_text) if now_text else SystemClock().now(),
        policy=OutboxPolicy(
            lease=timedelta(seconds=settings.send_lease), send_rate=settings.send_rate
        ),
        dry_run=dry_run,
        stop=stop,
        progress=lambda due: progress_bar("Sending", due, enabled=show_progress),
    )


def send_tick(runtime: Runtime, stop: threading.Event) -> SendReport:
    """One pass of `tracker run`: a settings mistake is logged as an error each time."""
    report = one_send_pass(runtime, None, dry_run=False, stop=stop)
    if report.configuration_error:
        log.error("action=send.configuration_error error=%s", report.configuration_error)
    return report


@click.command("send-due")
@click.option(
    "--now", "now_text", metavar="ISO8601", help="Plan and send as at this moment (default: now)."
)
@click.option("--dry-run", is_flag=True, help="Say what is due; send and write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what the pass did as JSON.")
def send_due_command(now_text: str | None, dry_run: bool, as_json: bool) -> None:
    """One pass: plan every reminder due now and send it.

    Running it twice for the same --now sends nothing new. For cron:
    `* * * * * tracker send-due`.
    """
    if now_text:
        parse_now(now_text)  # a bad --now is a usage error before anything happens
    report = one_send_pass(
        Runtime.from_environment(),
        now_text,
        dry_run=dry_run,
        show_progress=wants_progress(as_json=as_json),
    )
    if as_json:
        print_json(report.to_json())
    else:
        _print_report(report)
    # A settings mistake fails every message alike: say so even if some went out.
    if report.configuration_error or (report.stopped_early and not report.sent):
        click.echo(f"error: {report.configuration_error or report.stopped_early}", err=True)
        sys.exit(1)


def _minute(iso: str) -> str:
    return iso[:16].replace("T", " ")


def _to(item: dict[str, Any]) -> str:
    return ", ".join(item["to"])


def _print_report(report: SendReport) -> None:
    if report.dry_run:
        for item in report.due:
            click.echo(
                f"  would send {item['kind']} to {_to(item)} (reminder {item['reminder_id']})"
            )
        click.echo(f"dry run at {report.now.isoformat()}: {len(report.due)} due, nothing sent")
        return
    for item in report.sent:
        click.echo(f"  sent {item['kind']} to {_to(item)} (reminder {item['reminder_id']})")
    for item in report.retrying:
        click.echo(
            f"  will retry {item['kind']} to {_to(item)} at {_minute(item['retry_at'])}: "
            f"{item['error']}"
        )
    for item in report.failed:
        click.echo(f"  failed {item['kind']} to {_to(item)}: {item['error']}")
    for item in report.cancelled:
        click.echo(f"  not sent {item['kind']} to {_to(item)}: {item['reason']}")
    click.echo(
        f"{report.now.isoformat()}: {report.planned} planned, {len(report.sent)} sent, "
        f"{len(report.retrying)} to retry, {len(report.failed)} failed"
        + (f", {len(report.cancelled)} no longer wanted" if report.cancelled else "")
    )


@click.command("preview")
@click.option("--participant", "email", required=True, metavar="EMAIL", help="Whose reminder.")
@click.option(
    "--programme", "slug", metavar="SLUG", help="Needed when the address is in several programmes."
)
@click.option(
    "--kind",
    type=click.Choice(
        [k.value for k in (ReminderKind.CHECK_IN, ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE)]
    ),
    default=ReminderKind.CHECK_IN.value,
    show_default=True,
)
@click.option(
    "--ref",
    "refs",
    multiple=True,
    metavar="REF",
    help="The action(s) it is about (before_due, overdue).",
)
@click.option("--html", "as_html", is_flag=True, help="Print the HTML part instead of the text.")
@click.option("--now", "now_text", metavar="ISO8601", help="Render as at this moment.")
def preview_command(
    email: str,
    slug: str | None,
    kind: str,
    refs: tuple[str, ...],
    as_html: bool,
    now_text: str | None,
) -> None:
    """Render a reminder for a participant, without sending or writing anything."""
    runtime = Runtime.from_environment()
    settings = runtime.settings
    now = parse_now(now_text)
    with runtime.unit_of_work() as session:
        participant = find_participant(email, slug=slug, session=session)
        unknown = sorted(set(refs) - {a.ref for a in participant.actions})
        if unknown:
            raise TrackerError(f"{email} has no action {unknown[0]!r}")
        rendered = render_reminder(
            create_mail_environment(),
            reminder_context(
                participant,
                ReminderKind(kind),
                focus_refs=refs,
                opt_out_address=settings.reply_address.replace("{token}", "TOKEN"),
                session=session,
                now=now,
            ),
        )
    click.echo(f"Subject: {rendered.subject}\nLanguage: {rendered.language}\n")
    click.echo(rendered.html if as_html else rendered.text)


def register(group: click.Group) -> None:
    group.add_command(send_due_command)
    group.add_command(preview_command)
