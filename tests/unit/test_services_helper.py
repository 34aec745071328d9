"""The test suite's own rule: under CI a missing service fails instead of skipping."""

from __future__ import annotations

import pytest

from tests.services import running_under_ci, service_missing


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "github-actions", " true "])
def test_any_ci_value_but_off_means_ci(value: str) -> None:
    assert running_under_ci({"CI": value})


@pytest.mark.parametrize("value", ["", "0", "false", "False", " "])
def test_unset_zero_or_false_is_not_ci(value: str) -> None:
    assert not running_under_ci({"CI": value})
    assert not running_under_ci({})


def test_a_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="required under CI: no server"):
        service_missing("no server")
    monkeypatch.setenv("CI", "0")
    with pytest.raises(pytest.skip.Exception, match="no server"):
        service_missing("no server")
