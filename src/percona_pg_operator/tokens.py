"""Short-lived cluster tokens for the kubeconfig ``exec`` plugins, as ExecCredential objects.

- GKE: an OAuth2 access token for the service account (JWT-bearer grant at the key's
  ``token_uri``), as gke-gcloud-auth-plugin provides one.
- EKS: ``k8s-aws-v1.`` + base64url of an STS GetCallerIdentity URL presigned with the
  ``x-k8s-aws-id`` header, as aws-iam-authenticator and ``aws eks get-token`` make it.
https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins

These run on every token refresh, in a process the Kubernetes client starts: this module imports
only the standard library (and google-auth or botocore when a token is minted), never pydantic
or the manifest models.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from .errors import CredentialError

EXEC_API_VERSION = "client.authentication.k8s.io/v1"
EXEC_API_VERSIONS = (EXEC_API_VERSION, "client.authentication.k8s.io/v1beta1")
# Where the GKE plugin reads the service-account key (base64) unless given --key-file.
GKE_KEY_ENV = "PERCONA_PG_OPERATOR_GKE_SA_KEY_BASE64"

GKE_SCOPES = (
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
)
EKS_TOKEN_PREFIX = "k8s-aws-v1."
EKS_CLUSTER_HEADER = "x-k8s-aws-id"
# The presigned URL is valid for 15 minutes; report expiry a minute early, as the AWS CLI does.
EKS_TOKEN_MINUTES = 14
EKS_PRESIGN_SECONDS = 60

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def requested_api_version(environ: Mapping[str, str] | None = None) -> str:
    """The ExecCredential version the client asked for in KUBERNETES_EXEC_INFO (default v1), so
    a kubeconfig that names v1beta1 gets v1beta1, as client-go requires."""
    info = (os.environ if environ is None else environ).get("KUBERNETES_EXEC_INFO", "")
    try:
        version = json.loads(info).get("apiVersion") if info else None
    except (ValueError, AttributeError):
        version = None
    return version if version in EXEC_API_VERSIONS else EXEC_API_VERSION


def exec_credential(token: str, expiry: dt.datetime) -> dict[str, Any]:
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=dt.UTC)
    return {
        "apiVersion": requested_api_version(),
        "kind": "ExecCredential",
        "spec": {},
        "status": {
            "token": token,
            "expirationTimestamp": expiry.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def gke_exec_credential(key_base64: str) -> dict[str, Any]:
    """Mint an access token from a base64 service-account key JSON."""
    try:
        from google.auth import exceptions as google_exceptions
        from google.auth.transport.requests import Request
        from google.oauth2 import service_account
    except ImportError:
        raise CredentialError(
            "GKE tokens need google-auth: pip install 'google-auth>=2.20' 'requests>=2.28' "
            "(the gke extra)"
        ) from None
    try:
        info = json.loads(base64.b64decode(key_base64, validate=True))
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
        credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=list(GKE_SCOPES)
        )
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise CredentialError(
            "the GKE service-account key is not a base64 service-account key JSON"
        ) from None
    try:
        credentials.refresh(Request())
    except google_exceptions.GoogleAuthError as exc:
        reason = str(exc.args[0]) if exc.args else type(exc).__name__
        raise CredentialError(
            f"the GKE token exchange at {info.get('token_uri')} failed: {reason[:200]}"
        ) from None
    return exec_credential(str(credentials.token), credentials.expiry)


def eks_token(
    cluster_name: str,
    region: str,
    role_arn: str | None = None,
    session: Any = None,
    now: Clock = _utcnow,
) -> tuple[str, dt.datetime]:
    """The EKS bearer token for the caller's AWS identity (or the role it assumes)."""
    try:
        import botocore.session
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise CredentialError(
            "EKS tokens need botocore: pip install 'botocore>=1.31' (the eks extra)"
        ) from None
    session = session or botocore.session.get_session()
    try:
        if role_arn:
            sts = session.create_client("sts", region_name=region)
            assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="percona-pg-operator")
            creds = assumed["Credentials"]
            session = botocore.session.get_session()
            session.set_credentials(
                creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
            )
        client = session.create_client("sts", region_name=region)

        def add_cluster_header(request: Any, **_: Any) -> None:
            request.headers[EKS_CLUSTER_HEADER] = cluster_name

        client.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
        url = client.generate_presigned_url(
            "get_caller_identity", Params={}, ExpiresIn=EKS_PRESIGN_SECONDS, HttpMethod="GET"
        )
    except ClientError as exc:
        # AWS's own code and message (e.g. AccessDenied on AssumeRole naming the role and the
        # caller): what the user needs to fix it; they carry no credential.
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "") or "an AWS call"
        code = error.get("Code") or type(exc).__name__
        message = str(error.get("Message") or "")[:300]
        raise CredentialError(
            f"cannot make an EKS token: {operation} failed with {code}"
            + (f": {message}" if message else "")
        ) from None
    except BotoCoreError as exc:
        # botocore's messages name the problem (no credentials found, unknown profile, ...).
        raise CredentialError(f"cannot make an EKS token: {str(exc)[:300]}") from None
    token = EKS_TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return token, now() + dt.timedelta(minutes=EKS_TOKEN_MINUTES)


def eks_exec_credential(
    cluster_name: str, region: str, role_arn: str | None = None
) -> dict[str, Any]:
    token, expiry = eks_token(cluster_name, region, role_arn)
    return exec_credential(token, expiry)
