"""Hostile and broken input: each reproducer from the issue, bounded in time, a clean error, no
value of a credential echoed."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import kubeconfig_text, manifest

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.errors import CredentialError, StackInputError, UpgradeGuardError
from percona_pg_operator.formats import parse_quantity
from percona_pg_operator.manifest import (
    KubernetesProviderConfig,
    load_stack_input,
    parse_document,
    parse_yaml,
    read_file,
)

ALIAS_BOMB = """\
apiVersion: kubernetes.project-planton.org/v1
kind: KubernetesPerconaPostgresOperator
metadata: {name: pg}
spec:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  helmValues: {x: [*g,*g,*g,*g,*g,*g,*g,*g,*g]}
"""


def refused_quickly(text: str, fragment: str, seconds: float = 2.0) -> str:
    start = time.monotonic()
    with pytest.raises(StackInputError) as info:
        parse_yaml(text, "t")
    assert time.monotonic() - start < seconds
    assert fragment in str(info.value)
    return str(info.value)


def test_an_alias_bomb_is_refused_in_bounded_time() -> None:
    refused_quickly(ALIAS_BOMB, "more than 100000 values (YAML aliases count once per use)")


def test_deep_nesting_is_refused_cleanly() -> None:
    refused_quickly("spec: " + "[" * 1500 + "]" * 1500, "nest")
    deep = "spec:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(80)) + "  " * 81 + "v: 1\n"
    refused_quickly(deep, "nested deeper than 64 levels")


def test_huge_inputs_are_refused_by_size() -> None:
    flow = "helmValues: {x: [" + ",".join(["1"] * 3_000_000) + "]}"
    refused_quickly(flow, "larger than 1048576 bytes")
    many = manifest()
    many["metadata"]["labels"] = {f"k{i}": "v" for i in range(20_000)}
    refused_quickly(yaml.safe_dump(many), "more than 10000 keys")


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "fifo"])
def test_only_regular_files_are_read(special: str, tmp_path: Path) -> None:
    path = special
    if special == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)  # would block forever if opened
    start = time.monotonic()
    with pytest.raises(StackInputError, match="is not a regular file"):
        read_file(path)
    with pytest.raises(StackInputError, match="is not a regular file"):
        load_stack_input(environ={"STACK_INPUT_YAML_FILE": path})
    doc = {"target": manifest(), "providerConfig": {"kubeconfig": {"path": path}}}
    with pytest.raises(CredentialError, match="is not a regular file"):
        from percona_pg_operator.cluster import cluster_credentials

        cluster_credentials(parse_document(doc, "t").provider_config, {})
    assert time.monotonic() - start < 2


def test_a_file_over_a_mebibyte_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(StackInputError, match="larger than 1048576 bytes"):
        read_file(big)


def test_duplicate_keys_are_an_error_not_the_last_one_silently() -> None:
    text = yaml.safe_dump(manifest()) + "metadata: {name: other}\n"
    refused_quickly(text, "found the key 'metadata' twice in one mapping")


def test_a_value_that_looks_like_a_yaml_tag_is_never_echoed() -> None:
    text = (
        "target: {apiVersion: kubernetes.project-planton.org/v1, "
        "kind: KubernetesPerconaPostgresOperator, metadata: {name: pg}}\n"
        "providerConfig:\n  azureAks:\n    clientSecret: !Sup3rS3cretValue\n"
    )
    message = refused_quickly(text, "an unknown tag (quote the value if it is text)")
    assert "Sup3rS3cret" not in message


def test_yaml_errors_quote_nothing_from_the_input() -> None:
    text = "target:\n  token: 'hunter2-secret\n  other: x"
    with pytest.raises(StackInputError) as info:
        parse_yaml(text, "t")
    assert "hunter2" not in str(info.value)


def test_the_python_apis_own_errors_hide_credential_values() -> None:
    from pydantic import ValidationError

    secret = "dop_v1_" + "a" * 64
    with pytest.raises(ValidationError) as info:
        KubernetesProviderConfig.model_validate(
            {"provider": "digital_ocean_doks", "digitalOceanDoks": {"kubeConfig": secret}}
        )
    assert secret[:12] not in str(info.value)


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
    ("text", "fragment"),
    [
        ("when: 2026-01-01", "is a date"),
        ("blob: !!binary aGVsbG8=", "is a bytes"),
        ("s: !!set {a, b}", "spec.helmValues.s: a YAML set (!!set) is not a list"),
        ("? [1, 2]\n: x", "unhashable"),
        ("1: one", "spec.helmValues: the key '1' is not a string: quote it"),
        ("m:\n  1: one", "spec.helmValues.m: the key '1' is not a string: quote it"),
    ],
)
def test_raw_values_must_be_json(text: str, fragment: str) -> None:
    raw = (
        yaml.safe_dump(manifest())
        + "  helmValues:\n"
        + "".join(f"    {line}\n" for line in text.splitlines())
    )
    raw = raw.replace("spec: {}\n", "spec:\n")
    with pytest.raises(StackInputError) as info:
        parse_yaml(raw, "t")
    assert fragment in str(info.value)


@pytest.mark.parametrize("previous", [3, 2.9, ["2.9.0"], {"v": 1}])
def test_a_non_string_previous_version_is_a_clean_refusal(previous: Any) -> None:
    from percona_pg_operator.versions import check_transition

    with pytest.raises(UpgradeGuardError, match="is not a chart version"):
        check_transition(previous, "3.0.0")


@pytest.mark.parametrize(
    "kubeconfig",
    [
        "clusters: [x]\ncontexts: [y]\ncurrent-context: y\n",
        "clusters: {}\n",
        "clusters: [{name: c, cluster: [1]}]\ncontexts: [{name: m, context: {cluster: c}}]\n"
        "current-context: m\n",
        "clusters: [{name: c}]\ncontexts: [{name: m, context: 5}]\ncurrent-context: m\n",
    ],
)
def test_a_malformed_kubeconfig_is_a_validation_error(kubeconfig: str) -> None:
    doc = {"target": manifest(), "providerConfig": {"kubeconfig": {"content": kubeconfig}}}
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    assert info.value.problems[0].path.startswith("providerConfig.kubeconfig")


def test_credentials_gke_with_a_json_list_key_file(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps(["not", "a", "key"]))
    result = CliRunner().invoke(cli, ["credentials", "gke", "--key-file", str(key)])
    assert result.exit_code == ExitCode.UNREADABLE
    assert "not a base64 service-account key JSON" in result.output
    assert "Traceback" not in result.output


def test_a_big_bad_value_is_shown_as_a_short_excerpt() -> None:
    doc = manifest(namespace={"value": "x" * 100_000})
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    assert len(str(info.value)) < 600


def test_the_kubeconfig_text_of_a_bad_block_is_not_echoed() -> None:
    token = "s3cr3t-" + base64.b64encode(b"x" * 30).decode()
    doc = {
        "target": manifest(),
        "providerConfig": {
            "kubeconfig": {"content": kubeconfig_text(token=token), "context": "no"}
        },
    }
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    assert token not in str(info.value)


# -- broken chart repositories and caches ---------------------------------------------------------

import hashlib  # noqa: E402
import io  # noqa: E402
import tarfile  # noqa: E402

from conftest import FIXTURE_REPO  # noqa: E402
from repo_server import serve as serve_repo  # noqa: E402

from percona_pg_operator.chart import ChartRepository, load_managed_crds  # noqa: E402
from percona_pg_operator.chart._repository import MAX_UNPACKED_BYTES  # noqa: E402
from percona_pg_operator.errors import ChartRepositoryError  # noqa: E402


def repo_with(tmp_path: Path, package: bytes, **entry: Any) -> Path:
    """A repository whose one pg-operator 3.0.0 package is ``package``, digest-true."""
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "pg-operator-3.0.0.tgz").write_bytes(package)
    index = {
        "apiVersion": "v1",
        "entries": {
            "pg-operator": [
                {
                    "name": "pg-operator",
                    "version": "3.0.0",
                    "appVersion": "3.0.0",
                    "digest": hashlib.sha256(package).hexdigest(),
                    "urls": ["pg-operator-3.0.0.tgz"],
                    **entry,
                }
            ]
        },
    }
    (repo / "index.yaml").write_text(yaml.safe_dump(index))
    return repo


def tgz(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


class _Zeros(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = bytes(len(buffer))
        return len(buffer)


def zip_bomb() -> bytes:
    """A package of a few hundred KiB that unpacks past the limit: one file of zeros."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("pg-operator/values.yaml")
        info.size = MAX_UNPACKED_BYTES + 1
        archive.addfile(info, io.BufferedReader(_Zeros()))
    return out.getvalue()


