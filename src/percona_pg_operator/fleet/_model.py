"""The fleet file: clusters, and how a new operator version rolls out across them.

Validated with the manifests' strictness (unknown keys are errors; every problem at once, with
its path). Each cluster's stack input is either a file, or the fleet's shared manifest with the
cluster's overrides deep-merged over it plus its own credentials; either way it is validated as
a stack input, and its problems are reported under ``clusters[i]``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..manifest import KubernetesProviderConfig, Model

_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_PERCENT = re.compile(r"(\d{1,3})%")


class Selector(Model):
    """Clusters by name, or by labels (all must match)."""

    names: list[str] = []
    labels: dict[str, str] = {}

    @model_validator(mode="after")
    def _one(self) -> Selector:
        if bool(self.names) == bool(self.labels):
            raise ValueError("select clusters by names or by labels (one of them)")
        return self


class Wave(Model):
    name: str
    select: Selector
    max_concurrent: int = Field(default=1, ge=1, le=100)
    failure_budget: int | str = Field(
        default=0,
        description="Failures allowed in this wave: a count, or a percent such as '10%'",
    )
    soak_seconds: int = Field(default=0, ge=0, le=86400)
    promotion: Literal["auto", "manual"] = "auto"

    @field_validator("failure_budget")
    @classmethod
    def _budget(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if value < 0:
                raise ValueError("must not be negative")
            return value
        match = _PERCENT.fullmatch(value)
        if match is None or int(match[1]) > 100:
            raise ValueError("must be a count or a percent from 0% to 100%")
        return value

    def allowed_failures(self, size: int) -> int:
        """How many of ``size`` clusters may fail before the rollout stops."""
        if isinstance(self.failure_budget, int):
            return self.failure_budget
        return size * int(self.failure_budget.rstrip("%")) // 100


class HealthGate(Model):
    """After each wave (and its soak), the status checks each cluster must pass."""

    operator_ready: bool = True
    databases_ready: bool = True


class Rollout(Model):
    waves: list[Wave] = Field(
        default=[],
        description=(
            "In order. Default: a canary wave of the first cluster, then every other cluster"
        ),
    )
    health_gate: HealthGate = HealthGate()


class Cluster(Model):
    name: str
    labels: dict[str, str] = {}
    stack: str = Field(description="The Pulumi stack: name, or org/project/stack")
    stack_input_file: str | None = Field(
        default=None, description="A whole stack input; or the fleet manifest + overrides"
    )
    provider_config: KubernetesProviderConfig | None = None
    overrides: dict[str, Any] = Field(
        default={}, description="Deep-merged over the fleet's manifest (e.g. {spec: {...}})"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if len(value) > 63 or _NAME.fullmatch(value) is None:
            raise ValueError("must be a DNS-1123 label (lowercase letters, digits, '-')")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Cluster:
        if self.stack_input_file is not None and (self.provider_config or self.overrides):
            raise ValueError(
                "stackInputFile is the whole stack input: drop providerConfig and overrides"
            )
        return self


class Fleet(Model):
    api_version: Literal["fleet.percona-pg-operator.io/v1"]
    kind: Literal["PerconaPostgresOperatorFleet"]
    manifest: dict[str, Any] = Field(
        default={}, description="The shared KubernetesPerconaPostgresOperator manifest"
    )
    clusters: list[Cluster] = Field(min_length=1)
    rollout: Rollout = Rollout()

    @model_validator(mode="after")
    def _unique(self) -> Fleet:
        for attribute in ("name", "stack"):
            seen: set[str] = set()
            for cluster in self.clusters:
                value = getattr(cluster, attribute)
                if value in seen:
                    raise ValueError(f"two clusters have the {attribute} {value!r}")
                seen.add(value)
        waves = [w.name for w in self.rollout.waves]
        if len(set(waves)) != len(waves):
            raise ValueError("two waves have the same name")
        return self
