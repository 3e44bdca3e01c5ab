"""The typed API: validation rules, key spellings, defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, kubeconfig_text, manifest

from percona_pg_operator.chart import chart_repo_url
from percona_pg_operator.errors import ChartRepositoryError, StackInputError
from percona_pg_operator.formats import parse_quantity
from percona_pg_operator.manifest import (
    StackInput,
    parse_document,
    read_file,
)


def problems(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "test")
    return [(p.path, p.value) for p in info.value.problems]


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_is_valid(example: Path) -> None:
    assert isinstance(read_file(example), StackInput)


def test_defaults() -> None:
    spec = parse_document(manifest(), "t").target.spec
    assert spec.namespace == "percona-postgres-operator"
    assert spec.create_namespace is False  # proto3 bool: absent is false, as upstream
    assert spec.delete_namespace_on_destroy is False
    assert spec.container.resources.effective_limits == {"cpu": "1000m", "memory": "1Gi"}
    assert spec.container.resources.effective_requests == {"cpu": "100m", "memory": "256Mi"}
    assert spec.helm.version == "3.0.0"
    assert spec.helm.manage_crds is True


def test_resources_default_field_by_field() -> None:
    doc = manifest(container={"resources": {"limits": {"cpu": "2", "memory": "2Gi"}}})
    res = parse_document(doc, "t").target.spec.container.resources
    assert res.effective_limits == {"cpu": "2", "memory": "2Gi"}
    assert res.effective_requests == {"cpu": "100m", "memory": "256Mi"}


def test_camel_and_snake_case_give_equal_models() -> None:
    camel = {
        "target": manifest(
            namespace={"value": "ops"},
            createNamespace=False,
            targetCluster={"clusterKind": "GcpGkeCluster", "clusterName": "c1"},
            helm={"manageCrds": False, "timeoutSeconds": 900},
        ),
        "providerConfig": {
            "provider": "digital_ocean_doks",
            "digitalOceanDoks": {"kubeConfig": kubeconfig_text()},
        },
    }
    snake = {
        "target": {
            **manifest(
                namespace="ops",
                create_namespace=False,
                target_cluster={"cluster_kind": "GcpGkeCluster", "cluster_name": "c1"},
                helm={"manage_crds": False, "timeout_seconds": 900},
            )
        },
        "provider_config": {
            "provider": "DIGITAL_OCEAN_DOKS",
            "digital_ocean_doks": {"kube_config": kubeconfig_text()},
        },
    }
    snake["target"]["api_version"] = snake["target"].pop("apiVersion")
    assert parse_document(camel, "c") == parse_document(snake, "s")


def test_namespace_value_from_reference_is_an_error() -> None:
    found = problems(
        manifest(namespace={"valueFrom": {"kind": "KubernetesNamespace", "name": "x"}})
    )
    assert [p for p, _ in found] == ["spec.namespace"]


@pytest.mark.parametrize(
    ("doc", "path", "value"),
    [
        (manifest(contianer={}), "spec.contianer", None),
        (
            manifest(container={"resources": {"limits": {"cpu": "lots"}}}),
            "spec.container.resources.limits.cpu",
            "'lots'",
        ),
        (
            manifest(container={"resources": {"requests": {"memory": "1GB"}}}),
            "spec.container.resources.requests.memory",
            "'1GB'",
        ),
        (manifest(namespace="Bad_Namespace"), "spec.namespace", "'Bad_Namespace'"),
        (manifest(namespace="x" * 64), "spec.namespace", None),
        (
            manifest(container={"resources": {"limits": {"cpu": "50m"}}}),
            "spec.container.resources",
            None,
        ),
        ({**manifest(), "metadata": {"name": "a" * 54}}, "metadata.name", None),
        ({**manifest(), "metadata": {"name": "My.Release"}}, "metadata.name", "'My.Release'"),
        ({**manifest(), "metadata": {}}, "metadata.name", None),
        ({**manifest(), "kind": "PostgresOperator"}, "kind", "'PostgresOperator'"),
        ({**manifest(), "apiVersion": "v1"}, "apiVersion", "'v1'"),
        (manifest(helm={"version": "latest"}), "spec.helm.version", "'latest'"),
    ],
)
def test_each_rule_rejected_with_its_path(
    doc: dict[str, Any], path: str, value: str | None
) -> None:
    found = problems(doc)
    assert [p for p, _ in found] == [path]
    if value is not None:
        assert found[0][1] == value


def test_requests_above_limits_names_both() -> None:
    doc = manifest(
        container={
            "resources": {
                "limits": {"cpu": "1", "memory": "1Gi"},
                "requests": {"cpu": "1500m", "memory": "2Gi"},
            }
        }
    )
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    text = str(info.value)
    assert "cpu request 1500m > limit 1" in text
    assert "memory request 2Gi > limit 1Gi" in text


def test_all_problems_reported_at_once() -> None:
    doc = manifest(contianer={}, namespace="BAD", container={"resources": {"limits": {"cpu": "x"}}})
    assert sorted(p for p, _ in problems(doc)) == [
        "spec.container.resources.limits.cpu",
        "spec.contianer",
        "spec.namespace",
    ]


def test_bare_manifest_and_stack_input_agree() -> None:
    assert parse_document(manifest(), "a") == parse_document({"target": manifest()}, "b")


def test_unknown_key_in_stack_input_is_rejected() -> None:
    config = {"provider": "kubeconfig", "kubeconfig": {"path": "/k"}}
    assert [p for p, _ in problems({"target": manifest(), "providr_config": config})] == [
        "providr_config"
    ]


def test_other_metadata_fields_accepted() -> None:
    doc = {
        **manifest(),
        "metadata": {
            "name": "x",
            "slug": "x",
            "id": "i",
            "org": "o",
            "env": "e",
            "tags": ["a"],
            "annotations": {"a": "b"},
            "version": {"id": "v1", "message": "m"},
        },
    }
    assert parse_document(doc, "t").target.metadata.version == {"id": "v1", "message": "m"}


def test_credential_values_never_in_errors() -> None:
    doc = {
        "target": manifest(),
        "providerConfig": {
            "provider": "digital_ocean_doks",
            "digitalOceanDoks": {"kubeConfig": 12345},
        },
    }
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    assert "providerConfig.digitalOceanDoks.kubeConfig" in str(info.value)
    assert "12345" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", "0.1"),
        ("1", "1"),
        ("1.5", "1.5"),
        ("256Mi", str(256 * 2**20)),
        ("1Gi", str(2**30)),
        ("1G", "1000000000"),
        ("1e3", "1000"),
        ("500k", "500000"),
    ],
)
def test_quantities(text: str, value: str) -> None:
    from decimal import Decimal

    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "1GB", "m", "1.2.3", " 1", "0x10", "Mi"])
def test_not_quantities(text: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(text)


def test_examples_are_yaml_mappings() -> None:
    for example in EXAMPLES.glob("*.yaml"):
        assert isinstance(yaml.safe_load(example.read_text()), dict)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1e1000000", "exponent must be between -30 and 30"),
        ("-1", "must not be negative"),
        ("9e30", "larger than the API server can hold"),
        ("500m\n", "not a Kubernetes quantity"),
    ],
)
def test_quantities_are_bounded_as_the_api_server_bounds_them(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_quantity(value)
    with pytest.raises(StackInputError, match=fragment):
        parse_document(manifest(container={"resources": {"limits": {"cpu": value}}}), "t")


def test_what_kubernetes_accepts_is_accepted() -> None:
    """`cpu: 0.5` is a quantity; `cpu: "2"` in raw values equals a typed `cpu: 2000m`."""
    doc = manifest(
        container={"resources": {"requests": {"cpu": 0.5}, "limits": {"cpu": "2000m"}}},
        helmValues={"resources": {"limits": {"cpu": "2"}}},
    )
    spec = parse_document(doc, "t").target.spec
    assert spec.container.resources.requests.cpu == "0.5"


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"namespace": "pgop\n"}, "spec.namespace"),
        ({"helm": {"version": "3.0.0\n"}}, "spec.helm.version"),
        ({"image": {"tag": "3.0.0\n"}}, "spec.image.tag"),
        ({"scheduling": {"nodeSelector": {"bad key!": "x"}}}, "spec.scheduling.nodeSelector"),
        ({"scheduling": {"nodeSelector": {"pool": "a" * 64}}}, "spec.scheduling.nodeSelector"),
        (
            {"scheduling": {"tolerations": [{"key": "a/b/c", "operator": "Exists"}]}},
            "spec.scheduling.tolerations[0].key",
        ),
        (
            {"scheduling": {"tolerations": [{"key": "k", "operator": "Equal", "value": "x y"}]}},
            "spec.scheduling.tolerations[0].value",
        ),
        (
            {
                "scheduling": {
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {"matchExpressions": [{"key": "k", "operator": "Near"}]}
                                ]
                            }
                        }
                    }
                }
            },
            "spec.scheduling.affinity.nodeAffinity",
        ),
        (
            {
                "scheduling": {
                    "affinity": {
                        "podAntiAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [
                                {"weight": 101, "podAffinityTerm": {"topologyKey": "x"}}
                            ]
                        }
                    }
                }
            },
            "spec.scheduling.affinity.podAntiAffinity",
        ),
        (
            {"scheduling": {"affinity": {"nodeAffinity": {"colour": "blue"}}}},
            "spec.scheduling.affinity.nodeAffinity.colour",
        ),
        ({"operator": {"podAnnotations": {"-bad": "x"}}}, "spec.operator.podAnnotations"),
        (
            {
                "operator": {"leaderElection": {"leaseDuration": "3000000h"}},
                "helm": {"version": "3.0.0"},
            },
            "spec.operator.leaderElection.leaseDuration",
        ),
        ({"helm": {"repo": "ftp://charts.example.com"}}, "spec.helm.repo"),
        ({"helm": {"repo": "https://admin:PASS@charts.example.com"}}, "spec.helm.repo"),
        ({"helm": {"repo": "https://charts.example.com/?access_token=abc"}}, "spec.helm.repo"),
        ({"image": {"repository": "r.example.com/" + "a" * 250}}, "spec.image.repository"),
    ],
)
def test_refused_as_the_api_server_would(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(**spec), "t")
    assert any(p.path.startswith(path) for p in info.value.problems), info.value.problems
    assert "PASS" not in str(info.value) or "PASS@" not in str(info.value).split("got")[0]


def test_a_toleration_with_an_empty_effect_matches_all_and_is_accepted() -> None:
    spec = parse_document(
        manifest(scheduling={"tolerations": [{"key": "k", "operator": "Exists", "effect": ""}]}),
        "t",
    ).target.spec
    assert spec.scheduling.tolerations[0].effect == ""


def test_typed_affinity_passes_through_exactly_as_written() -> None:
    from percona_pg_operator.manifest import build_helm_values

    affinity = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}
            ]
        }
    }
    spec = parse_document(manifest(scheduling={"affinity": affinity}), "t").target.spec
    assert build_helm_values(spec)["affinity"] == affinity


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"operator": {"replicas": True}}, "spec.operator.replicas"),
        ({"helm": {"timeoutSeconds": False}}, "spec.helm.timeoutSeconds"),
        ({"verify": {"pollSeconds": True}}, "spec.verify.pollSeconds"),
    ],
)
def test_a_boolean_is_not_a_number(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(**spec), "t")
    assert f"{path}: must be a number, not a boolean" in str(info.value)


def test_numbers_still_work() -> None:
    stack = parse_document(manifest(operator={"replicas": 2}), "t")
    assert stack.target.spec.operator.replicas == 2


@pytest.mark.parametrize(
    "url", ["https://charts.example.com:99999", "https://charts.example.com:0", "https://:443/x"]
)
def test_a_repository_url_with_no_possible_port_or_host_is_refused(url: str) -> None:
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(helm={"repo": url}), "t")
    assert "spec.helm.repo: is not a URL" in str(info.value)
    with pytest.raises(ChartRepositoryError, match="is not a URL"):
        chart_repo_url(None, {"PERCONA_PG_OPERATOR_CHART_REPO": url})


def test_good_repository_urls_pass() -> None:
    for url in ("https://percona.github.io/percona-helm-charts/", "http://mirror:8080/charts"):
        stack = parse_document(manifest(helm={"repo": url}), "t")
        assert stack.target.spec.helm.repo == url
