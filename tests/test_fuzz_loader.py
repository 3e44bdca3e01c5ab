"""Property-based fuzzing of the stack-input loader: whatever the bytes, the loader either returns
a validated stack input or raises one of the package's own errors, in bounded time."""

from __future__ import annotations

import time
from typing import Any

import yaml
from conftest import manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from percona_pg_operator.errors import PerconaPgOperatorError
from percona_pg_operator.manifest import StackInput, parse_yaml

# Generous for one parse on a slow CI machine; the real cost is milliseconds.
SECONDS_PER_INPUT = 2.0

FUZZ = settings(
    max_examples=300,
    deadline=None,  # timing is asserted below, with a bound that means something
    suppress_health_check=[HealthCheck.too_slow],
)

# Text built from YAML's own punctuation, so the fuzzer reaches anchors, tags, flows and scalars.
yaml_alphabet = st.sampled_from(
    [*"abcdefgh:-[]{},&*!|>'\"#%@`?\n \t0123456789.eE+~", "!!binary ", "!!set ", "<<: "]
)
yaml_text = st.lists(yaml_alphabet, max_size=400).map("".join)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=20), inner, max_size=5),
    ),
    max_leaves=30,
)

SPEC_KEYS = [
    "targetCluster",
    "namespace",
    "createNamespace",
    "deleteNamespaceOnDestroy",
    "container",
    "helm",
    "tenancy",
    "image",
    "scheduling",
    "operator",
    "namespacePodSecurity",
    "verify",
    "adopt",
    "helmValues",
]


def parsed_or_own_error(text: str) -> None:
    start = time.monotonic()
    try:
        result = parse_yaml(text, "fuzz")
    except PerconaPgOperatorError as exc:
        assert str(exc)  # a message, never empty
    else:
        assert isinstance(result, StackInput)
    assert time.monotonic() - start < SECONDS_PER_INPUT


@FUZZ
@given(yaml_text)
def test_any_text_is_parsed_or_refused_by_the_packages_own_error(text: str) -> None:
    parsed_or_own_error(text)


@FUZZ
@given(st.dictionaries(st.sampled_from(SPEC_KEYS), values, max_size=6))
def test_any_spec_shape_is_parsed_or_refused_by_the_packages_own_error(
    spec: dict[str, Any],
) -> None:
    document = manifest(**spec)
    try:
        text = yaml.safe_dump(document)
    except yaml.YAMLError:
        return
    parsed_or_own_error(text)


@FUZZ
@given(st.text(max_size=200), st.text(max_size=60))
def test_any_field_text_is_parsed_or_refused(field: str, value: str) -> None:
    parsed_or_own_error(yaml.safe_dump(manifest(**{field or "x": value})))
