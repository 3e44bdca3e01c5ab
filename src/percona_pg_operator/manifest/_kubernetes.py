"""Kubernetes API types the spec carries, field for field as the API defines them.

Quantities (resource requests and limits), tolerations and affinity are core/v1 types; they are
mirrored here rather than taken loose so a typo or a wrong operator fails at validation with its
path, not later at the API server.
https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#scheduling
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..formats import is_label_value, is_qualified_name, parse_quantity
from ._base import Model


def _quantity(value: str) -> str:
    parse_quantity(value)
    return value


def _quantity_text(value: Any) -> Any:
    """YAML reads `cpu: 2` and `cpu: 0.5` as numbers; the API server takes both as quantities."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Quantity = Annotated[str, BeforeValidator(_quantity_text)]


class CpuMemory(Model):
    cpu: Quantity | None = None
    memory: Quantity | None = None

    @field_validator("cpu", "memory")
    @classmethod
    def _is_quantity(cls, value: str | None) -> str | None:
        return None if value is None else _quantity(value)


class Toleration(Model):
    """A Kubernetes toleration, in the API's own field names (core/v1 Toleration)."""

    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    # "" (or absent) matches every effect, as the API defines it.
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute", ""] | None = None
    toleration_seconds: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not is_qualified_name(value):
            raise ValueError("must be a label key such as dedicated or example.com/pool")
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: str | None) -> str | None:
        if value is not None and not is_label_value(value):
            raise ValueError("must be a label value (at most 63 letters, digits, '-', '_', '.')")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Exists" and self.value:
            raise ValueError("operator Exists takes no value")
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without a key needs operator Exists")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds only applies to effect NoExecute")
        return self


class LabelSelectorRequirement(Model):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = []


class LabelSelector(Model):
    match_labels: dict[str, str] = {}
    match_expressions: list[LabelSelectorRequirement] = []


class NodeSelectorRequirement(Model):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[str] = []


class NodeSelectorTerm(Model):
    match_expressions: list[NodeSelectorRequirement] = []
    match_fields: list[NodeSelectorRequirement] = []


class NodeSelector(Model):
    node_selector_terms: list[NodeSelectorTerm] = Field(min_length=1)


class PreferredSchedulingTerm(Model):
    weight: int = Field(ge=1, le=100)
    preference: NodeSelectorTerm


class NodeAffinity(Model):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = []


class PodAffinityTerm(Model):
    label_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    namespaces: list[str] = []
    topology_key: str = Field(min_length=1)
    match_label_keys: list[str] = []
    mismatch_label_keys: list[str] = []


class WeightedPodAffinityTerm(Model):
    weight: int = Field(ge=1, le=100)
    pod_affinity_term: PodAffinityTerm


class PodAffinity(Model):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = []
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = []


class Affinity(Model):
    """Pod affinity rules: the Kubernetes core/v1 Affinity types, field for field.
    https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#scheduling
    """

    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None
