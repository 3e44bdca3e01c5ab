"""The upgrade guard's table of chart version transitions."""

from __future__ import annotations

import pytest

from percona_pg_operator.chart import check_transition
from percona_pg_operator.errors import UpgradeGuardError


@pytest.mark.parametrize(
    ("previous", "target"),
    [
        (None, "2.7.0"),
        (None, "3.0.0"),
        ("2.7.0", "2.7.0"),
        ("2.7.0", "2.8.2"),
        ("2.8.2", "2.9.0"),
        ("2.9.0", "3.0.0"),
        ("2.8.0", "2.8.2"),
        ("v2.9.0", "3.0.0"),
    ],
)
def test_supported_steps_pass(previous: str | None, target: str) -> None:
    check_transition(previous, target)


@pytest.mark.parametrize(
    ("previous", "target", "reason"),
    [
        ("2.7.0", "2.9.0", "skips a minor version"),
        ("2.8.2", "3.0.0", "skips a minor version"),
        ("3.0.0", "2.9.0", "is a downgrade"),
        ("2.8.2", "2.8.0", "is a downgrade"),
        ("2.7.0", "3.0.0", "skips a minor version"),
    ],
)
def test_unsupported_steps_refused(previous: str, target: str, reason: str) -> None:
    with pytest.raises(UpgradeGuardError) as info:
        check_transition(previous, target)
    message = str(info.value)
    assert reason in message
    assert previous in message and target in message
    assert "spec.helm.allowUnsafeUpgrade: true" in message


def test_refusal_names_the_path_to_take() -> None:
    with pytest.raises(UpgradeGuardError, match=r"2\.7\.x -> 2\.8\.x -> 2\.9\.x -> 3\.0\.x"):
        check_transition("2.7.0", "3.0.0")


@pytest.mark.parametrize(
    ("previous", "target"), [("2.7.0", "2.9.0"), ("2.8.2", "3.0.0"), ("3.0.0", "2.9.0")]
)
def test_override_allows(previous: str, target: str) -> None:
    check_transition(previous, target, allow_unsafe=True)