REAL = (FIXTURE_REPO / "pg-operator-3.0.0.tgz").read_bytes()


@pytest.mark.parametrize(
    ("package", "fragment"),
    [
        (REAL[: len(REAL) // 2], "not a readable chart package"),  # truncated, digest-true
        (b"not a tarball at all", "not a readable chart package"),
        (tgz({"other/Chart.yaml": b"name: other"}), "has no pg-operator/Chart.yaml"),
        (zip_bomb(), "unpacks to more than"),
    ],
)
def test_a_digest_true_but_broken_package_is_refused_and_not_cached(
    tmp_path: Path, package: bytes, fragment: str
) -> None:
    repo = ChartRepository(str(repo_with(tmp_path, package)), cache_dir=tmp_path / "cache")
    with pytest.raises(ChartRepositoryError, match=fragment):
        repo.fetch("pg-operator", "3.0.0")
    assert not list((tmp_path / "cache").rglob("*.tgz")), "nothing broken is cached"


def test_a_package_whose_crds_do_not_parse_is_the_repositorys_and_not_cached(
    tmp_path: Path,
) -> None:
    package = tgz(
        {
            "pg-operator/Chart.yaml": b"name: pg-operator\nversion: 3.0.0\n",
            "pg-operator/crds/crd.yaml": b"kind: CustomResourceDefinition\nmetadata: [oops",
        }
    )
    repo_dir = repo_with(tmp_path, package)
    repo = ChartRepository(str(repo_dir), cache_dir=tmp_path / "cache")
    with pytest.raises(ChartRepositoryError) as info:
        repo.fetch("pg-operator", "3.0.0")
    message = str(info.value)
    assert "pg-operator-3.0.0.tgz" in message and "nothing of it was cached" in message
    assert "run again" not in message and "cached package" not in message
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()], "nothing cached"


def test_an_edited_or_emptied_crd_cache_is_rebuilt_not_applied(tmp_path: Path) -> None:
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=tmp_path / "cache")
    package = repo.fetch("pg-operator", "3.0.0")
    first = load_managed_crds(package)
    cache = package.path.with_suffix(".crds.json")
    for edit in ("tamper", "empty"):
        data = json.loads(cache.read_text())
        if edit == "tamper":
            data["manifest"] = data["manifest"].replace("perconapgclusters", "evil")
        else:
            data["names"], data["manifest"] = [], ""
        cache.write_text(json.dumps(data))
        assert load_managed_crds(package) == first


