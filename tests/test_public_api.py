"""The public API: what each package exports resolves, and importing it stays cheap."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = [
    "percona_pg_operator",
    "percona_pg_operator.manifest",
    "percona_pg_operator.chart",
    "percona_pg_operator.cluster",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_root_exports_what_a_component_user_needs() -> None:
    import percona_pg_operator as root

    assert {
        "PerconaPostgresOperator",
        "StackInput",
        "KubernetesPerconaPostgresOperator",
        "read_file",
        "load_stack_input",
        "Problem",
        "PerconaPgOperatorError",
        "StackInputError",
    } <= set(root.__all__)
    with pytest.raises(AttributeError):
        _ = root.NotAName  # type: ignore[attr-defined]


def test_importing_the_package_loads_nothing_heavy() -> None:
    """What the credential plugin imports (the package, its command line, the token makers)
    loads no pydantic, Pulumi or YAML; the layers themselves import plainly."""
    code = (
        "import sys, percona_pg_operator, percona_pg_operator.cli, percona_pg_operator.tokens\n"
        "print(sorted(m for m in ('pydantic', 'pulumi', 'pulumi_kubernetes', 'yaml') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
