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
    "percona_pg_operator.deploy",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_each_layer_exports_what_a_component_user_needs() -> None:
    import percona_pg_operator as root
    from percona_pg_operator import deploy, manifest

    assert {"Problem", "PerconaPgOperatorError", "StackInputError"} <= set(root.__all__)
    assert {"PerconaPostgresOperator", "PerconaPostgresOperatorArgs"} <= set(deploy.__all__)
    assert {"StackInput", "KubernetesPerconaPostgresOperator", "read_file"} <= set(manifest.__all__)
    with pytest.raises(AttributeError):
        _ = root.NotAName  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("PerconaPostgresOperator", "percona_pg_operator.deploy"),
        ("read_file", "percona_pg_operator.manifest"),
    ],
)
def test_a_name_0_1_0_exported_from_the_root_still_works_with_a_warning(
    name: str, module: str
) -> None:
    import percona_pg_operator as root

    with pytest.warns(DeprecationWarning, match=f"from {module} import {name}"):
        moved = getattr(root, name)
    assert moved is getattr(importlib.import_module(module), name)


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
