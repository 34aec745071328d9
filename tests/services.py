"""Test helpers for services that may be missing on a developer's machine."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

POSTGRES_URL = os.environ.get(
    "TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def running_under_ci(environ: dict[str, str] | None = None) -> bool:
    """CI systems set CI to "true", "1", "yes" or a name; only empty, "0" or "false" mean no."""
    value = (os.environ if environ is None else environ).get("CI", "").strip().lower()
    return value not in ("", "0", "false")


def service_missing(reason: str) -> NoReturn:
    """Skip locally; under CI a missing service is a failure, not a skip."""
    if running_under_ci():
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)
