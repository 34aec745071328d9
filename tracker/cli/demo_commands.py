"""`tracker demo`: the whole story, with no setup and no network, then the dashboard."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.cli.programme_commands import status_text
from tracker.clock import FixedClock
from tracker.config import settings_from_values
from tracker.db.orm import Participant
from tracker.demo import (
    DEMO_FROM,
    DEMO_LINK_DAYS,
    DEMO_REPLY_ADDRESS,
    LAST_DAY,
    PAGE_ANSWER,
    demo_coordinator,
    run_demo,
)
from tracker.services.participant_links import personal_links
from tracker.services.passwords import set_password
from tracker.services.review import held_messages
from tracker.services.status import programme_status


@click.command("demo")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tracker-demo"),
    show_default=True,
    help="Where the demo keeps its database and the messages it 'sends' (made afresh).",
)
@click.option(
    "--no-serve", is_flag=True, help="Exit after the story instead of serving the dashboard."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Where the dashboard listens.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo_command(folder: Path, no_serve: bool, host: str, port: int) -> None:
    """Play a programme's follow-up from start to end on an embedded example,
    then serve the coordinators' dashboard on it (until Ctrl+C).

    Uses its own SQLite database and writes outgoing mail to files: it needs
    no configuration, touches no other database and sends nothing.
    """
    secret_key = secrets.token_urlsafe(32)
    shown = f"[{host}]" if ":" in host else host
    public_url = f"http://{shown}:{port}"
    factory = run_demo(folder, click.echo, secret_key=secret_key, public_url=public_url)
    with factory() as session:
        status = programme_status(session=session)
        held = held_messages(session=session)["held"]
    click.echo("\nWhere everything stands (as `tracker status` shows it):\n")
    for programme in status["programmes"]:
        click.echo(status_text(programme))
    click.echo(f"\nHeld for a coordinator (`tracker review`): {len(held)}")
    for row in held:
        click.echo(f"  {row['id']}: from {row['from']}: {row['why']} ({row['detail']})")
    command = _this_command()
    click.echo(
        f"\nTry it yourself: TRACKER_DATABASE_URL=sqlite:///{folder}/demo.db {command} status"
    )
    if no_serve:
        return
    _serve_dashboard(folder, factory, host=host, port=port, secret_key=secret_key)


def _serve_dashboard(
    folder: Path, factory: sessionmaker[Session], *, host: str, port: int, secret_key: str
) -> None:
    """Serve the dashboard on the demo's database, as on the story's last day."""
    from tracker.cli.web_commands import serve_wsgi
    from tracker.web.app import create_app

    password = secrets.token_urlsafe(9)
    shown = f"[{host}]" if ":" in host else host
    with factory.begin() as session:
        # The sign-in: the example programme's first coordinator.
        coordinator = demo_coordinator(session=session)
        set_password(coordinator, password, session=session, now=LAST_DAY, actor="demo")
        sign_in = coordinator.email
        someone = session.scalars(select(Participant).where(Participant.email == PAGE_ANSWER)).one()
        page = personal_links(
            someone,
            public_url=f"http://{shown}:{port}",
            secret_key=secret_key,
            now=LAST_DAY,
            valid_days=DEMO_LINK_DAYS,
        ).page
    settings = settings_from_values(
        {
            "TRACKER_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
            # The key the story signed its links with: the .eml files' links open here.
            "TRACKER_SECRET_KEY": secret_key,
            "TRACKER_PUBLIC_URL": f"http://{shown}:{port}",
            "TRACKER_LINK_DAYS": str(DEMO_LINK_DAYS),
            "TRACKER_FROM": DEMO_FROM,
            "TRACKER_REPLY_ADDRESS": DEMO_REPLY_ADDRESS,
        }
    )
    # The story ends on its last day: the dashboard shows the programme as of then.
    app = create_app(settings, factory, clock=FixedClock(LAST_DAY))
    click.echo(
        f"\nThe coordinators' dashboard, as on {LAST_DAY.day} {LAST_DAY:%B %Y}: http://{shown}:{port}/\n"
        f"  sign in as {sign_in} with the password {password}\n"
        f"  a participant's own page, as the link in their reminders opens it: {page}\n"
        "  (Ctrl+C stops it; `--no-serve` skips it)"
    )
    serve_wsgi(app, host=host, port=port)


def _this_command() -> str:
    """How to run this `tracker` again: by name when PATH finds this one, else by path."""
    invoked = Path(sys.argv[0]).resolve()
    on_path = shutil.which("tracker")
    if on_path is not None and Path(on_path).resolve() == invoked:
        return "tracker"
    return os.path.relpath(invoked)


def register(group: click.Group) -> None:
    group.add_command(demo_command)
