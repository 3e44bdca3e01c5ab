"""The manifest: the typed ``KubernetesPerconaPostgresOperatorStackInput`` and how it is read.

Validation is complete in the models: an invalid manifest cannot be constructed, and every
problem is reported at once with its path. Reading follows project-planton's modules (Pulumi
config, then ``STACK_INPUT_YAML``, then ``STACK_INPUT_YAML_FILE``).
"""

from ._base import Model
from ._credentials import (
    AwsEksCredential,
    AzureAksCredential,
    DigitalOceanDoksCredential,
    GcpGkeCredential,
    KubeconfigCredential,
    KubernetesProviderConfig,
    parse_kubeconfig,
    server_url,
)
from ._loader import (
    load_stack_input,
    parse_document,
    parse_yaml,
    problems_from_validation,
    read_file,
    show_value,
    stack_input_sources,
)
from ._schema import json_schema
from ._spec import KubernetesPerconaPostgresOperator, Spec, StackInput
from ._values import (
    ValueProblem,
    build_helm_values,
    database_namespaces,
    operator_image,
    watched_namespaces,
)

__all__ = [
    "AwsEksCredential",
    "AzureAksCredential",
    "DigitalOceanDoksCredential",
    "GcpGkeCredential",
    "KubeconfigCredential",
    "KubernetesPerconaPostgresOperator",
    "KubernetesProviderConfig",
    "Model",
    "Spec",
    "StackInput",
    "ValueProblem",
    "build_helm_values",
    "database_namespaces",
    "json_schema",
    "load_stack_input",
    "operator_image",
    "parse_document",
    "parse_kubeconfig",
    "parse_yaml",
    "problems_from_validation",
    "read_file",
    "server_url",
    "show_value",
    "stack_input_sources",
    "watched_namespaces",
]
