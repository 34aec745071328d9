"""The dashboard's commands: `serve`, `coordinator set-password|password-link`,
`participant remind` (what the participant page's "send a reminder now" does).
"""

from __future__ import annotations

import logging
import secrets
import sys
from datetime import timedelta
from typing import Any

import click

from tracker.cli.coordinator_commands import participant_group
from tracker.cli.runtime import Runtime, parse_now
from tracker.errors import TrackerError
from tracker.services.coordinating import find_participant
from tracker.services.nudging import request_reminder
from tracker.services.passwords import (
    PASSWORD_LINK_VALIDITY,
    find_coordinator,
    make_password_link_token,
    set_password,
)

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Worker threads."
)
@click.option(
    "--trusted-proxy",
    metavar="ADDRESS",
    help="A reverse proxy whose X-Forwarded-For/-Proto headers are believed "
    "(so sign-in throttling sees the real client address).",
)
def serve_command(host: str, port: int, threads: int, trusted_proxy: str | None) -> None:
    """Serve the coordinators' web dashboard (waitress) until interrupted."""
    runtime = Runtime.from_environment()
    runtime.settings.require_secret_key()
    runtime.require_current_schema()
    serve_app(runtime, host=host, port=port, threads=threads, trusted_proxy=trusted_proxy)


def serve_app(
    runtime: Runtime, *, host: str, port: int, threads: int = 4, trusted_proxy: str | None = None
) -> None:
    """Build the app on the runtime's database and serve it with waitress."""
    from tracker.web.app import create_app

    app = create_app(runtime.settings, runtime.session_factory)
    serve_wsgi(app, host=host, port=port, threads=threads, trusted_proxy=trusted_proxy)


def serve_wsgi(
    app: Any, *, host: str, port: int, threads: int = 4, trusted_proxy: str | None = None
) -> None:
    """Serve `app` with waitress until interrupted; a port in use is one clear line."""
    from waitress.server import create_server

    options: dict[str, Any] = {}
    if trusted_proxy:
        options.update(
            trusted_proxy=trusted_proxy,
            trusted_proxy_headers="x-forwarded-for x-forwarded-proto x-forwarded-host",
            clear_untrusted_proxy_headers=True,
        )
    try:
        server = create_server(
            app, host=host, port=port, threads=threads, ident="tracker", **options
        )
    except OSError as error:
        raise TrackerError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving the dashboard on http://{shown}:{port}/ (Ctrl+C stops it)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.close()


@click.group("coordinator")
def coordinator_group() -> None:
    """Coordinators' access to the dashboard."""


@coordinator_group.command("set-password")
@click.argument("email")
def set_password_command(email: str) -> None:
    """Set the dashboard password of coordinator EMAIL.

    The password is read from standard input when it is not a terminal (one
    line), else asked for twice without echo. Every session of EMAIL signed
    in before ends.
    """
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        coordinator = find_coordinator(email, session=session)  # before asking for a password
    password = _read_password()
    with runtime.unit_of_work() as session:
        coordinator = find_coordinator(email, session=session)
        set_password(coordinator, password, session=session, now=parse_now(None), actor="cli")
        address = coordinator.email
    click.echo(f"password set for {address}")


@coordinator_group.command("password-link")
@click.argument("email")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 30),
    default=int(PASSWORD_LINK_VALIDITY.total_seconds() // 3600),
    show_default=True,
    help="How long the link works.",
)
def password_link_command(email: str, hours: int) -> None:
    """Print a set-your-password link to send to coordinator EMAIL.

    The link works once, until it expires; it needs TRACKER_PUBLIC_URL (the
    dashboard's address as coordinators reach it).
    """
    runtime = Runtime.from_environment()
    settings = runtime.settings
    secret = settings.require_secret_key()
    if not settings.public_url:
        raise TrackerError(
            "TRACKER_PUBLIC_URL is not set: a link needs the dashboard's address "
            "(e.g. https://followup.example.org)"
        )
    now = parse_now(None)
    with runtime.unit_of_work() as session:
        coordinator = find_coordinator(email, session=session)
        token = make_password_link_token(
            coordinator, secret_key=secret, now=now, valid_for=timedelta(hours=hours)
        )
        address = coordinator.email
    click.echo(f"{settings.public_url}/set-password/{token}")
    click.echo(f"for {address}; works once, for {hours} hours", err=True)


@click.command("remind")
@click.argument("email")
@click.option(
    "--programme", "slug", metavar="SLUG", help="Needed when the address is in several programmes."
)
def remind_command(email: str, slug: str | None) -> None:
    """Send EMAIL a check-in now, outside the schedule (with the next sending pass)."""
    runtime = Runtime.from_environment()
    with runtime.unit_of_work() as session:
        participant = find_participant(email, slug=slug, session=session)
        outcome = request_reminder(
            participant,
            request=f"cli-{secrets.token_hex(8)}",
            session=session,
            now=parse_now(None),
            actor="cli",
        )
        address = participant.email
    click.echo(
        f"reminder {outcome.reminder_id} to {address} planned: "
        "it goes out with the next sending pass (`tracker run` or `tracker send-due`)"
    )


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise TrackerError("no password on standard input")
        return password
    password = str(
        click.prompt("New password", hide_input=True, confirmation_prompt="Repeat the password")
    )
    return password


def register(group: click.Group) -> None:
    group.add_command(serve_command)
    group.add_command(coordinator_group)
    participant_group.add_command(remind_command)