def test_a_pin_pointing_at_another_versions_package_is_not_trusted(tmp_path: Path) -> None:
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=tmp_path / "cache")
    old = repo.fetch("pg-operator", "2.9.0")
    new = repo.fetch("pg-operator", "3.0.0")
    pin = next((tmp_path / "cache" / "pins").rglob("pg-operator-3.0.0.json"))
    pin.write_text(json.dumps({**json.loads(pin.read_text()), "digest": old.digest}))
    again = repo.fetch("pg-operator", "3.0.0")
    assert again.digest == new.digest


def test_a_remote_index_cannot_point_at_local_files(tmp_path: Path) -> None:
    repo_dir = repo_with(tmp_path, REAL, urls=["file:///etc/hostname"])
    with serve_repo(repo_dir) as server:
        repo = ChartRepository(server.url, cache_dir=tmp_path / "cache")
        with pytest.raises(ChartRepositoryError, match="must be http"):
            repo.fetch("pg-operator", "3.0.0")


def test_index_entries_that_are_not_mappings_are_ignored(tmp_path: Path) -> None:
    repo_dir = repo_with(tmp_path, REAL)
    index = yaml.safe_load((repo_dir / "index.yaml").read_text())
    index["entries"]["pg-operator"].insert(0, "not a mapping")
    (repo_dir / "index.yaml").write_text(yaml.safe_dump(index))
    package = ChartRepository(str(repo_dir), cache_dir=tmp_path / "cache").fetch(
        "pg-operator", "3.0.0"
    )
    assert package.version == "3.0.0"


def test_an_unwritable_cache_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=blocker / "cache")
    with pytest.raises(ChartRepositoryError, match="cannot write the chart cache"):
        repo.fetch("pg-operator", "3.0.0")


def test_an_internal_error_is_one_line_and_the_traceback_comes_with_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("percona_pg_operator.manifest.json_schema", broken)
    quiet = CliRunner().invoke(cli, ["schema"])
    assert quiet.exit_code == ExitCode.INTERNAL
    assert "internal error (ZeroDivisionError: oops); this is a bug" in quiet.output
    assert "Traceback" not in quiet.output
    loud = CliRunner().invoke(cli, ["--debug", "schema"])
    assert isinstance(loud.exception, ZeroDivisionError)


