"""The `tracker` command.

Every command exits 0 on success, 1 on a user error with one line on stderr,
and 2 on bad usage (click's own). Each command family lives in its own module.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from collections.abc import Iterable
from typing import Any

import click
from sqlalchemy.exc import InterfaceError, OperationalError

from tracker.errors import ProgrammeFileError, TrackerError


class TrackerGroup(click.Group):
    """Turns our own errors into one line on stderr and exit code 1; loads each
    command's module when the command is asked for (`COMMAND_MODULES`)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        load_command_modules(self, COMMAND_MODULES.get(cmd_name, ()))
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProgrammeFileError as error:
            click.echo(f"error: {error}", err=True)
            for problem in error.problems:
                click.echo(f"  {error.path}: {problem}", err=True)
            sys.exit(1)
        except TrackerError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        except (OperationalError, InterfaceError) as error:
            # The database went away mid-command (a restart, a lost network): what was
            # committed stays, the rest is redone by the next run. One line, no traceback.
            click.echo(f"error: the database connection failed: {_first_line(error)}", err=True)
            sys.exit(1)


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, one line per event.")
@click.version_option(package_name="followup-tracker", prog_name="tracker")
def main(verbose: bool) -> None:
    """Follow up on training action plans by email.

    Configuration comes from TRACKER_* environment variables or a .env file
    (see config.example.env).
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # Start-up ends here: click runs this after importing the command's module
    # and before the command. What is loaded by now (the program, tens of MB of
    # objects) lives until exit, so it leaves the garbage collector's care:
    # otherwise every full collection of a busy pass walks it all again (about
    # a fifth of a busy planning tick's CPU). Nothing loaded so far waits on
    # the collector: no engine, connection or file is opened before a command.
    # Once per process: a process that runs several commands (tests) keeps
    # later garbage collectable.
    if gc.get_freeze_count() == 0:
        gc.freeze()


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# Which modules make each command. A command's module is imported only when it
# runs (or when help lists every command): `tracker ingest` need not load the
# dashboard, the spreadsheets and the demo first. `participant` gathers
# subcommands from three families. tests/unit/test_cli_lazy.py keeps this table
# equal to what the modules register.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "action": ("editing_commands",),
    "backup": ("backup_commands",),
    "coordinator": ("web_commands",),
    "db": ("programme_commands",),
    "demo": ("demo_commands",),
    "export": ("export_commands",),
    "fetch-mail": ("inbound_commands",),
    "import": ("programme_commands",),
    "ingest": ("inbound_commands",),
    "outbox": ("outbox_commands",),
    "parse": ("inbound_commands",),
    "participant": ("coordinator_commands", "editing_commands", "web_commands"),
    "preview": ("sending_commands",),
    "record": ("coordinator_commands",),
    "reprocess": ("inbound_commands",),
    "restore": ("backup_commands",),
    "review": ("inbound_commands",),
    "run": ("service_commands",),
    "schedule": ("schedule_commands",),
    "send-due": ("sending_commands",),
    "serve": ("web_commands",),
    "status": ("programme_commands",),
    "updates": ("inbound_commands",),
}


def load_command_modules(group: click.Group, modules: Iterable[str]) -> None:
    """Import each command module and let it register its commands on `group` (once)."""
    loaded: set[str] = group.__dict__.setdefault("_tracker_modules_loaded", set())
    for name in modules:
        if name not in loaded:
            loaded.add(name)
            importlib.import_module(f"tracker.cli.{name}").register(group)
