"""Rules that used to live in two places and disagree, now in one: the image version shown,
the install order, the reading of KUBECONFIG, the Helm engine's install hint."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import kubeconfig_text

from percona_pg_operator._images import image_tag, image_version
from percona_pg_operator.cluster._connection import connection
from percona_pg_operator.cluster._kubeconfig import ClusterCredentials, cluster_credentials
from percona_pg_operator.errors import RenderError
from percona_pg_operator.review.diff import describe, diff_objects

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("image", "tag", "shown"),
    [
        ("percona/percona-postgresql-operator:2.9.0", "2.9.0", "2.9.0"),
        (f"percona/percona-postgresql-operator:2.9.0@{DIGEST}", "2.9.0", "2.9.0"),
        (f"percona/percona-postgresql-operator@{DIGEST}", "", "sha256:0123456789ab"),
        ("registry.local:5000/percona/operator", "", "registry.local:5000/percona/operator"),
        ("registry.local:5000/percona/operator:3.0.0", "3.0.0", "3.0.0"),
    ],
)
def test_one_reading_of_an_image_reference(image: str, tag: str, shown: str) -> None:
    assert image_tag(image) == tag
    assert image_version(image) == shown


def _deployment(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "op", "namespace": "pgo"},
        "spec": {"template": {"spec": {"containers": [{"name": "op", "image": image}]}}},
    }


def test_the_diff_shows_a_digest_as_the_verification_reads_it() -> None:
    """The preview line used to show a digest's hex where the verification showed the tag."""
    before = [_deployment("percona/op:2.9.0")]
    after = [_deployment(f"percona/op@{DIGEST}")]
    (change,) = diff_objects(before, after, set())
    assert "image 2.9.0 -> sha256:0123456789ab" in describe(change)


def test_render_and_diff_use_one_install_order() -> None:
    from percona_pg_operator.review.render import install_order

    objects = [
        {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "pgo"}}
        for kind, name in (("Deployment", "b"), ("ServiceAccount", "a"), ("Role", "c"))
    ]
    changes = diff_objects([], objects, set())
    expected = sorted(objects, key=lambda o: install_order(o["kind"], "pgo", o["metadata"]["name"]))
    assert [c.kind for c in changes] == [o["kind"] for o in expected]
    assert [c.kind for c in changes] == ["ServiceAccount", "Role", "Deployment"]


def test_a_tilde_in_kubeconfig_means_the_same_everywhere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "kube").mkdir(parents=True)
    (home / "kube" / "config").write_text(kubeconfig_text("https://k8s.example.com"))
    environ = {"KUBECONFIG": "~/kube/config", "HOME": str(home), "KUBERNETES_SERVICE_HOST": "x"}
    # The ambient kubeconfig is found (not the in-cluster service account) ...
    credentials = cluster_credentials(None, environ)
    assert credentials == ClusterCredentials(context=None)
    # ... and the live reads read that very file.
    found = connection(credentials, environ)
    assert found.config.cluster.server == "https://k8s.example.com"


@pytest.mark.parametrize("purpose", ["render", "repair"])
def test_one_install_hint_for_the_helm_engine(
    monkeypatch: pytest.MonkeyPatch, purpose: str
) -> None:
    from percona_pg_operator.chart import INSTALL_HINT, helm_engine
    from percona_pg_operator.cluster.repair import helm_config

    monkeypatch.setitem(sys.modules, "helm_python", None)
    with pytest.raises(RenderError) as info:
        if purpose == "render":
            helm_engine()
        else:
            helm_config(ClusterCredentials(kubeconfig=yaml.safe_dump({})), "pgo")
    assert INSTALL_HINT in str(info.value)