# -- validated as the API server validates ---------------------------------------------------------


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
    "endpoint",
    ["https://user:pw@34.1.2.3", "34.1.2.3/?token=abc", "https://host.example.com\n"],
)
def test_cluster_endpoints_carry_no_credential(endpoint: str) -> None:
    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n").decode()
    block = {
        "clusterName": "p",
        "region": "eu-west-1",
        "clusterEndpoint": endpoint,
        "clusterCaData": ca,
    }
    with pytest.raises(StackInputError) as info:
        parse_document({"target": manifest(), "providerConfig": {"awsEks": block}}, "t")
    assert "pw" not in str(info.value) and "abc" not in str(info.value)


def test_a_kubeconfig_server_with_a_credential_is_refused() -> None:
    content = kubeconfig_text(server="https://admin:hunter2@k8s.example.com")
    doc = {"target": manifest(), "providerConfig": {"kubeconfig": {"content": content}}}
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    assert "must not carry a credential" in str(info.value)
    assert "hunter2" not in str(info.value)


# -- raw helmValues against the chart version's own values ------------------------------------

from percona_pg_operator.chart import raw_values_problems  # noqa: E402
from percona_pg_operator.review.render import render_stack  # noqa: E402


@pytest.fixture
def package_27(warm_cache: Path) -> Any:
    return ChartRepository(str(FIXTURE_REPO), cache_dir=warm_cache).fetch("pg-operator", "2.7.0")


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        ({"pprofBindAdress": ":6060"}, "pprofBindAdress", "has no value 'pprofBindAdress'"),
        ({"pprofBindAddress": ":6060"}, "pprofBindAddress", "2.7.0 has no value"),  # since 2.9.0
        ({"rbac": {"useClusterAdmn": True}}, "rbac.useClusterAdmn", "has no value"),
        ({"nameOverride": ["x"]}, "nameOverride", "expects a string here"),
        ({"fullnameOverride": {"a": 1}}, "fullnameOverride", "not a mapping"),
    ],
)
def test_raw_values_the_chart_version_does_not_have_are_refused(
    package_27: Any, raw: dict[str, Any], path: str, fragment: str
) -> None:
    problems = raw_values_problems(raw, package_27)
    assert [".".join(p.loc) for p in problems] == [f"helmValues.{path}"]
    assert fragment in problems[0].message and "pg-operator 2.7.0" in problems[0].message


def test_raw_values_the_chart_reads_are_accepted(package_27: Any) -> None:
    """Keys from values.yaml and keys only the templates read (rbac.useClusterAdmin, commented out
    in values.yaml), numbers where a string is expected, and null (Helm's "unset")."""
    raw = {"nameOverride": "pgo", "fullnameOverride": None, "rbac": {"useClusterAdmin": True}}
    assert raw_values_problems(raw, package_27) == []


@pytest.mark.parametrize(
    ("raw", "owner"),
    [
        ({"watchNamespace": "a,b"}, "spec.tenancy"),
        ({"watchAllNamespaces": True}, "spec.tenancy"),
        ({"image": "evil/operator:latest"}, "spec.image"),
        ({"resources": {"limits": {"cpu": "2"}}}, "spec.container.resources"),
        ({"podAnnotations": {"a": "b"}}, "spec.operator.podAnnotations"),
        ({"leaseDuration": "1h"}, "spec.operator.leaderElection.leaseDuration"),
    ],
)
def test_raw_values_a_typed_field_owns_must_be_set_through_it(
    raw: dict[str, Any], owner: str
) -> None:
    """Otherwise raw values would bypass the typed checks (tenancy, image, quantities)."""
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(helmValues=raw), "t")
    assert f"is owned by {owner}" in str(info.value)
    assert "set it there" in str(info.value)


def test_render_refuses_raw_values_the_chart_lacks(fixture_repo_env: Path) -> None:
    doc = manifest(helm={"version": "2.8.2"}, helmValues={"pprofBindAddress": "0"})
    stack_input = parse_document(doc, "t")  # valid on its own; the chart decides
    with pytest.raises(StackInputError) as info:
        render_stack(stack_input)
    assert "does not fit chart pg-operator 2.8.2" in str(info.value)
    assert "spec.helmValues.pprofBindAddress" in str(info.value)


def test_the_component_refuses_raw_values_the_chart_lacks(fixture_repo_env: Path) -> None:
    """With plain Helm CRDs too: the package is fetched and verified to check the values."""
    from pulumi_harness import run_pulumi

    from percona_pg_operator.deploy import PerconaPostgresOperator

    doc = manifest(helm={"manageCrds": False}, helmValues={"bogus": 1})
    stack_input = parse_document(doc, "t")
    with pytest.raises(StackInputError, match=r"spec\.helmValues\.bogus: chart pg-operator 3\.0"):
        run_pulumi(lambda: PerconaPostgresOperator("pg", stack_input))


def manifest_file(tmp_path: Path, **spec: object) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(manifest(**spec)))
    return path


