"""Cluster credentials for every kind: the kubeconfig produced, the provider inputs, the token
commands end to end (offline), and no credential value in plain state, outputs or errors."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import kubeconfig_text, manifest
from pulumi_harness import PROVIDER_TYPE, RecordingMocks, run_pulumi

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.cluster import cluster_credentials
from percona_pg_operator.cluster._connection import connection
from percona_pg_operator.cluster._kubeconfig import ClusterCredentials
from percona_pg_operator.deploy import PerconaPostgresOperator
from percona_pg_operator.errors import CredentialError, StackInputError
from percona_pg_operator.manifest import (
    KubernetesProviderConfig,
    parse_document,
)
from percona_pg_operator.tokens import GKE_KEY_ENV, eks_token

CA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nMIIBfakefakefake\n-----END CERTIFICATE-----\n"
).decode()
SECRET = "s3cr3t-sentinel-value"


def rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


PRIVATE_KEY = rsa_pem()


def sa_key(token_uri: str = "https://oauth2.googleapis.com/token") -> str:
    info = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": SECRET,
        "private_key": PRIVATE_KEY,
        "client_email": "deployer@acme-prod.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    return base64.b64encode(json.dumps(info).encode()).decode()


def gke(**overrides: Any) -> dict[str, Any]:
    block = {
        "clusterEndpoint": "34.1.2.3",
        "clusterCaData": CA,
        "serviceAccountKeyBase64": sa_key(),
    }
    return {"provider": "gcp_gke", "gcpGke": {**block, **overrides}}


def eks(**overrides: Any) -> dict[str, Any]:
    block = {
        "clusterName": "prod",
        "region": "eu-west-1",
        "clusterEndpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "clusterCaData": CA,
    }
    return {"provider": "aws_eks", "awsEks": {**block, **overrides}}


def aks(**overrides: Any) -> dict[str, Any]:
    block = {"clusterEndpoint": "prod-dns-1a2b.hcp.westeurope.azmk8s.io:443", "clusterCaData": CA}
    return {"provider": "azure_aks", "azureAks": {**block, **overrides}}


def doks(token: str = SECRET) -> dict[str, Any]:
    return {
        "provider": "digital_ocean_doks",
        "digitalOceanDoks": {"kubeConfig": kubeconfig_text("https://doks.example.com", token)},
    }


TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"


@pytest.fixture
def bin_path(tmp_path: Path) -> str:
    """A PATH holding stand-ins for the credential commands."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("aws", "kubelogin"):
        tool = bin_dir / name
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
    return str(bin_dir)


def stack(provider_config: dict[str, Any] | None) -> Any:
    doc: dict[str, Any] = {"target": manifest(helm={"manageCrds": False})}
    if provider_config is not None:
        doc["providerConfig"] = provider_config
    return parse_document(doc, "test")


