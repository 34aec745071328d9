"""`tracker run`: the long-running service."""

from __future__ import annotations

import logging

import click

from tracker.cli.inbound_commands import fetch_and_process
from tracker.cli.runtime import Runtime
from tracker.cli.sending_commands import send_tick
from tracker.clock import SystemClock
from tracker.mail.imap import ImapConnectionError
from tracker.scheduler import Tick, run_service
from tracker.services.composing import MailIdentity
from tracker.services.intake import process_stored

log = logging.getLogger(__name__)


@click.command("run")
@click.option(
    "--send-every",
    default=60,
    show_default=True,
    metavar="SECONDS",
    help="Planning and sending interval.",
)
@click.option(
    "--fetch-every",
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="Inbox polling interval (with TRACKER_IMAP_URL).",
)
def run_command(send_every: int, fetch_every: int) -> None:
    """The long-running service: plans and sends reminders and reads the inbox on intervals.

    Stops cleanly on SIGTERM or SIGINT: the message in flight is finished and
    the rest stay in the outbox for the next start.
    """
    # A service says what it does: one line per message sent, per pass that failed.
    root = logging.getLogger()
    root.setLevel(min(root.level, logging.INFO))
    runtime = Runtime.from_environment()
    MailIdentity.from_settings(runtime.settings)  # fail at start without a secret key
    runtime.require_current_schema()
    ticks = [
        Tick("send-due", send_every, lambda stop: send_tick(runtime, stop)),
        _inbox_tick(runtime, fetch_every),
    ]
    run_service(ticks)


def _inbox_tick(runtime: Runtime, seconds: int) -> Tick:
    """Poll the mailbox when there is one; else interpret what an MTA pipe stored."""
    if runtime.settings.imap is not None:
        return Tick("fetch-mail", seconds, lambda stop: _fetch_tick(runtime))
    secret = runtime.settings.require_secret_key()
    return Tick(
        "process-stored",
        seconds,
        lambda stop: process_stored(
            session_factory=runtime.session_factory,
            secret_key=secret,
            now=SystemClock().now(),
            limits=runtime.reading_limits,
        ),
    )


def _fetch_tick(runtime: Runtime) -> None:
    """One poll; a mailbox that cannot be reached is one line, and the next poll tries again."""
    try:
        fetch_and_process(runtime)
    except ImapConnectionError as error:
        log.error("action=fetch.failed error=%s", error)


def register(group: click.Group) -> None:
    group.add_command(run_command)
