"""TRACKER_PUBLIC_URL: a web address, kept without its trailing slash; anything else named."""

from __future__ import annotations

import pytest

from tracker.config import settings_from_values
from tracker.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("https://followup.example.org/", "https://followup.example.org"),
        ("http://127.0.0.1:8000/tracker", "http://127.0.0.1:8000/tracker"),
    ],
)
def test_public_url_is_kept_without_a_trailing_slash(raw: str | None, expected: str | None) -> None:
    values = {"TRACKER_PUBLIC_URL": raw} if raw is not None else {}
    assert settings_from_values(values).public_url == expected


@pytest.mark.parametrize(
    "raw",
    ["followup.example.org", "ftp://example.org", "https://", "https://h:port/", "https://h/?a=1"],
)
def test_a_bad_public_url_stops_with_a_line_naming_the_key(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^TRACKER_PUBLIC_URL: "):
        settings_from_values({"TRACKER_PUBLIC_URL": raw})