def creds(provider_config: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    return cluster_credentials(stack(provider_config).provider_config, env or {})


def user_exec(kubeconfig: str) -> dict[str, Any]:
    config = yaml.safe_load(kubeconfig)
    exec_entry: dict[str, Any] = config["users"][0]["user"]["exec"]
    return exec_entry


def cluster(kubeconfig: str) -> dict[str, Any]:
    entry: dict[str, Any] = yaml.safe_load(kubeconfig)["clusters"][0]["cluster"]
    return entry


# -- kubeconfigs per kind -----------------------------------------------------------------


def test_gke_kubeconfig() -> None:
    result = creds(gke())
    assert cluster(result.kubeconfig) == {
        "server": "https://34.1.2.3",
        "certificate-authority-data": CA,
    }
    entry = user_exec(result.kubeconfig)
    assert entry["apiVersion"] == "client.authentication.k8s.io/v1"
    assert entry["command"] == sys.executable
    assert entry["args"] == ["-m", "percona_pg_operator", "credentials", "gke"]
    assert entry["env"] == [{"name": GKE_KEY_ENV, "value": sa_key()}]
    assert entry["interactiveMode"] == "Never"
    assert result.cluster_identifier == "gke:https://34.1.2.3"


def test_eks_kubeconfig_with_own_token_command() -> None:
    role = "arn:aws:iam::123456789012:role/deployer"
    result = creds(eks(roleArn=role, profile="prod"))
    assert cluster(result.kubeconfig)["server"] == "https://ABC.gr7.eu-west-1.eks.amazonaws.com"
    assert cluster(result.kubeconfig)["certificate-authority-data"] == CA
    entry = user_exec(result.kubeconfig)
    assert entry["command"] == sys.executable
    assert entry["args"] == [
        "-m",
        "percona_pg_operator",
        "credentials",
        "eks",
        "--cluster-name",
        "prod",
        "--region",
        "eu-west-1",
        "--role-arn",
        role,
    ]
    assert entry["env"] == [{"name": "AWS_PROFILE", "value": "prod"}]
    assert result.cluster_identifier == "eks:https://ABC.gr7.eu-west-1.eks.amazonaws.com"


def test_eks_kubeconfig_with_aws_cli() -> None:
    entry = user_exec(creds(eks(tokenSource="aws_cli")).kubeconfig)
    assert entry["command"] == "aws"
    assert entry["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "prod",
        "--region",
        "eu-west-1",
        "--output",
        "json",
    ]


def test_aks_kubelogin_service_principal() -> None:
    result = creds(aks(loginMode="spn", tenantId=TENANT, clientId=CLIENT, clientSecret=SECRET))
    assert (
        cluster(result.kubeconfig)["server"] == "https://prod-dns-1a2b.hcp.westeurope.azmk8s.io:443"
    )
    entry = user_exec(result.kubeconfig)
    assert entry["command"] == "kubelogin"
    assert entry["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert entry["args"] == [
        "get-token",
        "--login",
        "spn",
        "--server-id",
        "6dae42f8-4368-4678-94ff-3960e28e3630",
        "--tenant-id",
        TENANT,
        "--client-id",
        CLIENT,
    ]
    assert entry["env"] == [{"name": "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "value": SECRET}]
    assert SECRET not in json.dumps(entry["args"])


def test_aks_azurecli_default() -> None:
    entry = user_exec(creds(aks()).kubeconfig)
    assert entry["args"][:3] == ["get-token", "--login", "azurecli"]
    assert "env" not in entry


def test_aks_kubeconfig_from_az_cli() -> None:
    content = kubeconfig_text("https://aks.example.com:443", SECRET)
    result = creds({"provider": "azure_aks", "azureAks": {"kubeConfig": content}})
    assert result.kubeconfig == content
    assert result.cluster_identifier == "aks:https://aks.example.com:443"


def test_doks_kubeconfig_as_given() -> None:
    result = creds(doks())
    assert result.kubeconfig == doks()["digitalOceanDoks"]["kubeConfig"]
    assert result.cluster_identifier == "doks:https://doks.example.com"


def test_kubeconfig_content_with_context() -> None:
    content = yaml.safe_load(kubeconfig_text("https://a.example.com"))
    content["clusters"].append({"name": "b", "cluster": {"server": "https://b.example.com"}})
    content["contexts"].append({"name": "other", "context": {"cluster": "b", "user": "u"}})
    result = creds(
        {
            "provider": "kubeconfig",
            "kubeconfig": {"content": yaml.safe_dump(content), "context": "other"},
        }
    )
    assert result.context == "other"
    assert result.cluster_identifier == "kubeconfig:https://b.example.com"


def test_kubeconfig_path(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(kubeconfig_text("https://file.example.com"))
    result = creds({"kubeconfig": {"path": str(path)}})
    assert result.kubeconfig == path.read_text()
    assert result.cluster_identifier == "kubeconfig:https://file.example.com"


def test_kubeconfig_path_unreadable(tmp_path: Path) -> None:
    with pytest.raises(
        CredentialError, match=r"provider_config\.kubeconfig\.path .*: no such file"
    ):
        creds({"kubeconfig": {"path": str(tmp_path / "absent")}})


def test_in_cluster_uses_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(SECRET)
    (tmp_path / "ca.crt").write_text("ca")
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    result = cluster_credentials(
        stack({"provider": "in_cluster"}).provider_config, env, sa_dir=tmp_path
    )
    config = yaml.safe_load(result.kubeconfig)
    assert config["clusters"][0]["cluster"] == {
        "server": "https://10.96.0.1:443",
        "certificate-authority": str(tmp_path / "ca.crt"),
    }
    assert config["users"][0]["user"] == {"tokenFile": str(tmp_path / "token")}
    assert SECRET not in result.kubeconfig


def test_in_cluster_when_no_kubeconfig_in_a_pod(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "HOME": str(tmp_path)}
    result = cluster_credentials(None, env, sa_dir=tmp_path)
    assert result.cluster_identifier == "in-cluster:kubernetes.default.svc"


def test_in_cluster_outside_a_pod_is_clear(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match="not running in a pod"):
        cluster_credentials(stack({"provider": "in_cluster"}).provider_config, {}, sa_dir=tmp_path)


def test_ambient_with_kube_ctx(tmp_path: Path) -> None:
    kube = tmp_path / ".kube"
    kube.mkdir()
    (kube / "config").write_text(kubeconfig_text())
    result = cluster_credentials(
        None, {"HOME": str(tmp_path), "KUBE_CTX": "kind-dev", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    )
    assert result.kubeconfig is None
    assert result.context == "kind-dev"


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "path"),
    [
        (gke(clusterCaData="not-base64!"), "providerConfig.gcpGke.clusterCaData"),
        (
            gke(serviceAccountKeyBase64=base64.b64encode(b'{"type": "user"}').decode()),
            "providerConfig.gcpGke.serviceAccountKeyBase64",
        ),
        (gke(clusterEndpoint="not a host"), "providerConfig.gcpGke.clusterEndpoint"),
        (
            {"provider": "gcp_gke", "gcpGke": {"clusterEndpoint": "1.2.3.4", "clusterCaData": CA}},
            "providerConfig.gcpGke.serviceAccountKeyBase64",
        ),
        (eks(region="Europe"), "providerConfig.awsEks.region"),
        (eks(roleArn="deployer"), "providerConfig.awsEks.roleArn"),
        (eks(tokenSource="kubectl"), "providerConfig.awsEks.tokenSource"),
        (aks(loginMode="spn", tenantId=TENANT, clientId=CLIENT), "providerConfig.azureAks"),
        (aks(tenantId="tenant"), "providerConfig.azureAks.tenantId"),
        (
            {"provider": "azure_aks", "azureAks": {"loginMode": "azurecli"}},
            "providerConfig.azureAks",
        ),
        (
            {
                "provider": "digital_ocean_doks",
                "digitalOceanDoks": {"kubeConfig": "not: [a config"},
            },
            "providerConfig.digitalOceanDoks.kubeConfig",
        ),
        ({"kubeconfig": {"content": kubeconfig_text(), "path": "/x"}}, "providerConfig.kubeconfig"),
        (
            {"kubeconfig": {"content": kubeconfig_text(), "context": "nope"}},
            "providerConfig.kubeconfig",
        ),
        ({"provider": "aws_eks"}, "providerConfig"),
        ({**gke(), **doks()}, "providerConfig"),
    ],
)
def test_malformed_credentials_name_the_path(config: dict[str, Any], path: str) -> None:
    with pytest.raises(StackInputError) as info:
        stack(config)
    paths = [p.path for p in info.value.problems]
    assert path in paths, paths


# -- the provider ----------------------------------------------------------------------------


def provider_inputs(config: dict[str, Any] | None, bin_path: str) -> tuple[Any, Any]:
    stack_input = stack(config)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PATH", bin_path)
        env.setenv("HOME", "/nonexistent")
        run = run_pulumi(lambda: PerconaPostgresOperator("pg", stack_input))
    return run.one(PROVIDER_TYPE), run


@pytest.mark.parametrize(
    "config",
    [
        gke(),
        eks(),
        eks(tokenSource="aws_cli"),
        aks(),
        doks(),
        aks(loginMode="spn", tenantId=TENANT, clientId=CLIENT, clientSecret=SECRET),
        {"kubeconfig": {"content": kubeconfig_text(token=SECRET)}},
    ],
    ids=["gke", "eks", "eks-aws-cli", "aks", "doks", "aks-spn", "kubeconfig"],
)
def test_provider_kubeconfig_secret_and_identifier(config: dict[str, Any], bin_path: str) -> None:
    provider, run = provider_inputs(config, bin_path)
    assert provider.is_secret("kubeconfig")
    assert provider.inputs["clusterIdentifier"].startswith(
        ("gke:", "eks:", "aks:", "doks:", "kubeconfig:")
    )
    plain = run.plain_text()
    for secret in (SECRET, sa_key(), PRIVATE_KEY.splitlines()[1]):
        assert secret not in plain


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (gke(), gke(serviceAccountKeyBase64=sa_key("https://other.example.com/token"))),
        (doks("old-token"), doks("new-token")),
        (
            aks(loginMode="spn", tenantId=TENANT, clientId=CLIENT, clientSecret="a"),
            aks(loginMode="spn", tenantId=TENANT, clientId=CLIENT, clientSecret="b"),
        ),
    ],
)
def test_identifier_stable_across_credential_change(
    before: dict[str, Any], after: dict[str, Any], bin_path: str
) -> None:
    first, _ = provider_inputs(before, bin_path)
    second, _ = provider_inputs(after, bin_path)
    assert first.inputs["clusterIdentifier"] == second.inputs["clusterIdentifier"]


def test_identifier_changes_with_the_cluster(bin_path: str) -> None:
    first, _ = provider_inputs(gke(), bin_path)
    second, _ = provider_inputs(gke(clusterEndpoint="35.9.9.9"), bin_path)
    assert first.inputs["clusterIdentifier"] != second.inputs["clusterIdentifier"]


@pytest.mark.parametrize(
    ("config", "command", "hint"),
    [
        (eks(tokenSource="aws_cli"), "aws", "AWS CLI"),
        (aks(), "kubelogin", "kubelogin"),
    ],
)
def test_missing_exec_command_is_named_with_install_hint(
    config: dict[str, Any], command: str, hint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CredentialError) as info:
        run_pulumi(lambda: PerconaPostgresOperator("pg", stack(config)))
    message = str(info.value)
    assert f"'{command}' is not installed" in message
    assert hint in message


# -- token commands --------------------------------------------------------------------------


class TokenServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.reply: tuple[int, dict[str, Any]] = (
            200,
            {"access_token": "ya29.offline-test-token", "expires_in": 3600, "token_type": "Bearer"},
        )


@pytest.fixture
def token_server() -> Iterator[tuple[TokenServer, str]]:
    state = TokenServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            state.requests.append(urllib.parse.parse_qs(body))
            status, payload = state.reply
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/token"
    server.shutdown()
    server.server_close()


def test_gke_credential_command_end_to_end(token_server: tuple[TokenServer, str]) -> None:
    state, uri = token_server
    before = dt.datetime.now(dt.UTC)
    result = CliRunner().invoke(cli, ["credentials", "gke"], env={GKE_KEY_ENV: sa_key(uri)})
    assert result.exit_code == 0, result.output
    credential = json.loads(result.stdout)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    assert credential["kind"] == "ExecCredential"
    assert credential["status"]["token"] == "ya29.offline-test-token"
    expiry = dt.datetime.strptime(
        credential["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"
    ).replace(tzinfo=dt.UTC)
    assert dt.timedelta(minutes=55) < expiry - before <= dt.timedelta(hours=1, seconds=5)
    (request,) = state.requests
    assert request["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    _, claims, _ = request["assertion"][0].split(".")
    claims_json = json.loads(base64.urlsafe_b64decode(claims + "=="))
    assert claims_json["iss"] == "deployer@acme-prod.iam.gserviceaccount.com"
    assert claims_json["aud"] == "https://oauth2.googleapis.com/token"  # google-auth's audience
    assert "cloud-platform" in claims_json["scope"]


def test_kubeconfig_exec_entry_runs_without_the_virtualenv_on_path(
    token_server: tuple[TokenServer, str], tmp_path: Path
) -> None:
    """The provider starts the plugin with the Pulumi CLI's environment, not the venv's: run it
    exactly as the kubeconfig says, with a PATH that holds nothing of this package."""
    _, uri = token_server
    entry = user_exec(creds(gke(serviceAccountKeyBase64=sa_key(uri))).kubeconfig)
    assert os.path.isabs(entry["command"])
    env = {"PATH": str(tmp_path), **{e["name"]: e["value"] for e in entry["env"]}}
    done = subprocess.run(
        [entry["command"], *entry["args"]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"]["token"] == "ya29.offline-test-token"


def test_kubeconfig_is_the_same_on_every_run() -> None:
    assert creds(gke()).kubeconfig == creds(gke()).kubeconfig
    assert creds(eks()).kubeconfig == creds(eks()).kubeconfig


def test_credential_plugin_loads_no_models() -> None:
    """It runs on every token refresh: no pydantic, no manifest models, no Pulumi SDK."""
    code = (
        "import sys; from percona_pg_operator.cli import main\n"
        "try:\n    main(['credentials', 'gke'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'pulumi', 'pulumi_kubernetes')"
        " or m.startswith('percona_pg_operator.manifest')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={GKE_KEY_ENV: "", "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_gke_credential_command_refused_exchange(token_server: tuple[TokenServer, str]) -> None:
    state, uri = token_server
    state.reply = (400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    result = CliRunner().invoke(cli, ["credentials", "gke"], env={GKE_KEY_ENV: sa_key(uri)})
    assert result.exit_code == ExitCode.UNREADABLE
    assert "token exchange" in result.output and "invalid_grant" in result.output
    assert SECRET not in result.output and "PRIVATE KEY" not in result.output
    assert "Traceback" not in result.output


def test_gke_credential_command_without_key() -> None:
    result = CliRunner().invoke(cli, ["credentials", "gke"], env={GKE_KEY_ENV: ""})
    assert result.exit_code == ExitCode.UNREADABLE
    assert GKE_KEY_ENV in result.output


FIXED = dt.datetime(2026, 1, 2, 3, 4, 5)


@pytest.fixture
def fixed_aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    import botocore.auth
    import botocore.session

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: FIXED)
    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    session = botocore.session.get_session()
    session.set_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    return session


def _sigv4_signature(secret: str, date: str, region: str, string_to_sign: str) -> str:
    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(sign(("AWS4" + secret).encode(), date), region), "sts"), "aws4_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def test_eks_token_is_a_presigned_get_caller_identity_url(fixed_aws: Any) -> None:
    token, expiry = eks_token(
        "prod", "eu-west-1", session=fixed_aws, now=lambda: FIXED.replace(tzinfo=dt.UTC)
    )
    assert token.startswith("k8s-aws-v1.")
    assert "=" not in token
    encoded = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    parsed = urllib.parse.urlsplit(url)
    assert parsed.scheme == "https"
    assert parsed.netloc == "sts.eu-west-1.amazonaws.com"
    query = dict(urllib.parse.parse_qsl(parsed.query))
    assert query["Action"] == "GetCallerIdentity"
    assert query["Version"] == "2011-06-15"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"] == "AKIDEXAMPLE/20260102/eu-west-1/sts/aws4_request"
    assert query["X-Amz-Date"] == "20260102T030405Z"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert expiry == FIXED.replace(tzinfo=dt.UTC) + dt.timedelta(minutes=14)

    # Recompute the SigV4 query signature: it covers the x-k8s-aws-id header with the cluster.
    signed_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(query.items())
        if k != "X-Amz-Signature"
    )
    canonical = "\n".join(
        [
            "GET",
            "/",
            signed_query,
            f"host:{parsed.netloc}",
            "x-k8s-aws-id:prod",
            "",
            "host;x-k8s-aws-id",
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            "20260102T030405Z",
            "20260102/eu-west-1/sts/aws4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    expected = _sigv4_signature(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20260102", "eu-west-1", string_to_sign
    )
    assert query["X-Amz-Signature"] == expected

    other, _ = eks_token("staging", "eu-west-1", session=fixed_aws)
    assert other != token, "the cluster name is part of what is signed"


def test_eks_credential_command(fixed_aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    result = CliRunner().invoke(
        cli, ["credentials", "eks", "--cluster-name", "prod", "--region", "us-east-1"]
    )
    assert result.exit_code == 0, result.output
    credential = json.loads(result.stdout)
    assert credential["kind"] == "ExecCredential"
    assert credential["status"]["token"].startswith("k8s-aws-v1.")
    assert "wJalrXUtnFEMI" not in result.stdout


def test_eks_assume_role_denied_says_so(fixed_aws: Any) -> None:
    from botocore.stub import Stubber

    role = "arn:aws:iam::123456789012:role/deployer"
    denial = (
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        f"sts:AssumeRole on resource: {role}"
    )
    sts = fixed_aws.create_client("sts", region_name="eu-west-1")
    stubber = Stubber(sts)
    stubber.add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message=denial,
        http_status_code=403,
    )
    stubber.activate()

    class Session:
        def create_client(self, *_: Any, **__: Any) -> Any:
            return sts

    with pytest.raises(CredentialError) as info:
        eks_token("prod", "eu-west-1", role_arn=role, session=Session())
    message = str(info.value)
    assert "AssumeRole failed with AccessDenied" in message
    assert role in message
    assert "wJalrXUtnFEMI" not in message


def test_eks_without_aws_credentials_is_clear(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(
        cli, ["credentials", "eks", "--cluster-name", "prod", "--region", "us-east-1"]
    )
    assert result.exit_code == ExitCode.UNREADABLE
    assert "cannot make an EKS token" in result.output


# -- no credential in any error message --------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        gke(clusterCaData=SECRET),
        gke(serviceAccountKeyBase64=SECRET),
        gke(
            serviceAccountKeyBase64=base64.b64encode(
                json.dumps({"private_key": SECRET}).encode()
            ).decode()
        ),
        {"provider": "digital_ocean_doks", "digitalOceanDoks": {"kubeConfig": f"{SECRET}: ["}},
        {"provider": "digital_ocean_doks", "digitalOceanDoks": {"kubeConfig": f"token: {SECRET}"}},
        aks(clientSecret=SECRET, loginMode="spn"),
        {"kubeconfig": {"content": kubeconfig_text(token=SECRET), "context": "missing"}},
        {"kubeconfig": {"content": 12345}},
        {"provider": "azure_aks", "azureAks": {"kubeConfig": SECRET, "clusterEndpoint": "x"}},
    ],
)
def test_errors_never_carry_credentials(config: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(StackInputError) as info:
        stack(config)
    assert SECRET not in str(info.value)
    assert "12345" not in str(info.value)
    manifest_file = tmp_path / "stack.yaml"
    manifest_file.write_text(yaml.safe_dump({"target": manifest(), "providerConfig": config}))
    result = CliRunner().invoke(cli, ["validate", str(manifest_file)])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert SECRET not in result.output


def test_mocked_program_and_outputs_hold_no_credential(
    bin_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from percona_pg_operator.deploy.program import run as program

    doc = {
        "target": manifest(helm={"manageCrds": False}),
        "providerConfig": aks(
            loginMode="spn", tenantId=TENANT, clientId=CLIENT, clientSecret=SECRET
        ),
    }
    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(doc))
    monkeypatch.setenv("PATH", bin_path)
    run = run_pulumi(program, RecordingMocks())
    assert run.stack_outputs["namespace"] == "percona-postgres-operator"
    assert SECRET not in run.plain_text()
    assert SECRET not in json.dumps(run.stack_outputs)


def test_the_python_apis_own_errors_hide_credential_values() -> None:
    from pydantic import ValidationError

    secret = "dop_v1_" + "a" * 64
    with pytest.raises(ValidationError) as info:
        KubernetesProviderConfig.model_validate(
            {"provider": "digital_ocean_doks", "digitalOceanDoks": {"kubeConfig": secret}}
        )
    assert secret[:12] not in str(info.value)


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


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory"])
def test_the_gke_key_file_must_be_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "key.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path = Path(kind)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["credentials", "gke", "--key-file", str(path)])
    assert time.monotonic() - started < 5
    assert result.exit_code in (ExitCode.UNREADABLE, ExitCode.USAGE), result.output
    assert "--key-file" in result.output or "Invalid value" in result.output
    assert "Traceback" not in result.output


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
