"""The `tracker` command hands what start-up loaded, the command's own module
included, over to the garbage collector's permanent generation before the
command runs (see `tracker.cli.main`)."""

from __future__ import annotations

import subprocess
import sys

# Runs a command that fails at once (a missing file, no database needed), then
# tells whether the command's module was loaded and is out of the collector's
# generations (`gc.get_objects` lists the collected generations, not the frozen one).
PROBE = """
import gc, sys
from tracker.cli import main
try:
    main(["parse", "/nonexistent/message.eml"], standalone_mode=False)
except SystemExit:
    pass
command = sys.modules["tracker.cli.inbound_commands"].parse_command
print(gc.get_freeze_count() > 0, any(o is command for o in gc.get_objects()))
"""


def test_start_up_is_frozen_once_the_commands_module_is_loaded() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "False"]
