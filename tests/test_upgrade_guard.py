"""The upgrade guard's table of chart version transitions."""

from __future__ import annotations

from typing import Any

import pytest

from percona_pg_operator.errors import UpgradeGuardError
from percona_pg_operator.versions import check_transition


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
    check_transition(previous, target, acknowledged="3.0")


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
    check_transition(previous, target, allow_unsafe=True, acknowledged="3.0")


@pytest.mark.parametrize(
    ("previous", "allow_unsafe"), [("2.9.0", False), ("2.9.3", False), ("2.7.0", True)]
)
def test_the_3_0_step_needs_its_acknowledgement(previous: str, allow_unsafe: bool) -> None:
    """Irreversible: even an allowed unsafe step must name it; the message says why and how."""
    with pytest.raises(UpgradeGuardError) as info:
        check_transition(previous, "3.0.0", allow_unsafe=allow_unsafe)
    message = str(info.value)
    assert "irreversible" in message and "upstream.pgv2.percona.com" in message
    assert 'spec.helm.acknowledgeIrreversible: "3.0"' in message
    assert "update-operator.html" in message
    with pytest.raises(UpgradeGuardError, match="acknowledgeIrreversible"):
        check_transition(previous, "3.0.0", allow_unsafe=allow_unsafe, acknowledged="2.9")
    check_transition(previous, "3.0.0", allow_unsafe=allow_unsafe, acknowledged="3.0")


@pytest.mark.parametrize(("previous", "target"), [(None, "3.0.0"), ("3.0.0", "3.0.1")])
def test_no_acknowledgement_where_nothing_moves(previous: str | None, target: str) -> None:
    check_transition(previous, target)


@pytest.mark.parametrize("previous", [3, 2.9, ["2.9.0"], {"v": 1}])
def test_a_non_string_previous_version_is_a_clean_refusal(previous: Any) -> None:
    from percona_pg_operator.versions import check_transition

    with pytest.raises(UpgradeGuardError, match="is not a chart version"):
        check_transition(previous, "3.0.0")
