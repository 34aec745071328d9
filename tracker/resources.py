"""Where the files that travel with the code are, in both layouts.

The source tree keeps `templates/`, `migrations/`, `alembic.ini` and
`examples/` at its top, beside the `tracker` package, where people edit
them. A wheel carries them inside the package (`tracker/templates/`, …):
the build maps them there (see `[tool.hatch.build.targets.wheel.force-include]`
in pyproject.toml). An editable install runs from the source tree.
"""

from __future__ import annotations

from pathlib import Path

from tracker.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """The path of a bundled file or folder: inside the package (a wheel), else beside it."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.exists():
            return candidate
    raise ConfigError(
        f"{name} is missing from this installation "
        f"(looked in {PACKAGE_DIR} and {PACKAGE_DIR.parent}): reinstall the tracker"
    )
