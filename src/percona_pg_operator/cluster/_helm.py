"""Helm releases as Helm stores them: Secrets of type ``helm.sh/release.v1``, one per revision.

Helm's Secret driver (helm/pkg/storage/driver/secrets.go) names each record
``sh.helm.release.v1.<release>.v<revision>``, labels it ``owner=helm``, ``name=<release>``,
``status=<status>``, ``version=<revision>``, and keeps the release under ``data.release`` as
base64 (standard) of the gzipped JSON of the release; the Kubernetes API base64-encodes Secret
data once more. Decoding follows ``decodeRelease`` in helm/pkg/storage/driver/util.go: base64,
gunzip when the gzip magic bytes lead, then JSON (helm/pkg/release/release.go).
https://github.com/helm/helm/blob/main/pkg/storage/driver/util.go
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import ClusterError
from ..formats import escape_control

RELEASE_SECRET_TYPE = "helm.sh/release.v1"
_GZIP_MAGIC = b"\x1f\x8b\x08"
# A Secret holds at most 1 MiB. A release of this chart inflates to about 2.5 MB (the 1.6 MB of
# chart files travel base64 in the JSON, with the rendered manifest and the values); even a
# chart ten times as large stays far below 64 MiB.
MAX_RELEASE_BYTES = 64 << 20
# Release statuses (helm/pkg/release/status.go) that mean a run stopped half-way.
PENDING_STATUSES = ("pending-install", "pending-upgrade", "pending-rollback")


@dataclass(frozen=True)
class HelmRelease:
    """One revision of a Helm release: what Helm recorded about it."""

    name: str
    namespace: str
    revision: int
    status: str
    chart_name: str
    chart_version: str
    app_version: str
    description: str = ""
    last_deployed: str = ""
    manifest: str = field(default="", repr=False)
    # The values the release was installed or upgraded with (Helm's `config`): may hold secrets.
    values: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES


def _gunzip(data: bytes, limit: int) -> bytes:
    """gzip's content, refused once it passes ``limit`` bytes (a record that inflates without
    bound, a "zip bomb", stops there instead of filling the memory)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise ClusterError(f"a Helm release record inflates to more than {limit >> 20} MiB")
    if not inflater.eof:
        raise EOFError("truncated gzip")
    return out


def decode_release(data: str, limit: int = MAX_RELEASE_BYTES) -> dict[str, Any]:
    """Helm's ``decodeRelease``: the release JSON from the string Helm stored."""
    try:
        raw = base64.b64decode(data, validate=True)
        if raw[:3] == _GZIP_MAGIC:
            raw = _gunzip(raw, limit)
        elif len(raw) > limit:
            raise ClusterError(f"a Helm release record is larger than {limit >> 20} MiB")
        release = json.loads(raw)
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error, RecursionError) as exc:
        reason = type(exc).__name__
        raise ClusterError(f"a Helm release record cannot be decoded ({reason})") from None
    if not isinstance(release, dict):
        raise ClusterError("a Helm release record is not a JSON object")
    return release


def release_from_secret(secret_data_release: str) -> HelmRelease:
    """The release in a Secret's ``data.release`` as the API returns it (base64 of Helm's)."""
    try:
        helm_string = base64.b64decode(secret_data_release, validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        raise ClusterError("a Helm release Secret's data.release is not base64") from None
    release = decode_release(helm_string)
    info = release.get("info") or {}
    chart = release.get("chart") or {}
    metadata = (chart.get("metadata") or {}) if isinstance(chart, dict) else None
    try:
        revision = int(release.get("version") or 0)
    except (TypeError, ValueError):
        revision = 0
    if not isinstance(info, dict) or not isinstance(metadata, dict):
        raise ClusterError("a Helm release record's info or chart metadata is not an object")
    config = release.get("config") or {}
    if not isinstance(config, dict):
        raise ClusterError("a Helm release record's config (its values) is not an object")

    def text(value: Any, limit: int = 253) -> str:
        # Bounded before anything prints it: a record is input from the cluster.
        found = escape_control("" if value is None else str(value))
        return found if len(found) <= limit else found[: limit - 1] + "…"

    return HelmRelease(
        name=text(release.get("name")),
        namespace=text(release.get("namespace"), 63),
        revision=revision,
        status=text(info.get("status") or "unknown", 63),
        chart_name=text(metadata.get("name")),
        chart_version=text(metadata.get("version"), 100),
        app_version=text(metadata.get("appVersion"), 100),
        description=text(info.get("description"), 1000),
        last_deployed=text(info.get("last_deployed"), 100),
        manifest=str(release.get("manifest") or ""),
        values=dict(config),
    )
