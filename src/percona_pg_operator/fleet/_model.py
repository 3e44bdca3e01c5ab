"""The fleet file: clusters, and how a new operator version rolls out across them.

Validated with the manifests' strictness (unknown keys are errors; every problem at once, with
its path). Each cluster's stack input is either a file, or the fleet's shared manifest with the
cluster's overrides deep-merged over it plus its own credentials; either way it is validated as
a stack input, and its problems are reported under ``clusters[i]``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from ..manifest import KubernetesProviderConfig, Model

# Every rule that JSON Schema can say is said as a type, a bound or a pattern, so the committed
# schema (percona-pg-operator fleet schema) accepts exactly what the loader accepts; the rules
# it cannot say (unique names, each cluster in exactly one wave) are in the descriptions.
# The largest fleet one file describes. Far more clusters are rolled out as several fleets.
MAX_CLUSTERS = 10_000

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
# Pulumi stack names: alphanumerics, '-', '_', '.', optionally as org/project/stack; no segment
# starts with '.', so no '.', '..' or hidden names, and no whitespace or newline.
STACK_NAME = r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,99}/){0,2}[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
PERCENT = r"^(100|[1-9]?[0-9])%$"
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
# What each pattern means, for the loader's messages.
PATTERN_MESSAGES = {
    DNS_LABEL: "must be a DNS-1123 label (lowercase letters, digits, '-'; at most 63)",
    STACK_NAME: (
        "must be a Pulumi stack name: letters, digits, '-', '_', '.', as name or "
        "org/project/name, no part starting with '.'"
    ),
    PERCENT: "must be a percent from 0% to 100%",
    _LABEL_VALUE: "must be a Kubernetes label value (at most 63 characters)",
}


def _number_not_bool_or_text(value: Any) -> Any:
    """A count is a JSON number: not `true`, not "3" (1.0 is 1, as JSON Schema says)."""
    if isinstance(value, bool | str):
        raise ValueError("must be a number, not a boolean or a string")
    return value


# The bounds go on the int before the check wraps it, so the JSON Schema carries them.
Integer = Annotated[int, Strict(False), BeforeValidator(_number_not_bool_or_text)]
Count = Annotated[int, Strict(False), Ge(0), BeforeValidator(_number_not_bool_or_text)]


def _one_budget_message(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One message for the union (pydantic reports each of its members)."""
    try:
        return handler(value)
    except ValidationError:
        raise ValueError("must be a count (0 or more) or a percent from 0% to 100%") from None


Budget = Annotated[
    Count | Annotated[str, StringConstraints(pattern=PERCENT)], WrapValidator(_one_budget_message)
]


class _FleetModel(Model):
    # No coercion: `true` is not a count and "3" is not a number (the schema says integer).
    model_config = ConfigDict(strict=True)


class Selector(_FleetModel):
    """Clusters by name, or by labels (all must match): exactly one of the two."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["names"]}, {"required": ["labels"]}]}
    )

    names: list[Annotated[str, Field(pattern=DNS_LABEL)]] | None = Field(default=None, min_length=1)
    labels: dict[str, Annotated[str, Field(pattern=_LABEL_VALUE)]] | None = Field(
        default=None, min_length=1
    )

    @model_validator(mode="after")
    def _one(self) -> Selector:
        if (self.names is None) == (self.labels is None):
            raise ValueError("select clusters by names or by labels (one of them)")
        return self


class Wave(_FleetModel):
    name: str = Field(pattern=DNS_LABEL)
    select: Selector = Field(
        description="Must select at least one cluster; each cluster is in exactly one wave"
    )
    max_concurrent: Integer = Field(default=1, ge=1, le=100)
    failure_budget: Budget = Field(
        default=0,
        description=(
            "Failures allowed in this wave: a count, or a percent of its clusters from 0% to "
            "100% (rounded down: 10% of 5 clusters allows 0)"
        ),
    )
    soak_seconds: Integer = Field(default=0, ge=0, le=86400)
    promotion: Literal["auto", "manual"] = "auto"

    def allowed_failures(self, size: int) -> int:
        """How many of ``size`` clusters may fail before the rollout stops."""
        if isinstance(self.failure_budget, int):
            return self.failure_budget
        return size * int(self.failure_budget.rstrip("%")) // 100

    def budget_text(self, size: int) -> str:
        """The budget as written, and what it allows for ``size`` clusters."""
        allowed = self.allowed_failures(size)
        if isinstance(self.failure_budget, int):
            return str(allowed)
        return f"{self.failure_budget} = {allowed} of {size} cluster{'s' if size != 1 else ''}"


class HealthGate(_FleetModel):
    """After each wave (and its soak), the status checks each cluster must pass."""

    operator_ready: bool = True
    databases_ready: bool = True


class Rollout(_FleetModel):
    waves: list[Wave] = Field(
        default=[],
        description=(
            "In order; wave names are unique. Default: a canary wave of the first cluster, then "
            "every other cluster"
        ),
    )
    health_gate: HealthGate = HealthGate()


class Cluster(_FleetModel):
    name: str = Field(pattern=DNS_LABEL, description="A DNS-1123 label, unique in the fleet")
    labels: dict[str, Annotated[str, Field(pattern=_LABEL_VALUE)]] = {}
    stack: str = Field(
        pattern=STACK_NAME,
        description="The Pulumi stack: name, or org/project/stack; unique in the fleet",
    )
    stack_input_file: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "A whole stack input, relative to the fleet file; or the fleet manifest + overrides"
        ),
    )
    provider_config: KubernetesProviderConfig | None = Field(
        default=None,
        description="A relative kubeconfig path is relative to the fleet file",
    )
    overrides: dict[str, Any] = Field(
        default={}, description="Deep-merged over the fleet's manifest (e.g. {spec: {...}})"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Cluster:
        if self.stack_input_file is not None and (self.provider_config or self.overrides):
            raise ValueError(
                "stackInputFile is the whole stack input: drop providerConfig and overrides"
            )
        return self


class Fleet(_FleetModel):
    api_version: Literal["fleet.percona-pg-operator.io/v1"]
    kind: Literal["PerconaPostgresOperatorFleet"]
    manifest: dict[str, Any] = Field(
        default={}, description="The shared KubernetesPerconaPostgresOperator manifest"
    )
    clusters: list[Cluster] = Field(min_length=1, max_length=MAX_CLUSTERS)
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
