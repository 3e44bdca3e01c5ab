"""GKE credentials on the local cluster, the whole way: the kubeconfig this package writes for a
``gcp_gke`` provider config runs ``percona-pg-operator credentials gke`` (an exec plugin of
``client.authentication.k8s.io/v1``) in the Pulumi provider, for Helm, in the program's
preflight, in the verification and in the CLI's live reads.

The test plays Google's part: a token endpoint on 127.0.0.1 (the service-account key's
``token_uri``) checks the signed JWT assertion google-auth sends and answers with a token the
API server knows (a static token user bound to cluster-admin). Everything else is real.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as google_exceptions
from google.auth import jwt
from localcluster import LocalCluster
from localcluster.engine import Engine

from e2e.support import bind_cluster_role, cli, helm_releases, manifest

pytestmark = pytest.mark.e2e

USER = "e2e-gke"
# google-auth signs every service-account grant for Google's endpoint, whatever the token_uri
# (google/oauth2/service_account.py, _make_authorization_grant_assertion).
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
STACK, NAME, NAMESPACE = "gke", "pg-gke", "pg-gke"


class TokenEndpoint:
    """Google's OAuth token endpoint for one service account: a JWT-bearer grant signed with
    the account's key gets ``token``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.grants: list[dict[str, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                public = endpoint.key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                try:
                    claims = jwt.decode(  # type: ignore[no-untyped-call]
                        form.get("assertion", ""), certs=public.decode(), audience=GOOGLE_AUDIENCE
                    )
                except (ValueError, google_exceptions.GoogleAuthError) as exc:
                    self.answer(400, {"error": "invalid_grant", "error_description": str(exc)})
                    return
                endpoint.grants.append(claims)
                self.answer(200, {"access_token": endpoint.token, "expires_in": 3600})

            def answer(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def service_account_key(self) -> str:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        key = {
            "type": "service_account",
            "project_id": "e2e",
            "private_key_id": "e2e",
            "private_key": pem,
            "client_email": "pg-operator@e2e.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": self.url,
        }
        return base64.b64encode(json.dumps(key).encode()).decode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def google(local_cluster: LocalCluster) -> Iterator[TokenEndpoint]:
    bind_cluster_role(local_cluster, USER, "cluster-admin", USER)
    endpoint = TokenEndpoint(local_cluster.tokens[USER])
    try:
        yield endpoint
    finally:
        endpoint.close()


def gke_stack_input(local_cluster: LocalCluster, google: TokenEndpoint) -> dict[str, Any]:
    assert local_cluster.pki is not None
    document = manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True)
    document["providerConfig"] = {
        "provider": "gcp_gke",
        "gcpGke": {
            "clusterEndpoint": local_cluster.server,
            "clusterCaData": base64.b64encode(Path(local_cluster.pki.ca).read_bytes()).decode(),
            "serviceAccountKeyBase64": google.service_account_key(),
        },
    }
    return document


def test_a_gke_stack_deploys_and_its_cli_reads_work(
    engine: Engine,
    local_cluster: LocalCluster,
    google: TokenEndpoint,
    tmp_path: Path,
) -> None:
    document = gke_stack_input(local_cluster, google)
    # No ambient kubeconfig: only the GKE credentials can reach the cluster.
    nowhere = {"KUBECONFIG": str(tmp_path / "no-kubeconfig")}
    engine.init(STACK)
    engine.set_input(STACK, document)
    up = engine.run("up", "--yes", "--skip-preview", "--stack", STACK, env=nowhere)
    assert helm_releases(local_cluster, NAMESPACE, NAME)[-1]["status"] == "deployed"
    outputs = engine.outputs(STACK)
    assert outputs["namespace"] == NAMESPACE and outputs["verified_at"], outputs
    # The provider, Helm, the preflight and the verification each minted tokens this way.
    assert google.grants, "no token was minted through the GKE plugin"
    assert {g["iss"] for g in google.grants} == {"pg-operator@e2e.iam.gserviceaccount.com"}
    key = json.loads(
        base64.b64decode(document["providerConfig"]["gcpGke"]["serviceAccountKeyBase64"])
    )
    assert key["private_key"].splitlines()[1] not in up.stdout + up.stderr
    assert google.token not in up.stdout + up.stderr

    stack_input = tmp_path / "gke.yaml"
    stack_input.write_text(yaml.safe_dump(document))
    preflight = cli(engine, "preflight", str(stack_input), "--output", "json")
    assert preflight.returncode == 0, preflight.stdout + preflight.stderr
    report = json.loads(preflight.stdout)
    assert report["running_version"] == "2.9.0", report
    status = cli(engine, "status", str(stack_input), "--output", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["release"]["status"] == "deployed"
    assert google.token not in preflight.stdout + preflight.stderr + status.stdout + status.stderr
