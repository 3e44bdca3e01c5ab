"""project-planton's protobuf enums, by name and by number, as protojson reads them.

protojson accepts an enum as its name or its number; project-planton's web backend writes numbers,
its CLI writes names. The zero value means "unspecified" and is what proto3 drops when writing, so
it reads as unset here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# org.project_planton.provider.kubernetes.KubernetesProvider
# https://github.com/plantonhq/project-planton/blob/main/apis/org/project_planton/provider/kubernetes/provider.proto
KUBERNETES_PROVIDER: Mapping[int, str] = {
    1: "gcp_gke",
    2: "aws_eks",
    3: "azure_aks",
    4: "digital_ocean_doks",
}
# This module's own credential kinds, beyond the proto's (names only: they have no number).
EXTRA_PROVIDER_KINDS = ("kubeconfig", "in_cluster")

# The CloudResourceKind values KubernetesClusterSelector.cluster_kind allows (its buf.validate
# `in` list), numbers from org.project_planton.shared.cloudresourcekind.CloudResourceKind:
# https://github.com/plantonhq/project-planton/blob/main/apis/org/project_planton/provider/kubernetes/target_cluster.proto
KUBERNETES_CLUSTER_KIND: Mapping[int, str] = {
    207: "AwsEksCluster",
    400: "AzureAksCluster",
    607: "GcpGkeCluster",
    1208: "DigitalOceanKubernetesCluster",
    1507: "CivoKubernetesCluster",
}


def proto_enum(
    value: Any,
    by_number: Mapping[int, str],
    extra_names: tuple[str, ...] = (),
    *,
    unspecified: str,
    lower: bool = False,
) -> str | None:
    """The enum's name for a name or number; ``None`` for the zero value; ValueError otherwise.

    The error lists every valid name, and the numbers that have one.
    """
    names = (*by_number.values(), *extra_names)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0:
            return None
        if value in by_number:
            return by_number[value]
    elif isinstance(value, str):
        name = value.lower() if lower else value
        if name == unspecified:
            return None
        if name in names:
            return name
    numbers = ", ".join(f"{n} = {name}" for n, name in by_number.items())
    raise ValueError(f"must be one of {', '.join(names)} (or its number: {numbers})")
