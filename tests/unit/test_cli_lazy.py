"""The `tracker` command loads a command's module only when the command runs; the
table that says which modules make which command must match what they register."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from tracker.cli import COMMAND_MODULES, load_command_modules, main

MODULES = sorted({module for modules in COMMAND_MODULES.values() for module in modules})


def _tree(group: click.Group) -> dict[str, list[str]]:
    return {
        name: sorted(command.commands) if isinstance(command, click.Group) else []
        for name, command in group.commands.items()
    }


def test_the_table_names_every_command_the_modules_register_and_no_other() -> None:
    everything = click.Group()
    load_command_modules(everything, MODULES)
    assert sorted(everything.commands) == sorted(COMMAND_MODULES)


def test_each_command_asked_for_alone_has_all_its_subcommands() -> None:
    script = (
        "import sys, click\n"
        "from tracker.cli import main\n"
        "name = sys.argv[1]\n"
        "command = main.get_command(click.Context(main), name)\n"
        "print(sorted(command.commands) if isinstance(command, click.Group) else [])\n"
    )
    full = _tree(_loaded_main())
    for name in COMMAND_MODULES:
        alone = subprocess.run(
            [sys.executable, "-c", script, name], capture_output=True, text=True, check=True
        )
        assert alone.stdout.strip() == str(full[name]), name


def test_running_a_mail_command_does_not_load_the_dashboard() -> None:
    script = (
        "import sys\n"
        "from tracker.cli import main\n"
        "try:\n"
        "    main(['parse', '--help'], standalone_mode=False)\n"
        "finally:\n"
        "    print('flask' in sys.modules, 'tracker.cli.demo_commands' in sys.modules)\n"
    )
    said = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert said.stdout.strip().splitlines()[-1] == "False False", said.stdout + said.stderr


def test_help_lists_every_command() -> None:
    shown = CliRunner().invoke(main, ["--help"])
    assert shown.exit_code == 0
    for name in COMMAND_MODULES:
        assert f"  {name} " in shown.output, name


def _loaded_main() -> click.Group:
    for name in COMMAND_MODULES:
        main.get_command(click.Context(main), name)
    return main