def test_validate_checks_raw_values_when_the_chart_is_available(
    fixture_repo_env: Path, tmp_path: Path
) -> None:
    path = manifest_file(tmp_path, helmValues={"nameOverrde": "x"})
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "spec.helmValues.nameOverrde: chart pg-operator 3.0.0 has no value" in result.output


def test_validate_says_when_raw_values_could_not_be_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(tmp_path / "no-such-repo"))
    path = manifest_file(tmp_path, helmValues={"nameOverride": "x"})
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0
    assert "spec.helmValues not checked against chart pg-operator 3.0.0" in result.output


# -- Helm installs exactly what was verified -----------------------------------------------------

from percona_pg_operator.chart import resolve_chart  # noqa: E402


def test_the_release_installs_the_verified_bytes_by_a_project_relative_path(
    tmp_path: Path,
) -> None:
    source = resolve_chart(ChartRepository(str(FIXTURE_REPO)), "2.9.0", False, project_dir=tmp_path)
    assert not Path(source.install_path).is_absolute()
    staged = tmp_path / source.install_path
    assert staged.read_bytes() == (FIXTURE_REPO / "pg-operator-2.9.0.tgz").read_bytes()
    # Staged again unchanged; a tampered copy in the project is replaced by the verified bytes.
    staged.write_bytes(b"tampered")
    again = resolve_chart(ChartRepository(str(FIXTURE_REPO)), "2.9.0", False, project_dir=tmp_path)
    assert again.install_path == source.install_path
    assert staged.read_bytes() == (FIXTURE_REPO / "pg-operator-2.9.0.tgz").read_bytes()


def test_an_unwritable_project_is_named_when_staging(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the project directory should be")
    with pytest.raises(ChartRepositoryError, match=r"cannot stage the verified chart package at"):
        resolve_chart(ChartRepository(str(FIXTURE_REPO)), "3.0.0", False, project_dir=blocker)


@pytest.mark.parametrize(
    ("mirror", "fragment"),
    [
        ("https://admin:PASS@charts.example.com/", "must not carry a user or password"),
        ("https://charts.example.com/?access_token=PASS", "credential in its query string"),
        ("ftp://charts.example.com/", "must be an http(s):// or file:// URL"),
    ],
)
def test_the_chart_mirror_from_the_environment_is_checked_like_spec_helm_repo(
    mirror: str, fragment: str
) -> None:
    from percona_pg_operator.chart import chart_repo_url

    with pytest.raises(ChartRepositoryError) as info:
        chart_repo_url(None, {"PERCONA_PG_OPERATOR_CHART_REPO": mirror})
    assert fragment in str(info.value) and "PASS" not in str(info.value)
    assert "PERCONA_PG_OPERATOR_CHART_REPO" in str(info.value)


def test_a_broken_cached_package_is_evicted_and_named_when_the_repository_is_gone(
    tmp_path: Path,
) -> None:
    """A damaged blob is removed, not trusted; if the repository cannot supply it again, the
    error names the cache entry that was removed."""
    repo_dir = repo_with(tmp_path, REAL)
    cache = tmp_path / "cache"
    package = ChartRepository(str(repo_dir), cache_dir=cache).fetch("pg-operator", "3.0.0")
    package.path.write_bytes(REAL[:100])  # damaged on disk
    (repo_dir / "index.yaml").unlink()  # and the repository is gone
    repo = ChartRepository(str(repo_dir), cache_dir=cache)
    with pytest.raises(ChartRepositoryError) as info:
        repo.fetch("pg-operator", "3.0.0")
    assert "a broken cache entry was removed first" in str(info.value)
    assert str(package.path) in str(info.value)
    assert not package.path.exists()
    assert not list((cache / "pins").rglob("pg-operator-3.0.0.json"))


def test_validate_offline_uses_only_the_cache(
    fixture_repo_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = manifest_file(tmp_path, helmValues={"nameOverrde": "x"})
    # The warm cache holds 3.0.0: checked with no repository at all.
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(FIXTURE_REPO))
    result = CliRunner().invoke(cli, ["validate", "--offline", str(path)])
    assert (
        result.exit_code == ExitCode.INVALID_INPUT and "has no value 'nameOverrde'" in result.output
    )
    assert ": ok:" not in result.output  # no "ok" line for a file that fails
    # An empty cache: not checked, and said so, with no download attempted.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    result = CliRunner().invoke(cli, ["validate", "--offline", str(path)])
    assert result.exit_code == 0
    assert "not in the chart cache (--offline)" in result.output
    assert not (tmp_path / "empty-cache").exists()
