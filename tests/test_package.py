"""The component package's schema, as the Python SDK's component provider host reads it off the
annotations (deploy/package.py): the Python component's token, arguments and outputs."""

from __future__ import annotations

import inspect
import json
from typing import Any

import yaml
from conftest import ROOT

from percona_pg_operator import outputs
from percona_pg_operator.deploy.component import TYPE_TOKEN
from percona_pg_operator.deploy.component import PerconaPostgresOperator as PythonComponent
from percona_pg_operator.deploy.package import PACKAGE_NAME, PerconaPostgresOperator


def schema() -> dict[str, Any]:
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider([PerconaPostgresOperator], PACKAGE_NAME, None, "0.2.0")
    return dict(json.loads(provider.schema))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_the_package_offers_the_python_components_token_and_outputs() -> None:
    resource = schema()["resources"][TYPE_TOKEN]
    assert resource["isComponent"] is True
    expected = [outputs.NAMESPACE, outputs.RELEASE_NAME, outputs.CHART_VERSION]
    expected += [outputs.OPERATOR_VERSION, outputs.CRDS]
    expected += [outputs.VERIFIED_AT, outputs.DATABASES_CHECKED]
    assert set(resource["properties"]) == {camel(name) for name in expected}
    # The package declares the Python component's outputs again (see package.py): the same.
    declared = inspect.get_annotations(PythonComponent)
    assert set(inspect.get_annotations(PerconaPostgresOperator)) == set(declared)
    assert resource["requiredInputs"] == ["manifest"]
    inputs = resource["inputProperties"]
    assert set(inputs) == {"manifest", "preflight", "runningVersion", "readyDatabases"}
    # Plain: the component validates the manifest before it registers anything.
    assert inputs["manifest"]["plain"] is True and inputs["manifest"]["type"] == "object"


def test_the_plugin_folder_runs_this_host() -> None:
    plugin = ROOT / "pulumi-plugin"
    runtime = yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    assert "percona_pg_operator.deploy.package import serve" in (plugin / "__main__.py").read_text()
    assert "percona-pg-operator" in (plugin / "requirements.txt").read_text()
